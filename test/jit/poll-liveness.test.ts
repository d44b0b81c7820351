/**
 * At poll sites and budget stops the JIT passes the registers dead at that block as 0 to the meter
 * and budget imports (call-registers.ts `liveIn`). These programs run through many polls (one every
 * 2^16 instructions) with values in every register that some later instruction reads — after the
 * loop, after a local call, or in the next loop iteration — so a register wrongly taken for dead
 * comes back as 0 and changes the result.
 */
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import { EXECUTOR_KINDS, EXECUTORS } from '../../src/executors.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';

function run(kind: (typeof EXECUTOR_KINDS)[number], source: string, gasLimit?: number) {
  const memory = new GuestMemory();
  memory.mapStack();
  const program = decodeProgram(assemble(source));
  const gasCosts = gasLimit === undefined ? undefined : { alu: 2, mul: 3 };
  const r = EXECUTORS[kind](program, { memory, gasCosts }).run({ args: [], maxInstructions: 1e7, gasLimit });
  return { r0: r.r0, instructions: r.instructions, gasUsed: r.gasUsed };
}

/** Every register but r10 holds a value read after 300,000 iterations; r5 is rewritten each one. */
const LOOP = `
  r0 = 0
  r1 = 1
  r2 = 2
  r3 = 3
  r4 = 4
  r5 = 5
  r6 = 6
  r7 = 7
  r8 = 8
  r9 = 0
loop:
  r5 = r9
  r5 *= 3
  r0 += r5
  r9 += 1
  if r9 < 300000 goto loop
  r0 += r1
  r0 += r2
  r0 += r3
  r0 += r4
  r0 += r6
  r0 += r7
  r0 += r8
  exit`;

/** A callee that loops across polls; the caller's r6..r9 and the callee's r1 outlive it. */
const CALL = `
  r6 = 6
  r7 = 7
  r8 = 8
  r9 = 9
  r1 = 100000
  call spin
  r0 += r6
  r0 += r7
  r0 += r8
  r0 += r9
  exit
spin:
  r0 = 0
  r2 = 0
again:
  r0 += r2
  r2 += 1
  if r2 < r1 goto again
  r0 += r1
  exit`;

describe('JIT registers across polls', () => {
  for (const [name, source] of [
    ['a loop', LOOP],
    ['a local call', CALL],
  ] as const) {
    it(`keeps every live register through polls in ${name}, metered or not`, () => {
      for (const gasLimit of [undefined, 1e9]) {
        const expected = run('interp', source, gasLimit);
        expect(expected.instructions).toBeGreaterThan(4 * 65536);
        for (const kind of EXECUTOR_KINDS) expect(run(kind, source, gasLimit), kind).toEqual(expected);
      }
    });
  }
});
