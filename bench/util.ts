/** What the benchmark scripts share: medians, timed repeats, the machine header and result files. */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { median } from '../src/util/median.js';
import { CLANG, compileBpf } from '../test/elf/compile.js';
import { type ShapeName, shapedProgram } from '../test/jit/program-shapes.js';

export { median };

export interface Timing<T> {
  medianNs: number;
  minNs: number;
  samples: number;
  /** What the last run returned. */
  last: T;
}

/**
 * Runs `fn` `warmup` times untimed (at least once, and for at least `minWarmupNs`: V8 tiers hot code
 * up meanwhile, per function and by execution budget); `onRun` follows each of the `warmup` counted
 * runs (a progress bar). Returns what the last run returned.
 */
export function warmUp<T>(fn: () => T, warmup: number, onRun: () => void = () => {}, minWarmupNs = 0): T {
  const start = process.hrtime.bigint();
  let last = fn();
  onRun();
  for (let k = 1; k < warmup || Number(process.hrtime.bigint() - start) < minWarmupNs; k++) {
    last = fn();
    if (k < warmup) onRun();
  }
  return last;
}

/** `warmUp`, then `repeats` timed runs; `onRun` follows each of the `warmup + repeats` counted runs. */
export function timeRuns<T>(
  fn: () => T,
  warmup: number,
  repeats: number,
  onRun: () => void = () => {},
  minWarmupNs = 0,
): Timing<T> {
  let last = warmUp(fn, warmup, onRun, minWarmupNs);
  const times: number[] = [];
  for (let k = 0; k < repeats; k++) {
    const t0 = process.hrtime.bigint();
    last = fn();
    times.push(Number(process.hrtime.bigint() - t0));
    onRun();
  }
  return { medianNs: median(times), minNs: Math.min(...times), samples: times.length, last };
}

/** Timed runs of `fn` gathered batch by batch, so batches of several engines can interleave. */
export class RunSamples<T> {
  readonly times: number[] = [];
  last: T | undefined;

  constructor(private readonly fn: () => T) {}

  /** One batch: at least `repeats` runs, and on until the batch took `minNs`. */
  add(repeats: number, minNs: number): void {
    let spent = 0;
    for (let k = 0; k < repeats || spent < minNs; k++) {
      const t0 = process.hrtime.bigint();
      this.last = this.fn();
      const t = Number(process.hrtime.bigint() - t0);
      this.times.push(t);
      spent += t;
    }
  }
}

/** Date, Node version and CPU: the header of every result file. */
export function machineInfo(quick: boolean) {
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    quick,
  };
}

/**
 * Writes `contents` to `<dir>/<prefix>-<date>.<ext>` and `<dir>/<latest>` (default
 * `<prefix>-latest.<ext>`); returns the latest path.
 */
export function writeResult(
  dir: string,
  prefix: string,
  date: string,
  contents: string,
  ext = 'json',
  latest = `${prefix}-latest.${ext}`,
): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${prefix}-${date.slice(0, 10)}.${ext}`), contents);
  writeFileSync(join(dir, latest), contents);
  return join(dir, latest);
}

/**
 * The BPF object for `source` (clang-19 with the project's flags plus `extraFlags`), compiled once and
 * cached in `<tmp>/bpfbox-bench-<cache>` by the hash of compiler, flags and source.
 */
export function compileCached(cache: string, source: string, extraFlags: readonly string[] = []): Uint8Array {
  const key = createHash('sha256')
    .update(CLANG)
    .update(extraFlags.join(' '))
    .update(source)
    .digest('hex')
    .slice(0, 16);
  const dir = join(os.tmpdir(), `bpfbox-bench-${cache}`);
  const file = join(dir, `${key}.o`);
  if (existsSync(file)) return new Uint8Array(readFileSync(file));
  const bytes = compileBpf(source, extraFlags);
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, bytes);
  return bytes;
}

/** A decoded program of one build (builds are compared as separate module graphs). */
export type BuildProgram = unknown;

/**
 * The compiler of one build (`dist` = a build output directory), warmed up as bench/jit.ts does (10
 * compiles of a 20k mixed program): `decode` makes a generated program, `codegenNs` compiles it once.
 */
export async function warmCompiler(dist: string): Promise<{
  decode(shape: ShapeName, n: number): BuildProgram;
  codegenNs(program: BuildProgram): number;
}> {
  const at = (file: string) => pathToFileURL(resolve(dist, file)).href;
  const { decodeProgram } = await import(at('src/isa/decoder.js'));
  const { JitProgram } = await import(at('src/jit/engine.js'));
  const { GuestMemory } = await import(at('src/vm/memory/guest-memory.js'));
  const memory = new GuestMemory();
  memory.mapStack();
  const decode = (shape: ShapeName, n: number): BuildProgram => decodeProgram(shapedProgram(shape, n));
  const warm = decodeProgram(shapedProgram('mixed', 20_000, 7));
  for (let k = 0; k < 10; k++) new JitProgram(warm, { memory });
  return { decode, codegenNs: (program) => new JitProgram(program, { memory }).stats.codegenNs as number };
}
