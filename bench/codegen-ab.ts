/**
 * A/B of two builds' JIT codegen speed on one generated program, alternating compile by compile in
 * one process (see bench/ab.ts for why not separate processes):
 *   node --import tsx bench/codegen-ab.ts DIST_A DIST_B [shape] [instructions] [seconds]
 * (shapes of test/jit/program-shapes.ts, default mixed 100000, 6 s). Prints M instructions/s (best,
 * median) of each build and the median of the per-pair time ratios B/A.
 */
import type { ShapeName } from '../test/jit/program-shapes.js';
import { median, warmCompiler } from './util.js';

const [distA, distB, shape = 'mixed', count = '100000', seconds = '6'] = process.argv.slice(2);
if (distB === undefined) {
  console.error(
    'usage: node --import tsx bench/codegen-ab.ts DIST_A DIST_B [shape] [instructions] [seconds]',
  );
  process.exit(2);
}
const n = Number(count);

/** A compile function of one build: codegen nanoseconds of one JitProgram of the program. */
async function compiler(dist: string): Promise<() => number> {
  const build = await warmCompiler(dist);
  const program = build.decode(shape as ShapeName, n);
  return () => build.codegenNs(program);
}

const a = await compiler(distA);
const b = await compiler(distB);
const ta: number[] = [];
const tb: number[] = [];
const ratios: number[] = [];
const end = performance.now() + Number(seconds) * 1000;
while (performance.now() < end || ta.length < 3) {
  const x = a();
  const y = b();
  ta.push(x);
  tb.push(y);
  ratios.push(y / x);
}
const mips = (ns: number) => (n / (ns / 1e3)).toFixed(2);
console.log(
  `${shape} ${n}: ${ta.length} pairs | A best ${mips(Math.min(...ta))}, median ${mips(median(ta))} | ` +
    `B best ${mips(Math.min(...tb))}, median ${mips(median(tb))} M insns/s | B/A time, median of pair ratios ${median(ratios).toFixed(3)}`,
);
