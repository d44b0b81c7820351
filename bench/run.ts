/**
 * Interpreter micro-benchmarks: `npm run bench [-- --quick] [-- --filter NAME]`.
 * Each program in bench/programs is assembled once, linked once, warmed up, then run repeatedly; the
 * report gives the median time per run and eBPF instructions per second, as a table on stdout and as
 * JSON in bench/results/ (a dated file plus latest.json).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SingleBar } from 'cli-progress';
import { Command } from 'commander';
import { assemble } from '../src/asm/index.js';
import { createMachine } from '../src/vm/machine.js';
import { machineInfo, median, writeResult } from './util.js';

const here = dirname(fileURLToPath(import.meta.url));

interface BenchResult {
  name: string;
  engine: 'interp';
  /** Whether the run was metered with a gas limit (the cost is the same either way; the check differs). */
  metered: boolean;
  instructionsPerRun: number;
  runs: number;
  medianNs: number;
  minNs: number;
  mips: number;
  r0: string;
}

/** Input buffers by program name (the memory-bound loop sums a 64 KiB buffer). */
function inputFor(name: string): Uint8Array | undefined {
  if (name !== 'mem-loop') return undefined;
  const mem = new Uint8Array(64 * 1024);
  for (let i = 0; i < mem.length; i++) mem[i] = (i * 131 + 7) & 0xff;
  return mem;
}

function main(): void {
  const options = new Command()
    .option('--quick', 'fewer repeats (CI)')
    .option('--filter <name>', 'only programs whose name contains this')
    .option('--out <dir>', 'results directory', join(here, 'results'))
    .parse()
    .opts<{ quick?: boolean; filter?: string; out: string }>();
  const dir = join(here, 'programs');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.s') && (!options.filter || f.includes(options.filter)))
    .sort();
  const warmup = options.quick ? 2 : 5;
  const repeats = options.quick ? 5 : 15;
  const bar = process.stderr.isTTY
    ? new SingleBar({ format: 'bench {bar} {value}/{total} {program}', hideCursor: true })
    : undefined;
  bar?.start(files.length * 2 * (warmup + repeats), 0, { program: '' });
  const results: BenchResult[] = [];
  for (const file of files) {
    const name = basename(file, '.s');
    const bytes = assemble(readFileSync(join(dir, file), 'utf8'), { syntax: 'ubpf', file });
    const machine = createMachine(bytes, { mem: inputFor(name), maxInstructions: 1e10 });
    for (const metered of [false, true]) {
      const gasLimit = metered ? 1e15 : undefined;
      const times: number[] = [];
      let last = machine.run({ gasLimit });
      for (let k = 0; k < warmup + repeats; k++) {
        const t0 = process.hrtime.bigint();
        last = machine.run({ gasLimit });
        const ns = Number(process.hrtime.bigint() - t0);
        if (k >= warmup) times.push(ns);
        bar?.increment(1, { program: name });
      }
      const medianNs = median(times);
      results.push({
        name,
        engine: 'interp',
        metered,
        instructionsPerRun: last.instructions,
        runs: times.length,
        medianNs,
        minNs: Math.min(...times),
        mips: last.instructions / (medianNs / 1e3),
        r0: `0x${last.r0.toString(16)}`,
      });
    }
  }
  bar?.stop();
  const report = { ...machineInfo(options.quick === true), results };
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const latest = writeResult(options.out, 'interp', report.date, json, 'json', 'latest.json');
  console.log('| program | engine | gas | insns/run | median ms | M insns/s |');
  console.log('|---|---|---|---:|---:|---:|');
  for (const r of results) {
    console.log(
      `| ${r.name} | ${r.engine} | ${r.metered ? 'metered' : 'off'} | ${r.instructionsPerRun} | ${(r.medianNs / 1e6).toFixed(2)} | ${r.mips.toFixed(1)} |`,
    );
  }
  console.log(`results: ${latest}`);
}

main();
