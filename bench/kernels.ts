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
import { machineInfo, type Timing, timeRuns, writeResult } from './util.js';

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
  const plan = quick
    ? { warmup: 1, repeats: 3, interpWarmup: 1, interpRepeats: 1, nativeRepeats: 5 }
    : { warmup: 5, repeats: 31, interpWarmup: 2, interpRepeats: 9, nativeRepeats: 51 };
  // Short kernels need more than a few runs before V8 has tiered every function up.
  const minWarmupNs = quick ? 20e6 : 300e6;
  const perKernel = 3 + 1 + 2 * (plan.warmup + plan.repeats) + plan.interpWarmup + plan.interpRepeats;
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

      let nativeTime: EngineTime | null = null;
      let nativeResult: string | undefined;
      if (native.ok) {
        const run = spawnSync(native.value, [String(plan.warmup), String(plan.nativeRepeats)], {
          encoding: 'utf8',
        });
        if (run.status !== 0) throw new Error(`${kernel}: native run failed: ${run.stderr}`);
        const json = JSON.parse(run.stdout) as { result: string; median_ns: number; min_ns: number };
        nativeTime = { medianNs: json.median_ns, minNs: json.min_ns, samples: plan.nativeRepeats };
        nativeResult = json.result;
      }
      step(kernel, 'native')();

      const runBpf = (engine: ObjectEngine, warmup: number, repeats: number) => {
        const object: LoadedObject = loadBpfObject(bpf.value, { engine });
        const budget = { maxInstructions: 1e11 };
        object.run('kernel_init', {}, budget);
        // One input object for every run: the loader then resets its context instead of building a
        // new one, as a host running a program repeatedly would (native and wasm32 time the call).
        const input = {};
        const t = timeRuns(
          () => object.run('kernel_run', input, budget),
          warmup,
          repeats,
          step(kernel, engine),
          minWarmupNs,
        );
        return { t, compileNs: object.program('kernel_run').compileNs };
      };
      const interp = runBpf('interp', plan.interpWarmup, plan.interpRepeats);
      const jit = runBpf('jit', plan.warmup, plan.repeats);

      let wasmTime: (EngineTime & { compileNs: number }) | null = null;
      let wasmResult: string | undefined;
      if (wasm.ok) {
        const t0 = process.hrtime.bigint();
        const module = new WebAssembly.Module(wasm.value);
        const compileNs = Number(process.hrtime.bigint() - t0);
        const exports = new WebAssembly.Instance(module, {}).exports as Record<
          string,
          (ctx: number) => bigint
        >;
        exports.kernel_init(0);
        const t = timeRuns(
          () => exports.kernel_run(0),
          plan.warmup,
          plan.repeats,
          step(kernel, 'wasm32'),
          minWarmupNs,
        );
        wasmTime = { ...times(t), compileNs };
        wasmResult = hex(t.last);
      } else {
        bar?.increment(plan.warmup + plan.repeats);
      }

      // Every engine computes the same checksum, or the timings mean nothing.
      const expected = hex(interp.t.last.r0);
      const got = { native: nativeResult, jit: hex(jit.t.last.r0), wasm32: wasmResult };
      for (const [engine, value] of Object.entries(got)) {
        if (value !== undefined && value !== expected) {
          bar?.stop();
          throw new Error(`${kernel}: ${engine} returned ${value}, the interpreter ${expected}`);
        }
      }
      const jitNs = jit.t.medianNs;
      results.push({
        kernel,
        result: expected,
        native: nativeTime,
        wasm32: wasmTime,
        jit: { ...times(jit.t), compileNs: jit.compileNs },
        interp: { ...times(interp.t), instructions: interp.t.last.instructions },
        jitPerNative: nativeTime ? jitNs / nativeTime.medianNs : null,
        jitPerWasm32: wasmTime ? jitNs / wasmTime.medianNs : null,
        interpPerJit: interp.t.medianNs / jitNs,
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
