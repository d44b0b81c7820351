/**
 * Soundness: random XDP programs (random-programs.ts) are verified; every program the verifier
 * accepts must run on random packets without a memory fault. Seeded, so a failure reproduces;
 * BPFBOX_SOUNDNESS_COUNT sets the number (default and CI: 5000, about 15 s).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/assembler.js';
import { BpfError } from '../../src/errors.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { verifyRaw } from '../../src/verifier/index.js';
import { hex, runBytes } from '../runtime/contexts-fixtures.js';
import { programSeed, randomProgram } from './random-programs.js';

const COUNT = Number(process.env.BPFBOX_SOUNDNESS_COUNT ?? 5000);
const XDP = { type: 'xdp' as const };
/**
 * The verifier's budget of processed instructions. Accepted programs need at most ~16,500 (5,500 with
 * may_goto) on these seeds; a lower budget only ends the rejections of unbounded loops sooner (each
 * takes ~15 µs per processed instruction: at 100,000 these took most of the time, ~1 min under load).
 */
const VERIFY_BUDGET = 30_000;

function packet(seed: number, len: number): Uint8Array {
  const p = new Uint8Array(len);
  for (let i = 0; i < len; i++) p[i] = (seed * 31 + i * 17) & 0xff;
  return p;
}

describe('verifier soundness', () => {
  it(`${COUNT} random programs: every accepted one runs on random packets without a fault`, () => {
    let accepted = 0;
    const lengths = [0, 1, 7, 14, 15, 23, 34, 64];
    fc.assert(
      fc.property(programSeed, (seed) => {
        const text = randomProgram(seed, { loops: seed[1] % 3 === 0 });
        const prog = decodeProgram(assemble(text));
        const r = verifyRaw(prog, { programType: 'xdp', maxInsns: VERIFY_BUDGET });
        if (!r.ok) return;
        accepted++;
        for (const len of lengths) {
          try {
            runBytes(XDP, { packet: hex(packet(seed[0], len)) }, prog.bytes, true);
          } catch (e) {
            const what = e instanceof BpfError ? `${e.code}: ${e.message}` : String(e);
            throw new Error(`accepted program faulted on a ${len}-byte packet: ${what}\n${text}`);
          }
        }
      }),
      { numRuns: COUNT, seed: 20261130 },
    );
    // The check means something only if a fair share of programs is accepted.
    expect(accepted).toBeGreaterThan(COUNT / 10);
  });

  it(`${COUNT / 10} random programs with may_goto loops: the first 100,000 instructions never fault`, () => {
    let accepted = 0;
    let withMayGoto = 0;
    fc.assert(
      fc.property(programSeed, (seed) => {
        const text = randomProgram(seed, { loops: true, mayGoto: true });
        const prog = decodeProgram(assemble(text));
        const r = verifyRaw(prog, { programType: 'xdp', maxInsns: VERIFY_BUDGET });
        if (!r.ok) return;
        accepted++;
        if (text.includes('may_goto')) withMayGoto++;
        for (const len of [0, 14, 64]) {
          try {
            // A may_goto loop runs BPF_MAX_LOOPS times: a budget stop is fine, a fault is not.
            runBytes(XDP, { packet: hex(packet(seed[0], len)) }, prog.bytes, true, 100_000);
          } catch (e) {
            if (e instanceof BpfError && e.code === 'INSTRUCTION_LIMIT') continue;
            const what = e instanceof BpfError ? `${e.code}: ${e.message}` : String(e);
            throw new Error(`accepted program faulted on a ${len}-byte packet: ${what}\n${text}`);
          }
        }
      }),
      { numRuns: COUNT / 10, seed: 20261201 },
    );
    // Most random programs fail for other reasons; enough may_goto loops are accepted to mean something.
    expect(withMayGoto).toBeGreaterThanOrEqual(COUNT / 500);
    expect(accepted).toBeGreaterThanOrEqual(COUNT / 200);
  });
});
