/** What the benchmark scripts share: medians, timed repeats, the machine header and result files. */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { median } from '../src/util/median.js';
import { CLANG, compileBpf } from '../test/elf/compile.js';

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
 * up meanwhile, per function and by execution budget), then `repeats` timed runs; `onRun` follows
 * each of the `warmup + repeats` counted runs (a progress bar).
 */
export function timeRuns<T>(
  fn: () => T,
  warmup: number,
  repeats: number,
  onRun: () => void = () => {},
  minWarmupNs = 0,
): Timing<T> {
  const start = process.hrtime.bigint();
  let last = fn();
  onRun();
  for (let k = 1; k < warmup || Number(process.hrtime.bigint() - start) < minWarmupNs; k++) {
    last = fn();
    if (k < warmup) onRun();
  }
  const times: number[] = [];
  for (let k = 0; k < repeats; k++) {
    const t0 = process.hrtime.bigint();
    last = fn();
    times.push(Number(process.hrtime.bigint() - t0));
    onRun();
  }
  return { medianNs: median(times), minNs: Math.min(...times), samples: times.length, last };
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
