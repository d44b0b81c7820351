/**
 * A/B of two builds' first compiles of a freshly decoded program, one process per build and round
 * (a first compile happens once per process), the two builds alternating:
 *   node --import tsx bench/first-compile.ts DIST_A DIST_B [shape] [instructions] [rounds]
 * (default mixed 1000000, 6 rounds). Each process warms the compiler up as bench/jit.ts does
 * (10 compiles of a 20k-instruction program), decodes the program, collects garbage, then compiles
 * it 6 times. Prints, per build, the medians over the rounds of codegen ms for compile 0, compile 1
 * and the median of compiles 2–5 (steady state), and the median of the per-round ratios B/A.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ShapeName } from '../test/jit/program-shapes.js';
import { median, warmCompiler } from './util.js';

const COMPILES = 6;

async function child(dist: string, shape: ShapeName, n: number): Promise<void> {
  const compiler = await warmCompiler(dist);
  const program = compiler.decode(shape, n);
  (globalThis as { gc?: () => void }).gc?.();
  const ms: number[] = [];
  for (let k = 0; k < COMPILES; k++) ms.push(compiler.codegenNs(program) / 1e6);
  console.log(JSON.stringify(ms));
}

const args = process.argv.slice(2);
if (args[0] === '--child') {
  await child(args[1], args[2] as ShapeName, Number(args[3]));
} else {
  const [distA, distB, shape = 'mixed', count = '1000000', rounds = '6'] = args;
  if (distB === undefined) {
    console.error(
      'usage: node --import tsx bench/first-compile.ts DIST_A DIST_B [shape] [instructions] [rounds]',
    );
    process.exit(2);
  }
  const self = fileURLToPath(import.meta.url);
  const runs: number[][][] = [[], []];
  for (let r = 0; r < Number(rounds); r++) {
    // Alternate which build goes first: the machine drifts.
    for (const b of r % 2 === 0 ? [0, 1] : [1, 0]) {
      const dist = b === 0 ? distA : distB;
      const out = spawnSync(
        process.execPath,
        ['--expose-gc', '--import', 'tsx', self, '--child', dist, shape, count],
        { encoding: 'utf8' },
      );
      if (out.status !== 0) throw new Error(`child failed: ${out.stderr}`);
      runs[b].push(JSON.parse(out.stdout.trim().split('\n').at(-1) as string));
    }
  }
  const phases = (ms: number[]) => [ms[0], ms[1], median(ms.slice(2))];
  const names = ['compile 0', 'compile 1', 'compiles 2–5'];
  console.log(
    `${shape} ${count}, ${rounds} rounds: codegen ms, median over rounds (A | B | B/A, median of round ratios)`,
  );
  for (let p = 0; p < 3; p++) {
    const a = runs[0].map((ms) => phases(ms)[p]);
    const b = runs[1].map((ms) => phases(ms)[p]);
    const ratios = a.map((x, r) => b[r] / x);
    console.log(
      `${names[p].padEnd(13)} ${median(a).toFixed(0).padStart(6)} | ${median(b).toFixed(0).padStart(6)} | ${median(ratios).toFixed(3)}`,
    );
  }
}
