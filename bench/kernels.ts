/**
 * C kernels side by side: `npm run bench:kernels [-- --quick] [-- --filter NAME]`.
 * Every bench/kernels/*.c (but the driver) is compiled with clang-19 to native x86-64 (timed inside
 * its own process by bench/kernels/driver.c), to BPF (run by the bpfbox interpreter and JIT through
 * loadBpfObject) and to wasm32 (run by V8 in this process: the ceiling for a wasm-based engine). All
 * engines must return the same checksum. Prints a Markdown table and writes JSON and an SVG chart
 * (log scale) to bench/results/kernels-<date>.* and kernels-latest.*. A missing toolchain piece skips
 * its column (or the whole suite without clang-19) with a notice.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SingleBar } from 'cli-progress';
import { Command } from 'commander';
import { type LoadedObject, loadBpfObject, type ObjectEngine } from '../src/runtime/loader.js';
import { CLANG, clangAvailable } from '../test/elf/compile.js';
import { buildBpf, buildNative, buildWasm } from './kernels-build.js';
import { renderChart } from './kernels-chart.js';
import { machineInfo, median, RunSamples, type Timing, timeRuns, warmUp, writeResult } from './util.js';

const here = dirname(fileURLToPath(import.meta.url));
const kernelDir = join(here, 'kernels');

interface EngineTime {
  medianNs: number;
  minNs: number;
  samples: number;
}

interface KernelResult {
  kernel: string;
  /** The checksum every engine returned. */
  result: string;
  native: EngineTime | null;
  wasm32: (EngineTime & { compileNs: number }) | null;
  jit: EngineTime & { compileNs: number };
  interp: EngineTime & { instructions: number };
  jitPerNative: number | null;
  jitPerWasm32: number | null;
  interpPerJit: number;
}

const hex = (x: bigint) => `0x${BigInt.asUintN(64, x).toString(16)}`;
const times = (t: Timing<unknown>): EngineTime => ({
  medianNs: t.medianNs,
  minNs: t.minNs,
  samples: t.samples,
});
const summarize = (samples: readonly number[]): EngineTime => ({
  medianNs: median(samples),
  minNs: Math.min(...samples),
  samples: samples.length,
});

function geomean(xs: readonly number[]): number | null {
  return xs.length === 0 ? null : Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);
}

function main(): void {
  const options = new Command()
    .option('--quick', 'fewer repeats (CI)')
    .option('--filter <name>', 'only kernels whose name contains this')
    .option('--out <dir>', 'results directory', join(here, 'results'))
    .parse()
    .opts<{ quick?: boolean; filter?: string; out: string }>();
  if (!clangAvailable) {
    console.warn(`bench:kernels SKIPPED: ${CLANG} not found (install clang-19, lld-19 and libbpf-dev).`);
    return;
  }
  const kernels = readdirSync(kernelDir)
    .filter((f) => f.endsWith('.c') && f !== 'driver.c')
    .map((f) => basename(f, '.c'))
    .filter((k) => !options.filter || k.includes(options.filter))
    .sort();
  const quick = options.quick === true;
  // The interpreter takes up to ~0.3 s per run: fewer repeats keep the suite in its time budget.
  // Native, JIT and wasm32 are timed in `rounds` rounds of one batch each (at least `batchRepeats`
  // runs and `batchNs`), and each median is over all of an engine's batches: this machine has phases
  // of seconds in which everything runs up to ~1.7× slower, and one burst per engine could put the
  // JIT's in one phase and native's in another. Interleaving makes every engine see the same phases.
  const plan = quick
    ? { warmup: 1, rounds: 1, batchRepeats: 3, batchNs: 0, interpWarmup: 1, interpRepeats: 1 }
    : { warmup: 5, rounds: 7, batchRepeats: 7, batchNs: 60e6, interpWarmup: 2, interpRepeats: 9 };
  // Short kernels need more than a few runs before V8 has tiered every function up.
  const minWarmupNs = quick ? 20e6 : 300e6;
  const perKernel = 3 + plan.interpWarmup + plan.interpRepeats + 3 * plan.rounds;
  const bar = process.stderr.isTTY
    ? new SingleBar({ format: 'bench:kernels {bar} {value}/{total} {kernel} {step}', hideCursor: true })
    : undefined;
  bar?.start(kernels.length * perKernel, 0, { kernel: '', step: '' });
  const step = (kernel: string, s: string) => () => bar?.increment(1, { kernel, step: s });

  const notices = new Set<string>();
  const results: KernelResult[] = [];
  const out = mkdtempSync(join(os.tmpdir(), 'bpfbox-kernels-'));
  try {
    for (const kernel of kernels) {
      const native = buildNative(kernelDir, kernel, out);
      step(kernel, 'compile native')();
      const bpf = buildBpf(kernelDir, kernel, out);
      step(kernel, 'compile bpf')();
      const wasm = buildWasm(kernelDir, kernel, out);
      step(kernel, 'compile wasm32')();
      if (!native.ok) notices.add(`native n/a (${kernel}): ${native.error}`);
      if (!wasm.ok) notices.add(`wasm32 n/a (${kernel}): ${wasm.error} (wasm-ld comes with lld-19)`);
      if (!bpf.ok) {
        notices.add(
          `${kernel} SKIPPED: BPF compile failed: ${bpf.error} (libbpf-dev provides bpf_helpers.h)`,
        );
        bar?.increment(perKernel - 3);
        continue;
      }

      // Native, JIT and wasm32 run in rounds, one batch each per round (see `plan.rounds`).
      const nativeSamples: number[] = [];
      let nativeResult: string | undefined;
      const nativeBatch = (exe: string, warmup: number) => {
        const run = spawnSync(exe, [String(warmup), String(plan.batchRepeats), String(plan.batchNs)], {
          encoding: 'utf8',
        });
        if (run.status !== 0) throw new Error(`${kernel}: native run failed: ${run.stderr}`);
        const json = JSON.parse(run.stdout) as { result: string; times: number[] };
        nativeSamples.push(...json.times);
        nativeResult = json.result;
      };

      const loadEngine = (engine: ObjectEngine) => {
        const object: LoadedObject = loadBpfObject(bpf.value, { engine });
        const budget = { maxInstructions: 1e11 };
        object.run('kernel_init', {}, budget);
        // One input object for every run: the loader then resets its context instead of building a
        // new one, as a host running a program repeatedly would (native and wasm32 time the call).
        const input = {};
        return {
          run: () => object.run('kernel_run', input, budget),
          compileNs: object.program('kernel_run').compileNs,
        };
      };
      const interpEngine = loadEngine('interp');
      const interp = timeRuns(
        interpEngine.run,
        plan.interpWarmup,
        plan.interpRepeats,
        step(kernel, 'interp'),
      );
      const jit = loadEngine('jit');
      warmUp(jit.run, plan.warmup, undefined, minWarmupNs);
      const jitSamples = new RunSamples(jit.run);

      let wasmRun: (() => bigint) | undefined;
      let wasmCompileNs = 0;
      if (wasm.ok) {
        const t0 = process.hrtime.bigint();
        const module = new WebAssembly.Module(wasm.value);
        wasmCompileNs = Number(process.hrtime.bigint() - t0);
        const exports = new WebAssembly.Instance(module, {}).exports as Record<
          string,
          (ctx: number) => bigint
        >;
        exports.kernel_init(0);
        wasmRun = () => exports.kernel_run(0);
        warmUp(wasmRun, plan.warmup, undefined, minWarmupNs);
      }
      const wasmSamples = wasmRun ? new RunSamples(wasmRun) : undefined;
      for (let round = 0; round < plan.rounds; round++) {
        if (native.ok) nativeBatch(native.value, round === 0 ? plan.warmup : 1);
        step(kernel, 'native')();
        jitSamples.add(plan.batchRepeats, plan.batchNs);
        step(kernel, 'jit')();
        wasmSamples?.add(plan.batchRepeats, plan.batchNs);
        step(kernel, 'wasm32')();
      }
      const nativeTime = native.ok ? summarize(nativeSamples) : null;
      const wasmTime = wasmSamples ? { ...summarize(wasmSamples.times), compileNs: wasmCompileNs } : null;
      const wasmResult = wasmSamples?.last === undefined ? undefined : hex(wasmSamples.last);
      const jitTime = summarize(jitSamples.times);

      // Every engine computes the same checksum, or the timings mean nothing.
      const expected = hex(interp.last.r0);
      const got = {
        native: nativeResult,
        jit: jitSamples.last === undefined ? undefined : hex(jitSamples.last.r0),
        wasm32: wasmResult,
      };
      for (const [engine, value] of Object.entries(got)) {
        if (value !== undefined && value !== expected) {
          bar?.stop();
          throw new Error(`${kernel}: ${engine} returned ${value}, the interpreter ${expected}`);
        }
      }
      const jitNs = jitTime.medianNs;
      results.push({
        kernel,
        result: expected,
        native: nativeTime,
        wasm32: wasmTime,
        jit: { ...jitTime, compileNs: jit.compileNs },
        interp: { ...times(interp), instructions: interp.last.instructions },
        jitPerNative: nativeTime ? jitNs / nativeTime.medianNs : null,
        jitPerWasm32: wasmTime ? jitNs / wasmTime.medianNs : null,
        interpPerJit: interp.medianNs / jitNs,
      });
    }
  } finally {
    bar?.stop();
    rmSync(out, { recursive: true, force: true });
  }
  for (const n of notices) console.warn(`bench:kernels: ${n}`);

  const summary = {
    geomeanJitPerNative: geomean(results.flatMap((r) => (r.jitPerNative === null ? [] : [r.jitPerNative]))),
    geomeanJitPerWasm32: geomean(results.flatMap((r) => (r.jitPerWasm32 === null ? [] : [r.jitPerWasm32]))),
    geomeanInterpPerJit: geomean(results.map((r) => r.interpPerJit)),
  };
  const report = { ...machineInfo(quick), compiler: CLANG, notices: [...notices], summary, results };
  const json = writeResult(options.out, 'kernels', report.date, `${JSON.stringify(report, null, 2)}\n`);
  const svg = writeResult(
    options.out,
    'kernels',
    report.date,
    renderChart(
      `bpfbox kernels: median time per run (log scale), ${report.cpu}, ${report.date.slice(0, 10)}`,
      ['native', 'wasm32', 'jit', 'interp'],
      results.map((r) => ({
        kernel: r.kernel,
        ns: {
          native: r.native?.medianNs,
          wasm32: r.wasm32?.medianNs,
          jit: r.jit.medianNs,
          interp: r.interp.medianNs,
        },
      })),
    ),
    'svg',
  );

  const ms = (ns: number | undefined) => (ns === undefined ? 'n/a' : (ns / 1e6).toFixed(3));
  const ratio = (x: number | null | undefined) =>
    x === null || x === undefined ? 'n/a' : `${x.toFixed(2)}×`;
  console.log(
    '| kernel | native ms | wasm32 ms | JIT ms | interp ms | JIT/native | JIT/wasm32 | interp/JIT | JIT compile ms | eBPF insns/run |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    console.log(
      `| ${r.kernel} | ${ms(r.native?.medianNs)} | ${ms(r.wasm32?.medianNs)} | ${ms(r.jit.medianNs)} | ${ms(r.interp.medianNs)} | ${ratio(r.jitPerNative)} | ${ratio(r.jitPerWasm32)} | ${ratio(r.interpPerJit)} | ${(r.jit.compileNs / 1e6).toFixed(2)} | ${r.interp.instructions} |`,
    );
  }
  console.log(
    `| **geomean** | | | | | ${ratio(summary.geomeanJitPerNative)} | ${ratio(summary.geomeanJitPerWasm32)} | ${ratio(summary.geomeanInterpPerJit)} | | |`,
  );
  console.log(`results: ${json}\nchart: ${svg}`);
}

main();
