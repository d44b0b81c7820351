/** The per-instruction trace hook: order, registers, memory accesses; identical results with it on. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import type { Trap } from '../../src/errors.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { encodeProgram } from '../../src/isa/encoder.js';
import { Interpreter, type RunOptions, type TraceStep } from '../../src/vm/interpreter/interpreter.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';
import { PERM_READ, PERM_WRITE, Slot } from '../../src/vm/memory/layout.js';
import { programArbitrary } from '../support/arbitrary.js';

const memory = new GuestMemory();
memory.mapStack();
const input = memory.map(Slot.INPUT, 'input', 16, PERM_READ | PERM_WRITE);

describe('trace', () => {
  it('reports every executed instruction in order, with registers and accesses', () => {
    const text = `
      mov %r1, 2
    loop:
      stxdw [%r10-8], %r1
      call local f
      sub %r1, 1
      jne %r1, 0, loop
      exit
    f:
      ldxdw %r0, [%r10+504]
      exit`;
    const vm = new Interpreter(decodeProgram(assemble(text)), { memory });
    const steps: TraceStep[] = [];
    const r = vm.run({ trace: (s) => steps.push(s) });
    expect(steps.map((s) => s.pc)).toEqual([0, 1, 2, 6, 7, 3, 4, 1, 2, 6, 7, 3, 4, 5]);
    expect(steps).toHaveLength(r.instructions);
    expect(steps.map((s) => s.instructions)).toEqual(steps.map((_, k) => k));
    expect(steps[3].depth).toBe(1);
    const top = BigInt(memory.frameTop(0));
    expect(steps[1].access).toEqual({ address: top - 8n, size: 8, kind: 'write' });
    expect(steps[3].access).toEqual({ address: top - 512n + 504n, size: 8, kind: 'read' });
    expect(steps[2].registers[1]).toBe(2n);
    expect(steps[8].registers[1]).toBe(1n);
  });

  it('does not change results, counts, gas or traps (random programs and limits)', () => {
    fc.assert(
      fc.property(programArbitrary(30), fc.integer({ min: 0, max: 80 }), (insns, gasLimit) => {
        let vm: Interpreter;
        try {
          vm = new Interpreter(decodeProgram(encodeProgram(insns)), { memory });
        } catch {
          return;
        }
        const outcome = (opts: RunOptions) => {
          try {
            const { r0, instructions, gasUsed } = vm.run(opts);
            return { r0, instructions, gasUsed };
          } catch (e) {
            const t = e as Trap;
            return { code: t.code, pc: t.pc, instructions: t.instructions, gasUsed: t.gasUsed };
          }
        };
        const base: RunOptions = { gasLimit, maxInstructions: 1000, args: [BigInt(input.guestBase), 16n] };
        let steps = 0;
        const traced = outcome({ ...base, trace: () => steps++ });
        expect(traced).toEqual(outcome(base));
        // Every executed instruction was reported; a budget stop reports none for the unpaid one.
        expect(steps).toBe(traced.instructions);
      }),
      { numRuns: 1500, seed: 11 },
    );
  });
});
