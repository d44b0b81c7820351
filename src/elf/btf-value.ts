/**
 * A codec between bytes and JS values for any sized BTF type, so the host reads and writes map keys and
 * values (or ring buffer records) by their C declaration instead of by offsets.
 *
 * JS shapes (the same both ways):
 * - integers up to 32 bits wide (bitfields by their width) and chars: `number`; wider integers:
 *   `bigint` (encoding also takes a safe integer `number`);
 * - `bool`: `true`/`false` (a byte other than 0 or 1 decodes as its number, so nothing is lost);
 * - enums: the enumerator's name, or the number (bigint above 32 bits) when no enumerator has the value;
 * - pointers: `bigint` (the address);
 * - floats (4 and 8 bytes): `number`;
 * - `char` arrays: a string when the bytes are printable text followed only by NULs, else one number
 *   per element (so a decoded key encodes back to the same bytes); `__u8`/`unsigned char` arrays are
 *   always numbers (encoding takes a string or a Uint8Array for any array of 1-byte ints too);
 * - other arrays: arrays; structs and unions: plain objects with the members of anonymous
 *   structs/unions flattened in, as C names them.
 *
 * Encoding is like a C designated initializer: members, elements and string bytes not given are zero.
 * A union takes one member; several may be given (a decoded union has all) only when they agree on the
 * bytes they share. Unknown members, wrong shapes and out-of-range numbers are `UsageError`s naming the
 * path (`value.stats.calls: 2^70 does not fit __u64 …`).
 */
import { UsageError } from '../errors.js';
import { type Btf, type BtfType, type BtfTypeOf, btfError } from './btf.js';

/** A decoded value (see the module comment for the shape of each BTF kind). */
export type BtfValue = number | bigint | boolean | string | BtfValue[] | { [member: string]: BtfValue };

/** What `encodeBtfValue` accepts: `BtfValue` plus `Uint8Array`s for arrays of bytes. */
export type BtfValueInput =
  | number
  | bigint
  | boolean
  | string
  | Uint8Array
  | readonly BtfValueInput[]
  | { readonly [member: string]: BtfValueInput };

/** Nesting deeper than this is a cycle in hostile BTF (a struct that contains itself by value). */
const MAX_DEPTH = 32;
/** Parts of one value decoded or encoded: nested unions fan out exponentially in hostile BTF. */
const WORK_BUDGET = 1_000_000;

/**
 * Decodes the value of type `typeId` stored at `bytes[offset…]`. Throws a UsageError when the bytes
 * are too short and LoadError BAD_BTF for types without a value (functions, forward declarations).
 */
export function decodeBtfValue(btf: Btf, typeId: number, bytes: Uint8Array, offset = 0): BtfValue {
  const size = btf.size(typeId);
  if (!Number.isInteger(offset) || offset < 0 || offset + size > bytes.length) {
    throw new UsageError(
      `a value of ${btf.describe(typeId)} needs ${size} bytes at offset ${offset}, but ${bytes.length} bytes were given`,
    );
  }
  return new Decoder(btf, bytes).value(typeId, offset * 8, 0, 0);
}

/**
 * Encodes `value` as type `typeId`: a new Uint8Array of the type's size. `path` names the value in
 * error messages (`key`, `value`…).
 */
export function encodeBtfValue(btf: Btf, typeId: number, value: BtfValueInput, path = 'value'): Uint8Array {
  const encoder = new Encoder(btf, btf.size(typeId));
  try {
    encoder.value(typeId, value, 0, 0, path, 0);
  } catch (e) {
    // Only hostile BTF has struct members that overlap; unions turn this into their own message.
    if (e instanceof Overlap) throw new UsageError(`${path}: members of ${btf.describe(typeId)} overlap`);
    throw e;
  }
  return encoder.bytes;
}

/** Reads and writes `width` bits at bit `bit` in the BTF's byte order (bit 0 = LSB of byte 0 on LE). */
function bitWindow(
  bit: number,
  width: number,
  little: boolean,
): { first: number; count: number; shift: bigint } {
  const first = Math.floor(bit / 8);
  const count = Math.ceil((bit + width) / 8) - first;
  return { first, count, shift: BigInt(little ? bit % 8 : count * 8 - (bit % 8) - width) };
}

function readRaw(bytes: Uint8Array, at: number, count: number, little: boolean): bigint {
  let v = 0n;
  for (let i = 0; i < count; i++) v = (v << 8n) | BigInt(bytes[at + (little ? count - 1 - i : i)]);
  return v;
}

function writeRaw(bytes: Uint8Array, at: number, count: number, little: boolean, v: bigint): void {
  for (let i = 0; i < count; i++) {
    bytes[at + (little ? i : count - 1 - i)] = Number(v & 0xffn);
    v >>= 8n;
  }
}

/**
 * `char` (or the CHAR encoding): its arrays are text. `unsigned char`/`__u8` and `signed char`/`__s8`
 * arrays are byte and number arrays (addresses, hashes), so they stay numbers even when printable.
 */
function isTextChar(t: BtfTypeOf<'int'>): boolean {
  return t.size === 1 && (t.encoding.char || t.name === 'char');
}

/** Defines a member even when it is called `__proto__` (a valid C identifier). */
function setMember(out: Record<string, BtfValue>, name: string, v: BtfValue): void {
  Object.defineProperty(out, name, { value: v, enumerable: true, writable: true, configurable: true });
}

class Decoder {
  private budget = WORK_BUDGET;
  private readonly view: DataView;
  constructor(
    private readonly btf: Btf,
    private readonly bytes: Uint8Array,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** `bitSize` 0: the whole type at `bit`; otherwise a bitfield of that width. */
  value(id: number, bit: number, bitSize: number, depth: number): BtfValue {
    const t = this.btf.resolve(id);
    this.step(t, depth);
    switch (t.kind) {
      case 'int': {
        const width = bitSize || t.bits;
        const v = this.int(bitSize === 0 ? bit + t.bitOffset : bit, width, t.size, t.encoding.signed);
        if (t.encoding.bool) return v === 0n ? false : v === 1n ? true : Number(v);
        return width <= 32 ? Number(v) : v;
      }
      case 'enum':
      case 'enum64': {
        const width = bitSize || t.size * 8;
        const v = this.int(bit, width, t.size, t.signed);
        const named = t.values.find((e) => e.value === v || BigInt.asUintN(width, e.value) === v);
        if (named !== undefined) return named.name;
        return width <= 32 ? Number(v) : v;
      }
      case 'ptr':
        return this.int(bit, 64, 8, false);
      case 'float': {
        const at = bit / 8;
        if (t.size === 4) return this.view.getFloat32(at, this.btf.littleEndian);
        if (t.size === 8) return this.view.getFloat64(at, this.btf.littleEndian);
        throw new UsageError(
          `${this.btf.describe(id)} is a ${t.size}-byte float, which has no JS number form`,
        );
      }
      case 'array':
        return this.array(t, bit, depth);
      case 'struct':
      case 'union': {
        const out: Record<string, BtfValue> = {};
        this.members(t, bit, depth, out);
        return out;
      }
      default:
        throw noValue(this.btf, id, t);
    }
  }

  private step(t: BtfType, depth: number): void {
    if (depth >= MAX_DEPTH) throw nestedTooDeep(this.btf, t);
    if (--this.budget < 0) throw new UsageError(`value has more than ${WORK_BUDGET} parts to decode`);
  }

  private int(bit: number, width: number, storage: number, signed: boolean): bigint {
    let v: bigint;
    if (bit % 8 === 0 && width === storage * 8)
      v = readRaw(this.bytes, bit / 8, storage, this.btf.littleEndian);
    else {
      const w = bitWindow(bit, width, this.btf.littleEndian);
      v =
        (readRaw(this.bytes, w.first, w.count, this.btf.littleEndian) >> w.shift) &
        ((1n << BigInt(width)) - 1n);
    }
    return signed ? BigInt.asIntN(width, v) : v;
  }

  private array(t: BtfTypeOf<'array'>, bit: number, depth: number): BtfValue {
    const elemSize = this.btf.size(t.type);
    const elem = this.btf.resolve(t.type);
    const at = bit / 8;
    if (elem.kind === 'int' && isTextChar(elem)) {
      const text = textOf(this.bytes, at, t.nelems);
      if (text !== undefined) return text;
    }
    if (elemSize === 0) return [];
    const out: BtfValue[] = [];
    for (let i = 0; i < t.nelems; i++) out.push(this.value(t.type, bit + i * elemSize * 8, 0, depth + 1));
    return out;
  }

  private members(
    t: BtfTypeOf<'struct' | 'union'>,
    bit: number,
    depth: number,
    out: Record<string, BtfValue>,
  ): void {
    for (const m of t.members) {
      if (m.name === '') {
        const inner = this.btf.resolve(m.type);
        if (inner.kind === 'struct' || inner.kind === 'union') {
          this.step(inner, depth + 1);
          this.members(inner, bit + m.bitOffset, depth + 1, out);
        }
        continue; // unnamed bitfields are padding
      }
      setMember(out, m.name, this.value(m.type, bit + m.bitOffset, m.bitSize, depth + 1));
    }
  }
}

/**
 * The text of a char array when it is printable ASCII (tab and newline allowed) followed only by NULs;
 * undefined otherwise, so bytes a string cannot give back stay numbers.
 */
function textOf(bytes: Uint8Array, at: number, length: number): string | undefined {
  let s = '';
  let i = 0;
  for (; i < length && bytes[at + i] !== 0; i++) {
    const c = bytes[at + i];
    if ((c < 0x20 || c > 0x7e) && c !== 0x09 && c !== 0x0a) return undefined;
    s += String.fromCharCode(c);
  }
  for (; i < length; i++) if (bytes[at + i] !== 0) return undefined;
  return s;
}

/** Thrown inside a union member's encoding when it changes bits an earlier member set differently. */
class Overlap extends Error {}

const UTF8 = new TextEncoder();

class Encoder {
  readonly bytes: Uint8Array;
  /** Bits written so far: union members may only rewrite them with the same value. */
  private readonly written: Uint8Array;
  private budget = WORK_BUDGET;
  constructor(
    private readonly btf: Btf,
    size: number,
  ) {
    this.bytes = new Uint8Array(size);
    this.written = new Uint8Array(size);
  }

  value(id: number, v: BtfValueInput, bit: number, bitSize: number, path: string, depth: number): void {
    const t = this.btf.resolve(id);
    if (depth >= MAX_DEPTH) throw nestedTooDeep(this.btf, t);
    if (--this.budget < 0)
      throw new UsageError(`${path}: value has more than ${WORK_BUDGET} parts to encode`);
    const typeName = (): string => this.btf.render(id);
    switch (t.kind) {
      case 'int': {
        const width = bitSize || t.bits;
        const n = t.encoding.bool && typeof v === 'boolean' ? BigInt(v) : integer(v, path, typeName);
        this.bits(
          bitSize === 0 ? bit + t.bitOffset : bit,
          width,
          fit(n, width, t.encoding.signed, path, typeName),
        );
        return;
      }
      case 'enum':
      case 'enum64': {
        const width = bitSize || t.size * 8;
        let n: bigint;
        if (typeof v === 'string') {
          const e = t.values.find((x) => x.name === v);
          if (e === undefined) {
            throw new UsageError(
              `${path}: ${JSON.stringify(v)} is not an enumerator of ${typeName()}`,
              {},
              { hint: `use one of ${t.values.map((x) => x.name).join(', ') || '(none)'} or a number` },
            );
          }
          n = BigInt.asUintN(width, e.value);
        } else n = integer(v, path, typeName);
        // Numbers of either signedness are accepted: C converts them to the storage anyway.
        if (n < -(1n << BigInt(width - 1)) || n >= 1n << BigInt(width)) {
          throw new UsageError(`${path}: ${describeInteger(n)} does not fit ${typeName()} (${width} bits)`);
        }
        this.bits(bit, width, BigInt.asUintN(width, n));
        return;
      }
      case 'ptr':
        this.bits(bit, 64, fit(integer(v, path, typeName), 64, false, path, typeName));
        return;
      case 'float': {
        if (typeof v !== 'number') throw shape(path, v, `a number for ${typeName()}`);
        if (t.size !== 4 && t.size !== 8) {
          throw new UsageError(
            `${path}: ${typeName()} is a ${t.size}-byte float, which has no JS number form`,
          );
        }
        const buf = new Uint8Array(t.size);
        const view = new DataView(buf.buffer);
        if (t.size === 4) view.setFloat32(0, v, this.btf.littleEndian);
        else view.setFloat64(0, v, this.btf.littleEndian);
        for (let i = 0; i < t.size; i++) this.byte(bit / 8 + i, buf[i]);
        return;
      }
      case 'array':
        this.array(t, id, v, bit, path, depth);
        return;
      case 'struct':
      case 'union': {
        if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) {
          throw shape(path, v, `an object for ${typeName()}`);
        }
        const record = v as { readonly [member: string]: BtfValueInput };
        const known = new Set<string>();
        memberNames(this.btf, t, known, depth);
        for (const key of Object.keys(record)) {
          if (!known.has(key)) {
            throw new UsageError(
              `${path}.${key}: ${typeName()} has no member ${JSON.stringify(key)}`,
              {},
              { hint: `members: ${[...known].join(', ') || '(none)'}` },
            );
          }
        }
        this.members(t, record, bit, path, depth);
        return;
      }
      default:
        throw noValue(this.btf, id, t);
    }
  }

  private members(
    t: BtfTypeOf<'struct' | 'union'>,
    record: { readonly [member: string]: BtfValueInput },
    bit: number,
    path: string,
    depth: number,
  ): void {
    const given: string[] = [];
    for (const m of t.members) {
      const inner = m.name === '' ? this.btf.resolve(m.type) : undefined;
      const anonymous =
        inner !== undefined && (inner.kind === 'struct' || inner.kind === 'union') ? inner : undefined;
      if (m.name === '' && anonymous === undefined) continue; // unnamed bitfield: padding stays zero
      if (anonymous === undefined && !Object.hasOwn(record, m.name)) continue;
      if (anonymous !== undefined) {
        const names = new Set<string>();
        memberNames(this.btf, anonymous, names, depth + 1);
        if (![...names].some((n) => Object.hasOwn(record, n))) continue;
      }
      const label = m.name || '<anonymous>';
      try {
        if (anonymous !== undefined) this.members(anonymous, record, bit + m.bitOffset, path, depth + 1);
        else this.value(m.type, record[m.name], bit + m.bitOffset, m.bitSize, `${path}.${m.name}`, depth + 1);
      } catch (e) {
        if (!(e instanceof Overlap) || t.kind !== 'union' || given.length === 0) throw e;
        throw new UsageError(
          `${path}: members ${given.join(', ')} and ${label} of ${this.btf.render(t.id)} overlap with different bytes`,
          {},
          { hint: 'a union holds one member at a time: give only the one to write' },
        );
      }
      given.push(label);
    }
  }

  private array(
    t: BtfTypeOf<'array'>,
    id: number,
    v: BtfValueInput,
    bit: number,
    path: string,
    depth: number,
  ): void {
    const elem = this.btf.resolve(t.type);
    const elemSize = this.btf.size(t.type);
    const typeName = this.btf.render(id);
    if (typeof v === 'string' || v instanceof Uint8Array) {
      if (elem.kind !== 'int' || elem.size !== 1) throw shape(path, v, `an array for ${typeName}`);
      const raw = typeof v === 'string' ? UTF8.encode(v) : v;
      if (raw.length > t.nelems) {
        throw new UsageError(`${path}: ${raw.length} bytes do not fit ${typeName}`);
      }
      // The whole array is written, so the bytes after the text are NULs.
      for (let i = 0; i < t.nelems; i++) this.byte(bit / 8 + i, raw[i] ?? 0);
      return;
    }
    if (!Array.isArray(v)) throw shape(path, v, `an array for ${typeName}`);
    const list = v as readonly BtfValueInput[];
    if (list.length > t.nelems) {
      throw new UsageError(`${path}: ${list.length} elements do not fit ${typeName}`);
    }
    list.forEach((item, i) => {
      this.value(t.type, item, bit + i * elemSize * 8, 0, `${path}[${i}]`, depth + 1);
    });
  }

  /** Writes `width` bits of `n` (already in range, unsigned form) at bit `bit`. */
  private bits(bit: number, width: number, n: bigint): void {
    const little = this.btf.littleEndian;
    if (bit % 8 === 0 && width % 8 === 0) {
      // Whole bytes (every non-bitfield): byte by byte, in number arithmetic up to 32 bits.
      const count = width / 8;
      const at = (i: number): number => bit / 8 + (little ? i : count - 1 - i);
      if (count <= 4) {
        let v = Number(BigInt.asUintN(width, n));
        for (let i = 0; i < count; i++, v = Math.floor(v / 256)) this.byte(at(i), v & 0xff);
      } else {
        let v = BigInt.asUintN(width, n);
        for (let i = 0; i < count; i++, v >>= 8n) this.byte(at(i), Number(v & 0xffn));
      }
      return;
    }
    const w = bitWindow(bit, width, little);
    const field = ((1n << BigInt(width)) - 1n) << w.shift;
    const bytes = readRaw(this.bytes, w.first, w.count, little);
    const written = readRaw(this.written, w.first, w.count, little);
    const value = (BigInt.asUintN(width, n) << w.shift) & field;
    if (((bytes ^ value) & written & field) !== 0n) throw new Overlap();
    writeRaw(this.bytes, w.first, w.count, little, (bytes & ~field) | value);
    writeRaw(this.written, w.first, w.count, little, written | field);
  }

  /** Writes a whole byte; bits written before must keep their value (union members that agree). */
  private byte(index: number, v: number): void {
    if (((this.bytes[index] ^ v) & this.written[index]) !== 0) throw new Overlap();
    this.bytes[index] = v;
    this.written[index] = 0xff;
  }
}

/** Every name a struct/union value object may hold (anonymous members' names included). */
function memberNames(btf: Btf, t: BtfTypeOf<'struct' | 'union'>, out: Set<string>, depth: number): void {
  if (depth >= MAX_DEPTH) throw nestedTooDeep(btf, t);
  for (const m of t.members) {
    if (m.name !== '') {
      out.add(m.name);
      continue;
    }
    const inner = btf.resolve(m.type);
    if (inner.kind === 'struct' || inner.kind === 'union') memberNames(btf, inner, out, depth + 1);
  }
}

/** A JS integer (number or bigint) as a bigint, or a UsageError naming what was given. */
function integer(v: BtfValueInput, path: string, typeName: () => string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new UsageError(`${path}: ${v} is not an integer (${typeName()})`);
    if (!Number.isSafeInteger(v)) {
      throw new UsageError(`${path}: ${v} is not a safe integer; pass a bigint for ${typeName()}`);
    }
    return BigInt(v);
  }
  throw shape(path, v, `an integer for ${typeName()}`);
}

/** `n` as `width` unsigned bits, after checking it fits the signed or unsigned range. */
function fit(n: bigint, width: number, signed: boolean, path: string, typeName: () => string): bigint {
  const min = signed ? -(1n << BigInt(width - 1)) : 0n;
  const max = signed ? (1n << BigInt(width - 1)) - 1n : (1n << BigInt(width)) - 1n;
  if (n < min || n > max) {
    throw new UsageError(`${path}: ${describeInteger(n)} does not fit ${typeName()} (${min}..${max})`);
  }
  return BigInt.asUintN(width, n);
}

/** Powers of two read better than their 20 digits (`2^70`). */
function describeInteger(n: bigint): string {
  const abs = n < 0n ? -n : n;
  if (abs > 1n << 53n && (abs & (abs - 1n)) === 0n)
    return `${n < 0n ? '-' : ''}2^${abs.toString(2).length - 1}`;
  return n.toString();
}

function shape(path: string, v: BtfValueInput, expected: string): UsageError {
  const got = Array.isArray(v)
    ? 'an array'
    : v instanceof Uint8Array
      ? 'a Uint8Array'
      : v === null
        ? 'null'
        : typeof v;
  return new UsageError(`${path}: expected ${expected}, got ${got}`);
}

function noValue(btf: Btf, id: number, t: BtfType) {
  return btfError(
    '.BTF',
    t.offset,
    `type [${id}] ${btf.describe(id)} (${t.kind}) has no value to encode or decode`,
  );
}

function nestedTooDeep(btf: Btf, t: BtfType) {
  return btfError(
    '.BTF',
    t.offset,
    `type [${t.id}] ${btf.describe(t.id)} nests more than ${MAX_DEPTH} levels deep`,
  );
}
