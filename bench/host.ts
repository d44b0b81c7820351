/**
 * Host API benchmarks: `npm run bench:host [-- --quick]`.
 * - instance creation: a fresh `InstancePre.instantiate()` versus `reset()` of one reused instance
 *   (the target: under 50 µs for a small module with reset reuse);
 * - call overhead of a tiny guest, metered (gas limit) versus an engine with metering off;
 * - metering overhead on a loop of ~1 M instructions, and the cost of a host function call.
 * Prints a table and writes JSON to bench/results/host-<date>.json and host-latest.json.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { Engine } from '../src/host/engine.js';
import { Linker } from '../src/host/linker.js';
import { Module } from '../src/host/module.js';
import { murmur3_32 } from '../src/host/murmur3.js';
import { machineInfo, median, writeResult } from './util.js';

const here = dirname(fileURLToPath(import.meta.url));

interface Measurement {
  name: string;
  /** Operations timed per sample. */
  batch: number;
  samples: number;
  /** Median and minimum time of one operation, in nanoseconds. */
  medianNs: number;
  minNs: number;
}

/**
 * Times each op in batches (so timer resolution does not matter) after a warm-up. Several ops are
 * sampled in turn, so a metered/unmetered pair sees the same machine load.
 */
function measure(batch: number, samples: number, ops: Record<string, () => void>): Measurement[] {
  const entries = Object.entries(ops);
  for (const [, op] of entries) for (let k = 0; k < batch * 3; k++) op();
  const times = entries.map((): number[] => []);
  for (let s = 0; s < samples; s++) {
    entries.forEach(([, op], i) => {
      const t0 = process.hrtime.bigint();
      for (let k = 0; k < batch; k++) op();
      times[i].push(Number(process.hrtime.bigint() - t0) / batch);
    });
  }
  return entries.map(([name], i) => ({
    name,
    batch,
    samples,
    medianNs: median(times[i]),
    minNs: Math.min(...times[i]),
  }));
}

// A small contract: reads rodata and data, bumps a counter in data, writes the heap.
const SMALL = `
  lddw %r1, 0x10000000
  ldxdw %r0, [%r1]
  lddw %r2, 0x20000000
  ldxdw %r3, [%r2]
  add %r0, %r3
  add %r3, 1
  stxdw [%r2], %r3
  lddw %r4, 0x30000000
  stxdw [%r4], %r0
  exit`;

// r0 = sum of 0..r1-1: 4 instructions per iteration.
const LOOP = `
  mov %r0, 0
loop:
  jeq %r1, 0, done
  add %r0, %r1
  sub %r1, 1
  ja loop
done:
  exit`;

const CALLS = `
  mov %r6, %r1
loop:
  jeq %r6, 0, done
  mov %r1, %r6
  call 0x${murmur3_32('get').toString(16)}
  sub %r6, 1
  ja loop
done:
  exit`;

function main(): void {
  const options = new Command()
    .option('--quick', 'fewer samples (CI)')
    .option('--out <dir>', 'results directory', join(here, 'results'))
    .parse()
    .opts<{ quick?: boolean; out: string }>();
  const samples = options.quick ? 7 : 21;
  const metered = new Engine();
  const unmetered = new Engine({ gas: false });
  const results: Measurement[] = [];

  const small = { rodata: new Uint8Array(64), data: new Uint8Array(256), heapSize: 32 * 1024 };
  const pre = new Linker(metered).instantiatePre(Module.fromAsm(metered, SMALL, small));
  results.push(
    ...measure(200, samples, { 'module: fromAsm (10 insns)': () => Module.fromAsm(metered, SMALL, small) }),
  );
  results.push(...measure(50, samples, { 'instance: instantiate() fresh': () => pre.instantiate() }));
  const reused = pre.instantiate({ gas: 1000 });
  results.push(
    ...measure(2000, samples, {
      'instance: reset() (256 B data, 32 KiB heap)': () => reused.reset(),
      'instance: reset() + call() (small contract)': () => {
        reused.reset();
        reused.call();
      },
    }),
  );

  const instances = (text: string) =>
    [metered, unmetered].map((engine) =>
      new Linker(engine).instantiatePre(Module.fromAsm(engine, text)).instantiate(),
    );
  const [tinyM, tinyU] = instances('mov %r0, %r1\nexit');
  results.push(
    ...measure(20_000, samples, {
      'call: 2 insns, metered': () => tinyM.invoke({ args: [1], gas: 1e12 }),
      'call: 2 insns, unmetered': () => tinyU.invoke({ args: [1] }),
    }),
  );
  const [loopM, loopU] = instances(LOOP);
  results.push(
    ...measure(1, samples * 2, {
      'call: loop 1 M insns, metered': () => loopM.invoke({ args: [250_000], gas: 1e12 }),
      'call: loop 1 M insns, unmetered': () => loopU.invoke({ args: [250_000] }),
    }),
  );

  const host = new Linker(metered)
    .define('get', (_ctx, key) => key, { cost: 5 })
    .instantiatePre(Module.fromAsm(metered, CALLS))
    .instantiate();
  results.push(
    ...measure(1, samples, {
      'host call: 10,000 calls of get(key)': () => host.invoke({ args: [10_000], gas: 1e12 }),
    }),
  );

  const byName = new Map(results.map((r) => [r.name, r]));
  // Medians, and minimums (robust against other load on the machine).
  const ratio = (a: string, b: string, key: 'medianNs' | 'minNs' = 'medianNs') =>
    (byName.get(a)?.[key] ?? 0) / (byName.get(b)?.[key] ?? 1);
  const summary = {
    instantiateUs: (byName.get('instance: instantiate() fresh')?.medianNs ?? 0) / 1e3,
    resetUs: (byName.get('instance: reset() (256 B data, 32 KiB heap)')?.medianNs ?? 0) / 1e3,
    resetAndCallUs: (byName.get('instance: reset() + call() (small contract)')?.medianNs ?? 0) / 1e3,
    meteringOverheadLoop: ratio('call: loop 1 M insns, metered', 'call: loop 1 M insns, unmetered') - 1,
    meteringOverheadLoopMin:
      ratio('call: loop 1 M insns, metered', 'call: loop 1 M insns, unmetered', 'minNs') - 1,
    meteringOverheadTinyCall: ratio('call: 2 insns, metered', 'call: 2 insns, unmetered') - 1,
    hostCallNs: (byName.get('host call: 10,000 calls of get(key)')?.medianNs ?? 0) / 10_000,
  };
  const report = { ...machineInfo(options.quick === true), summary, results };
  const latest = writeResult(options.out, 'host', report.date, `${JSON.stringify(report, null, 2)}\n`);

  console.log('| benchmark | median | min |');
  console.log('|---|---:|---:|');
  const fmt = (ns: number) => (ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : `${(ns / 1e3).toFixed(2)} µs`);
  for (const r of results) console.log(`| ${r.name} | ${fmt(r.medianNs)} | ${fmt(r.minNs)} |`);
  console.log('');
  console.log(
    `instance reuse (reset): ${summary.resetUs.toFixed(2)} µs (target < 50 µs); fresh: ${summary.instantiateUs.toFixed(1)} µs`,
  );
  console.log(
    `metering overhead: loop ${(summary.meteringOverheadLoop * 100).toFixed(1)} % (by minimum ${(summary.meteringOverheadLoopMin * 100).toFixed(1)} %), tiny call ${(summary.meteringOverheadTinyCall * 100).toFixed(1)} % (target <= 15 %)`,
  );
  console.log(
    `host function call: ${summary.hostCallNs.toFixed(0)} ns per call (incl. 5 guest instructions)`,
  );
  console.log(`results: ${latest}`);
}

main();
