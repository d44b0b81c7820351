/**
 * Soundness of the scalar domain: for random abstract values built from concrete members, every
 * operation's abstract result contains the concrete result of every pair of members, and a comparison
 * never refines away a pair that satisfies it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CompareOp,
  normalize,
  type ScalarAluOp,
  scalarAlu,
  scalarByteSwap,
  scalarCompare,
  scalarConst,
  scalarContains,
  scalarIncludes,
  scalarJoin,
  scalarSignExtend,
  scalarToString,
} from '../../src/verifier/scalar.js';
import {
  tnumAdd,
  tnumAnd,
  tnumConst,
  tnumContains,
  tnumMul,
  tnumOr,
  tnumRange,
  tnumSub,
  tnumXor,
} from '../../src/verifier/tnum.js';

const M64 = (1n << 64n) - 1n;
const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);
const s64 = (x: bigint): bigint => BigInt.asIntN(64, x);

const interesting = fc.constantFrom(
  0n,
  1n,
  2n,
  7n,
  255n,
  0x7fffffffn,
  0x80000000n,
  0xffffffffn,
  0x100000000n,
  0x7fffffffffffffffn,
  0x8000000000000000n,
  M64,
  M64 - 1n,
);
const value = fc.oneof(
  interesting,
  fc.bigInt({ min: 0n, max: 300n }),
  fc.bigInt({ min: 0n, max: M64 }),
  fc.bigInt({ min: 0n, max: 0xffffffffn }),
  fc.bigInt({ min: -300n, max: 300n }).map(u64),
);

/** An abstract value with its members: the join of 1–4 constants, sometimes widened by a range. */
const abstract = fc
  .tuple(fc.array(value, { minLength: 1, maxLength: 4 }), fc.option(fc.tuple(value, value)))
  .map(([vals, range]) => {
    let s = vals.map(scalarConst).reduce(scalarJoin);
    if (range !== null) {
      const lo = vals.reduce((a, b) => (a < b ? a : b));
      const hi = vals.reduce((a, b) => (a > b ? a : b));
      const widened = normalize({ ...s, var: tnumRange(0n, M64), umin: lo, umax: hi });
      if (widened !== undefined) s = widened;
    }
    return { s, vals };
  });

function concrete(op: ScalarAluOp, a: bigint, b: bigint, w: 32 | 64): bigint {
  const m = w === 64 ? M64 : 0xffffffffn;
  const sx = (x: bigint): bigint => BigInt.asIntN(w, x);
  const x = a & m;
  const y = b & m;
  switch (op) {
    case 'add':
      return (x + y) & m;
    case 'sub':
      return (x - y) & m;
    case 'mul':
      return (x * y) & m;
    case 'div':
      return y === 0n ? 0n : x / y;
    case 'mod':
      return y === 0n ? x : x % y;
    case 'sdiv':
      return y === 0n ? 0n : BigInt.asUintN(w, sx(x) / sx(y));
    case 'smod':
      return y === 0n ? x : BigInt.asUintN(w, sx(x) % sx(y));
    case 'or':
      return x | y;
    case 'and':
      return x & y;
    case 'xor':
      return x ^ y;
    case 'lsh':
      return (x << (y % BigInt(w))) & m;
    case 'rsh':
      return x >> (y % BigInt(w));
    case 'arsh':
      return BigInt.asUintN(w, sx(x) >> (y % BigInt(w)));
    case 'neg':
      return -x & m;
    case 'mov':
      return y;
  }
}

const OPS: ScalarAluOp[] = [
  'add',
  'sub',
  'mul',
  'div',
  'mod',
  'sdiv',
  'smod',
  'or',
  'and',
  'xor',
  'lsh',
  'rsh',
  'arsh',
  'neg',
  'mov',
];
const CMPS: CompareOp[] = ['eq', 'ne', 'gt', 'ge', 'lt', 'le', 'sgt', 'sge', 'slt', 'sle', 'set', 'nset'];

function holds(op: CompareOp, a: bigint, b: bigint, w: 32 | 64): boolean {
  const m = w === 64 ? M64 : 0xffffffffn;
  const x = a & m;
  const y = b & m;
  const sx = BigInt.asIntN(w, x);
  const sy = BigInt.asIntN(w, y);
  switch (op) {
    case 'eq':
      return x === y;
    case 'ne':
      return x !== y;
    case 'gt':
      return x > y;
    case 'ge':
      return x >= y;
    case 'lt':
      return x < y;
    case 'le':
      return x <= y;
    case 'sgt':
      return sx > sy;
    case 'sge':
      return sx >= sy;
    case 'slt':
      return sx < sy;
    case 'sle':
      return sx <= sy;
    case 'set':
      return (x & y) !== 0n;
    case 'nset':
      return (x & y) === 0n;
  }
}

const RUNS = { numRuns: 3000 };

describe('tnum', () => {
  it('add, sub, mul, and, or, xor contain every concrete result', () => {
    const pair = fc.tuple(value, value, fc.bigInt({ min: 0n, max: M64 }));
    fc.assert(
      fc.property(pair, pair, ([a1, a2, am], [b1, b2, bm]) => {
        // tnums with two members each: a1 and a1 with some unknown bits flipped.
        const mk = (v: bigint, mask: bigint) => ({ value: v & ~mask & M64, mask });
        const A = mk(a1, am & (a1 ^ a2));
        const B = mk(b1, bm & (b1 ^ b2));
        const av = [A.value, A.value | A.mask];
        const bv = [B.value, B.value | B.mask];
        for (const x of av)
          for (const y of bv) {
            expect(tnumContains(tnumAdd(A, B), (x + y) & M64)).toBe(true);
            expect(tnumContains(tnumSub(A, B), (x - y) & M64)).toBe(true);
            expect(tnumContains(tnumMul(A, B), (x * y) & M64)).toBe(true);
            expect(tnumContains(tnumAnd(A, B), x & y)).toBe(true);
            expect(tnumContains(tnumOr(A, B), x | y)).toBe(true);
            expect(tnumContains(tnumXor(A, B), x ^ y)).toBe(true);
          }
      }),
      RUNS,
    );
  });

  it('tnumRange contains its interval ends and a const is exact', () => {
    fc.assert(
      fc.property(value, value, (a, b) => {
        const [lo, hi] = a < b ? [a, b] : [b, a];
        const t = tnumRange(lo, hi);
        expect(tnumContains(t, lo) && tnumContains(t, hi)).toBe(true);
        expect(tnumConst(a).mask).toBe(0n);
      }),
      RUNS,
    );
  });
});

describe('scalar ranges', () => {
  it('a join contains its members and normalize keeps them', () => {
    fc.assert(
      fc.property(abstract, ({ s, vals }) => {
        for (const v of vals) expect(scalarContains(s, v)).toBe(true);
      }),
      RUNS,
    );
  });

  it('every ALU op at 32 and 64 bits contains the concrete results', () => {
    fc.assert(
      fc.property(
        abstract,
        abstract,
        fc.constantFrom(...OPS),
        fc.constantFrom<32 | 64>(32, 64),
        (a, b, op, w) => {
          const r = scalarAlu(op, a.s, b.s, w);
          for (const x of a.vals)
            for (const y of b.vals) {
              const c = concrete(op, x, y, w);
              if (!scalarContains(r, c)) {
                throw new Error(
                  `${op}/${w}: ${x} ${y} → ${c} not in ${scalarToString(r)} (${JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))})`,
                );
              }
            }
        },
      ),
      { numRuns: 6000 },
    );
  });

  it('comparisons keep every pair that satisfies them, on both branches', () => {
    fc.assert(
      fc.property(
        abstract,
        abstract,
        fc.constantFrom(...CMPS),
        fc.constantFrom<32 | 64>(32, 64),
        (a, b, op, w) => {
          const r = scalarCompare(op, a.s, b.s, w);
          for (const x of a.vals)
            for (const y of b.vals) {
              if (!holds(op, x, y, w)) continue;
              expect(r, `${op}/${w} ${x} ${y}`).toBeDefined();
              if (r === undefined) return;
              expect(scalarContains(r[0], x) && scalarContains(r[1], y), `${op}/${w} ${x} ${y}`).toBe(true);
            }
        },
      ),
      { numRuns: 6000 },
    );
  });

  it('movsx and byte swaps contain the concrete results', () => {
    fc.assert(
      fc.property(abstract, fc.constantFrom<8 | 16 | 32>(8, 16, 32), ({ s, vals }, bits) => {
        const r = scalarSignExtend(s, bits, 64);
        for (const v of vals) expect(scalarContains(r, u64(BigInt.asIntN(bits, v)))).toBe(true);
        const sw = scalarByteSwap(s, 32, true);
        for (const v of vals) {
          const b = v & 0xffffffffn;
          const swapped =
            ((b & 0xffn) << 24n) | ((b & 0xff00n) << 8n) | ((b >> 8n) & 0xff00n) | ((b >> 24n) & 0xffn);
          expect(scalarContains(sw, swapped)).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it('inclusion: a join includes both sides; ranges are exact for constants', () => {
    fc.assert(
      fc.property(abstract, abstract, (a, b) => {
        const j = scalarJoin(a.s, b.s);
        expect(scalarIncludes(j, a.s) && scalarIncludes(j, b.s)).toBe(true);
      }),
      RUNS,
    );
    const c = scalarConst(s64(-5n));
    expect(c.smin).toBe(-5n);
    expect(scalarToString(c)).toBe('-5');
  });
});
