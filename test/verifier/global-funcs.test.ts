/**
 * Global functions are verified once, from their BTF prototype, not in each calling context: every
 * corpus object with a global function that the verifier accepts must run on packets of every length
 * without a fault, whatever its callers pass (the prototype is all the function may assume).
 */
import { describe, expect, it } from 'vitest';
import { OpenObject } from '../../src/elf/open.js';
import { BpfError } from '../../src/errors.js';
import { loadBpfObject } from '../../src/runtime/loader.js';
import { verifyProgram } from '../../src/verifier/index.js';
import { clangAvailable, compileBpf } from '../elf/compile.js';
import { hex } from '../runtime/contexts-fixtures.js';
import { CORPUS, PRELUDE } from './corpus.js';

const PACKET_TYPES = new Set(['xdp', 'sched_cls']);
const accepted = CORPUS.filter((c) => c.expect === 'ok' && /^__noinline /m.test(c.source));

describe.skipIf(!clangAvailable)('global functions (clang-19)', () => {
  it('the corpus has accepted programs with global functions to run', () => {
    expect(accepted.length).toBeGreaterThanOrEqual(6);
  });

  for (const c of accepted) {
    it(`runs without a fault on packets of 0..64 bytes: ${c.name}`, () => {
      const open = OpenObject.open(compileBpf(PRELUDE + c.source));
      const linked = open.link();
      for (const p of linked) {
        const r = verifyProgram(p, { mapDefinitions: open.mapDefinitions });
        expect(r.ok, p.name).toBe(true);
        // The function is verified once: a program calling it 64 times processes it once.
        expect(r.stats.insnsProcessed).toBeLessThan(1000);
      }
      const obj = loadBpfObject(open);
      let ran = 0;
      for (const p of linked) {
        if (!PACKET_TYPES.has(p.definition.type)) continue;
        for (const len of [0, 1, 7, 13, 14, 15, 23, 34, 64]) {
          const packet = Uint8Array.from({ length: len }, (_, i) => (len * 31 + i * 17) & 0xff);
          try {
            obj.run(p.name, { packet: hex(packet) });
          } catch (e) {
            const what = e instanceof BpfError ? `${e.code}: ${e.message}` : String(e);
            throw new Error(`${p.name} faulted on a ${len}-byte packet: ${what}`);
          }
          ran++;
        }
      }
      if (linked.every((p) => PACKET_TYPES.has(p.definition.type))) expect(ran).toBeGreaterThan(0);
    });
  }
});
