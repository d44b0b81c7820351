/**
 * Scalar values as the kernel tracks them: known bits (tnum) plus unsigned and signed bounds at 64 and
 * 32 bits, kept consistent with each other by the kernel's reg_bounds_sync (update, deduce, bound
 * offset). ALU operations and comparisons are computed on a `width`-bit view (64, or the 32-bit
 * subregister) and written back, so one set of rules serves both ALU and ALU64, JMP and JMP32.
 */
import {
  TNUM_UNKNOWN,
  type Tnum,
  tnumAdd,
  tnumAnd,
  tnumArshift,
  tnumCast,
  tnumClearSubreg,
  tnumConst,
  tnumContains,
  tnumDisjoint,
  tnumIn,
  tnumIntersect,
  tnumIsConst,
  tnumLshift,
  tnumMul,
  tnumOr,
  tnumRange,
  tnumRshift,
  tnumSub,
  tnumSubreg,
  tnumUnion,
  tnumXor,
  U32,
  U64,
} from './tnum.js';

export interface Scalar {
  readonly var: Tnum;
  readonly umin: bigint;
  readonly umax: bigint;
  readonly smin: bigint;
  readonly smax: bigint;
  readonly u32min: bigint;
  readonly u32max: bigint;
  readonly s32min: bigint;
  readonly s32max: bigint;
}

export const S64_MIN = -(1n << 63n);
export const S64_MAX = (1n << 63n) - 1n;
export const S32_MIN = -(1n << 31n);
export const S32_MAX = (1n << 31n) - 1n;

const s64 = (x: bigint): bigint => BigInt.asIntN(64, x);
const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);
const s32 = (x: bigint): bigint => BigInt.asIntN(32, x);
const u32 = (x: bigint): bigint => BigInt.asUintN(32, x);
const max = (a: bigint, b: bigint): bigint => (a > b ? a : b);
const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

export const SCALAR_UNKNOWN: Scalar = {
  var: TNUM_UNKNOWN,
  umin: 0n,
  umax: U64,
  smin: S64_MIN,
  smax: S64_MAX,
  u32min: 0n,
  u32max: U32,
  s32min: S32_MIN,
  s32max: S32_MAX,
};

export function scalarConst(v: bigint): Scalar {
  const x = u64(v);
  const lo = u32(x);
  return {
    var: tnumConst(x),
    umin: x,
    umax: x,
    smin: s64(x),
    smax: s64(x),
    u32min: lo,
    u32max: lo,
    s32min: s32(lo),
    s32max: s32(lo),
  };
}

/** Any value of `size` bytes, zero-extended (what a narrow load of unknown memory gives). */
export function scalarOfSize(size: number): Scalar {
  if (size >= 8) return SCALAR_UNKNOWN;
  const top = (1n << BigInt(size * 8)) - 1n;
  return normalize({ ...SCALAR_UNKNOWN, var: { value: 0n, mask: top }, umax: top }) ?? SCALAR_UNKNOWN;
}

/** Any value in [lo, hi] (unsigned). */
export function scalarRange(lo: bigint, hi: bigint): Scalar {
  return normalize({ ...SCALAR_UNKNOWN, umin: lo, umax: hi }) ?? SCALAR_UNKNOWN;
}

export function isConst(s: Scalar): boolean {
  return tnumIsConst(s.var);
}

/** True when `v` (any 64-bit pattern) is a possible value. */
export function scalarContains(s: Scalar, v: bigint): boolean {
  const x = u64(v);
  const lo = u32(x);
  return (
    tnumContains(s.var, x) &&
    x >= s.umin &&
    x <= s.umax &&
    s64(x) >= s.smin &&
    s64(x) <= s.smax &&
    lo >= s.u32min &&
    lo <= s.u32max &&
    s32(lo) >= s.s32min &&
    s32(lo) <= s.s32max
  );
}

interface Mut {
  var: Tnum;
  umin: bigint;
  umax: bigint;
  smin: bigint;
  smax: bigint;
  u32min: bigint;
  u32max: bigint;
  s32min: bigint;
  s32max: bigint;
}

function updateBounds(r: Mut): void {
  const v32 = tnumSubreg(r.var);
  r.s32min = max(r.s32min, s32(v32.value | (v32.mask & 0x80000000n)));
  r.s32max = min(r.s32max, s32(v32.value | (v32.mask & 0x7fffffffn)));
  r.u32min = max(r.u32min, v32.value);
  r.u32max = min(r.u32max, v32.value | v32.mask);
  const v = r.var;
  r.smin = max(r.smin, s64(v.value | (v.mask & (1n << 63n))));
  r.smax = min(r.smax, s64(v.value | (v.mask & S64_MAX)));
  r.umin = max(r.umin, v.value);
  r.umax = min(r.umax, v.value | v.mask);
}

function deduce32(r: Mut): void {
  if (r.umin >> 32n === r.umax >> 32n) {
    r.u32min = max(r.u32min, u32(r.umin));
    r.u32max = min(r.u32max, u32(r.umax));
    if (s32(r.umin) <= s32(r.umax)) {
      r.s32min = max(r.s32min, s32(r.umin));
      r.s32max = min(r.s32max, s32(r.umax));
    }
  }
  if (r.smin >> 32n === r.smax >> 32n) {
    r.u32min = max(r.u32min, u32(r.smin));
    r.u32max = min(r.u32max, u32(r.smax));
    if (s32(r.smin) <= s32(r.smax)) {
      r.s32min = max(r.s32min, s32(r.smin));
      r.s32max = min(r.s32max, s32(r.smax));
    }
  }
  // Upper halves differing by one with the low halves crossing the s32 sign boundary.
  if (u32((r.umin >> 32n) + 1n) === u32(r.umax >> 32n) && s32(r.umin) < 0n && s32(r.umax) >= 0n) {
    r.s32min = max(r.s32min, s32(r.umin));
    r.s32max = min(r.s32max, s32(r.umax));
  }
  if (u32((r.smin >> 32n) + 1n) === u32(r.smax >> 32n) && s32(r.smin) < 0n && s32(r.smax) >= 0n) {
    r.s32min = max(r.s32min, s32(r.smin));
    r.s32max = min(r.s32max, s32(r.smax));
  }
  if (s32(r.u32min) <= s32(r.u32max)) {
    r.s32min = max(r.s32min, s32(r.u32min));
    r.s32max = min(r.s32max, s32(r.u32max));
  }
  if (u32(r.s32min) <= u32(r.s32max)) {
    r.u32min = max(r.u32min, u32(r.s32min));
    r.u32max = min(r.u32max, u32(r.s32max));
  }
}

function deduce64(r: Mut): void {
  if (s64(r.umin) <= s64(r.umax)) {
    r.smin = max(r.smin, s64(r.umin));
    r.smax = min(r.smax, s64(r.umax));
  }
  if (u64(r.smin) <= u64(r.smax)) {
    r.umin = max(r.umin, u64(r.smin));
    r.umax = min(r.umax, u64(r.smax));
  } else if (r.umax < u64(r.smin) && r.umin <= S64_MAX) {
    // The s64 range wraps through the sign; the u64 range only meets its non-negative end.
    r.smin = r.umin;
    r.smax = min(r.smax, r.umax <= S64_MAX ? r.umax : S64_MAX);
  } else if (u64(r.smax) < r.umin && r.umax > S64_MAX) {
    // Only its negative end: values are at least 2^63 as unsigned.
    r.smin = max(r.smin, s64(max(r.umin, 1n << 63n)));
    r.smax = min(r.smax, s64(r.umax));
  }
}

function deduceMixed(r: Mut): void {
  const hi = ~U32 & U64;
  r.umin = max(r.umin, (r.umin & hi) | r.u32min);
  r.umax = min(r.umax, (r.umax & hi) | r.u32max);
  r.smin = max(r.smin, s64((u64(r.smin) & hi) | r.u32min));
  r.smax = min(r.smax, s64((u64(r.smax) & hi) | r.u32max));
  if (u32(r.s32min) <= u32(r.s32max)) {
    r.umin = max(r.umin, (r.umin & hi) | u32(r.s32min));
    r.umax = min(r.umax, (r.umax & hi) | u32(r.s32max));
    r.smin = max(r.smin, s64((u64(r.smin) & hi) | u32(r.s32min)));
    r.smax = min(r.smax, s64((u64(r.smax) & hi) | u32(r.s32max)));
  }
}

function boundOffset(r: Mut): void {
  const v64 = tnumIntersect(r.var, tnumRange(r.umin, r.umax));
  const v32 = tnumIntersect(tnumSubreg(v64), tnumRange(r.u32min, r.u32max));
  r.var = tnumOr(tnumClearSubreg(v64), v32);
}

function sameBounds(a: Mut, b: Mut): boolean {
  return (
    a.umin === b.umin &&
    a.umax === b.umax &&
    a.smin === b.smin &&
    a.smax === b.smax &&
    a.u32min === b.u32min &&
    a.u32max === b.u32max &&
    a.s32min === b.s32min &&
    a.s32max === b.s32max
  );
}

function empty(r: Mut): boolean {
  return r.umin > r.umax || r.smin > r.smax || r.u32min > r.u32max || r.s32min > r.s32max;
}

/**
 * reg_bounds_sync: every bound tightened from the others. Undefined when the constraints have no
 * common value (an infeasible branch).
 */
export function normalize(s: Scalar): Scalar | undefined {
  // Constants are the common case (loop counters, offsets): no deduction needed.
  if (s.var.mask === 0n) return scalarContains(s, s.var.value) ? scalarConst(s.var.value) : undefined;
  const r: Mut = { ...s };
  updateBounds(r);
  if (empty(r)) return undefined;
  for (let i = 0; i < 3; i++) {
    const before = { ...r };
    deduce32(r);
    deduce64(r);
    deduceMixed(r);
    if (empty(r)) return undefined;
    // A round that changed nothing means the next would not either.
    if (sameBounds(before, r)) break;
  }
  if (tnumDisjoint(r.var, tnumRange(r.umin, r.umax))) return undefined;
  if (tnumDisjoint(tnumSubreg(r.var), tnumRange(r.u32min, r.u32max))) return undefined;
  boundOffset(r);
  updateBounds(r);
  if (empty(r)) return undefined;
  if (r.var.value > r.umax || (r.var.value | r.var.mask) < r.umin) return undefined;
  return r;
}

/** A `width`-bit view of a scalar: the whole register or its 32-bit subregister. */
interface View {
  t: Tnum;
  umin: bigint;
  umax: bigint;
  smin: bigint;
  smax: bigint;
}

export type Width = 32 | 64;

const MAXU = (w: Width): bigint => (w === 64 ? U64 : U32);
const SMIN = (w: Width): bigint => (w === 64 ? S64_MIN : S32_MIN);
const SMAX = (w: Width): bigint => (w === 64 ? S64_MAX : S32_MAX);

function view(s: Scalar, w: Width): View {
  return w === 64
    ? { t: s.var, umin: s.umin, umax: s.umax, smin: s.smin, smax: s.smax }
    : { t: tnumSubreg(s.var), umin: s.u32min, umax: s.u32max, smin: s.s32min, smax: s.s32max };
}

function unknownView(w: Width): View {
  return { t: tnumCast(TNUM_UNKNOWN, w / 8), umin: 0n, umax: MAXU(w), smin: SMIN(w), smax: SMAX(w) };
}

/** A result view back into a register: 64-bit as is, 32-bit zero-extended (ALU32 semantics). */
function fromView(v: View, w: Width): Scalar {
  const r: Scalar =
    w === 64
      ? {
          var: v.t,
          umin: v.umin,
          umax: v.umax,
          smin: v.smin,
          smax: v.smax,
          u32min: 0n,
          u32max: U32,
          s32min: S32_MIN,
          s32max: S32_MAX,
        }
      : {
          var: tnumCast(v.t, 4),
          umin: v.umin,
          umax: v.umax,
          smin: v.umin,
          smax: v.umax,
          u32min: v.umin,
          u32max: v.umax,
          s32min: v.smin,
          s32max: v.smax,
        };
  // Sound inputs give a non-empty result; fall back to the tnum alone if rounding ever disagrees.
  return normalize(r) ?? normalize({ ...SCALAR_UNKNOWN, var: r.var }) ?? SCALAR_UNKNOWN;
}

/** [lo, hi] wrapped to `w` bits when both ends wrap the same number of times, else everything. */
function wrapU(lo: bigint, hi: bigint, w: Width): [bigint, bigint] {
  const m = MAXU(w);
  const bits = BigInt(w);
  if (lo >> bits === hi >> bits) return [lo & m, hi & m];
  return [0n, m];
}

function wrapS(lo: bigint, hi: bigint, w: Width): [bigint, bigint] {
  const base = SMIN(w);
  const bits = BigInt(w);
  if ((lo - base) >> bits === (hi - base) >> bits) return [BigInt.asIntN(w, lo), BigInt.asIntN(w, hi)];
  return [SMIN(w), SMAX(w)];
}

export type ScalarAluOp =
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'sdiv'
  | 'mod'
  | 'smod'
  | 'or'
  | 'and'
  | 'xor'
  | 'lsh'
  | 'rsh'
  | 'arsh'
  | 'neg'
  | 'mov';

function aluView(op: ScalarAluOp, a: View, b: View, w: Width): View {
  const cast = (t: Tnum): Tnum => tnumCast(t, w / 8);
  const unknown = unknownView(w);
  const bConst = tnumIsConst(b.t) ? b.t.value : undefined;
  switch (op) {
    case 'mov':
      return b;
    case 'add': {
      const [umin, umax] = wrapU(a.umin + b.umin, a.umax + b.umax, w);
      const [smin, smax] = wrapS(a.smin + b.smin, a.smax + b.smax, w);
      return { t: cast(tnumAdd(a.t, b.t)), umin, umax, smin, smax };
    }
    case 'sub': {
      const [umin, umax] = wrapU(a.umin - b.umax, a.umax - b.umin, w);
      const [smin, smax] = wrapS(a.smin - b.smax, a.smax - b.smin, w);
      return { t: cast(tnumSub(a.t, b.t)), umin, umax, smin, smax };
    }
    case 'neg':
      return aluView('sub', viewConst(0n, w), a, w);
    case 'mul': {
      const t = cast(tnumMul(a.t, b.t));
      const r = { ...unknown, t };
      if (a.umax * b.umax <= MAXU(w)) {
        r.umin = a.umin * b.umin;
        r.umax = a.umax * b.umax;
      }
      const p = [a.smin * b.smin, a.smin * b.smax, a.smax * b.smin, a.smax * b.smax];
      if (p.every((x) => x >= SMIN(w) && x <= SMAX(w))) {
        r.smin = p.reduce(min);
        r.smax = p.reduce(max);
      }
      return r;
    }
    case 'and': {
      const t = tnumAnd(a.t, b.t);
      const r = { ...unknown, t, umin: t.value, umax: min(a.umax, b.umax) };
      if (a.smin >= 0n && b.smin >= 0n) return { ...r, smin: r.umin, smax: r.umax };
      return r;
    }
    case 'or': {
      const t = tnumOr(a.t, b.t);
      const r = { ...unknown, t, umin: max(a.umin, b.umin), umax: t.value | t.mask };
      if (a.smin >= 0n && b.smin >= 0n) return { ...r, smin: r.umin, smax: r.umax };
      return r;
    }
    case 'xor': {
      const t = tnumXor(a.t, b.t);
      const r = { ...unknown, t, umin: t.value, umax: t.value | t.mask };
      if (a.smin >= 0n && b.smin >= 0n) return { ...r, smin: r.umin, smax: r.umax };
      return r;
    }
    case 'lsh': {
      if (b.umax >= BigInt(w)) return unknown;
      const lo = Number(b.umin);
      const hi = Number(b.umax);
      const t = bConst !== undefined ? cast(tnumLshift(a.t, lo)) : cast(tnumLshift(unknown.t, lo));
      const r = { ...unknown, t };
      if (a.umax << b.umax <= MAXU(w)) {
        r.umin = a.umin << BigInt(lo);
        r.umax = a.umax << BigInt(hi);
      }
      return r;
    }
    case 'rsh': {
      if (b.umax >= BigInt(w)) return unknown;
      const lo = Number(b.umin);
      const t = bConst !== undefined ? tnumRshift(a.t, lo) : tnumRshift(unknown.t, lo);
      return { ...unknown, t, umin: a.umin >> b.umax, umax: a.umax >> b.umin };
    }
    case 'arsh': {
      if (bConst === undefined || bConst >= BigInt(w)) return unknown;
      const k = Number(bConst);
      return { ...unknown, t: tnumArshift(a.t, k, w), smin: a.smin >> bConst, smax: a.smax >> bConst };
    }
    // The kernel tracks no bounds through division (mark_reg_unknown); doing better here would
    // accept programs the kernel refuses.
    case 'div':
    case 'mod':
    case 'sdiv':
    case 'smod':
      return unknown;
  }
}

function viewConst(c: bigint, w: Width): View {
  const m = MAXU(w);
  const x = c & m;
  return { t: tnumConst(x), umin: x, umax: x, smin: BigInt.asIntN(w, x), smax: BigInt.asIntN(w, x) };
}

/** dst = dst op src at `width` bits (32-bit results zero-extended, as ALU32 does). */
export function scalarAlu(op: ScalarAluOp, dst: Scalar, src: Scalar, width: Width): Scalar {
  return fromView(aluView(op, view(dst, width), view(src, width), width), width);
}

/** movsx: sign extension of the low `bits` bits into `width` bits. */
export function scalarSignExtend(src: Scalar, bits: 8 | 16 | 32, width: Width): Scalar {
  const lo = -(1n << BigInt(bits - 1));
  const hi = (1n << BigInt(bits - 1)) - 1n;
  const v = view(src, 64);
  if (tnumIsConst(v.t)) return fromView(viewConst(BigInt.asIntN(bits, v.t.value), width), width);
  // In [lo, hi] already: the value is unchanged.
  if (v.smin >= lo && v.smax <= hi) return fromView(view(src, width), width);
  const u = unknownView(width);
  return fromView({ ...u, smin: lo, smax: hi }, width);
}

/** le/be/bswap of `bits` bits, zero-extending the result to 64 bits. */
export function scalarByteSwap(src: Scalar, bits: 16 | 32 | 64, swap: boolean): Scalar {
  if (!swap) return truncate(src, bits / 8);
  if (isConst(src)) {
    let x = src.var.value;
    let out = 0n;
    for (let i = 0; i < bits / 8; i++) {
      out = (out << 8n) | (x & 0xffn);
      x >>= 8n;
    }
    return scalarConst(out);
  }
  return scalarOfSize(bits / 8);
}

/** The low `size` bytes, zero-extended. */
export function truncate(s: Scalar, size: number): Scalar {
  if (size >= 8) return s;
  if (size === 4) return fromView(view(s, 32), 32);
  const top = (1n << BigInt(size * 8)) - 1n;
  const t = tnumCast(s.var, size);
  const r = { ...SCALAR_UNKNOWN, var: t, umax: top };
  if (s.umax <= top) return normalize({ ...r, umin: s.umin, umax: s.umax }) ?? SCALAR_UNKNOWN;
  return normalize(r) ?? SCALAR_UNKNOWN;
}

export type CompareOp =
  | 'eq'
  | 'ne'
  | 'gt'
  | 'ge'
  | 'lt'
  | 'le'
  | 'sgt'
  | 'sge'
  | 'slt'
  | 'sle'
  | 'set'
  | 'nset';

/** The condition that holds on the other branch. */
export const NEGATED: Readonly<Record<CompareOp, CompareOp>> = {
  eq: 'ne',
  ne: 'eq',
  gt: 'le',
  ge: 'lt',
  lt: 'ge',
  le: 'gt',
  sgt: 'sle',
  sge: 'slt',
  slt: 'sge',
  sle: 'sgt',
  set: 'nset',
  nset: 'set',
};

/** a OP b ⇔ b SWAPPED(OP) a. */
const SWAPPED: Readonly<Record<CompareOp, CompareOp>> = {
  eq: 'eq',
  ne: 'ne',
  gt: 'lt',
  ge: 'le',
  lt: 'gt',
  le: 'ge',
  sgt: 'slt',
  sge: 'sle',
  slt: 'sgt',
  sle: 'sge',
  set: 'set',
  nset: 'nset',
};

function constrainView(op: CompareOp, a: View, b: View, w: Width): [View, View] {
  const A = { ...a };
  const B = { ...b };
  switch (op) {
    case 'eq': {
      if (tnumDisjoint(A.t, B.t)) return [{ ...A, umin: 1n, umax: 0n }, B];
      const t = tnumIntersect(A.t, B.t);
      const umin = max(A.umin, B.umin);
      const umax = min(A.umax, B.umax);
      const smin = max(A.smin, B.smin);
      const smax = min(A.smax, B.smax);
      const v = { t, umin, umax, smin, smax };
      return [v, { ...v }];
    }
    case 'ne': {
      const excl = (x: View, c: View): void => {
        if (!tnumIsConst(c.t)) return;
        const k = c.t.value;
        if (tnumIsConst(x.t) && x.t.value === k) x.umin = x.umax + 1n;
        if (x.umin === k) x.umin++;
        else if (x.umax === k) x.umax--;
        const sk = BigInt.asIntN(w, k);
        if (x.smin === sk) x.smin++;
        else if (x.smax === sk) x.smax--;
      };
      excl(A, B);
      excl(B, A);
      return [A, B];
    }
    case 'gt':
      A.umin = max(A.umin, B.umin + 1n);
      B.umax = min(B.umax, A.umax - 1n);
      return [A, B];
    case 'ge':
      A.umin = max(A.umin, B.umin);
      B.umax = min(B.umax, A.umax);
      return [A, B];
    case 'sgt':
      A.smin = max(A.smin, B.smin + 1n);
      B.smax = min(B.smax, A.smax - 1n);
      return [A, B];
    case 'sge':
      A.smin = max(A.smin, B.smin);
      B.smax = min(B.smax, A.smax);
      return [A, B];
    case 'lt':
    case 'le':
    case 'slt':
    case 'sle': {
      const [b2, a2] = constrainView(SWAPPED[op], B, A, w);
      return [a2, b2];
    }
    case 'set':
      if (tnumIsConst(B.t)) {
        const c = B.t.value;
        if (((A.t.value | A.t.mask) & c) === 0n) A.umin = A.umax + 1n;
        else if ((c & (c - 1n)) === 0n) A.t = tnumOr(A.t, tnumConst(c));
      }
      return [A, B];
    case 'nset':
      if (tnumIsConst(B.t)) {
        const c = B.t.value;
        if ((A.t.value & c) !== 0n) A.umin = A.umax + 1n;
        else A.t = tnumAnd(A.t, tnumConst(~c & MAXU(w)));
      }
      return [A, B];
  }
}

/** Writes a refined view back into the register; undefined when no value remains. */
function intoScalar(s: Scalar, v: View, w: Width): Scalar | undefined {
  if (v.umin > v.umax || v.smin > v.smax) return undefined;
  if (w === 64) return normalize({ ...s, var: v.t, umin: v.umin, umax: v.umax, smin: v.smin, smax: v.smax });
  if (tnumDisjoint(tnumSubreg(s.var), v.t)) return undefined;
  const sub = tnumIntersect(tnumSubreg(s.var), v.t);
  return normalize({
    ...s,
    var: tnumOr(tnumClearSubreg(s.var), sub),
    u32min: max(s.u32min, v.umin),
    u32max: min(s.u32max, v.umax),
    s32min: max(s.s32min, v.smin),
    s32max: min(s.s32max, v.smax),
  });
}

/**
 * Both operands narrowed by assuming `a op b` holds at `width` bits; undefined when it cannot hold.
 * The other branch is `compare(NEGATED[op], …)`.
 */
export function scalarCompare(
  op: CompareOp,
  a: Scalar,
  b: Scalar,
  width: Width,
): [Scalar, Scalar] | undefined {
  const [va, vb] = constrainView(op, view(a, width), view(b, width), width);
  const ra = intoScalar(a, va, width);
  const rb = intoScalar(b, vb, width);
  if (ra === undefined || rb === undefined) return undefined;
  return [ra, rb];
}

/** True when every value of `cur` is a value of `old` (range inclusion for state pruning). */
export function scalarIncludes(old: Scalar, cur: Scalar): boolean {
  return (
    old.umin <= cur.umin &&
    cur.umax <= old.umax &&
    old.smin <= cur.smin &&
    cur.smax <= old.smax &&
    old.u32min <= cur.u32min &&
    cur.u32max <= old.u32max &&
    old.s32min <= cur.s32min &&
    cur.s32max <= old.s32max &&
    tnumIn(old.var, cur.var)
  );
}

export function scalarEquals(a: Scalar, b: Scalar): boolean {
  return scalarIncludes(a, b) && scalarIncludes(b, a);
}

/** The smallest scalar containing both (for joins). */
export function scalarJoin(a: Scalar, b: Scalar): Scalar {
  return (
    normalize({
      var: tnumUnion(a.var, b.var),
      umin: min(a.umin, b.umin),
      umax: max(a.umax, b.umax),
      smin: min(a.smin, b.smin),
      smax: max(a.smax, b.smax),
      u32min: min(a.u32min, b.u32min),
      u32max: max(a.u32max, b.u32max),
      s32min: min(a.s32min, b.s32min),
      s32max: max(a.s32max, b.s32max),
    }) ?? SCALAR_UNKNOWN
  );
}

/**
 * Widening (for may_goto loops): `old` when it already includes `cur`, else every bound `cur` passes
 * goes to its extreme and changed known bits become unknown, so a chain of widenings is finite.
 */
export function scalarWiden(old: Scalar, cur: Scalar): Scalar {
  if (scalarIncludes(old, cur)) return old;
  return (
    normalize({
      var: tnumIn(old.var, cur.var) ? old.var : TNUM_UNKNOWN,
      umin: cur.umin < old.umin ? 0n : old.umin,
      umax: cur.umax > old.umax ? U64 : old.umax,
      smin: cur.smin < old.smin ? S64_MIN : old.smin,
      smax: cur.smax > old.smax ? S64_MAX : old.smax,
      u32min: cur.u32min < old.u32min ? 0n : old.u32min,
      u32max: cur.u32max > old.u32max ? U32 : old.u32max,
      s32min: cur.s32min < old.s32min ? S32_MIN : old.s32min,
      s32max: cur.s32max > old.s32max ? S32_MAX : old.s32max,
    }) ?? SCALAR_UNKNOWN
  );
}

/** `42`, `[0, 255]`, `s[-4, 12]` or `unknown`: the tightest short description. */
export function scalarToString(s: Scalar): string {
  if (isConst(s)) return s.smin < 0n && s.smin > -4096n ? `${s.smin}` : `${s.umin}`;
  if (s.umin === 0n && s.umax === U64 && s.smin === S64_MIN) return 'unknown';
  if (s.umax !== U64 && (s.smin < 0n || s.smax === S64_MAX || s.umax <= S64_MAX)) {
    if (s.smin >= 0n || s.umax <= S64_MAX) return `[${s.umin}, ${s.umax}]`;
  }
  if (s.smin !== S64_MIN || s.smax !== S64_MAX) return `[${s.smin}, ${s.smax}] (signed)`;
  return `[${s.umin}, ${s.umax}]`;
}
