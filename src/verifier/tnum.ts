/**
 * Tristate numbers ("known bits"), as the kernel's kernel/bpf/tnum.c: `value` holds the bits known to
 * be 1, `mask` the unknown bits; a bit set in both never occurs. Every operation is sound: the result
 * contains every concrete result of the operation on members of the inputs. 64-bit, as unsigned BigInts.
 */

export const U64 = (1n << 64n) - 1n;
export const U32 = 0xffffffffn;

export interface Tnum {
  readonly value: bigint;
  readonly mask: bigint;
}

export const TNUM_UNKNOWN: Tnum = { value: 0n, mask: U64 };

export function tnumConst(v: bigint): Tnum {
  return { value: v & U64, mask: 0n };
}

export function tnumIsConst(a: Tnum): boolean {
  return a.mask === 0n;
}

/** Number of significant bits of `x` (fls64). */
function fls(x: bigint): number {
  if (x === 0n) return 0;
  const hi = Number(x >> 32n);
  return hi !== 0 ? 64 - Math.clz32(hi) : 32 - Math.clz32(Number(x));
}

/** The smallest tnum containing every value of [min, max] (unsigned). */
export function tnumRange(min: bigint, max: bigint): Tnum {
  const chi = min ^ max;
  const bits = fls(chi);
  if (bits > 63) return TNUM_UNKNOWN;
  const delta = (1n << BigInt(bits)) - 1n;
  return { value: min & ~delta & U64, mask: delta };
}

export function tnumLshift(a: Tnum, shift: number): Tnum {
  const s = BigInt(shift);
  return { value: (a.value << s) & U64, mask: (a.mask << s) & U64 };
}

export function tnumRshift(a: Tnum, shift: number): Tnum {
  const s = BigInt(shift);
  return { value: a.value >> s, mask: a.mask >> s };
}

/** Arithmetic right shift of the low `bits` (32 or 64) bits; a 32-bit result is zero-extended. */
export function tnumArshift(a: Tnum, shift: number, bits: 32 | 64): Tnum {
  const s = BigInt(shift);
  const w = BigInt(bits);
  const top = (1n << w) - 1n;
  const sar = (x: bigint): bigint => (BigInt.asIntN(bits, x & top) >> s) & top;
  return { value: sar(a.value), mask: sar(a.mask) };
}

export function tnumAdd(a: Tnum, b: Tnum): Tnum {
  const sm = (a.mask + b.mask) & U64;
  const sv = (a.value + b.value) & U64;
  const sigma = (sm + sv) & U64;
  const chi = sigma ^ sv;
  const mu = chi | a.mask | b.mask;
  return { value: sv & ~mu & U64, mask: mu };
}

export function tnumSub(a: Tnum, b: Tnum): Tnum {
  const dv = (a.value - b.value) & U64;
  const alpha = (dv + a.mask) & U64;
  const beta = (dv - b.mask) & U64;
  const chi = alpha ^ beta;
  const mu = chi | a.mask | b.mask;
  return { value: dv & ~mu & U64, mask: mu };
}

export function tnumAnd(a: Tnum, b: Tnum): Tnum {
  const alpha = a.value | a.mask;
  const beta = b.value | b.mask;
  const v = a.value & b.value;
  return { value: v, mask: alpha & beta & ~v & U64 };
}

export function tnumOr(a: Tnum, b: Tnum): Tnum {
  const v = a.value | b.value;
  const mu = a.mask | b.mask;
  return { value: v, mask: mu & ~v & U64 };
}

export function tnumXor(a: Tnum, b: Tnum): Tnum {
  const v = a.value ^ b.value;
  const mu = a.mask | b.mask;
  return { value: v & ~mu & U64, mask: mu };
}

/** Long multiplication over known bits (the kernel's tnum_mul since 6.x). */
export function tnumMul(a: Tnum, b: Tnum): Tnum {
  const accV = (a.value * b.value) & U64;
  let accM: Tnum = { value: 0n, mask: 0n };
  let x = a;
  let y = b;
  while (x.value !== 0n || x.mask !== 0n) {
    if ((x.value & 1n) !== 0n) accM = tnumAdd(accM, { value: 0n, mask: y.mask });
    else if ((x.mask & 1n) !== 0n) accM = tnumAdd(accM, { value: 0n, mask: y.value | y.mask });
    x = tnumRshift(x, 1);
    y = tnumLshift(y, 1);
  }
  return tnumAdd({ value: accV, mask: 0n }, accM);
}

/** Values in both (the caller guarantees they overlap). */
export function tnumIntersect(a: Tnum, b: Tnum): Tnum {
  const v = a.value | b.value;
  const mu = a.mask & b.mask;
  return { value: v & ~mu & U64, mask: mu };
}

/** True when no value is in both (a known bit differs). */
export function tnumDisjoint(a: Tnum, b: Tnum): boolean {
  return ((a.value ^ b.value) & ~(a.mask | b.mask) & U64) !== 0n;
}

/** The smallest tnum containing both (used when joining states). */
export function tnumUnion(a: Tnum, b: Tnum): Tnum {
  const mu = a.mask | b.mask | (a.value ^ b.value);
  return { value: a.value & ~mu & U64, mask: mu };
}

/** Truncation to `size` bytes. */
export function tnumCast(a: Tnum, size: number): Tnum {
  if (size >= 8) return a;
  const m = (1n << BigInt(size * 8)) - 1n;
  return { value: a.value & m, mask: a.mask & m };
}

/** True when every member of `b` is a member of `a`. */
export function tnumIn(a: Tnum, b: Tnum): boolean {
  if ((b.mask & ~a.mask & U64) !== 0n) return false;
  return a.value === (b.value & ~a.mask & U64);
}

export function tnumContains(a: Tnum, v: bigint): boolean {
  return ((v & U64 & ~a.mask & U64) ^ a.value) === 0n;
}

export function tnumSubreg(a: Tnum): Tnum {
  return tnumCast(a, 4);
}

export function tnumClearSubreg(a: Tnum): Tnum {
  return tnumLshift(tnumRshift(a, 32), 32);
}

export function tnumEquals(a: Tnum, b: Tnum): boolean {
  return a.value === b.value && a.mask === b.mask;
}

/** `0x1x0` style text for messages. */
export function tnumToString(a: Tnum): string {
  return `(0x${a.value.toString(16)}; 0x${a.mask.toString(16)})`;
}
