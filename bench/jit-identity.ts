/**
 * Checks that two builds of the JIT emit byte-identical modules, for changes meant to make the code
 * generator faster without changing its output:
 *   npm run build && cp -r dist /tmp/dist-old   (before the change)
 *   npm run build                                 (after it)
 *   node --import tsx bench/jit-identity.ts /tmp/dist-old dist [--count N]
 * Every WebAssembly.Module either build creates is hashed (the constructor is wrapped), over: the
 * fuzz generator's programs (plain, priced gas, split into tiny parts), the compile-speed shapes, the
 * bench programs, the bpf_conformance suite and the C kernels and examples compiled with clang.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { assemble } from '../src/asm/index.js';
import { encodeProgram } from '../src/isa/encoder.js';
import { BPF_CONFORMANCE_TESTS } from '../test/conformance/paths.js';
import { CLANG } from '../test/elf/compile.js';
import { CALLBACK_HELPER, generateProgram } from '../test/jit/program-generator.js';
import { SHAPES, type ShapeName, shapedProgram } from '../test/jit/program-shapes.js';

const [oldDist, newDist] = process.argv.slice(2, 4).map((d) => resolve(d));
if (!oldDist || !newDist) throw new Error('usage: jit-identity.ts OLD_DIST NEW_DIST [--count N]');
const countAt = process.argv.indexOf('--count');
const COUNT = countAt >= 0 ? Number(process.argv[countAt + 1]) : 2000;

// Every module compiled goes into `sink` as a hash.
let sink: string[] = [];
const Original = WebAssembly.Module;
class Recording extends Original {
  constructor(bytes: BufferSource) {
    sink.push(
      createHash('sha256')
        .update(new Uint8Array(bytes as ArrayBuffer))
        .digest('hex'),
    );
    super(bytes);
  }
}
(WebAssembly as { Module: typeof WebAssembly.Module }).Module = Recording;

/** Bytes of the inputs both builds compile. */
const here = import.meta.dirname;
const root = join(here, '..');
const work = mkdtempSync(join(tmpdir(), 'jit-identity-'));
function clang(file: string): Uint8Array | undefined {
  const out = join(work, `${file.replace(/[/.]/g, '_')}.o`);
  const r = spawnSync(CLANG, [
    '-target',
    'bpf',
    '-O2',
    '-fno-builtin',
    '-g',
    '-I/usr/include/x86_64-linux-gnu',
    '-c',
    file,
    '-o',
    out,
  ]);
  return r.status === 0 ? new Uint8Array(readFileSync(out)) : undefined;
}
const objects: [string, Uint8Array][] = [];
for (const dir of ['bench/kernels', 'examples']) {
  for (const f of readdirSync(join(root, dir)).filter((x) => x.endsWith('.c') && x !== 'driver.c')) {
    const bytes = clang(join(root, dir, f));
    if (bytes) objects.push([`${dir}/${f}`, bytes]);
    else console.log(`skipped ${dir}/${f} (clang failed)`);
  }
}
const benchPrograms = readdirSync(join(root, 'bench/programs'))
  .filter((f) => f.endsWith('.s'))
  .map((f): [string, Uint8Array] => [
    f,
    assemble(readFileSync(join(root, 'bench/programs', f), 'utf8'), { syntax: 'ubpf', file: f }),
  ]);
const fuzz = Array.from({ length: COUNT }, (_, seed) => encodeProgram(generateProgram(seed).insns));
const shapes: [string, Uint8Array][] = [];
for (const shape of Object.keys(SHAPES) as ShapeName[]) shapes.push([shape, shapedProgram(shape, 20_000)]);
shapes.push(['mixed 1M', shapedProgram('mixed', 1_000_000)]);

/** Case name → module hashes, for one build. */
async function compileAll(dist: string): Promise<Map<string, string[]>> {
  const imp = (m: string) => import(join(dist, 'src', m));
  const { decodeProgram } = await imp('isa/decoder.js');
  const { JitProgram } = await imp('jit/engine.js');
  const { GuestMemory } = await imp('vm/memory/guest-memory.js');
  const { PERM_READ, PERM_WRITE, Slot } = await imp('vm/memory/layout.js');
  const { conformanceHelpers } = await imp('conformance/helpers.js');
  const { findDataFiles, runDataFile } = await imp('conformance/runner.js');
  const { loadBpfObject } = await imp('runtime/loader.js');
  const helpers = conformanceHelpers();
  helpers.define(100, 'mix', () => 0n);
  helpers.define(CALLBACK_HELPER, 'each', () => 0n);
  helpers.define(
    101,
    'burn',
    () => 0n,
    () => Number.NaN,
  );
  const memory = new GuestMemory();
  memory.mapStack();
  memory.map(Slot.RODATA, 'rodata', 32, PERM_READ);
  memory.map(Slot.INPUT, 'input', 64, PERM_READ | PERM_WRITE);
  const result = new Map<string, string[]>();
  const record = (name: string, run: () => void) => {
    sink = [];
    try {
      run();
    } catch (e) {
      sink.push(`error: ${e instanceof Error ? `${e.name} ${e.message}` : String(e)}`);
    }
    result.set(name, sink);
  };
  const gasCosts = { load: 2, store: 2, mul: 3, call: 5 };
  fuzz.forEach((bytes, seed) => {
    record(`fuzz ${seed}`, () => {
      const program = decodeProgram(bytes);
      new JitProgram(program, { memory, helpers });
      new JitProgram(program, { memory, helpers, gasCosts });
      new JitProgram(program, { memory, helpers, partSize: 7 });
    });
  });
  for (const [name, bytes] of [...shapes, ...benchPrograms]) {
    record(name, () => {
      const program = decodeProgram(bytes);
      new JitProgram(program, { memory });
      if (bytes.length < 1_000_000) new JitProgram(program, { memory, gasCosts, partSize: 3000 });
    });
  }
  for (const file of findDataFiles([BPF_CONFORMANCE_TESTS])) {
    record(file, () => runDataFile(file, { engine: 'jit' }));
  }
  for (const [name, bytes] of objects) {
    record(name, () => loadBpfObject(bytes, { engine: 'jit' }));
  }
  return result;
}

const before = await compileAll(oldDist);
const after = await compileAll(newDist);
let modules = 0;
let differ = 0;
for (const [name, hashes] of before) {
  const other = after.get(name) ?? [];
  modules += hashes.length;
  if (hashes.length !== other.length || hashes.some((h, k) => h !== other[k])) {
    differ++;
    if (differ <= 10) console.log(`DIFFERS: ${name}\n  old ${hashes.join(' ')}\n  new ${other.join(' ')}`);
  }
}
const errors = [...before.values()].flat().filter((h) => h.startsWith('error')).length;
console.log(
  `${before.size} cases, ${modules} modules (${errors} compile errors, compared too): ${differ === 0 ? 'all identical' : `${differ} cases differ`}`,
);
process.exit(differ === 0 ? 0 : 1);
