/**
 * Test-only: compiles C with clang-19 for BPF and pulls sections out with llvm-objcopy-19, so the BTF
 * tests run on what the real toolchain emits. `HAVE_BPF_TOOLCHAIN` is false (with a notice) without it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLANG = 'clang-19';
const OBJCOPY = 'llvm-objcopy-19';
const OBJDUMP = 'llvm-objdump-19';

const missing = [CLANG, OBJCOPY, OBJDUMP].filter((tool) => spawnSync(tool, ['--version']).status !== 0);
export const HAVE_BPF_TOOLCHAIN = missing.length === 0;

export function warnIfMissing(suite: string): void {
  if (!HAVE_BPF_TOOLCHAIN) {
    console.warn(
      `[${suite}] SKIPPED: ${missing.join(', ')} not found; install clang-19 and llvm-19 to test BTF parsing on real objects (CI does).`,
    );
  }
}

export interface CompiledBpf {
  readonly source: string;
  readonly object: string;
  readonly btf: Uint8Array;
  readonly btfExt: Uint8Array;
  /** Raw bytes of any section of the object. */
  section(name: string): Uint8Array;
  /** `llvm-objdump-19 <args> OBJECT` output. */
  objdump(...args: string[]): string;
  /** The symbol table as `llvm-objdump-19 -t` prints it. */
  symbols(): ObjdumpSymbol[];
}

export interface ObjdumpSymbol {
  readonly name: string;
  readonly section: string;
  /** Byte offset in the section. */
  readonly value: number;
  /** objdump's type column: `F` function, `O` object, … */
  readonly kind: string;
}

let dir: string | undefined;

/** Removes the temporary directory (call from afterAll). */
export function cleanupCompiled(): void {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
}

function run(tool: string, args: string[], cwd?: string): string {
  const r = spawnSync(tool, args, { encoding: 'utf8', cwd });
  if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

export function compileBpf(name: string, code: string, flags: readonly string[] = []): CompiledBpf {
  return compileBpfMany([[name, code]], flags)[0];
}

/** Compiles several sources with one clang process (much faster than one process each). */
export function compileBpfMany(
  sources: readonly (readonly [name: string, code: string])[],
  flags: readonly string[] = [],
): CompiledBpf[] {
  dir ??= mkdtempSync(join(tmpdir(), 'bpfbox-btf-'));
  const work = dir;
  for (const [name, code] of sources) writeFileSync(join(work, `${name}.c`), code);
  const inputs = sources.map(([name]) => `${name}.c`);
  run(
    CLANG,
    ['-target', 'bpf', '-O2', '-g', '-I/usr/include/x86_64-linux-gnu', ...flags, '-c', ...inputs],
    work,
  );
  return sources.map(([name]) => compiled(work, name));
}

function compiled(work: string, name: string): CompiledBpf {
  const source = join(work, `${name}.c`);
  const object = join(work, `${name}.o`);
  const section = (sectionName: string): Uint8Array => {
    const out = join(work, `${name}.${sectionName.replace(/[^\w]/g, '_')}.bin`);
    run(OBJCOPY, ['--dump-section', `${sectionName}=${out}`, object, join(work, `${name}.scratch`)]);
    return new Uint8Array(readFileSync(out));
  };
  const objdump = (...args: string[]): string => run(OBJDUMP, [...args, object]);
  // Read lazily: an object without functions has no .BTF.ext.
  return {
    source,
    object,
    get btf() {
      return section('.BTF');
    },
    get btfExt() {
      return section('.BTF.ext');
    },
    section,
    objdump,
    symbols: () =>
      objdump('-t')
        .split('\n')
        .flatMap((row) => {
          // value, seven flag columns (the last is the type), section, size, name
          const m = /^([0-9a-f]{16}) (.{7}) (\S+)\s+[0-9a-f]+ (\S+)$/.exec(row);
          return m
            ? [{ name: m[4], section: m[3], value: Number.parseInt(m[1], 16), kind: m[2][6].trim() }]
            : [];
        }),
  };
}
