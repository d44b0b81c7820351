/**
 * Compiles one C kernel of bench/kernels with clang-19 to the three targets of the kernel benchmark:
 * a native x86-64 executable (kernel + timing driver), a BPF object and a wasm32 module. A target
 * whose toolchain piece is missing yields its error text instead of bytes, so the caller can report it.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLANG } from '../test/elf/compile.js';

/** Same optimisation on every target; no builtins so loops are not turned into libc calls wasm lacks. */
const COMMON = ['-O2', '-fno-builtin'];

export type Built<T> = { ok: true; value: T } | { ok: false; error: string };

function clang(args: readonly string[]): string | undefined {
  const r = spawnSync(CLANG, args, { encoding: 'utf8' });
  if (r.error) return r.error.message;
  return r.status === 0 ? undefined : r.stderr.trim().split('\n').slice(0, 3).join(' / ');
}

function build<T>(args: readonly string[], read: () => T): Built<T> {
  const error = clang(args);
  return error === undefined ? { ok: true, value: read() } : { ok: false, error };
}

/** Native executable at `<out>/<name>`: `./name WARMUP REPEATS MIN_NS` prints the driver's JSON line. */
export function buildNative(dir: string, name: string, out: string): Built<string> {
  const exe = join(out, name);
  const obj = join(out, `${name}.o`);
  const kernel = build([...COMMON, '-c', join(dir, `${name}.c`), '-o', obj], () => obj);
  if (!kernel.ok) return kernel;
  // The driver is a separate translation unit (no LTO), so the kernel cannot be folded into the loop.
  return build(['-O2', join(dir, 'driver.c'), obj, '-o', exe], () => exe);
}

export function buildBpf(dir: string, name: string, out: string): Built<Uint8Array> {
  const obj = join(out, `${name}.bpf.o`);
  return build(
    [
      '-target',
      'bpf',
      ...COMMON,
      '-g',
      '-I/usr/include/x86_64-linux-gnu',
      '-c',
      join(dir, `${name}.c`),
      '-o',
      obj,
    ],
    () => new Uint8Array(readFileSync(obj)),
  );
}

/** wasm32 module linked by wasm-ld (lld-19) with every function exported. */
export function buildWasm(dir: string, name: string, out: string): Built<Uint8Array<ArrayBuffer>> {
  const wasm = join(out, `${name}.wasm`);
  return build(
    [
      '--target=wasm32',
      ...COMMON,
      '-nostdlib',
      '-Wl,--no-entry',
      '-Wl,--export-all',
      join(dir, `${name}.c`),
      '-o',
      wasm,
    ],
    () => new Uint8Array(readFileSync(wasm)),
  );
}
