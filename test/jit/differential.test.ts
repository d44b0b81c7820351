/**
 * Differential testing: seeded random programs run on the interpreter and on the JIT must agree on
 * r0, instructions, gas used, trap code, pc and fault details, and every byte of the input region,
 * the read-only data and the stack. BPFBOX_DIFF_COUNT / BPFBOX_DIFF_SEED run more or other seeds.
 */
import { describe, expect, it } from 'vitest';
import { disassemble } from '../../src/asm/index.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { encodeProgram } from '../../src/isa/encoder.js';
import { engines, fingerprint, INPUT_SIZE, observe, splitJit } from './differential-harness.js';
import { generateProgram } from './program-generator.js';

const COUNT = Number(process.env.BPFBOX_DIFF_COUNT ?? 10_000);
const FIRST_SEED = Number(process.env.BPFBOX_DIFF_SEED ?? 1);

/** Programs per test: CI runs CHUNKS × this many (10,000), each test well inside the timeout. */
const CHUNKS = 4;

describe('JIT vs interpreter on generated programs', () => {
  const tally: Record<string, number> = {};
  const size = Math.ceil(COUNT / CHUNKS);
  for (let c = 0; c < CHUNKS; c++) {
    const from = FIRST_SEED + c * size;
    const to = Math.min(FIRST_SEED + COUNT, from + size);
    it(`seeds ${from}..${to - 1} agree on every observable`, () => {
      for (let seed = from; seed < to; seed++) {
        const { insns } = generateProgram(seed, INPUT_SIZE);
        const program = decodeProgram(encodeProgram(insns));
        const [a, b] = engines.map((e) => observe(e, program, seed));
        if (fingerprint(a) !== fingerprint(b)) {
          expect(b, `seed ${seed} diverges:\n${disassemble(program, { syntax: 'ubpf' })}`).toEqual(a);
        }
        // Every 4th program also runs with its functions split into parts of 1..7 instructions.
        if (seed % 4 === 0) {
          const c = observe(splitJit, program, seed);
          if (fingerprint(a) !== fingerprint(c)) {
            expect(
              c,
              `seed ${seed} diverges when split:\n${disassemble(program, { syntax: 'ubpf' })}`,
            ).toEqual(a);
          }
        }
        const key = String(a.code ?? 'ok');
        tally[key] = (tally[key] ?? 0) + 1;
      }
    });
  }

  it('the generator reaches every outcome class', () => {
    if (process.env.BPFBOX_DIFF_VERBOSE) console.log(tally);
    for (const key of ['ok', 'MEMORY_FAULT', 'INSTRUCTION_LIMIT', 'OUT_OF_GAS', 'CALL_DEPTH_EXCEEDED']) {
      expect(tally[key] ?? 0, JSON.stringify(tally)).toBeGreaterThan(COUNT / 100);
    }
  });
});
