/**
 * Compiles the C examples in examples/ with clang-19 the way a libbpf project builds them, straight
 * from their files so line info (and trap messages) name examples/<name>.bpf.c. Objects go to a
 * temporary directory: no `.o` file is ever written next to the sources.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CLANG } from '../elf/compile.js';

export { clangAvailable, warnIfMissing } from '../elf/compile.js';

export const EXAMPLES_DIR = resolve(import.meta.dirname, '../../examples');

/** The object file of examples/<name>.bpf.c. */
export function compileExample(name: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'bpfbox-example-'));
  try {
    const out = join(dir, `${name}.bpf.o`);
    const args = [
      '-target',
      'bpf',
      '-O2',
      '-g',
      // bpf_tracing.h's PT_REGS_* and BPF_KPROBE need the target architecture.
      '-D__TARGET_ARCH_x86',
      '-I/usr/include/x86_64-linux-gnu',
      '-c',
      join(EXAMPLES_DIR, `${name}.bpf.c`),
      '-o',
      out,
    ];
    const r = spawnSync(CLANG, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${CLANG} failed on ${name}.bpf.c:\n${r.stderr}`);
    return new Uint8Array(readFileSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
