/** The assembly corpus through `verifyRaw`: verdict and code per program, with hints on rejections. */
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/assembler.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { formatDiagnostic, resultJson, verifyRaw } from '../../src/verifier/index.js';
import { ASM_CORPUS } from './asm-corpus.js';

describe('verifier assembly corpus', () => {
  for (const c of ASM_CORPUS) {
    it(`${c.expect === 'ok' ? 'accepts' : `rejects (${c.expect})`}: ${c.name}`, () => {
      const program = decodeProgram(assemble(c.asm), { checkStructure: false });
      const r = verifyRaw(program, { programType: 'socket_filter', maxInsns: c.maxInsns });
      const got = r.ok ? 'ok' : r.errors[0].code;
      expect(got, r.ok ? 'accepted' : formatDiagnostic(r.errors[0])).toBe(c.expect);
      if (!r.ok) {
        expect(r.errors[0].pc).toBeGreaterThanOrEqual(0);
        expect(r.errors[0].hint).toBeTruthy();
      }
    });
  }

  it('the JSON shape of a result', () => {
    const r = verifyRaw(decodeProgram(assemble('r0 = r2\nexit')), { programType: 'xdp' });
    const json = resultJson(r);
    expect(json.ok).toBe(false);
    expect(json.errors[0]).toMatchObject({ code: 'UNINIT_READ', pc: 0 });
    expect(typeof json.errors[0].message).toBe('string');
    expect(json.stats.insns_processed).toBe(1);
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });
});
