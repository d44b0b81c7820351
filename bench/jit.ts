/**
 * JIT vs interpreter on bench/programs/*.s (median of repeats, unmetered and metered: a gas limit and a
 * cost table that prices blocks apart from their length, so both countdowns run; the two JIT variants
 * alternate in batches), and compile
 * speed on generated programs of growing size and on hostile control-flow shapes at the largest size
 * (test/jit/program-shapes.ts):
 *   node --expose-gc --import tsx bench/jit.ts (npm run bench:jit) [--quick]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assemble } from '../src/asm/index.js';
import { decodeProgram } from '../src/isa/decoder.js';
import type { Program } from '../src/isa/instruction.js';
import { createJitMachine, JitProgram } from '../src/jit/engine.js';
import type { RunResult } from '../src/vm/interpreter/interpreter.js';
import { createMachine } from '../src/vm/machine.js';
import { GuestMemory } from '../src/vm/memory/guest-memory.js';
import { PERM_READ, PERM_WRITE, Slot } from '../src/vm/memory/layout.js';
import { SHAPES, type ShapeName, shapedProgram } from '../test/jit/program-shapes.js';
import { median, RunSamples, timeRuns } from './util.js';

const here = dirname(fileURLToPath(import.meta.url));
const programs = join(here, 'programs');
const quick = process.argv.includes('--quick');

function inputFor(name: string): Uint8Array | undefined {
  if (name !== 'mem-loop') return undefined;
  const mem = new Uint8Array(64 * 1024);
  for (let i = 0; i < mem.length; i++) mem[i] = (i * 131 + 7) & 0xff;
  return mem;
}

/** Median (and minimum, steadier on a loaded machine) of `repeats` timed runs after one warm-up. */
function time(run: () => RunResult, repeats: number): { ns: number; min: number; result: RunResult } {
  const t = timeRuns(run, 1, repeats);
  return { ns: t.medianNs, min: t.minNs, result: t.last };
}

console.log(
  '| program | insns/run | interp ms | jit ms | jit metered ms | interp/jit | metered/unmetered | min: interp / jit / metered ms | codegen µs | wasm compile µs |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const file of readdirSync(programs)
  .filter((f) => f.endsWith('.s'))
  .sort()) {
  const name = basename(file, '.s');
  const bytes = assemble(readFileSync(join(programs, file), 'utf8'), { syntax: 'ubpf', file });
  const options = { mem: inputFor(name), maxInstructions: 1e10 };
  const interp = createMachine(bytes, options);
  const jit = createJitMachine(bytes, options);
  const metered = createJitMachine(bytes, { ...options, gasCosts: { load: 2, store: 2, mul: 3, call: 5 } });
  const repeats = quick ? 3 : 9;
  const a = time(() => interp.run(), repeats);
  for (let k = 0; k < 3; k++) {
    // Let V8 tier the modules up.
    jit.run();
    metered.run({ gasLimit: 1e15 });
  }
  // Unmetered and metered runs alternate in batches (at least 3 runs and 30 ms each), so both see the
  // same slow phases of the machine (seconds long, up to ~1.7× slower) and their ratio stays steady.
  const unmeteredRuns = new RunSamples(() => jit.run());
  const meteredRuns = new RunSamples(() => metered.run({ gasLimit: 1e15 }));
  for (let round = 0; round < (quick ? 1 : 7); round++) {
    unmeteredRuns.add(quick ? repeats : 3, quick ? 0 : 30e6);
    meteredRuns.add(quick ? repeats : 3, quick ? 0 : 30e6);
  }
  const b = {
    ns: median(unmeteredRuns.times),
    min: Math.min(...unmeteredRuns.times),
    result: unmeteredRuns.last,
  };
  const c = { ns: median(meteredRuns.times), min: Math.min(...meteredRuns.times) };
  if (a.result.r0 !== b.result?.r0 || a.result.instructions !== b.result?.instructions) {
    throw new Error(`${name}: engines disagree (${a.result.r0} vs ${b.result?.r0})`);
  }
  const s = jit.jit.stats;
  console.log(
    `| ${name} | ${a.result.instructions} | ${(a.ns / 1e6).toFixed(2)} | ${(b.ns / 1e6).toFixed(2)} | ${(c.ns / 1e6).toFixed(2)} | ${(a.ns / b.ns).toFixed(1)}× | ${(c.ns / b.ns).toFixed(2)} | ${[a.min, b.min, c.min].map((x) => (x / 1e6).toFixed(2)).join(' / ')} | ${(s.codegenNs / 1e3).toFixed(0)} | ${(s.wasmNs / 1e3).toFixed(0)} |`,
  );
}

/**
 * A full garbage collection when node runs with --expose-gc (npm run bench:jit does): decoding a
 * program of 10^6 instructions leaves ~180 MB of new objects, whose marking V8 would otherwise run
 * concurrently with the first compiles — the decoder's cost, timed as codegen's.
 */
function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/**
 * Compile time of one program: our codegen (decoded program → wasm bytes: analysis and code
 * generation) and V8's WebAssembly.Module, median and best of at least `repeats` compilations —
 * more for small programs (until about 0.5 s of compiling, at most 400), whose single compiles
 * take well under a millisecond and whose median of 5 would be one timer tick and one GC away —
 * and the first of them apart: it also grows the compiler's pooled work memory to the program's size.
 */
function compileTimes(program: Program, memory: GuestMemory, repeats: number) {
  collectGarbage();
  const first = new JitProgram(program, { memory }).stats;
  const stats: JitProgram['stats'][] = [];
  const start = performance.now();
  while (stats.length < repeats || (stats.length < 400 && performance.now() - start < 500)) {
    stats.push(new JitProgram(program, { memory }).stats);
  }
  const codegen = stats.map((s) => s.codegenNs);
  const wasm = stats.map((s) => s.wasmNs);
  return {
    first: first.codegenNs,
    codegen: median(codegen),
    codegenBest: Math.min(...codegen),
    wasm: median(wasm),
    wasmBest: Math.min(...wasm),
    bytes: stats[0].wasmBytes,
  };
}

const mips = (n: number, ns: number) => (n / (ns / 1e3)).toFixed(2);
const memory = new GuestMemory();
memory.mapStack();
memory.map(Slot.INPUT, 'input', 64, PERM_READ | PERM_WRITE);
{
  // Warm up our own compiler (V8 optimizes it after a few runs), as a long-running host would be.
  const program = decodeProgram(shapedProgram('mixed', 20_000, 7));
  for (let k = 0; k < 10; k++) new JitProgram(program, { memory });
}
console.log(
  '\nCompile speed, median (best) of the repeats after a first compile; codegen = decoded program → wasm bytes, V8 = WebAssembly.Module.',
);
console.log(
  '| shape | insns | codegen ms | codegen M insns/s | first codegen ms | V8 compile ms | V8 M insns/s | wasm bytes | bytes/insn |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
const sizes = quick ? [1_000, 10_000] : [1_000, 10_000, 100_000, 1_000_000];
const runs: [ShapeName, number][] = sizes.map((n) => ['mixed', n]);
for (const shape of Object.keys(SHAPES) as ShapeName[]) {
  if (shape !== 'mixed') runs.push([shape, quick ? 10_000 : 1_000_000]);
}
for (const [shape, n] of runs) {
  const program = decodeProgram(shapedProgram(shape, n));
  const count = program.insns.length;
  try {
    const t = compileTimes(program, memory, 5);
    console.log(
      `| ${shape} | ${count} | ${(t.codegen / 1e6).toFixed(2)} (${(t.codegenBest / 1e6).toFixed(2)}) | ${mips(count, t.codegen)} (${mips(count, t.codegenBest)}) | ${(t.first / 1e6).toFixed(2)} | ${(t.wasm / 1e6).toFixed(2)} (${(t.wasmBest / 1e6).toFixed(2)}) | ${mips(count, t.wasm)} | ${t.bytes} | ${(t.bytes / count).toFixed(1)} |`,
    );
  } catch (e) {
    console.log(`| ${shape} | ${count} | failed: ${e instanceof Error ? e.message : String(e)} |`);
  }
}
