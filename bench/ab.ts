/**
 * A/B of two builds on one BPF kernel object, alternating run by run in one process:
 *   node --import tsx bench/ab.ts DIST_A DIST_B OBJECT.o [seconds]
 * (a DIST is a build output directory, e.g. a copy of `dist` made before a change; the object is a
 * bench/kernels/*.c compiled with clang-19 -target bpf). Each run of A is followed by one of B, so
 * both see the same machine: on a shared VM whole phases of seconds run ~1.7× slower for any
 * throughput-bound code (a plain JS loop too), which separate processes mistake for a difference
 * between builds. Prints both minimums and the median of the per-pair ratios B/A.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { median } from './util.js';

interface Loaded {
  run(
    program: string,
    input: object,
    options: { maxInstructions: number },
  ): { r0: bigint; instructions: number };
}
type Load = (bytes: Uint8Array, options: { engine: 'jit' }) => Loaded;

const [distA, distB, object, seconds = '4'] = process.argv.slice(2);
if (object === undefined) {
  console.error('usage: node --import tsx bench/ab.ts DIST_A DIST_B OBJECT.o [seconds]');
  process.exit(2);
}
const bytes = new Uint8Array(readFileSync(object));
async function load(dist: string): Promise<Loaded> {
  const url = pathToFileURL(resolve(dist, 'src/runtime/loader.js')).href;
  const { loadBpfObject } = (await import(url)) as { loadBpfObject: Load };
  return loadBpfObject(bytes, { engine: 'jit' });
}
const builds = [await load(distA), await load(distB)];
const budget = { maxInstructions: 1e11 };
const run = (o: Loaded) => {
  const t = performance.now();
  const r = o.run('kernel_run', {}, budget);
  return { ms: performance.now() - t, r };
};
for (const o of builds) o.run('kernel_init', {}, budget);
for (let k = 0; k < 10; k++) for (const o of builds) run(o);
const a: number[] = [];
const b: number[] = [];
const ratios: number[] = [];
const end = performance.now() + Number(seconds) * 1000;
while (performance.now() < end) {
  const x = run(builds[0]);
  const y = run(builds[1]);
  if (x.r.r0 !== y.r.r0 || x.r.instructions !== y.r.instructions) throw new Error('the builds disagree');
  a.push(x.ms);
  b.push(y.ms);
  ratios.push(y.ms / x.ms);
}
const min = (v: number[]) => Math.min(...v);
console.log(
  `${object}: ${a.length} pairs | A min ${min(a).toFixed(3)} ms, median ${median(a).toFixed(3)} | ` +
    `B min ${min(b).toFixed(3)} ms, median ${median(b).toFixed(3)} | B/A of minimums ${(min(b) / min(a)).toFixed(3)}, ` +
    `median of pair ratios ${median(ratios).toFixed(3)}`,
);
