/**
 * Bad input never crashes and never corrupts: random byte strings and random valid-looking programs
 * either run or fail with a BpfError, and no run changes a byte of linear memory outside its regions.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { conformanceHelpers } from '../../src/conformance/helpers.js';
import { BpfError } from '../../src/errors.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { encodeProgram } from '../../src/isa/encoder.js';
import { Interpreter } from '../../src/vm/interpreter/interpreter.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';
import { PERM_READ, PERM_WRITE, Slot } from '../../src/vm/memory/layout.js';
import { programArbitrary } from '../support/arbitrary.js';

const RUNS = Number(process.env.BPFBOX_FUZZ_RUNS ?? 3000);

function memoryWithRegions(): GuestMemory {
  const m = new GuestMemory();
  m.mapStack();
  m.map(Slot.RODATA, 'rodata', 64, PERM_READ, new Uint8Array(64).fill(0xab));
  m.map(Slot.INPUT, 'input', 64, PERM_READ | PERM_WRITE);
  return m;
}

/** Every byte of linear memory that no region maps (control block excluded: it holds the live table). */
function hidden(m: GuestMemory): Uint8Array[] {
  const regions = m.mappedRegions().sort((a, b) => a.hostBase - b.hostBase);
  const parts: Uint8Array[] = [];
  let at = regions[0].hostBase;
  for (const r of regions) {
    parts.push(m.u8.slice(at, r.hostBase));
    at = r.hostBase + r.size;
  }
  parts.push(m.u8.slice(at));
  return parts;
}

describe('robustness (interp)', () => {
  it('random valid-looking programs run or fail with a typed error, touching only their regions', () => {
    const memory = memoryWithRegions();
    const input = memory.region(Slot.INPUT)!;
    const helpers = conformanceHelpers();
    const before = hidden(memory);
    const outcomes = { ran: 0, trapped: 0, rejected: 0 };
    fc.assert(
      fc.property(programArbitrary(40), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (insns, r3) => {
        let interpreter: Interpreter;
        try {
          interpreter = new Interpreter(decodeProgram(encodeProgram(insns)), { memory, helpers });
        } catch (e) {
          expect(e).toBeInstanceOf(BpfError);
          outcomes.rejected++;
          return;
        }
        try {
          interpreter.run({ args: [BigInt(input.guestBase), 64n, r3], maxInstructions: 5000 });
          outcomes.ran++;
        } catch (e) {
          if (!(e instanceof BpfError)) throw e;
          outcomes.trapped++;
        }
      }),
      { numRuns: RUNS, seed: 20261123 },
    );
    const after = hidden(memory);
    expect(after.every((part, k) => Buffer.compare(part, before[k]) === 0)).toBe(true);
    // The generator must exercise execution, not only the loader.
    expect(outcomes.ran + outcomes.trapped).toBeGreaterThan(RUNS / 4);
  });

  it('random bytes decode and run or fail with a typed error', () => {
    const memory = memoryWithRegions();
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 96 }), (bytes) => {
        try {
          new Interpreter(decodeProgram(bytes), { memory }).run({ maxInstructions: 1000 });
        } catch (e) {
          expect(e).toBeInstanceOf(BpfError);
        }
      }),
      { numRuns: RUNS, seed: 7 },
    );
  });
});
