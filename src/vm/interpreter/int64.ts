/**
 * 64-bit arithmetic on (lo, hi) int32 halves, for the interpreter's less common operations. Results are
 * written into `out[0]` (lo) and `out[1]` (hi) so nothing is allocated. The common cases (operands below
 * 2^53) never touch BigInt; only 64-bit divisions with huge operands fall back to it.
 */

const TWO32 = 4294967296;

/** Unsigned 64-bit value of (lo, hi) as a double; exact when hi < 2^21. */
function toNumber(lo: number, hi: number): number {
  return (hi >>> 0) * TWO32 + (lo >>> 0);
}

function fromNumber(out: Int32Array, v: number): void {
  out[0] = v | 0;
  out[1] = (v / TWO32) | 0;
}

function toBig(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

function fromBig(out: Int32Array, v: bigint): void {
  out[0] = Number(v & 0xffffffffn) | 0;
  out[1] = Number((v >> 32n) & 0xffffffffn) | 0;
}

/** (alo, ahi) * (blo, bhi) mod 2^64. */
export function mul64(out: Int32Array, alo: number, ahi: number, blo: number, bhi: number): void {
  const a0 = alo & 0xffff;
  const a1 = alo >>> 16;
  const b0 = blo & 0xffff;
  const b1 = blo >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  out[0] = (p00 & 0xffff) | (mid << 16);
  out[1] =
    (a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16) + Math.imul(alo, bhi) + Math.imul(ahi, blo)) | 0;
}

/**
 * Unsigned 64-bit division and remainder. `wantRem` selects which one is written. Division by zero is
 * handled by the caller (RFC 9669: quotient 0, remainder = dividend).
 */
export function udivmod64(
  out: Int32Array,
  alo: number,
  ahi: number,
  blo: number,
  bhi: number,
  wantRem: boolean,
): void {
  if ((ahi | bhi) === 0) {
    const a = alo >>> 0;
    const b = blo >>> 0;
    out[0] = (wantRem ? a % b : Math.floor(a / b)) | 0;
    out[1] = 0;
    return;
  }
  if (ahi >>> 0 < 0x200000 && bhi >>> 0 < 0x200000) {
    // Both below 2^53: a non-integer a/b lies at least 1/b = (a/b)/a > (a/b)·2^-53 from an integer,
    // more than the rounding error of the division, so floor(a / b) is exact and so is a - q * b.
    const a = toNumber(alo, ahi);
    const b = toNumber(blo, bhi);
    const q = Math.floor(a / b);
    fromNumber(out, wantRem ? a - q * b : q);
    return;
  }
  const a = toBig(alo, ahi);
  const b = toBig(blo, bhi);
  fromBig(out, wantRem ? a % b : a / b);
}

/** Two's complement negation of (lo, hi) into out. */
export function neg64(out: Int32Array, lo: number, hi: number): void {
  out[0] = -lo | 0;
  out[1] = (lo === 0 ? -hi : ~hi) | 0;
}

/**
 * Signed 64-bit division / remainder with truncation toward zero (C semantics): the remainder has the
 * sign of the dividend; INT64_MIN / -1 wraps to INT64_MIN and INT64_MIN % -1 is 0.
 */
export function sdivmod64(
  out: Int32Array,
  alo: number,
  ahi: number,
  blo: number,
  bhi: number,
  wantRem: boolean,
): void {
  const aNeg = ahi < 0;
  const bNeg = bhi < 0;
  if (aNeg) {
    neg64(out, alo, ahi);
    alo = out[0];
    ahi = out[1];
  }
  if (bNeg) {
    neg64(out, blo, bhi);
    blo = out[0];
    bhi = out[1];
  }
  udivmod64(out, alo, ahi, blo, bhi, wantRem);
  if (wantRem ? aNeg : aNeg !== bNeg) neg64(out, out[0], out[1]);
}

/** Reverses the bytes of a 32-bit value. */
export function bswap32(v: number): number {
  return ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
}

export function bswap16(v: number): number {
  return ((v & 0xff) << 8) | ((v >>> 8) & 0xff);
}

/** Formats (lo, hi) as an unsigned 64-bit BigInt. */
export function pairToBigInt(lo: number, hi: number): bigint {
  return toBig(lo, hi);
}
