/** Gas metering: exact per-instruction sums, precise out-of-gas pcs, refunds, helper charges. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import { BpfError, MemoryFault, OutOfGas, type Trap } from '../../src/errors.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { encodeProgram } from '../../src/isa/encoder.js';
import type { GasCostTable } from '../../src/vm/gas.js';
import { HelperRegistry } from '../../src/vm/helpers.js';
import { Interpreter, type RunOptions } from '../../src/vm/interpreter/interpreter.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';
import { programArbitrary } from '../support/arbitrary.js';

const memory = new GuestMemory();
memory.mapStack();

function vm(text: string, gasCosts?: GasCostTable, helpers?: HelperRegistry): Interpreter {
  return new Interpreter(decodeProgram(assemble(text)), { memory, gasCosts, helpers });
}

function trapOf(f: () => unknown): Trap {
  try {
    f();
  } catch (e) {
    return e as Trap;
  }
  throw new Error('expected a trap');
}

// Six instructions in one run; lddw takes slots 3-4, so the pcs are 0, 1, 2, 3, 5, 6.
const STRAIGHT = 'mov %r0, 1\nadd %r0, 2\nmul %r0, 3\nlddw %r1, 0x100000000\nadd %r0, %r1\nexit';

describe('gas', () => {
  it('uses exactly one unit per executed instruction by default (lddw counts once)', () => {
    const r = vm(STRAIGHT).run({ gasLimit: 6 });
    expect(r).toMatchObject({ instructions: 6, gasUsed: 6 });
  });

  it('with a limit of count - 1, traps OUT_OF_GAS at the last instruction', () => {
    const e = trapOf(() => vm(STRAIGHT).run({ gasLimit: 5 }));
    expect(e).toBeInstanceOf(OutOfGas);
    expect(e).toMatchObject({ code: 'OUT_OF_GAS', pc: 6, gasUsed: 5, instructions: 5 });
  });

  it('stops at the first instruction it cannot pay, for every limit', () => {
    const pcs = [0, 1, 2, 3, 5, 6];
    for (let limit = 0; limit < 6; limit++) {
      const e = trapOf(() => vm(STRAIGHT).run({ gasLimit: limit }));
      expect(e).toMatchObject({ code: 'OUT_OF_GAS', pc: pcs[limit], gasUsed: limit });
    }
    // The program is intact after a partial run (the stop marker is removed).
    const machine = vm(STRAIGHT);
    expect(() => machine.run({ gasLimit: 3 })).toThrow(OutOfGas);
    expect(machine.run({ gasLimit: 6 }).r0).toBe(0x100000009n);
  });

  it('prices instruction classes from a cost table', () => {
    const r = vm(STRAIGHT, { mul: 10, lddw: 3, exit: 0 }).run();
    expect(r.gasUsed).toBe(1 + 1 + 10 + 3 + 1 + 0);
    const e = trapOf(() => vm(STRAIGHT, { mul: 10 }).run({ gasLimit: 11 }));
    expect(e).toMatchObject({ pc: 2, gasUsed: 2 }); // mul (10) does not fit in the 9 left
  });

  it('refunds the unexecuted part of a run when a trap stops it', () => {
    const text = 'mov %r0, 1\nldxdw %r0, [%r0]\nmov %r0, 2\nmov %r0, 3\nexit';
    const e = trapOf(() => vm(text).run());
    expect(e).toBeInstanceOf(MemoryFault);
    expect(e).toMatchObject({ pc: 1, instructions: 2, gasUsed: 2 });
    const partial = trapOf(() => vm(text).run({ gasLimit: 4 }));
    expect(partial).toMatchObject({ code: 'MEMORY_FAULT', pc: 1, gasUsed: 2 });
  });

  it('counts loops exactly', () => {
    const loop = 'mov %r1, 100\nl:\nsub %r1, 1\njne %r1, 0, l\nexit';
    expect(vm(loop).run({ gasLimit: 202 })).toMatchObject({ gasUsed: 202, instructions: 202 });
    expect(trapOf(() => vm(loop).run({ gasLimit: 201 }))).toMatchObject({ pc: 3, gasUsed: 201 });
    expect(trapOf(() => vm(loop).run({ gasLimit: 200 }))).toMatchObject({ pc: 2, gasUsed: 200 });
  });

  it('lets helpers charge their own cost, trapping at the call', () => {
    const helpers = new HelperRegistry().define(1, 'costly', (c) => {
      c.consumeGas(100);
      return 7;
    });
    const text = 'call 1\nexit';
    expect(vm(text, undefined, helpers).run({ gasLimit: 102 })).toMatchObject({ r0: 7n, gasUsed: 102 });
    // 100 left after the call cannot pay 100 + the exit; 99 left cannot pay the helper itself.
    expect(trapOf(() => vm(text, undefined, helpers).run({ gasLimit: 101 }))).toMatchObject({
      pc: 1,
      gasUsed: 101,
    });
    expect(trapOf(() => vm(text, undefined, helpers).run({ gasLimit: 100 }))).toMatchObject({
      code: 'OUT_OF_GAS',
      pc: 0,
      gasUsed: 1,
    });
  });

  it('rejects bad cost tables and limits', () => {
    expect(() => vm(STRAIGHT, { mul: -1 })).toThrow(/non-negative integer/);
    expect(() => vm(STRAIGHT).run({ gasLimit: Number.NaN })).toThrow(BpfError);
  });

  it('agrees with the instruction budget on random programs (gas = instructions with unit costs)', () => {
    fc.assert(
      fc.property(programArbitrary(30), fc.integer({ min: 0, max: 60 }), (insns, limit) => {
        let interp: Interpreter;
        let doubled: Interpreter;
        try {
          const program = decodeProgram(encodeProgram(insns));
          interp = new Interpreter(program, { memory });
          doubled = new Interpreter(program, { memory, gasCosts: { default: 2 } });
        } catch {
          return; // not loadable (unknown helper, unresolved lddw): nothing to meter
        }
        const outcome = (machine: Interpreter, opts: RunOptions) => {
          try {
            const r = machine.run(opts);
            return { ok: true, pc: -1, instructions: r.instructions, gas: r.gasUsed };
          } catch (e) {
            const t = e as Trap;
            return { ok: false, pc: t.pc, code: t.code, instructions: t.instructions, gas: t.gasUsed };
          }
        };
        const byGas = outcome(interp, { gasLimit: limit, maxInstructions: 1000 });
        const byCount = outcome(interp, { maxInstructions: Math.min(limit, 1000) });
        expect(byGas.gas).toBe(byGas.instructions);
        expect({ ...byGas, code: undefined }).toEqual({ ...byCount, code: undefined });
        const twice = outcome(doubled, { gasLimit: 2 * limit, maxInstructions: 1000 });
        expect(twice.gas).toBe(2 * byGas.gas);
        expect(twice.pc).toBe(byGas.pc);
        if (!byGas.ok && byGas.code === 'OUT_OF_GAS') expect(byCount.code).toBe('INSTRUCTION_LIMIT');
      }),
      { numRuns: 2000, seed: 5 },
    );
  });
});
