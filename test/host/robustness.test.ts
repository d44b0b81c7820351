/**
 * Untrusted programs through the host API: random programs load or fail typed, run or trap typed,
 * never spend more gas than the limit, and give the same outcome on every run (same instance after
 * reset(), and a fresh instance).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BpfError, Trap } from '../../src/errors.js';
import { Engine } from '../../src/host/engine.js';
import type { Instance } from '../../src/host/instance.js';
import { Linker } from '../../src/host/linker.js';
import { Module } from '../../src/host/module.js';
import { encodeProgram } from '../../src/isa/encoder.js';
import { programArbitrary } from '../support/arbitrary.js';

const RUNS = Number(process.env.BPFBOX_FUZZ_RUNS ?? 1000);

const engine = new Engine({ maxInstructions: 5000 });
// Helper ids the generator may call: each writes and returns something derived from its arguments.
const linker = new Linker(engine);
for (let id = 0; id < 256; id++) linker.define(id, (_ctx, a, b) => (a ^ b) + BigInt(id), { cost: id % 4 });

function outcome(instance: Instance, gas: number, r3: bigint): string {
  try {
    const r = instance.invoke({ args: [0x2000_0000, 64, r3], gas });
    expect(r.gasUsed).toBeLessThanOrEqual(gas);
    return `ok ${r.r0} ${r.gasUsed} ${r.instructions}`;
  } catch (e) {
    if (!(e instanceof Trap)) throw e;
    expect(e.gasUsed).toBeLessThanOrEqual(gas);
    return `${e.code} ${e.pc} ${e.gasUsed} ${e.instructions}`;
  }
}

describe('robustness (host API)', () => {
  it('random programs run or fail typed, within the gas limit, deterministically', () => {
    const counts = { rejected: 0, executed: 0 };
    fc.assert(
      fc.property(
        programArbitrary(40),
        fc.integer({ min: 0, max: 300 }),
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        (insns, gas, r3) => {
          let module: Module;
          let instance: Instance;
          try {
            module = Module.fromBytes(engine, encodeProgram(insns), { data: new Uint8Array(64).fill(7) });
            instance = linker.instantiatePre(module).instantiate();
          } catch (e) {
            expect(e).toBeInstanceOf(BpfError);
            counts.rejected++;
            return;
          }
          counts.executed++;
          const first = outcome(instance, gas, r3);
          instance.reset();
          expect(outcome(instance, gas, r3)).toBe(first);
          expect(outcome(linker.instantiatePre(module).instantiate(), gas, r3)).toBe(first);
        },
      ),
      { numRuns: RUNS, seed: 20261123 },
    );
    expect(counts.executed).toBeGreaterThan(RUNS / 4);
  });
});
