/**
 * The `.BTF` section: BPF Type Format (kernel Documentation/bpf/btf.rst). Parses the raw section bytes
 * into a type table indexed by type id (0 is `void`), validates every size, string offset and type
 * reference up front, and offers the queries the loader needs: names, resolution through typedefs and
 * qualifiers, sizes, member offsets (CO-RE), a C-like rendering and formatting of typed values.
 * No Node APIs: this runs in browsers too.
 */
import { LoadError, UsageError } from '../errors.js';

export const BTF_MAGIC = 0xeb9f;
const HEADER_SIZE = 24;
/** libbpf's MAX_RESOLVE_DEPTH: longer typedef/qualifier/array chains are treated as cycles. */
const MAX_RESOLVE_DEPTH = 32;
/** Work limits of one render / formatValue call (hostile BTF can nest prototypes and unions exponentially). */
const RENDER_BUDGET = 4096;
const FORMAT_BUDGET = 1_000_000;
/** Shared: constructing a TextDecoder costs more than parsing a small section. */
const UTF8 = new TextDecoder('utf-8', { fatal: false });

/** `BTF_KIND_*` numbers, by the lower-case names used in `BtfType.kind`. */
export const BtfKind = {
  int: 1,
  ptr: 2,
  array: 3,
  struct: 4,
  union: 5,
  enum: 6,
  fwd: 7,
  typedef: 8,
  volatile: 9,
  const: 10,
  restrict: 11,
  func: 12,
  func_proto: 13,
  var: 14,
  datasec: 15,
  float: 16,
  decl_tag: 17,
  type_tag: 18,
  enum64: 19,
} as const;
export type BtfKindName = keyof typeof BtfKind;
const KIND_NAMES = Object.keys(BtfKind) as BtfKindName[];

export interface BtfMember {
  /** Empty for anonymous struct/union members and unnamed bitfield padding. */
  readonly name: string;
  readonly type: number;
  /** Offset from the start of the enclosing struct, in bits. */
  readonly bitOffset: number;
  /** Width of a bitfield in bits; 0 when the member is not a bitfield. */
  readonly bitSize: number;
}
export interface BtfParam {
  /** Empty for unnamed parameters; a trailing `{name: '', type: 0}` means `...`. */
  readonly name: string;
  readonly type: number;
}
export interface BtfEnumValue {
  readonly name: string;
  readonly value: bigint;
}
export interface BtfVarSecinfo {
  /** Id of a VAR (or FUNC for extern functions) placed in the section. */
  readonly type: number;
  readonly offset: number;
  readonly size: number;
}

interface Common {
  readonly id: number;
  readonly name: string;
  /** Byte offset of the type record inside the `.BTF` section (for error locations). */
  readonly offset: number;
}
/** `int` encoding bits (BTF_INT_SIGNED, BTF_INT_CHAR, BTF_INT_BOOL). */
export interface BtfIntEncoding {
  readonly signed: boolean;
  readonly char: boolean;
  readonly bool: boolean;
}
export type BtfType =
  | (Common & { readonly kind: 'void' })
  | (Common & {
      readonly kind: 'int';
      readonly size: number;
      readonly encoding: BtfIntEncoding;
      readonly bitOffset: number;
      readonly bits: number;
    })
  | (Common & {
      readonly kind: 'ptr' | 'typedef' | 'volatile' | 'const' | 'restrict' | 'type_tag';
      readonly type: number;
    })
  | (Common & {
      readonly kind: 'array';
      readonly type: number;
      readonly indexType: number;
      readonly nelems: number;
    })
  | (Common & {
      readonly kind: 'struct' | 'union';
      readonly size: number;
      readonly members: readonly BtfMember[];
    })
  | (Common & {
      readonly kind: 'enum' | 'enum64';
      readonly size: number;
      readonly signed: boolean;
      readonly values: readonly BtfEnumValue[];
    })
  | (Common & { readonly kind: 'fwd'; readonly union: boolean })
  /** `type` is the FUNC_PROTO; linkage 0 static, 1 global, 2 extern. */
  | (Common & { readonly kind: 'func'; readonly type: number; readonly linkage: number })
  /** `type` is the return type (0 for void). */
  | (Common & { readonly kind: 'func_proto'; readonly type: number; readonly params: readonly BtfParam[] })
  /** linkage 0 static, 1 global (allocated), 2 extern. */
  | (Common & { readonly kind: 'var'; readonly type: number; readonly linkage: number })
  | (Common & { readonly kind: 'datasec'; readonly size: number; readonly vars: readonly BtfVarSecinfo[] })
  | (Common & { readonly kind: 'float'; readonly size: number })
  | (Common & { readonly kind: 'decl_tag'; readonly type: number; readonly componentIdx: number });

/** The variant(s) of `BtfType` with kind `K` (narrowed also where one variant covers several kinds). */
export type BtfTypeOf<K extends BtfType['kind']> = NarrowKind<BtfType, K>;
type NarrowKind<T, K> = T extends { kind: infer TK }
  ? [Extract<TK, K>] extends [never]
    ? never
    : T & { readonly kind: Extract<TK, K> }
  : never;

/** A member found by `Btf.member`, with offsets relative to the outermost struct searched. */
export interface BtfMemberLocation extends BtfMember {
  /** Byte offset of the member's storage (for bitfields: of the byte holding its first bit). */
  readonly byteOffset: number;
  /** Index path through members (CO-RE access string style, without the leading 0). */
  readonly path: readonly number[];
}

/** Where a CO-RE access path leads, relative to the root value. */
export interface BtfAccess {
  /** Type id of the accessed field or element. */
  readonly type: number;
  readonly bitOffset: number;
  readonly byteOffset: number;
  /** Bitfield width, 0 when not a bitfield. */
  readonly bitSize: number;
  /** Human-readable path, e.g. `task_struct.real_parent`. */
  readonly spec: string;
}

export function btfError(section: string, offset: number, message: string, hint?: string): LoadError {
  return new LoadError(
    'BAD_BTF',
    `${section}: ${message}`,
    { section, offset },
    hint === undefined ? {} : { hint },
  );
}

const badBtf = (offset: number, message: string, hint?: string): LoadError =>
  btfError('.BTF', offset, message, hint);

/**
 * Bounds-checked little/big-endian reads of a section. Endianness comes from the magic, so objects
 * compiled for `bpfeb` parse too.
 */
export class SectionView {
  private readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly little: boolean,
    private readonly fail: (offset: number, message: string) => LoadError,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get length(): number {
    return this.bytes.length;
  }
  need(offset: number, size: number, what: string): void {
    if (offset < 0 || offset + size > this.bytes.length) {
      throw this.fail(
        offset,
        `${what} at byte ${offset} needs ${size} bytes but the section has only ${this.bytes.length}`,
      );
    }
  }
  u8(offset: number): number {
    return this.bytes[offset];
  }
  u16(offset: number): number {
    return this.view.getUint16(offset, this.little);
  }
  u32(offset: number): number {
    return this.view.getUint32(offset, this.little);
  }
  i32(offset: number): number {
    return this.view.getInt32(offset, this.little);
  }
}

/** Reads the magic of a BTF or BTF.ext section: which byte order it was written in. */
export function detectByteOrder(bytes: Uint8Array, section: string): boolean {
  if (bytes.length < 2)
    throw btfError(section, 0, `section is ${bytes.length} bytes, too short for a header`);
  const le = bytes[0] | (bytes[1] << 8);
  if (le === BTF_MAGIC) return true;
  if (((bytes[0] << 8) | bytes[1]) === BTF_MAGIC) return false;
  throw btfError(
    section,
    0,
    `bad magic 0x${le.toString(16).padStart(4, '0')} (expected 0xeb9f)`,
    'the section is not BTF; recompile with clang -g so it emits valid BTF',
  );
}

/** A parsed, validated `.BTF` section. */
export class Btf {
  /** Type table indexed by id; index 0 is `void`. */
  readonly types: readonly BtfType[];
  readonly littleEndian: boolean;
  private readonly strings: Uint8Array;
  private readonly stringCache = new Map<number, string>();
  private byName: Map<string, BtfType[]> | undefined;
  /** Work left for the current render/format call: nested prototypes and unions can fan out exponentially. */
  private renderBudget = 0;
  private formatBudget = 0;

  private constructor(bytes: Uint8Array) {
    this.littleEndian = detectByteOrder(bytes, '.BTF');
    const v = new SectionView(bytes, this.littleEndian, badBtf);
    v.need(0, HEADER_SIZE, 'header');
    const version = v.u8(2);
    if (version !== 1) throw badBtf(2, `unsupported BTF version ${version} (only version 1 exists)`);
    const hdrLen = v.u32(4);
    if (hdrLen < HEADER_SIZE || hdrLen > bytes.length) {
      throw badBtf(4, `header length ${hdrLen} is outside [${HEADER_SIZE}, ${bytes.length}]`);
    }
    const typeOff = v.u32(8);
    const typeLen = v.u32(12);
    const strOff = v.u32(16);
    const strLen = v.u32(20);
    const body = bytes.length - hdrLen;
    if (typeOff + typeLen > body) {
      throw badBtf(8, `type section [${typeOff}, +${typeLen}) runs past the end of the data (${body} bytes)`);
    }
    if (strOff + strLen > body) {
      throw badBtf(
        16,
        `string section [${strOff}, +${strLen}) runs past the end of the data (${body} bytes)`,
      );
    }
    if (typeOff % 4 !== 0) throw badBtf(8, `type section offset ${typeOff} is not 4-byte aligned`);
    if (typeOff < strOff + strLen && strOff < typeOff + typeLen) {
      throw badBtf(16, 'type and string sections overlap');
    }
    if (strLen === 0 || bytes[hdrLen + strOff] !== 0 || bytes[hdrLen + strOff + strLen - 1] !== 0) {
      throw badBtf(hdrLen + strOff, 'string section must start and end with a NUL byte');
    }
    this.strings = bytes.subarray(hdrLen + strOff, hdrLen + strOff + strLen);
    this.types = this.parseTypes(v, hdrLen + typeOff, hdrLen + typeOff + typeLen);
    this.validateReferences();
    this.validateLayouts();
  }

  /** Parses and validates a `.BTF` section; throws LoadError BAD_BTF on any inconsistency. */
  static parse(bytes: Uint8Array): Btf {
    return new Btf(bytes);
  }

  /** The NUL-terminated string at `offset` of the string section. */
  string(offset: number, where = 0): string {
    const cached = this.stringCache.get(offset);
    if (cached !== undefined) return cached;
    if (offset >= this.strings.length) {
      throw badBtf(
        where,
        `string offset ${offset} is past the end of the string section (${this.strings.length} bytes)`,
      );
    }
    const end = this.strings.indexOf(0, offset);
    const s = decodeString(this.strings, offset, end);
    this.stringCache.set(offset, s);
    return s;
  }

  /** Number of type ids including `void` (valid ids are `0 … count - 1`). */
  get count(): number {
    return this.types.length;
  }

  get(id: number): BtfType {
    const t = this.types[id];
    if (t === undefined || !Number.isInteger(id)) {
      throw new UsageError(`BTF type id ${id} does not exist (ids go from 0 to ${this.types.length - 1})`);
    }
    return t;
  }

  /** The type's own name, or `''` for anonymous types. */
  name(id: number): string {
    return this.get(id).name;
  }

  /** Follows typedefs, const/volatile/restrict and type tags to the underlying type. */
  resolve(id: number): BtfType {
    return this.follow(id, (t) => t.kind === 'typedef' || isQualifier(t.kind));
  }

  /** Follows only const/volatile/restrict and type tags (keeps typedef names). */
  skipQualifiers(id: number): BtfType {
    return this.follow(id, (t) => isQualifier(t.kind));
  }

  private follow(id: number, through: (t: BtfType) => boolean): BtfType {
    let t = this.get(id);
    for (let depth = 0; through(t); depth++) {
      if (depth >= MAX_RESOLVE_DEPTH) throw this.cycle(t);
      t = this.get((t as { type: number }).type);
    }
    return t;
  }

  private cycle(t: BtfType): LoadError {
    return badBtf(
      t.offset,
      `type [${t.id}] ${this.describe(t.id)} is part of a reference cycle or a chain too deep`,
    );
  }

  /** Size in bytes of a value of the type (`sizeof`); throws BAD_BTF for types without a size. */
  size(id: number): number {
    let multiplier = 1;
    let t = this.get(id);
    for (let depth = 0; ; depth++) {
      if (depth >= MAX_RESOLVE_DEPTH) throw this.cycle(t);
      switch (t.kind) {
        case 'int':
        case 'struct':
        case 'union':
        case 'enum':
        case 'enum64':
        case 'float':
        case 'datasec': {
          const total = multiplier * t.size;
          if (total > 0xffffffff) throw badBtf(t.offset, `size of type [${id}] overflows 32 bits`);
          return total;
        }
        case 'ptr':
          return multiplier * 8;
        case 'array':
          multiplier *= t.nelems;
          if (multiplier > 0xffffffff && t.nelems !== 0) {
            throw badBtf(t.offset, `array type [${t.id}] has more elements than fit in 32 bits`);
          }
          t = this.get(t.type);
          break;
        case 'typedef':
        case 'volatile':
        case 'const':
        case 'restrict':
        case 'type_tag':
        case 'var':
          t = this.get(t.type);
          break;
        default:
          throw badBtf(t.offset, `type [${t.id}] ${this.describe(t.id)} (${t.kind}) has no size`);
      }
    }
  }

  /** First type with this name (and kind, when given), or undefined. */
  find<K extends BtfType['kind']>(name: string, kind?: K): BtfTypeOf<K> | undefined {
    return this.findAll(name, kind)[0];
  }

  findAll<K extends BtfType['kind']>(name: string, kind?: K): BtfTypeOf<K>[] {
    if (this.byName === undefined) {
      this.byName = new Map();
      for (const t of this.types) {
        if (t.name === '') continue;
        const list = this.byName.get(t.name);
        if (list === undefined) this.byName.set(t.name, [t]);
        else list.push(t);
      }
    }
    const all = this.byName.get(name) ?? [];
    return (kind === undefined ? all : all.filter((t) => t.kind === kind)) as BtfTypeOf<K>[];
  }

  /**
   * Finds a member of a struct/union by name or dotted path (`"a.b.c"`), looking through anonymous
   * struct/union members as C does. Offsets are relative to `structId`. Undefined when absent.
   */
  member(structId: number, path: string): BtfMemberLocation | undefined {
    let containerId = structId;
    let found: BtfMemberLocation | undefined;
    let bitBase = 0;
    const indexes: number[] = [];
    for (const name of path.split('.')) {
      if (name === '') return undefined; // '' would match the first anonymous member
      const container = this.resolve(containerId);
      if (container.kind !== 'struct' && container.kind !== 'union') return undefined;
      const hit = this.findMember(container, name, 0, new Set());
      if (hit === undefined) return undefined;
      bitBase += hit.bitOffset;
      indexes.push(...hit.path);
      found = { ...hit, bitOffset: bitBase, byteOffset: Math.floor(bitBase / 8), path: [...indexes] };
      containerId = hit.type;
    }
    return found;
  }

  private findMember(
    container: BtfTypeOf<'struct' | 'union'>,
    name: string,
    depth: number,
    searched: Set<number>,
  ): BtfMemberLocation | undefined {
    if (depth >= MAX_RESOLVE_DEPTH) throw this.cycle(container);
    // An anonymous type searched once without a hit needs no second look (keeps odd BTF linear).
    if (searched.has(container.id)) return undefined;
    searched.add(container.id);
    for (let i = 0; i < container.members.length; i++) {
      const m = container.members[i];
      if (m.name === name) return { ...m, byteOffset: Math.floor(m.bitOffset / 8), path: [i] };
      if (m.name !== '') continue;
      const inner = this.resolve(m.type);
      if (inner.kind !== 'struct' && inner.kind !== 'union') continue;
      const hit = this.findMember(inner, name, depth + 1, searched);
      if (hit === undefined) continue;
      const bitOffset = m.bitOffset + hit.bitOffset;
      return { ...hit, bitOffset, byteOffset: Math.floor(bitOffset / 8), path: [i, ...hit.path] };
    }
    return undefined;
  }

  /**
   * Follows a CO-RE access path (`.BTF.ext` access string split at ':'): the first index steps over
   * whole values of the root type, each further index picks a struct/union member or an array element.
   * Throws BAD_BTF when an index does not exist.
   */
  access(rootId: number, path: readonly number[]): BtfAccess {
    let type = rootId;
    let bitOffset = 0;
    let bitSize = 0;
    const names: string[] = [this.resolve(rootId).name || this.render(rootId)];
    path.forEach((index, step) => {
      const t = this.resolve(type);
      const fail = (what: string): LoadError =>
        badBtf(t.offset, `CO-RE access ${path.join(':')} step ${step}: ${what} in ${this.describe(type)}`);
      if (step === 0) {
        bitOffset += index * this.size(type) * 8;
        if (index !== 0) names[0] += `[${index}]`;
      } else if (t.kind === 'struct' || t.kind === 'union') {
        const m = t.members[index];
        if (m === undefined) throw fail(`member ${index} does not exist (${t.members.length} members)`);
        bitOffset += m.bitOffset;
        bitSize = m.bitSize;
        type = m.type;
        names.push(m.name === '' ? `<anon ${index}>` : m.name);
        return;
      } else if (t.kind === 'array') {
        if (index >= t.nelems && t.nelems !== 0)
          throw fail(`element ${index} is past the ${t.nelems} elements`);
        bitOffset += index * this.size(t.type) * 8;
        type = t.type;
        names[names.length - 1] += `[${index}]`;
      } else {
        throw fail(`index ${index} applied to a ${t.kind}`);
      }
      bitSize = 0;
    });
    return { type, bitOffset, byteOffset: Math.floor(bitOffset / 8), bitSize, spec: names.join('.') };
  }

  /**
   * C-like rendering of a type, e.g. `struct task_struct *`, `char [16]`, `int (*)(void *)`; with
   * `declarator` it renders a declaration (`unsigned int pid`).
   */
  render(id: number, declarator = ''): string {
    this.renderBudget = RENDER_BUDGET;
    return this.renderDecl(id, declarator, 0).trim();
  }

  /** `render` in quotes for error messages (`'struct event *'`); `#id` when even rendering fails. */
  describe(id: number): string {
    try {
      return `'${this.render(id)}'`;
    } catch {
      return `#${id}`;
    }
  }

  private renderDecl(id: number, inner: string, depth: number): string {
    const t = this.get(id);
    if (depth >= MAX_RESOLVE_DEPTH) throw this.cycle(t);
    if (--this.renderBudget < 0) return '…';
    const join = (base: string): string => (inner === '' ? base : `${base} ${inner}`);
    const wrap = (): string => (inner.startsWith('*') ? `(${inner})` : inner);
    switch (t.kind) {
      case 'void':
        return join('void');
      case 'int':
      case 'float':
      case 'typedef':
        return join(t.name || '<anon>');
      case 'struct':
      case 'union':
      case 'enum':
        return join(`${t.kind} ${t.name || '<anon>'}`);
      case 'enum64':
        return join(`enum ${t.name || '<anon>'}`);
      case 'fwd':
        return join(`${t.union ? 'union' : 'struct'} ${t.name}`);
      case 'ptr':
        return this.renderDecl(t.type, `*${inner}`, depth + 1);
      case 'array':
        return this.renderDecl(t.type, `${wrap()}[${t.nelems}]`, depth + 1);
      case 'const':
      case 'volatile':
      case 'restrict': {
        // A qualified pointer reads `char *const p`; a qualified base type reads `const char`.
        const target = this.get(t.type);
        if (target.kind === 'ptr') return this.renderDecl(t.type, `${t.kind} ${inner}`.trim(), depth + 1);
        return `${t.kind} ${this.renderDecl(t.type, inner, depth + 1)}`;
      }
      case 'type_tag':
        return this.renderDecl(
          t.type,
          `__attribute__((btf_type_tag("${t.name}"))) ${inner}`.trim(),
          depth + 1,
        );
      case 'func_proto': {
        const params = t.params.map((p) =>
          p.type === 0 && p.name === '' ? '...' : this.renderDecl(p.type, p.name, depth + 1),
        );
        return this.renderDecl(
          t.type,
          `${wrap()}(${params.length === 0 ? 'void' : params.join(', ')})`,
          depth + 1,
        );
      }
      case 'func':
        return this.renderDecl(t.type, inner || t.name, depth + 1);
      case 'var':
        return this.renderDecl(t.type, inner || t.name, depth + 1);
      case 'datasec':
        return `SEC("${t.name}")`;
      case 'decl_tag':
        return `__attribute__((btf_decl_tag("${t.name}"))) ${this.renderDecl(t.type, inner, depth + 1)}`;
    }
  }

  /** A struct or union definition with member offsets as comments, for typed dumps and errors. */
  renderDefinition(id: number): string {
    const t = this.resolve(id);
    if (t.kind !== 'struct' && t.kind !== 'union') return this.render(id);
    const lines = t.members.map((m) => {
      const bits = m.bitSize === 0 ? '' : `: ${m.bitSize}`;
      const where =
        m.bitSize === 0 ? `${m.bitOffset / 8}` : `${Math.floor(m.bitOffset / 8)} bit ${m.bitOffset % 8}`;
      return `  ${this.render(m.type, m.name)}${bits}; /* offset ${where} */`;
    });
    return `${t.kind} ${t.name || '<anon>'} { /* size ${t.size} */\n${lines.join('\n')}\n}`;
  }

  /**
   * Formats a value of type `id` read from `bytes` (at `offset`) as JSON text: integers as numbers,
   * `bool` as true/false, enums by name, pointers as "0x…" strings, char arrays as strings when the
   * text before the first NUL is printable, structs/unions as objects (anonymous members flattened),
   * arrays as lists.
   */
  formatValue(id: number, bytes: Uint8Array, offset = 0): string {
    const size = this.size(id);
    if (offset < 0 || offset + size > bytes.length) {
      throw new UsageError(
        `a value of ${this.describe(id)} needs ${size} bytes at offset ${offset}, but only ${bytes.length - offset} are there`,
      );
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.formatBudget = FORMAT_BUDGET;
    return this.formatAt(id, view, offset * 8, 0, 0);
  }

  /** `bitSize` 0 means the whole type; otherwise a bitfield of that width starting at `bit`. */
  private formatAt(id: number, view: DataView, bit: number, bitSize: number, depth: number): string {
    const t = this.resolve(id);
    if (depth >= MAX_RESOLVE_DEPTH) throw this.cycle(t);
    if (--this.formatBudget < 0) {
      throw new UsageError(`value of ${this.describe(id)} has more than ${FORMAT_BUDGET} parts to format`);
    }
    const at = Math.floor(bit / 8);
    switch (t.kind) {
      case 'int': {
        const width = bitSize || t.bits;
        const v = this.readBits(
          view,
          bitSize === 0 ? bit + t.bitOffset : bit,
          width,
          t.size,
          t.encoding.signed,
        );
        if (t.encoding.bool) return v === 0n ? 'false' : 'true';
        return v.toString();
      }
      case 'enum':
      case 'enum64': {
        const v = this.readBits(view, bit, bitSize || t.size * 8, t.size, t.signed);
        const named = t.values.find((e) => e.value === v || BigInt.asUintN(t.size * 8, e.value) === v);
        return named === undefined ? v.toString() : JSON.stringify(named.name);
      }
      case 'ptr':
        return JSON.stringify(`0x${this.readBits(view, bit, 64, 8, false).toString(16)}`);
      case 'float': {
        this.checkRange(view, at, t.size, id);
        const f =
          t.size === 4
            ? view.getFloat32(at, this.littleEndian)
            : t.size === 8
              ? view.getFloat64(at, this.littleEndian)
              : Number.NaN;
        if (t.size !== 4 && t.size !== 8) return JSON.stringify(hexOf(view, at, t.size));
        return Number.isFinite(f) ? String(f) : JSON.stringify(String(f));
      }
      case 'array': {
        const elemSize = this.size(t.type);
        this.checkRange(view, at, elemSize * t.nelems, id);
        const elem = this.resolve(t.type);
        if (elem.kind === 'int' && elem.size === 1 && isCharType(elem)) {
          const text = printableText(view, at, t.nelems);
          if (text !== undefined) return JSON.stringify(text);
        }
        if (elemSize === 0) return '[]';
        const items: string[] = [];
        for (let i = 0; i < t.nelems; i++)
          items.push(this.formatAt(t.type, view, bit + i * elemSize * 8, 0, depth + 1));
        return `[${items.join(', ')}]`;
      }
      case 'struct':
      case 'union': {
        const fields: string[] = [];
        this.collectFields(t, view, bit, depth, fields);
        return `{${fields.join(', ')}}`;
      }
      case 'datasec': {
        const fields = t.vars.map(
          (s) =>
            `${JSON.stringify(this.get(s.type).name)}: ${this.formatAt(s.type, view, bit + s.offset * 8, 0, depth + 1)}`,
        );
        return `{${fields.join(', ')}}`;
      }
      case 'var':
        return this.formatAt(t.type, view, bit, 0, depth + 1);
      default:
        return JSON.stringify(`<${this.render(id)}>`);
    }
  }

  private collectFields(
    t: BtfTypeOf<'struct' | 'union'>,
    view: DataView,
    bit: number,
    depth: number,
    out: string[],
  ): void {
    for (const m of t.members) {
      if (m.name === '') {
        const inner = this.resolve(m.type);
        if (inner.kind === 'struct' || inner.kind === 'union')
          this.collectFields(inner, view, bit + m.bitOffset, depth + 1, out);
        continue; // unnamed bitfields are padding
      }
      out.push(
        `${JSON.stringify(m.name)}: ${this.formatAt(m.type, view, bit + m.bitOffset, m.bitSize, depth + 1)}`,
      );
    }
  }

  /** Values inside a DATASEC or a bitfield's neighbours can lie past the bytes given. */
  private checkRange(view: DataView, at: number, size: number, id: number): void {
    if (at + size > view.byteLength) {
      throw new UsageError(
        `${this.describe(id)} at byte ${at} needs ${size} bytes, past the ${view.byteLength} bytes given`,
      );
    }
  }

  /** Reads `width` bits at bit position `bit` (bit 0 = least significant bit of the first byte on LE). */
  private readBits(view: DataView, bit: number, width: number, storage: number, signed: boolean): bigint {
    if (width === 0) return 0n;
    if (bit + width > view.byteLength * 8) {
      throw new UsageError(`value bits [${bit}, +${width}) extend past the ${view.byteLength} bytes given`);
    }
    let v: bigint;
    if (bit % 8 === 0 && width === storage * 8) {
      v = readUnsigned(view, bit / 8, storage, this.littleEndian);
    } else {
      // Bitfields: gather the covering bytes, then shift as the target's byte order dictates.
      const first = Math.floor(bit / 8);
      const count = Math.ceil((bit + width) / 8) - first;
      const raw = readUnsigned(view, first, count, this.littleEndian);
      const shift = this.littleEndian ? bit % 8 : count * 8 - (bit % 8) - width;
      v = (raw >> BigInt(shift)) & ((1n << BigInt(width)) - 1n);
    }
    return signed ? BigInt.asIntN(width, v) : v;
  }

  private parseTypes(v: SectionView, start: number, end: number): BtfType[] {
    const types: BtfType[] = [{ kind: 'void', id: 0, name: '', offset: start }];
    let p = start;
    while (p < end) {
      if (p + 12 > end) throw badBtf(p, `type [${types.length}] record is truncated (${end - p} bytes left)`);
      const id = types.length;
      const info = v.u32(p + 4);
      const vlen = info & 0xffff;
      const kindNum = (info >>> 24) & 0x1f;
      const kindFlag = info >>> 31 === 1;
      const sizeOrType = v.u32(p + 8);
      const kind = KIND_NAMES[kindNum - 1];
      if (kind === undefined) throw badBtf(p, `type [${id}] has unknown kind ${kindNum}`);
      const name = this.string(v.u32(p), p);
      const common = { id, name, offset: p };
      const at = p;
      const trailing = (bytes: number): number => {
        if (p + 12 + bytes > end) {
          throw badBtf(
            at,
            `type [${id}] '${name}' (${kind}) needs ${bytes} bytes of data after its header but the type section ends first`,
          );
        }
        return p + 12;
      };
      let t: BtfType;
      switch (kind) {
        case 'int': {
          const q = trailing(4);
          const data = v.u32(q);
          const enc = (data >>> 24) & 0x0f;
          const bitOffset = (data >>> 16) & 0xff;
          const bits = data & 0xff;
          if (![1, 2, 4, 8, 16].includes(sizeOrType) || bits === 0 || bitOffset + bits > sizeOrType * 8) {
            throw badBtf(
              p,
              `int type [${id}] '${name}' has size ${sizeOrType}, ${bits} bits at bit ${bitOffset}: not a valid integer`,
            );
          }
          t = {
            ...common,
            kind,
            size: sizeOrType,
            bitOffset,
            bits,
            encoding: { signed: (enc & 1) !== 0, char: (enc & 2) !== 0, bool: (enc & 4) !== 0 },
          };
          p = q + 4;
          break;
        }
        case 'array': {
          const q = trailing(12);
          t = { ...common, kind, type: v.u32(q), indexType: v.u32(q + 4), nelems: v.u32(q + 8) };
          p = q + 12;
          break;
        }
        case 'struct':
        case 'union': {
          const q = trailing(vlen * 12);
          const members: BtfMember[] = [];
          for (let i = 0; i < vlen; i++) {
            const m = q + i * 12;
            const off = v.u32(m + 8);
            members.push({
              name: this.string(v.u32(m), m),
              type: v.u32(m + 4),
              bitOffset: kindFlag ? off & 0xffffff : off,
              bitSize: kindFlag ? off >>> 24 : 0,
            });
          }
          t = { ...common, kind, size: sizeOrType, members };
          p = q + vlen * 12;
          break;
        }
        case 'enum':
        case 'enum64': {
          const rec = kind === 'enum' ? 8 : 12;
          const q = trailing(vlen * rec);
          const values: BtfEnumValue[] = [];
          for (let i = 0; i < vlen; i++) {
            const e = q + i * rec;
            const value =
              kind === 'enum'
                ? kindFlag
                  ? BigInt(v.i32(e + 4))
                  : BigInt(v.u32(e + 4))
                : (BigInt(v.u32(e + 8)) << 32n) | BigInt(v.u32(e + 4));
            values.push({
              name: this.string(v.u32(e), e),
              value: kind === 'enum64' && kindFlag ? BigInt.asIntN(64, value) : value,
            });
          }
          if (![1, 2, 4, 8].includes(sizeOrType))
            throw badBtf(p, `enum type [${id}] '${name}' has invalid size ${sizeOrType}`);
          t = { ...common, kind, size: sizeOrType, signed: kindFlag, values };
          p = q + vlen * rec;
          break;
        }
        case 'func_proto': {
          const q = trailing(vlen * 8);
          const params: BtfParam[] = [];
          for (let i = 0; i < vlen; i++)
            params.push({ name: this.string(v.u32(q + i * 8), q + i * 8), type: v.u32(q + i * 8 + 4) });
          t = { ...common, kind, type: sizeOrType, params };
          p = q + vlen * 8;
          break;
        }
        case 'var': {
          const q = trailing(4);
          t = { ...common, kind, type: sizeOrType, linkage: v.u32(q) };
          p = q + 4;
          break;
        }
        case 'datasec': {
          const q = trailing(vlen * 12);
          const vars: BtfVarSecinfo[] = [];
          for (let i = 0; i < vlen; i++) {
            const s = q + i * 12;
            // No check against the datasec size: clang writes 0 there and libbpf fills in the ELF section size.
            vars.push({ type: v.u32(s), offset: v.u32(s + 4), size: v.u32(s + 8) });
          }
          t = { ...common, kind, size: sizeOrType, vars };
          p = q + vlen * 12;
          break;
        }
        case 'decl_tag': {
          const q = trailing(4);
          t = { ...common, kind, type: sizeOrType, componentIdx: v.i32(q) };
          p = q + 4;
          break;
        }
        case 'fwd':
          t = { ...common, kind, union: kindFlag };
          p += 12;
          break;
        case 'func':
          t = { ...common, kind, type: sizeOrType, linkage: vlen };
          p += 12;
          break;
        case 'float':
          if (![2, 4, 8, 12, 16].includes(sizeOrType))
            throw badBtf(p, `float type [${id}] '${name}' has invalid size ${sizeOrType}`);
          t = { ...common, kind, size: sizeOrType };
          p += 12;
          break;
        default:
          // ptr, typedef, volatile, const, restrict, type_tag: just a referenced type.
          t = { ...common, kind, type: sizeOrType };
          p += 12;
      }
      types.push(t);
    }
    return types;
  }

  /** Every type id a type refers to must exist; checked once so later queries can trust the table. */
  /**
   * Members must lie inside their struct and non-bitfields start on a byte (the kernel's
   * btf_struct_check_member), so formatting and CO-RE offsets never read outside a value.
   */
  private validateLayouts(): void {
    for (const t of this.types) {
      if (t.kind !== 'struct' && t.kind !== 'union') continue;
      for (const m of t.members) {
        const where = `${t.kind} [${t.id}] '${t.name}' member '${m.name}'`;
        if (m.bitSize > 128)
          throw badBtf(t.offset, `${where} is a bitfield of ${m.bitSize} bits (at most 128)`);
        if (m.bitSize === 0 && m.bitOffset % 8 !== 0) {
          throw badBtf(t.offset, `${where} at bit ${m.bitOffset} is not byte aligned`);
        }
        const member = this.resolve(m.type);
        // Forward declarations and flexible arrays have no (or zero) size; functions cannot be members.
        if (member.kind === 'fwd' || member.kind === 'void') continue;
        const bits = m.bitSize || this.size(m.type) * 8;
        if (m.bitOffset + bits > t.size * 8) {
          throw badBtf(
            t.offset,
            `${where} [bit ${m.bitOffset}, +${bits}) lies outside the ${t.size}-byte ${t.kind}`,
          );
        }
      }
    }
  }

  private validateReferences(): void {
    const n = this.types.length;
    const check = (t: BtfType, ref: number, what: string): void => {
      if (ref >= n) {
        throw badBtf(
          t.offset,
          `type [${t.id}] ${t.kind} '${t.name}' ${what} refers to type id ${ref}, but the last type id is ${n - 1}`,
          'the BTF is corrupt or was truncated; recompile the object',
        );
      }
    };
    for (const t of this.types) {
      switch (t.kind) {
        case 'array':
          check(t, t.type, 'element type');
          check(t, t.indexType, 'index type');
          break;
        case 'struct':
        case 'union':
          for (const m of t.members) check(t, m.type, `member '${m.name}'`);
          break;
        case 'func_proto':
          check(t, t.type, 'return type');
          for (const p of t.params) check(t, p.type, `parameter '${p.name}'`);
          break;
        case 'datasec':
          for (const s of t.vars) check(t, s.type, `variable at offset ${s.offset}`);
          break;
        case 'func':
          check(t, t.type, 'prototype');
          if (this.types[t.type].kind !== 'func_proto') {
            throw badBtf(
              t.offset,
              `function [${t.id}] '${t.name}' must refer to a func_proto, not ${this.types[t.type].kind}`,
            );
          }
          break;
        case 'ptr':
        case 'typedef':
        case 'volatile':
        case 'const':
        case 'restrict':
        case 'type_tag':
        case 'var':
        case 'decl_tag':
          check(t, t.type, 'type');
          break;
        default:
      }
    }
  }
}

/** ASCII fast path: TextDecoder's per-call overhead dominates for the short names BTF holds. */
function decodeString(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) {
    const c = bytes[i];
    if (c >= 0x80) return UTF8.decode(bytes.subarray(start, end));
    s += String.fromCharCode(c);
  }
  return s;
}

function isQualifier(kind: BtfType['kind']): boolean {
  return kind === 'const' || kind === 'volatile' || kind === 'restrict' || kind === 'type_tag';
}

function isCharType(t: BtfTypeOf<'int'>): boolean {
  return t.encoding.char || t.name === 'char' || t.name === 'signed char' || t.name === 'unsigned char';
}

function readUnsigned(view: DataView, at: number, size: number, little: boolean): bigint {
  let v = 0n;
  for (let i = 0; i < size; i++) {
    const b = BigInt(view.getUint8(at + (little ? size - 1 - i : i)));
    v = (v << 8n) | b;
  }
  return v;
}

function hexOf(view: DataView, at: number, size: number): string {
  let s = '0x';
  for (let i = 0; i < size; i++)
    s += view
      .getUint8(at + i)
      .toString(16)
      .padStart(2, '0');
  return s;
}

/** The text before the first NUL when it is printable (a C string), else undefined. */
function printableText(view: DataView, at: number, length: number): string | undefined {
  let s = '';
  for (let i = 0; i < length; i++) {
    const c = view.getUint8(at + i);
    if (c === 0) return i === 0 && !allZero(view, at, length) ? undefined : s;
    if (c < 0x20 || c > 0x7e) {
      if (c !== 0x09 && c !== 0x0a) return undefined;
    }
    s += String.fromCharCode(c);
  }
  return s;
}

function allZero(view: DataView, at: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (view.getUint8(at + i) !== 0) return false;
  return true;
}

/** Parses a `.BTF` section (see `Btf.parse`). */
export function parseBtf(bytes: Uint8Array): Btf {
  return Btf.parse(bytes);
}
