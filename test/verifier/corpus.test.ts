/**
 * Every corpus program compiled with clang-19 and verified: the verdict and the error code must be the
 * expected ones, and every rejection must carry a source line and a hint.
 */
import { describe, expect, it } from 'vitest';
import { OpenObject } from '../../src/elf/open.js';
import { formatDiagnostic, verifyProgram } from '../../src/verifier/index.js';
import { clangAvailable, compileBpf, warnIfMissing } from '../elf/compile.js';
import { CORPUS, PRELUDE } from './corpus.js';

warnIfMissing('verifier corpus');

describe.skipIf(!clangAvailable)('verifier corpus (clang-19)', () => {
  for (const c of CORPUS) {
    it(`${c.expect === 'ok' ? 'accepts' : `rejects (${c.expect})`}: ${c.name}`, () => {
      const open = OpenObject.open(compileBpf(PRELUDE + c.source));
      // Every program, as the kernel loads them all: the first rejection is the verdict.
      const results = open
        .link()
        .map((linked) =>
          verifyProgram(linked, { mapDefinitions: open.mapDefinitions, maxInsns: c.maxInsns }),
        );
      const r = results.find((x) => !x.ok) ?? results[0];
      const got = r.ok ? 'ok' : r.errors[0].code;
      expect(got, r.ok ? 'accepted' : formatDiagnostic(r.errors[0])).toBe(c.expect);
      if (!r.ok) {
        const e = r.errors[0];
        expect(e.line, 'rejections point at a source line').toBeGreaterThan(0);
        expect(e.hint).toBeTruthy();
      }
      expect(r.stats.insnsProcessed).toBeGreaterThan(0);
    });
  }
});
