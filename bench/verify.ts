/**
 * Verifier speed: `npm run bench:verify [-- --quick]`.
 * Verifies every program of the C examples (examples/*.bpf.c) and generated XDP programs (see
 * generateSource), each compiled once with clang-19 and cached. Reports per program the median wall time of `verifyProgram`
 * after a warm-up, the instructions processed and the states stored; the verifier issue's targets are
 * < 50 ms per example and < 2 s for the 100k-instruction program. Prints a table and writes JSON to
 * bench/results/verify-<date>.json and verify-latest.json.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SingleBar } from 'cli-progress';
import { Command } from 'commander';
import { OpenObject } from '../src/elf/open.js';
import { verifyProgram } from '../src/verifier/index.js';
import { CLANG, clangAvailable } from '../test/elf/compile.js';
import { compileCached, machineInfo, timeRuns, writeResult } from './util.js';

const here = dirname(fileURLToPath(import.meta.url));
const examples = join(here, '../examples');

interface Measurement {
  object: string;
  program: string;
  insns: number;
  ok: boolean;
  insnsProcessed: number;
  states: number;
  samples: number;
  medianMs: number;
  minMs: number;
  targetMs: number;
}

/**
 * Generated XDP programs of `blocks` blocks, each a packet read, some hashing and a map update.
 * - `parser`: one length check up front, so every read is proven by it: the verifier walks the
 *   program about once (the common shape of real parsers);
 * - `branchy`: a bounds check per block at offsets cycling through 64 bytes, so a failed check leaves a
 *   shorter proven length and the verifier walks the rest once per length (16 times; the kernel too).
 */
function generateSource(shape: 'parser' | 'branchy', blocks: number): string {
  const out = [
    '#include <linux/bpf.h>',
    '#include <bpf/bpf_helpers.h>',
    'struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 256); __type(key, __u32); __type(value, __u64); } counts SEC(".maps");',
  ];
  // Parts of at most 250 blocks, one subprogram each: jump offsets are 16-bit, so one body of 100k
  // instructions cannot branch past itself.
  const parts = Math.ceil(blocks / 250);
  for (let p = 0; p < parts; p++) {
    out.push(
      `static __attribute__((noinline)) __u64 part${p}(void *data, void *data_end, __u64 acc) {`,
      shape === 'parser' ? '  if (data + 64 > data_end) return acc;' : '',
    );
    for (let b = p * 250; b < Math.min(blocks, (p + 1) * 250); b++) {
      const off = (b * 4) % 60;
      const body = `__u32 v = *(__u32 *)(data + ${off});
    v ^= v >> 13; v *= 0x5bd1e995u; v ^= v >> 15; v += ${b};
    __u32 k = v & 255;
    __u64 *c = bpf_map_lookup_elem(&counts, &k);
    if (c) *c += v;
    acc = (acc << 5) ^ (acc >> 59) ^ v;
    asm volatile("" : "+r"(acc));`;
      out.push(shape === 'parser' ? `  { ${body} }` : `  if (data + ${off + 4} <= data_end) { ${body} }`);
    }
    out.push('  return acc;', '}');
  }
  out.push(
    'SEC("xdp") int big(struct xdp_md *ctx) {',
    '  void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;',
    '  __u64 acc = 0;',
  );
  for (let p = 0; p < parts; p++) out.push(`  acc = part${p}(data, data_end, acc);`);
  out.push('  return acc & 1 ? XDP_PASS : XDP_DROP;', '}', 'char LICENSE[] SEC("license") = "GPL";');
  return out.join('\n');
}

const program = new Command('bench:verify')
  .option('--quick', 'fewer repeats, generated programs at their smallest size only (CI)')
  .option('--out <dir>', 'where to write the JSON', join(here, 'results'))
  .parse();
const opts = program.opts<{ quick?: boolean; out: string }>();
const quick = opts.quick === true;

if (!clangAvailable) {
  console.warn(`bench:verify SKIPPED: ${CLANG} not found (install clang-19 and libbpf-dev).`);
  process.exit(0);
}

const objects: { name: string; bytes: Uint8Array; targetMs: number }[] = [];
for (const file of readdirSync(examples)
  .filter((f) => f.endsWith('.bpf.c'))
  .sort()) {
  const source = readFileSync(join(examples, file), 'utf8');
  objects.push({
    name: file,
    bytes: compileCached('verify', source, ['-D__TARGET_ARCH_x86', `-I${examples}`]),
    targetMs: 50,
  });
}
const generated = [
  ['parser', '10k', 450],
  ['parser', '100k', 4500],
  ['branchy', '1k', 45],
  ['branchy', '10k', 450],
] as const;
// Quick (CI): the shapes at their smallest sizes only.
for (const [shape, size, blocks] of quick
  ? generated.filter((g) => (g[0] === 'parser' ? g[1] === '10k' : g[1] === '1k'))
  : generated) {
  objects.push({
    name: `${shape}-${size}`,
    bytes: compileCached('verify', generateSource(shape, blocks)),
    targetMs: 2000,
  });
}

const jobs = objects.flatMap((o) => {
  const open = OpenObject.open(o.bytes);
  return open.link().map((p) => ({ object: o.name, targetMs: o.targetMs, p, maps: open.mapDefinitions }));
});
const bar = new SingleBar({
  format: 'verify {bar} {value}/{total} {object}',
  hideCursor: true,
  noTTYOutput: true,
});
bar.start(jobs.length, 0, { object: '' });
const results: Measurement[] = [];
for (const job of jobs) {
  bar.update({ object: `${job.object}:${job.p.name}` });
  const verify = () => verifyProgram(job.p, { mapDefinitions: job.maps });
  // Big programs take long enough that a few repeats give a stable median.
  const repeats = job.p.program.insns.length > 5_000 ? 3 : quick ? 10 : 30;
  const t = timeRuns(verify, 1, repeats);
  const last = t.last;
  results.push({
    object: job.object,
    program: job.p.name,
    insns: job.p.program.insns.length,
    ok: last.ok,
    insnsProcessed: last.stats.insnsProcessed,
    states: last.stats.states,
    samples: t.samples,
    medianMs: t.medianNs / 1e6,
    minMs: t.minNs / 1e6,
    targetMs: job.targetMs,
  });
  bar.increment();
}
bar.stop();

const rows = results.map((r) => [
  r.object,
  r.program,
  String(r.insns),
  r.ok ? 'accepted' : 'REJECTED',
  String(r.insnsProcessed),
  String(r.states),
  r.medianMs.toFixed(2),
  `< ${r.targetMs}`,
]);
const head = ['object', 'program', 'insns', 'verdict', 'processed', 'states', 'median ms', 'target ms'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
console.log([line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n'));

const info = machineInfo(quick);
const path = writeResult(opts.out, 'verify', info.date, `${JSON.stringify({ ...info, results }, null, 2)}\n`);
console.log(`results: ${path}`);
const missed = results.filter((r) => !r.ok || r.medianMs > r.targetMs);
if (missed.length > 0) {
  console.log(`over target or rejected: ${missed.map((r) => `${r.object}:${r.program}`).join(', ')}`);
}
