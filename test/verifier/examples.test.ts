/** Every C example in examples/ verifies (the runtime issue's examples must load as they do in the kernel). */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OpenObject } from '../../src/elf/open.js';
import { formatDiagnostic, verifyProgram } from '../../src/verifier/index.js';
import { clangAvailable, compileBpf } from '../elf/compile.js';

const dir = join(import.meta.dirname, '../../examples');
const sources = readdirSync(dir).filter((f) => f.endsWith('.bpf.c'));

describe.skipIf(!clangAvailable)('examples verify', () => {
  for (const file of sources) {
    it(file, () => {
      // Compiled from its own directory's text, with the arch define BPF_KPROBE needs.
      const bytes = compileBpf(readFileSync(join(dir, file), 'utf8'), ['-D__TARGET_ARCH_x86', `-I${dir}`]);
      const open = OpenObject.open(bytes);
      for (const p of open.link()) {
        const r = verifyProgram(p, { mapDefinitions: open.mapDefinitions });
        expect(r.ok, r.ok ? '' : `${p.name}: ${formatDiagnostic(r.errors[0])}`).toBe(true);
      }
    });
  }
});
