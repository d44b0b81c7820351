/**
 * A minimal WebAssembly binary encoder: a growable byte buffer with LEB128, the opcodes the JIT emits,
 * and the module layout (types, imports, functions, tables, globals, exports, elements, code). Only
 * what the JIT needs; everything is written in one pass with no intermediate tree.
 */
import type { WorkPool } from './scratch.js';

export const I32 = 0x7f;
export const I64 = 0x7e;
export const F64 = 0x7c;
export const FUNCREF = 0x70;
export const VOID = 0x40;
export type ValType = typeof I32 | typeof I64 | typeof F64;

/** Opcodes used by the code generator (names follow the text format). */
export const Op = {
  unreachable: 0x00,
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  br_if: 0x0d,
  br_table: 0x0e,
  return: 0x0f,
  call: 0x10,
  call_indirect: 0x11,
  drop: 0x1a,
  select: 0x1b,
  local_get: 0x20,
  local_set: 0x21,
  local_tee: 0x22,
  global_get: 0x23,
  global_set: 0x24,
  i32_load: 0x28,
  i64_load: 0x29,
  i32_load8_u: 0x2d,
  i32_load16_u: 0x2f,
  i64_load8_s: 0x30,
  i64_load8_u: 0x31,
  i64_load16_s: 0x32,
  i64_load16_u: 0x33,
  i64_load32_s: 0x34,
  i64_load32_u: 0x35,
  i32_store: 0x36,
  i64_store: 0x37,
  i64_store8: 0x3c,
  i64_store16: 0x3d,
  i64_store32: 0x3e,
  i32_const: 0x41,
  i64_const: 0x42,
  f64_const: 0x44,
  i32_eqz: 0x45,
  i32_eq: 0x46,
  i32_ne: 0x47,
  i32_lt_s: 0x48,
  i32_lt_u: 0x49,
  i32_gt_s: 0x4a,
  i32_gt_u: 0x4b,
  i32_le_s: 0x4c,
  i32_le_u: 0x4d,
  i32_ge_s: 0x4e,
  i32_ge_u: 0x4f,
  i64_eqz: 0x50,
  i64_eq: 0x51,
  i64_ne: 0x52,
  i64_lt_s: 0x53,
  i64_lt_u: 0x54,
  i64_gt_s: 0x55,
  i64_gt_u: 0x56,
  i64_le_s: 0x57,
  i64_le_u: 0x58,
  i64_ge_s: 0x59,
  i64_ge_u: 0x5a,
  f64_ne: 0x62,
  f64_gt: 0x64,
  i32_add: 0x6a,
  i32_sub: 0x6b,
  i32_mul: 0x6c,
  i32_div_s: 0x6d,
  i32_div_u: 0x6e,
  i32_rem_s: 0x6f,
  i32_rem_u: 0x70,
  i32_and: 0x71,
  i32_or: 0x72,
  i32_xor: 0x73,
  i32_shl: 0x74,
  i32_shr_s: 0x75,
  i32_shr_u: 0x76,
  i32_rotl: 0x77,
  i32_rotr: 0x78,
  i64_add: 0x7c,
  i64_sub: 0x7d,
  i64_mul: 0x7e,
  i64_div_s: 0x7f,
  i64_div_u: 0x80,
  i64_rem_s: 0x81,
  i64_rem_u: 0x82,
  i64_and: 0x83,
  i64_or: 0x84,
  i64_xor: 0x85,
  i64_shl: 0x86,
  i64_shr_s: 0x87,
  i64_shr_u: 0x88,
  i64_rotl: 0x89,
  i64_rotr: 0x8a,
  f64_add: 0xa0,
  f64_sub: 0xa1,
  i32_wrap_i64: 0xa7,
  i64_extend_i32_s: 0xac,
  i64_extend_i32_u: 0xad,
  i64_trunc_f64_s: 0xb0,
  f64_convert_i64_s: 0xb9,
  i32_extend8_s: 0xc0,
  i32_extend16_s: 0xc1,
  i64_extend8_s: 0xc2,
  i64_extend16_s: 0xc3,
  i64_extend32_s: 0xc4,
  /** Prefix of the 0xfc opcodes (FC_* below: a LEB128 after the prefix). */
  prefix_fc: 0xfc,
} as const;
/** i32.trunc_sat_f64_s: never traps (NaN → 0, out of range → the nearest int32). */
export const FC_I32_TRUNC_SAT_F64_S = 2;

// One scratch for the f64 bit pattern, shared by every writer (encoding is synchronous).
const f64Scratch = new Float64Array(1);
const f64Bytes = new Uint8Array(f64Scratch.buffer);
const utf8 = new TextEncoder();
/** Bytes reserved for a length prefix written after its content (the longest u32 LEB128). */
const SIZE_RESERVE = 5;

/** Bytes of the u32 LEB128 encoding of `v`. */
export function u32Length(v: number): number {
  let n = 1;
  for (let x = v >>> 7; x !== 0; x >>>= 7) n++;
  return n;
}

/** Bytes of the locals vector of a function body. */
export function localsLength(locals: readonly LocalRun[]): number {
  let n = u32Length(locals.length);
  for (let k = 0; k < locals.length; k++) n += u32Length(locals[k].count) + 1;
  return n;
}

/** Growable byte buffer with the LEB128 and float writers of the binary format. */
export class ByteWriter {
  bytes: Uint8Array<ArrayBuffer>;
  length = 0;
  /**
   * `capacity`: expected size, so big outputs are not copied over and over while they grow; or
   * `buffer`: memory to write into (grown like any other).
   */
  constructor(capacity = 256, buffer?: ArrayBuffer) {
    this.bytes = buffer !== undefined ? new Uint8Array(buffer) : new Uint8Array(Math.max(16, capacity));
  }

  private reserve(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  byte(b: number): void {
    if (this.length === this.bytes.length) this.reserve(1);
    this.bytes[this.length++] = b;
  }

  /** Two opcodes or an opcode and a one-byte operand. */
  op2(a: number, b: number): void {
    if (this.length + 2 > this.bytes.length) this.reserve(2);
    const bytes = this.bytes;
    const at = this.length;
    bytes[at] = a;
    bytes[at + 1] = b;
    this.length = at + 2;
  }

  /** Three bytes with one capacity check (an operator, then a `local.set` and its index). */
  op3(a: number, b: number, c: number): void {
    if (this.length + 3 > this.bytes.length) this.reserve(3);
    const bytes = this.bytes;
    const at = this.length;
    bytes[at] = a;
    bytes[at + 1] = b;
    bytes[at + 2] = c;
    this.length = at + 3;
  }

  /** Four bytes with one capacity check (an `i64.const 0; local.set r` pair, a `local.get` pair). */
  op4(a: number, b: number, c: number, d: number): void {
    if (this.length + 4 > this.bytes.length) this.reserve(4);
    const bytes = this.bytes;
    const at = this.length;
    bytes[at] = a;
    bytes[at + 1] = b;
    bytes[at + 2] = c;
    bytes[at + 3] = d;
    this.length = at + 4;
  }

  /** An opcode and its u32 LEB128 immediate (a branch depth, a local index). */
  opU32(op: number, v: number): void {
    if (this.length + 6 > this.bytes.length) this.reserve(6);
    if (v >>> 0 < 0x80) {
      const bytes = this.bytes;
      const at = this.length;
      bytes[at] = op;
      bytes[at + 1] = v;
      this.length = at + 2;
      return;
    }
    this.bytes[this.length++] = op;
    this.u32(v);
  }

  u32(v: number): void {
    if (this.length + 5 > this.bytes.length) this.reserve(5);
    let x = v >>> 0;
    do {
      let b = x & 0x7f;
      x >>>= 7;
      if (x !== 0) b |= 0x80;
      this.bytes[this.length++] = b;
    } while (x !== 0);
  }

  /** Signed LEB128 of a 32-bit integer. */
  s32(v: number): void {
    if (this.length + 5 > this.bytes.length) this.reserve(5);
    let x = v | 0;
    // One byte for −64..63 (most constants: lengths, offsets, small immediates).
    if (x >= -64 && x < 64) {
      this.bytes[this.length++] = x & 0x7f;
      return;
    }
    for (;;) {
      const b = x & 0x7f;
      x >>= 7;
      if ((x === 0 && (b & 0x40) === 0) || (x === -1 && (b & 0x40) !== 0)) {
        this.bytes[this.length++] = b;
        return;
      }
      this.bytes[this.length++] = b | 0x80;
    }
  }

  /** Signed LEB128 of the 64-bit integer hi:lo (two int32 halves, no BigInt). */
  s64(lo: number, hi: number): void {
    if (hi === lo >> 31) {
      this.s32(lo);
      return;
    }
    this.reserve(10);
    let l = lo >>> 0;
    let h = hi | 0;
    for (;;) {
      const b = l & 0x7f;
      // Arithmetic shift of the 64-bit pair by 7.
      l = ((l >>> 7) | (h << 25)) >>> 0;
      h >>= 7;
      const done =
        (h === 0 && l === 0 && (b & 0x40) === 0) || (h === -1 && l === 0xffffffff && (b & 0x40) !== 0);
      if (done) {
        this.bytes[this.length++] = b;
        return;
      }
      this.bytes[this.length++] = b | 0x80;
    }
  }

  f64const(v: number): void {
    if (this.length + 9 > this.bytes.length) this.reserve(9);
    const bytes = this.bytes;
    let at = this.length;
    bytes[at++] = Op.f64_const;
    // Float64Array is host-endian; every engine this runs on is little-endian, like wasm.
    f64Scratch[0] = v;
    for (let k = 0; k < 8; k++) bytes[at++] = f64Bytes[k];
    this.length = at;
  }

  i32const(v: number): void {
    if (this.length + 6 > this.bytes.length) this.reserve(6);
    const x = v | 0;
    if (x >= -64 && x < 64) {
      // The common one-byte immediate without s32's second capacity check.
      const bytes = this.bytes;
      const at = this.length;
      bytes[at] = Op.i32_const;
      bytes[at + 1] = x & 0x7f;
      this.length = at + 2;
      return;
    }
    this.bytes[this.length++] = Op.i32_const;
    this.s32(x);
  }

  i64const(lo: number, hi: number): void {
    if (this.length + 11 > this.bytes.length) this.reserve(11);
    const x = lo | 0;
    if (x >= -64 && x < 64 && hi === x >> 31) {
      // See i32const.
      const bytes = this.bytes;
      const at = this.length;
      bytes[at] = Op.i64_const;
      bytes[at + 1] = x & 0x7f;
      this.length = at + 2;
      return;
    }
    this.bytes[this.length++] = Op.i64_const;
    this.s64(lo, hi);
  }

  /** Memory access with alignment hint 0 (the guest may be unaligned) and a static offset. */
  mem(op: number, offset = 0): void {
    if (this.length + 7 > this.bytes.length) this.reserve(7);
    const bytes = this.bytes;
    bytes[this.length++] = op;
    bytes[this.length++] = 0;
    if (offset >= 0 && offset < 0x80) bytes[this.length++] = offset;
    else this.u32(offset);
  }

  append(other: ByteWriter): void {
    this.raw(other.bytes.subarray(0, other.length));
  }

  raw(data: Uint8Array): void {
    this.reserve(data.length);
    this.bytes.set(data, this.length);
    this.length += data.length;
  }

  name(s: string): void {
    // Import and export names are ASCII: written directly, without an encoded copy.
    let ascii = true;
    for (let k = 0; k < s.length && ascii; k++) ascii = s.charCodeAt(k) < 0x80;
    if (!ascii) {
      const data = utf8.encode(s);
      this.u32(data.length);
      this.raw(data);
      return;
    }
    this.u32(s.length);
    this.reserve(s.length);
    for (let k = 0; k < s.length; k++) this.bytes[this.length++] = s.charCodeAt(k);
  }

  /**
   * Starts content whose u32 byte length precedes it (a section, a function body): reserves room for
   * the length and returns where the content starts, for `endSized`. The content is written in place,
   * not in a writer of its own that would then be copied.
   */
  beginSized(reserve = SIZE_RESERVE): number {
    this.reserve(reserve);
    this.length += reserve;
    return this.length;
  }

  /**
   * Writes the length of the content from `start` (see beginSized) in front of it; with `locals`, the
   * content is a function body whose locals vector goes between its length and its code. The
   * content moves once (memmove) to fit the length and locals into the `reserved` bytes in front of
   * it (beginSized's), unless they take exactly those.
   */
  endSized(start: number, locals?: readonly LocalRun[], reserved = SIZE_RESERVE): void {
    const header = locals === undefined ? 0 : localsLength(locals);
    const contentLength = this.length - start;
    const size = header + contentLength;
    const to = start - reserved + u32Length(size) + header;
    if (to > start) this.reserve(to - start);
    if (to !== start) this.bytes.copyWithin(to, start, start + contentLength);
    this.length = start - reserved;
    this.u32(size);
    if (locals !== undefined) {
      this.u32(locals.length);
      for (let k = 0; k < locals.length; k++) {
        this.u32(locals[k].count);
        this.byte(locals[k].type);
      }
    }
    this.length = to + contentLength;
  }

  result(): Uint8Array<ArrayBuffer> {
    return this.bytes.subarray(0, this.length);
  }
}

export interface FuncType {
  params: readonly ValType[];
  results: readonly ValType[];
}

export type ImportDesc =
  | { module: string; name: string; kind: 'func'; type: number }
  | { module: string; name: string; kind: 'memory' };

export interface GlobalDesc {
  type: ValType;
  mutable: boolean;
  /** Initial value (i32 or f64 constant). */
  init: number;
  export?: string;
}

/** Extra locals of a function body: a run of `count` locals of one type. */
export interface LocalRun {
  count: number;
  type: ValType;
}

export interface FuncBody {
  /** Extra locals after the parameters, as runs of one type. */
  locals: readonly LocalRun[];
  /** The expression bytes, ending with `end`. */
  code: ByteWriter;
}

/** Everything of a module but its function bodies. */
export interface ModuleHeader {
  types: readonly FuncType[];
  imports: readonly ImportDesc[];
  /** Type index of every defined function, in order (function indices follow the imports). */
  functions: readonly number[];
  /** Size of the one funcref table (0 for none); `elements` fills it from index 0. */
  tableSize: number;
  elements: readonly number[];
  globals: readonly GlobalDesc[];
  exports: readonly { name: string; func: number }[];
}

export interface ModuleDesc extends ModuleHeader {
  bodies: readonly FuncBody[];
}

/**
 * A module written in one pass into one buffer: the header sections, then one body per defined
 * function, in order, straight into the code section (no per-body buffer, no copy of the section).
 *   const m = new ModuleWriter(header, sizeHint); for each function: const at = m.beginBody();
 *   …code into m.w…; m.endBody(at, locals); then m.finish().
 */
export class ModuleWriter {
  readonly w: ByteWriter;
  private readonly codeStart: number;
  private bodiesLeft: number;
  /** Bytes reserved in front of the current body (see beginBody). */
  private bodyReserve = SIZE_RESERVE;

  /**
   * With a `pool`, the module is written into its buffer and `finish` returns a copy of exactly the
   * module's size (fresh memory costs page faults and garbage collections at every compilation).
   */
  constructor(
    m: ModuleHeader,
    capacity = 1024,
    private readonly pool?: WorkPool<ArrayBuffer>,
  ) {
    const out = new ByteWriter(capacity, pool?.borrow(Math.max(16, capacity)));
    this.w = out;
    out.raw(MAGIC_VERSION);

    let at = beginSection(out, 1);
    out.u32(m.types.length);
    for (const t of m.types) {
      out.byte(0x60);
      out.u32(t.params.length);
      for (const p of t.params) out.byte(p);
      out.u32(t.results.length);
      for (const r of t.results) out.byte(r);
    }
    out.endSized(at);

    at = beginSection(out, 2);
    out.u32(m.imports.length);
    for (const imp of m.imports) {
      out.name(imp.module);
      out.name(imp.name);
      if (imp.kind === 'func') {
        out.byte(0x00);
        out.u32(imp.type);
      } else {
        // Memory with no maximum: the host's WebAssembly.Memory decides.
        out.byte(0x02);
        out.byte(0x00);
        out.u32(1);
      }
    }
    out.endSized(at);

    at = beginSection(out, 3);
    out.u32(m.functions.length);
    for (let k = 0; k < m.functions.length; k++) out.u32(m.functions[k]);
    out.endSized(at);

    if (m.tableSize > 0) {
      at = beginSection(out, 4);
      out.u32(1);
      out.byte(FUNCREF);
      out.byte(0x00);
      out.u32(m.tableSize);
      out.endSized(at);
    }

    at = beginSection(out, 6);
    out.u32(m.globals.length);
    for (const g of m.globals) {
      out.byte(g.type);
      out.byte(g.mutable ? 1 : 0);
      if (g.type === F64) out.f64const(g.init);
      else if (g.type === I64) out.i64const(g.init | 0, g.init < 0 ? -1 : 0);
      else out.i32const(g.init);
      out.byte(Op.end);
    }
    out.endSized(at);

    at = beginSection(out, 7);
    let globalExports = 0;
    for (const g of m.globals) if (g.export) globalExports++;
    out.u32(m.exports.length + globalExports);
    for (const e of m.exports) {
      out.name(e.name);
      out.byte(0x00);
      out.u32(e.func);
    }
    for (let i = 0; i < m.globals.length; i++) {
      const name = m.globals[i].export;
      if (!name) continue;
      out.name(name);
      out.byte(0x03);
      out.u32(i);
    }
    out.endSized(at);

    if (m.elements.length > 0) {
      at = beginSection(out, 9);
      out.u32(1);
      out.byte(0x00);
      out.i32const(0);
      out.byte(Op.end);
      out.u32(m.elements.length);
      for (let k = 0; k < m.elements.length; k++) out.u32(m.elements[k]);
      out.endSized(at);
    }

    this.codeStart = beginSection(out, 10);
    out.u32(m.functions.length);
    this.bodiesLeft = m.functions.length;
  }

  /**
   * Starts the next function body; its code goes to `w` until `endBody`. `header`: the bytes its size
   * and locals will likely take (see `bodyHeader`), reserved in front of the code, which then needs
   * no move when the guess is right.
   */
  beginBody(header = SIZE_RESERVE): number {
    if (this.bodiesLeft === 0) throw new Error('internal: more bodies than functions');
    this.bodiesLeft--;
    this.bodyReserve = header;
    return this.w.beginSized(header);
  }

  /** Forgets the body begun at `at` (not ended): the next beginBody writes the same function's. */
  dropBody(at: number): void {
    this.w.length = at - this.bodyReserve;
    this.bodiesLeft++;
  }

  /** Ends the body begun at `at` (from beginBody) and returns the size of its code. */
  endBody(at: number, locals: readonly LocalRun[]): number {
    const code = this.w.length - at;
    this.w.endSized(at, locals, this.bodyReserve);
    return code;
  }

  /**
   * The module bytes, once every function has its body. With a pool: a copy, unless `borrow`, which
   * returns the bytes in the pooled buffer itself — valid until `release()`, which the caller owes
   * (for a consumer that copies them anyway, like WebAssembly.Module: no second copy of a module of
   * tens of MB in fresh memory).
   */
  finish(borrow = false): Uint8Array<ArrayBuffer> {
    if (this.bodiesLeft !== 0) throw new Error('internal: a function has no body');
    this.w.endSized(this.codeStart);
    if (this.pool === undefined || borrow) return this.w.result();
    const bytes = this.w.result().slice();
    this.release();
    return bytes;
  }

  /** Gives the pooled buffer back (done by `finish`; for a module abandoned on an error). */
  release(): void {
    this.pool?.release(this.w.bytes.buffer);
  }
}

const MAGIC_VERSION = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

function beginSection(out: ByteWriter, id: number): number {
  out.byte(id);
  return out.beginSized();
}

/** Encodes a whole module whose bodies are already written. */
export function encodeModule(m: ModuleDesc): Uint8Array<ArrayBuffer> {
  let size = 1024;
  for (const b of m.bodies) size += b.code.length + 32;
  const writer = new ModuleWriter(m, size);
  for (const b of m.bodies) {
    const at = writer.beginBody();
    writer.w.append(b.code);
    writer.endBody(at, b.locals);
  }
  return writer.finish();
}
