/**
 * Loop layout (src/jit/control-flow.ts) on the shapes clang emits: a rotated outer loop that jumps back
 * into an inner loop's header from below makes the outer cycle irreducible, yet the inner loop must
 * stay a wasm loop (the outer jump re-enters it by dispatch) — otherwise every inner iteration pays
 * the dispatch. The program is the sieve kernel's control flow over a 64-byte stack buffer.
 */
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { analyze } from '../../src/jit/control-flow.js';
import { JitProgram } from '../../src/jit/engine.js';
import { Interpreter } from '../../src/vm/interpreter/interpreter.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';

const SIEVE = `
  r0 = 0
  r1 = 4
  r2 = 2
  r3 = 1
  r4 = 64
  goto check
inner:
  r6 = r10
  r6 += -64
  r6 += r5
  *(u8 *)(r6 + 0) = r3
  r5 += r2
  if r4 > r5 goto inner
next:
  r1 += 2
  r2 += 1
  if r2 == 64 goto done
check:
  r5 = r10
  r5 += -64
  r5 += r2
  r5 = *(u8 *)(r5 + 0)
  if r5 != 0 goto next
  r0 += 1
  if r2 > 31 goto next
  r5 = r1
  goto inner
done:
  exit
`;

function memory(): GuestMemory {
  const m = new GuestMemory();
  m.mapStack();
  return m;
}

describe('JIT loop layout', () => {
  const program = decodeProgram(assemble(SIEVE));

  it('an inner loop entered from the end of an irreducible outer cycle is still a wasm loop', () => {
    const regions = analyze(program).functions[0].parts[0].regions;
    const inner = program.insnAt[6];
    expect(regions.find((r) => r.isLoop && r.first === inner)).toMatchObject({
      first: inner,
      last: program.insnAt[11],
    });
    // The outer cycle (entered at `check`) is irreducible: its region re-enters by dispatch.
    expect(regions[0].dispatch).toBe(true);
  });

  it('runs like the interpreter: 18 primes below 64', () => {
    const expected = new Interpreter(program, { memory: memory() }).run();
    expect(expected.r0).toBe(18n);
    expect(new JitProgram(program, { memory: memory() }).run()).toEqual(expected);
  });
});
