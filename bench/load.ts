/**
 * Object load benchmarks: `npm run bench:load [-- --quick]`.
 * Generates C sources of about 1k, 10k and 50k instructions (many programs and static subprograms,
 * BTF-defined maps of several types, globals, loops, line info, CO-RE reads), compiles each once with
 * clang-19 (cached in the temp dir by source hash) and times, after a warm-up, the median of:
 * - open: `OpenObject.open` (ELF, BTF, BTF.ext, CO-RE, object model, BTF map definitions);
 * - link: `OpenObject.link` (every program with its subprograms, line info per pc);
 * - load: `loadBpfObject` (open + maps in guest memory + link + lowering of every program).
 * The runtime issue's target is load < 20 ms for the 10k object. Prints a table and writes JSON to
 * bench/results/load-<date>.json and load-latest.json.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SingleBar } from 'cli-progress';
import { Command } from 'commander';
import { isCodeSection } from '../src/elf/object.js';
import { OpenObject } from '../src/elf/open.js';
import { readElf } from '../src/elf/reader.js';
import { loadBpfObject } from '../src/runtime/loader.js';
import { CLANG, clangAvailable } from '../test/elf/compile.js';
import { compileCached, machineInfo, median, writeResult } from './util.js';

const here = dirname(fileURLToPath(import.meta.url));

interface Measurement {
  object: string;
  /** Instruction slots of all code sections of the object (lddw counts twice). */
  insns: number;
  programs: number;
  maps: number;
  bytes: number;
  phase: 'open' | 'link' | 'load';
  samples: number;
  medianMs: number;
  minMs: number;
}

/** Sizes to generate: `groups` programs, each with `perGroup` static subprograms of its own. */
const SIZES = [
  { name: '1k', groups: 2, perGroup: 3 },
  { name: '10k', groups: 10, perGroup: 6 },
  { name: '50k', groups: 25, perGroup: 12 },
] as const;

/**
 * A libbpf-style source: per group a hash map, per subprogram a map lookup, a bounded loop, global
 * counters and a CO-RE read; shared maps of other types (array, per-CPU array, LRU hash, ringbuf).
 */
function generateSource(groups: number, perGroup: number): string {
  const out: string[] = [
    '#include <linux/bpf.h>',
    '#include <bpf/bpf_helpers.h>',
    '#include <bpf/bpf_core_read.h>',
    'struct task_struct { int pid; int tgid; struct task_struct *real_parent; } __attribute__((preserve_access_index));',
    'struct val { __u64 n; __u64 bytes; __u32 flags; __u32 pad; };',
    'struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 64); __type(key, __u32); __type(value, __u64); } shared SEC(".maps");',
    'struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __uint(max_entries, 16); __type(key, __u32); __type(value, struct val); } pcpu SEC(".maps");',
    'struct { __uint(type, BPF_MAP_TYPE_LRU_HASH); __uint(max_entries, 256); __type(key, __u64); __type(value, struct val); } lru SEC(".maps");',
    'struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); } events SEC(".maps");',
    'const volatile __u32 threshold = 10;',
    '__u64 total = 0;',
    '__u32 last_pid;',
  ];
  for (let g = 0; g < groups; g++) {
    out.push(
      `struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 128); __type(key, __u32); __type(value, struct val); } h${g} SEC(".maps");`,
      `__u64 count${g};`,
    );
    for (let f = 0; f < perGroup; f++) {
      const id = g * perGroup + f;
      out.push(`static __attribute__((noinline)) __u64 f${id}(__u32 key, __u64 seed) {
  struct task_struct *t = (void *)bpf_get_current_task();
  __u32 pid = BPF_CORE_READ(t, real_parent, tgid);
  struct val *v = bpf_map_lookup_elem(&h${g}, &key);
  if (!v) {
    struct val init = { .n = seed, .bytes = ${id}, .flags = pid };
    bpf_map_update_elem(&h${g}, &key, &init, BPF_ANY);
    return seed;
  }
  __u64 acc = v->n;
  for (int i = 0; i < ${4 + (id % 5)}; i++) {
    acc = acc * ${31 + id} + (seed ^ i);
    if (acc > threshold + ${id}) acc -= v->bytes;
  }
  v->n = acc;
  v->bytes += key;
  __sync_fetch_and_add(&total, 1);
  count${g} += acc & 0xff;
  __u32 z = ${id % 64};
  __u64 *s = bpf_map_lookup_elem(&shared, &z);
  if (s) *s += acc;
  if (acc % ${7 + (id % 3)} == 0) {
    __u64 lk = acc;
    struct val *l = bpf_map_lookup_elem(&lru, &lk);
    if (l) l->flags |= ${1 << (id % 16)};
  }
  last_pid = pid;
  return acc;
}`);
    }
    const calls = Array.from({ length: perGroup }, (_, f) => `  r += f${g * perGroup + f}(key + ${f}, r);`);
    out.push(`SEC("kprobe/do_sys_open${g}") int prog${g}(void *ctx) {
  __u32 key = bpf_get_prandom_u32() & 0x7f;
  __u64 r = ${g};
${calls.join('\n')}
  __u32 z = ${g % 16};
  struct val *p = bpf_map_lookup_elem(&pcpu, &z);
  if (p) p->n += r;
  __u64 *e = bpf_ringbuf_reserve(&events, 8, 0);
  if (e) { *e = r; bpf_ringbuf_submit(e, 0); }
  return r & 1;
}`);
  }
  out.push('char LICENSE[] SEC("license") = "GPL";');
  return `${out.join('\n')}\n`;
}

function codeSlots(bytes: Uint8Array): number {
  return readElf(bytes)
    .sections.filter(isCodeSection)
    .reduce((n, s) => n + s.size / 8, 0);
}

function main(): void {
  const options = new Command()
    .option('--quick', 'fewer repeats and no 50k object (CI)')
    .option('--filter <name>', 'only objects whose name contains this (1k, 10k, 50k)')
    .option('--out <dir>', 'results directory', join(here, 'results'))
    .parse()
    .opts<{ quick?: boolean; filter?: string; out: string }>();
  if (!clangAvailable) {
    console.warn(`bench:load SKIPPED: ${CLANG} not found (install clang-19 and libbpf-dev).`);
    return;
  }
  const sizes = SIZES.filter(
    (s) => (!options.filter || s.name.includes(options.filter)) && !(options.quick && s.name === '50k'),
  );
  const warmup = options.quick ? 3 : 10;
  const repeats = options.quick ? 7 : 25;
  const phases = ['open', 'link', 'load'] as const;
  const bar = process.stderr.isTTY
    ? new SingleBar({ format: 'bench:load {bar} {value}/{total} {object} {phase}', hideCursor: true })
    : undefined;
  bar?.start(sizes.length * phases.length * (warmup + repeats), 0, { object: '', phase: 'compile' });
  const results: Measurement[] = [];
  for (const size of sizes) {
    const bytes = compileCached('load', generateSource(size.groups, size.perGroup));
    const opened = OpenObject.open(bytes);
    // `link()` is memoized per object, so each timed link gets a freshly opened one (opened untimed).
    const ops: Record<(typeof phases)[number], (fresh: OpenObject) => unknown> = {
      open: () => OpenObject.open(bytes),
      link: (fresh) => fresh.link(),
      load: () => loadBpfObject(bytes),
    };
    for (const phase of phases) {
      const times: number[] = [];
      for (let k = 0; k < warmup + repeats; k++) {
        const fresh = phase === 'link' ? OpenObject.open(bytes) : opened;
        const t0 = process.hrtime.bigint();
        ops[phase](fresh);
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        if (k >= warmup) times.push(ms);
        bar?.increment(1, { object: size.name, phase });
      }
      results.push({
        object: size.name,
        insns: codeSlots(bytes),
        programs: opened.programs.length,
        maps: opened.maps.length,
        bytes: bytes.length,
        phase,
        samples: times.length,
        medianMs: median(times),
        minMs: Math.min(...times),
      });
    }
  }
  bar?.stop();
  const report = { ...machineInfo(options.quick === true), results };
  const latest = writeResult(options.out, 'load', report.date, `${JSON.stringify(report, null, 2)}\n`);
  console.log('| object | insns | programs | maps | ELF KiB | phase | median ms | min ms |');
  console.log('|---|---:|---:|---:|---:|---|---:|---:|');
  for (const r of results) {
    console.log(
      `| ${r.object} | ${r.insns} | ${r.programs} | ${r.maps} | ${(r.bytes / 1024).toFixed(0)} | ${r.phase} | ${r.medianMs.toFixed(2)} | ${r.minMs.toFixed(2)} |`,
    );
  }
  console.log(`results: ${latest}`);
}

main();
