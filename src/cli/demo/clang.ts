/**
 * Building the C examples the way a libbpf project does (docs/unit-testing.md, "Building the object"),
 * into a temporary directory so no `.o` lands next to the sources. `BPFBOX_CLANG` names another
 * compiler (or a missing one, to see the demo without clang).
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { IoError } from '../../errors.js';

export const INSTALL_HINT =
  'they need clang-19 and libbpf-dev (Debian/Ubuntu: apt-get install clang-19 libbpf-dev)';

export function clangCommand(): string {
  return process.env.BPFBOX_CLANG || 'clang-19';
}

/** The flags the C examples are built with (the demo and test/examples alike). */
export const BPF_CFLAGS: readonly string[] = [
  ...['-target', 'bpf', '-O2', '-g'],
  // bpf_tracing.h's PT_REGS_* and BPF_KPROBE need the target architecture.
  '-D__TARGET_ARCH_x86',
  // linux/bpf.h includes asm/types.h, which Debian keeps under the multiarch directory.
  '-I/usr/include/x86_64-linux-gnu',
];

/**
 * True when `clang` runs and finds the headers the examples include (libbpf-dev's bpf/*.h and
 * linux/bpf.h): one preprocessor run, so a missing package gives the install hint, not seven errors.
 */
export function toolchainAvailable(clang: string): boolean {
  const probe = '#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\n';
  const r = spawnSync(clang, [...BPF_CFLAGS, '-E', '-x', 'c', '-', '-o', '/dev/null'], {
    input: probe,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  return r.status === 0;
}

/** Compiles `source` and returns the object; an IoError with clang's first error line if it fails. */
export function compileBpfC(clang: string, source: string): Promise<Uint8Array> {
  const dir = mkdtempSync(join(tmpdir(), 'bpfbox-demo-'));
  const out = join(dir, `${basename(source, '.c')}.o`);
  return new Promise<Uint8Array>((resolve, reject) => {
    execFile(
      clang,
      [...BPF_CFLAGS, '-c', source, '-o', out],
      { encoding: 'utf8' },
      (error, _stdout, stderr) => {
        try {
          if (error) {
            const first = stderr.split('\n').find((l) => /error/.test(l)) ?? error.message;
            // The file name already leads the row: clang's own path for it is only noise.
            const message = first.trim().replace(`${source}:`, `${basename(source)}:`);
            reject(new IoError(`${clang} failed: ${message}`, { file: source }, { cause: error }));
          } else resolve(new Uint8Array(readFileSync(out)));
        } catch (e) {
          reject(e);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    );
  });
}
