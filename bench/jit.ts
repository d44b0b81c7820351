/**
 * JIT vs interpreter on bench/programs/*.s (median of repeats, unmetered and metered), and compile
 * speed on generated straight-line-and-branch programs of growing size:
 *   node --import tsx bench/jit.ts (npm run bench:jit) [--quick]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assemble } from '../src/asm/index.js';
import { decodeProgram } from '../src/isa/decoder.js';
import { encodeProgram, type RawInsn } from '../src/isa/encoder.js';
import { createJitMachine, JitProgram } from '../src/jit/engine.js';
import type { RunResult } from '../src/vm/interpreter/interpreter.js';
import { createMachine } from '../src/vm/machine.js';
import { GuestMemory } from '../src/vm/memory/guest-memory.js';
import { PERM_READ, PERM_WRITE, Slot } from '../src/vm/memory/layout.js';
import { prng } from '../test/support/prng.js';
import { timeRuns } from './util.js';

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
  const repeats = quick ? 3 : 9;
  const a = time(() => interp.run(), repeats);
  for (let k = 0; k < 3; k++) jit.run(); // let V8 tier the module up
  const b = time(() => jit.run(), repeats);
  const c = time(() => jit.run({ gasLimit: 1e15 }), repeats);
  if (a.result.r0 !== b.result.r0 || a.result.instructions !== b.result.instructions) {
    throw new Error(`${name}: engines disagree (${a.result.r0} vs ${b.result.r0})`);
  }
  const s = jit.jit.stats;
  console.log(
    `| ${name} | ${a.result.instructions} | ${(a.ns / 1e6).toFixed(2)} | ${(b.ns / 1e6).toFixed(2)} | ${(c.ns / 1e6).toFixed(2)} | ${(a.ns / b.ns).toFixed(1)}× | ${(c.ns / b.ns).toFixed(2)} | ${[a.min, b.min, c.min].map((x) => (x / 1e6).toFixed(2)).join(' / ')} | ${(s.codegenNs / 1e3).toFixed(0)} | ${(s.wasmNs / 1e3).toFixed(0)} |`,
  );
}

/** A function of `n` instructions: ALU, stack loads/stores and forward branches, one exit. */
function generated(n: number, seed: number): Uint8Array {
  const rnd = prng(seed);
  const insns: RawInsn[] = [];
  for (let i = 0; i < n - 1; i++) {
    const r = rnd();
    const dst = Math.floor(rnd() * 10);
    const src = Math.floor(rnd() * 10);
    if (r < 0.6)
      insns.push({
        opcode: [0x07, 0x0f, 0x2f, 0xaf, 0x67, 0x04][Math.floor(rnd() * 6)],
        dst,
        src,
        off: 0,
        imm: 3,
      });
    else if (r < 0.75)
      insns.push({ opcode: 0x79, dst, src: 10, off: -8 * (1 + Math.floor(rnd() * 60)), imm: 0 });
    else if (r < 0.9)
      insns.push({ opcode: 0x7b, dst: 10, src, off: -8 * (1 + Math.floor(rnd() * 60)), imm: 0 });
    else {
      const off = Math.min(1 + Math.floor(rnd() * 20), n - 2 - i);
      insns.push({ opcode: 0x2d, dst, src, off, imm: 0 });
    }
  }
  insns.push({ opcode: 0x95, dst: 0, src: 0, off: 0, imm: 0 });
  return encodeProgram(
    insns.map((x) => {
      const reg = (x.opcode & 0x08) !== 0 && (x.opcode & 0x07) !== 0x03 && (x.opcode & 0x07) !== 0x01;
      return x.opcode === 0x79 || x.opcode === 0x7b
        ? x
        : { ...x, src: reg ? x.src : 0, imm: reg ? 0 : x.imm };
    }),
  );
}

console.log(
  '\n| program size | codegen ms | codegen M insns/s | wasm compile ms | wasm bytes | bytes/insn |',
);
console.log('|---:|---:|---:|---:|---:|---:|');
{
  // Warm up our own compiler (V8 optimizes it after a few runs), as a long-running host would be.
  const memory = new GuestMemory();
  memory.mapStack();
  const program = decodeProgram(generated(20_000, 7));
  for (let k = 0; k < 10; k++) new JitProgram(program, { memory });
}
for (const n of quick ? [1_000, 10_000] : [1_000, 10_000, 100_000, 1_000_000]) {
  const program = decodeProgram(generated(n, n));
  const memory = new GuestMemory();
  memory.mapStack();
  memory.map(Slot.INPUT, 'input', 64, PERM_READ | PERM_WRITE);
  try {
    const best = [0, 1, 2]
      .map(() => new JitProgram(program, { memory }).stats)
      .sort((x, y) => x.codegenNs - y.codegenNs)[0];
    console.log(
      `| ${n} | ${(best.codegenNs / 1e6).toFixed(1)} | ${(n / (best.codegenNs / 1e3)).toFixed(2)} | ${(best.wasmNs / 1e6).toFixed(1)} | ${best.wasmBytes} | ${(best.wasmBytes / n).toFixed(1)} |`,
    );
  } catch (e) {
    console.log(`| ${n} | failed: ${e instanceof Error ? e.message : String(e)} |`);
  }
}
