/**
 * Compiles the C examples in examples/ with clang-19 the way a libbpf project builds them, straight
 * from their files so line info (and trap messages) name examples/<name>.bpf.c. Objects go to a
 * temporary directory: no `.o` file is ever written next to the sources.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BPF_CFLAGS } from '../../src/cli/demo/clang.js';
import { CLANG } from '../elf/compile.js';

export { clangAvailable, warnIfMissing } from '../elf/compile.js';

export const EXAMPLES_DIR = resolve(import.meta.dirname, '../../examples');

/** The object file of examples/<name>.bpf.c. */
export function compileExample(name: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'bpfbox-example-'));
  try {
    const out = join(dir, `${name}.bpf.o`);
    // The demo's flags: the tests check the objects `bpfbox demo` runs.
    const args = [...BPF_CFLAGS, '-c', join(EXAMPLES_DIR, `${name}.bpf.c`), '-o', out];
    const r = spawnSync(CLANG, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${CLANG} failed on ${name}.bpf.c:\n${r.stderr}`);
    return new Uint8Array(readFileSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
