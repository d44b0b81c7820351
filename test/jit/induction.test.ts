/**
 * Which loops get their accesses checked once at the entry and their trips counted (src/jit/induction.ts):
 * clang's array walks and counted loops do, anything outside the proven shape does not. Whether the elided checks behave like the
 * ordinary ones is asserted on both engines in checked-ranges.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { analyze } from '../../src/jit/control-flow.js';
import { planHoist } from '../../src/jit/induction.js';

/** The plan of the first loop of `source` (LLVM syntax, as llvm-objdump prints clang's output). */
function plan(source: string) {
  const program = decodeProgram(assemble(source));
  const layout = analyze(program);
  const loop = layout.functions[0].parts[0].regions.find((r) => r.isLoop);
  if (loop === undefined) throw new Error('no loop');
  return planHoist(program, layout, loop, undefined);
}

// memcpy.c's copy loop (clang-19 -O2), with the array addresses as plain constants.
const MEMCPY = `
  r1 = 0x0
again:
  r2 = 0x20001000 ll
  r2 += r1
  r3 = 0x20000000 ll
  r3 += r1
  r3 = *(u64 *)(r3 + 0x0)
  *(u64 *)(r2 + 0x0) = r3
  r1 += 0x8
  if r1 != 0x1000 goto again
  exit`;

// sieve.c's inner loop: the bound and the step in registers the loop never writes.
const SIEVE = `
  r5 = 0x4
  r2 = 0x2
  r3 = 0x1
  r4 = 0x100
again:
  r6 = 0x20000000 ll
  r6 += r5
  *(u8 *)(r6 + 0x0) = r3
  r5 += r2
  if r4 > r5 goto again
  exit`;

// fnv1a.c's loop: the test leaves the loop, an unconditional jump goes back.
const FNV = `
  r1 = 0x0
again:
  r3 = 0x20000000 ll
  r3 += r1
  r3 = *(u8 *)(r3 + 0x0)
  r0 ^= r3
  r1 += 0x1
  if r1 == 0x100000 goto out
  goto again
out:
  exit`;

describe('planHoist', () => {
  it("finds clang's array walks", () => {
    expect(plan(MEMCPY)).toEqual({
      iv: 1,
      stepReg: -1,
      step: 8,
      boundReg: -1,
      bound: 0x1000,
      exit: 'ne',
      accesses: [
        { pc: 7, disp: 0x2000_0000n, size: 8, write: false },
        { pc: 8, disp: 0x2000_1000n, size: 8, write: true },
      ],
    });
    expect(plan(FNV)).toMatchObject({ iv: 1, step: 1, bound: 0x100000, exit: 'ne', accesses: [{ pc: 4 }] });
    expect(plan(SIEVE)).toMatchObject({ iv: 5, stepReg: 2, boundReg: 4, exit: 'lt', accesses: [{ pc: 7 }] });
    // A counted loop without accesses: its trip count alone is worth a plan (codegen's prechargedLoop).
    const count = 'r0 = 0x0\n  r1 = 0x0\nagain:\n  r0 += r1\n  r1 += 0x1\n  if r1 < 0x100 goto again\n  exit';
    expect(plan(count)).toEqual({
      iv: 1,
      stepReg: -1,
      step: 1,
      boundReg: -1,
      bound: 0x100,
      exit: 'lt',
      accesses: [],
    });
  });

  it('refuses loops outside the proven shape', () => {
    const refused = [
      SIEVE.replace('r5 += r2', 'w5 += w2'), // 32-bit step
      SIEVE.replace('if r4 > r5', 'if w4 > w5'), // 32-bit compare
      SIEVE.replace('if r4 > r5', 'if r4 s> r5'), // signed compare
      SIEVE.replace('r5 += r2', 'r5 += r2\n  r4 += 0x1'), // bound written
      SIEVE.replace('r5 += r2', 'r5 += r2\n  r2 += 0x1'), // step written
      SIEVE.replace('r5 += r2', 'r5 += r2\n  r5 += 0x1'), // induction register written twice
      SIEVE.replace('r5 += r2', 'r5 -= r2'), // not an increment
      SIEVE.replace('r5 += r2', 'r5 += r2\n  call 1'), // a call
      MEMCPY.replace('r1 += 0x8', 'r1 += 0x8\n  if r1 == 0x800 goto out\nout:'), // more than one block
      MEMCPY.replace('r1 += 0x8', 'r1 += -0x8'), // a negative step
      FNV.replace('goto out', 'goto again'), // a test that jumps back, then a jump back
      FNV.replace('r0 ^= r3', 'if r0 == 0x0 goto out\n  r0 ^= r3'), // two tests
      MEMCPY.replace('r1 += 0x8', 'r1 += r4'), // a register step with !=
      // A base that is not constant + v: the loop keeps every check.
      MEMCPY.replace('r2 = 0x20001000 ll\n  r2 += r1', 'r2 = *(u64 *)(r10 - 0x8)\n  r2 += r1'),
    ];
    for (const source of refused) expect(plan(source)).toBeUndefined();
    // r10-relative accesses (cheap) do not stand in the way.
    const spill = MEMCPY.replace('r1 += 0x8', '*(u64 *)(r10 - 0x8) = r3\n  r1 += 0x8');
    expect(plan(spill)?.accesses.map((a) => a.pc)).toEqual([7, 8]);
  });
});
