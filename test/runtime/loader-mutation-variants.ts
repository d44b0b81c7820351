/**
 * Seeded mutations of clang-19 objects for the whole-loader mutation test (loader-mutation.test.ts runs
 * them in a worker, loader-mutation-worker.mjs, so a hang can be stopped and named).
 * Mutations aim at what `OpenObject.open` and `loadBpfObject` read: BTF type ids, string offsets and
 * the array element counts that encode map attributes (type, max_entries, sizes), CO-RE access strings,
 * .BTF.ext records, `.maps` and legacy `maps` bytes, as well as ELF structure and code.
 */
import { isCodeSection } from '../../src/elf/object.js';
import { readElf, SHT_REL, SHT_SYMTAB } from '../../src/elf/reader.js';
import { BpfError } from '../../src/errors.js';
import { loadBpfObject } from '../../src/runtime/loader.js';
import { prng } from '../support/prng.js';

/** A clean load of these objects takes about a millisecond; a variant far above is a hang in the making. */
export const VARIANT_LIMIT_MS = 1000;
/** Guest memory per load: small, so an oversize map is refused rather than allocated. */
const MAX_MEMORY = 64 << 20;

/** BTF-defined maps of most types with initializers, legacy maps, globals, CO-RE reads, subprograms. */
export const RICH_SOURCE = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
struct task_struct { int pid; int tgid; struct task_struct *real_parent; char comm[16]; } __attribute__((preserve_access_index));
struct val { __u64 n; __u32 flags; char tag[4]; };
struct lpm_key { __u32 prefixlen; __u32 addr; };
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 9); __type(key, __u32); __type(value, struct val); } h SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __uint(max_entries, 5); __type(key, __u32); __type(value, __u64); } pa SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_LRU_HASH); __uint(max_entries, 17); __type(key, __u64); __type(value, __u32); } lru SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); } rb SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_QUEUE); __uint(max_entries, 6); __type(value, __u32); } q SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_LPM_TRIE); __uint(max_entries, 11); __type(key, struct lpm_key); __type(value, __u32); __uint(map_flags, BPF_F_NO_PREALLOC); } trie SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY); __uint(key_size, 4); __uint(value_size, 4); } perf SEC(".maps");
struct inner { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 2); __type(key, __u32); __type(value, __u64); } in0 SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH_OF_MAPS); __uint(max_entries, 7); __type(key, __u32); __array(values, struct inner); } hom SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS); __uint(max_entries, 3); __type(key, __u32); __array(values, struct inner); } aom SEC(".maps") = { .values = { [2] = &in0 } };
SEC("xdp") int leaf(struct xdp_md *ctx) { return XDP_DROP; }
struct { __uint(type, BPF_MAP_TYPE_PROG_ARRAY); __uint(max_entries, 13); __type(key, __u32); __array(values, int (void *)); } jumps SEC(".maps") = { .values = { [1] = (void *)&leaf } };
struct bpf_map_def_legacy { unsigned int type, key_size, value_size, max_entries, map_flags; };
struct bpf_map_def_legacy legacy SEC("maps") = { BPF_MAP_TYPE_HASH, 4, 8, 16, 0 };
struct bpf_map_def_legacy legacy_q SEC("maps") = { BPF_MAP_TYPE_QUEUE, 0, 4, 12, 0 };
struct bpf_map_def_legacy legacy_pa SEC("maps") = { BPF_MAP_TYPE_PROG_ARRAY, 4, 4, 10, 0 };
const volatile __u32 limit = 5;
const char greeting[] = "hi";
__u64 total = 1;
__u32 misses;
static __attribute__((noinline)) __u32 parent_tgid(void) {
  struct task_struct *t = (void *)bpf_get_current_task();
  return BPF_CORE_READ(t, real_parent, tgid) + bpf_core_field_exists(t->comm) + bpf_core_type_size(struct task_struct);
}
static __attribute__((noinline)) __u64 bump(__u32 k) {
  struct val *v = bpf_map_lookup_elem(&h, &k);
  if (!v) { misses++; return 0; }
  for (int i = 0; i < 4; i++) v->n += i * limit;
  return v->n;
}
static long cb(__u64 i, void *ctx) { total += i; return 0; }
SEC("tp/sched/sched_process_exec") int tp(void *ctx) {
  __u32 k = parent_tgid();
  __u64 r = bump(k);
  __u64 lk = r; __u32 one = 1;
  bpf_map_update_elem(&lru, &lk, &one, BPF_ANY);
  __u32 *lv = bpf_map_lookup_elem(&legacy, &k);
  if (lv) *lv += 1;
  bpf_map_push_elem(&q, &k, 0);
  bpf_map_push_elem(&legacy_q, &k, 0);
  bpf_tail_call(ctx, &legacy_pa, k);
  struct lpm_key key = { 32, k };
  bpf_map_lookup_elem(&trie, &key);
  __u32 z = 0;
  __u64 *p = bpf_map_lookup_elem(&pa, &z);
  if (p) *p += r;
  bpf_loop(3, cb, 0, 0);
  bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, &r, sizeof(r));
  __u64 *e = bpf_ringbuf_reserve(&rb, 8, 0);
  if (e) { *e = r; bpf_ringbuf_submit(e, 0); }
  void *inner = bpf_map_lookup_elem(&aom, &z);
  if (inner) bpf_map_lookup_elem(inner, &z);
  bpf_printk("%s %u", greeting, k);
  return 0;
}
SEC("xdp") int entry(struct xdp_md *ctx) {
  if (bump(1) > limit) bpf_tail_call(ctx, &jumps, 1);
  return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
`;

/** Values for generic fields: boundaries of offsets, counts and ids. */
const INTERESTING = [0, 1, 2, 7, 8, 0x10, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0xffffffff];
/**
 * Values for map attribute fields (BTF array element counts, legacy `bpf_map_def` words): map type
 * ids known and unknown, sizes around page and power-of-two boundaries, and oversize max_entries.
 */
const MAP_VALUES = [
  0,
  1,
  3,
  4,
  5,
  6,
  12,
  13,
  22,
  23,
  27,
  31,
  33,
  100,
  4095,
  4096,
  8192,
  65536,
  1 << 20,
  1 << 24,
  1 << 28,
  1 << 30,
  0x7fffffff,
  0x80000000,
  0xffffffff,
];

/** Bytes of CO-RE access strings and their neighbours. */
const ACCESS_CHARS = [0, 0x30, 0x31, 0x32, 0x33, 0x37, 0x39, 0x3a, 0x2d, 0x61];

interface Region {
  start: number;
  length: number;
  /** Field size to overwrite: structured regions are mutated a field at a time. */
  stride: 1 | 2 | 4;
  values: readonly number[];
  /** How often the region is picked relative to the others. */
  weight: number;
}

const BTF_KIND_ARRAY = 3;

interface BtfLayout {
  /** File offsets of every BTF_KIND_ARRAY element count (how `__uint(name, N)` is encoded). */
  arrayCounts: number[];
  /** File offset of the string section. */
  stringStart: number;
  types: number;
  stringBytes: number;
}

function btfLayout(bytes: Uint8Array, btfOffset: number): BtfLayout {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const hdrLen = view.getUint32(btfOffset + 4, true);
  const typeStart = btfOffset + hdrLen + view.getUint32(btfOffset + 8, true);
  const typeEnd = typeStart + view.getUint32(btfOffset + 12, true);
  const layout: BtfLayout = {
    arrayCounts: [],
    stringStart: btfOffset + hdrLen + view.getUint32(btfOffset + 16, true),
    types: 0,
    stringBytes: view.getUint32(btfOffset + 20, true),
  };
  // Bytes after btf_type per kind (linux/btf.h).
  const extra = (kind: number, vlen: number): number =>
    ({
      1: 4,
      3: 12,
      4: vlen * 12,
      5: vlen * 12,
      6: vlen * 8,
      13: vlen * 8,
      14: 4,
      15: vlen * 12,
      17: 4,
      19: vlen * 12,
    })[kind] ?? 0;
  let at = typeStart;
  while (at < typeEnd) {
    const info = view.getUint32(at + 4, true);
    const kind = (info >>> 24) & 0x1f;
    at += 12;
    if (kind === BTF_KIND_ARRAY) layout.arrayCounts.push(at + 8);
    at += extra(kind, info & 0xffff);
    layout.types++;
  }
  return layout;
}

/** INTERESTING plus values that pass range checks: type ids, string offsets, instruction offsets. */
function inRange(types: number, stringBytes: number, codeBytes: number): number[] {
  const values = [...INTERESTING];
  for (let id = 0; id <= types + 1; id++) values.push(id);
  for (let k = 0; k < 32; k++)
    values.push(Math.floor((k / 32) * stringBytes), Math.floor((k / 32) * codeBytes) & ~7);
  return values;
}

/** Regions worth corrupting, from the valid object's own layout. */
function regionsOf(bytes: Uint8Array): Region[] {
  const elf = readElf(bytes);
  const shoff = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(40, true));
  const regions: Region[] = [
    { start: 0, length: 64, stride: 2, values: INTERESTING, weight: 1 },
    { start: shoff, length: 64 * elf.sections.length, stride: 4, values: INTERESTING, weight: 2 },
  ];
  const codeBytes = Math.max(...elf.sections.filter(isCodeSection).map((s) => s.size), 0);
  const btfSection = elf.sections.find((s) => s.name === '.BTF');
  const layout = btfSection === undefined ? undefined : btfLayout(bytes, btfSection.offset);
  const ids = inRange(layout?.types ?? 0, layout?.stringBytes ?? 0, codeBytes);
  for (const s of elf.sections) {
    const whole = (stride: Region['stride'], values: readonly number[], weight: number) =>
      regions.push({ start: s.offset, length: s.size, stride, values, weight });
    if (s.type === SHT_SYMTAB) whole(2, INTERESTING, 1);
    if (s.type === SHT_REL) whole(4, INTERESTING, 1);
    if (isCodeSection(s) && s.size > 0) whole(1, INTERESTING, 1);
    if (s.name === '.maps' || s.name === '.rel.maps') whole(1, INTERESTING, 1);
    if (s.name === 'maps') whole(4, MAP_VALUES, 2);
    if (s.name === '.BTF') {
      regions.push({ start: s.offset, length: 24, stride: 4, values: INTERESTING, weight: 1 });
      // Type ids, name offsets, info words, sizes, member offsets: every word of the type section.
      whole(4, ids, 4);
      whole(1, INTERESTING, 1);
      // CO-RE access strings ("0:1:2") and names: digits, separators, terminators.
      if (layout !== undefined) {
        regions.push({
          start: layout.stringStart,
          length: layout.stringBytes,
          stride: 1,
          values: ACCESS_CHARS,
          weight: 1,
        });
      }
      for (const at of layout?.arrayCounts ?? []) {
        regions.push({ start: at, length: 4, stride: 4, values: MAP_VALUES, weight: 0.4 });
      }
    }
    if (s.name === '.BTF.ext') {
      regions.push({ start: s.offset, length: 32, stride: 4, values: INTERESTING, weight: 1 });
      // func_info, line_info and CO-RE records: instruction offsets, type ids, string offsets, kinds.
      whole(4, ids, 3);
    }
  }
  return regions.filter((r) => r.length > 0);
}

function mutate(original: Uint8Array, regions: readonly Region[], random: () => number): Uint8Array {
  let bytes = original.slice();
  const pick = (n: number) => Math.floor(random() * n);
  const totalWeight = regions.reduce((w, r) => w + r.weight, 0);
  const count = 1 + pick(3);
  for (let k = 0; k < count; k++) {
    const choice = random();
    if (choice < 0.04) {
      bytes = bytes.slice(0, pick(bytes.length));
      continue;
    }
    if (bytes.length === 0) break;
    if (choice < 0.12) {
      bytes[pick(bytes.length)] = pick(256);
      continue;
    }
    let w = random() * totalWeight;
    let region = regions[0];
    for (const r of regions) {
      region = r;
      w -= r.weight;
      if (w < 0) break;
    }
    const field = region.start + pick(Math.max(1, Math.floor(region.length / region.stride))) * region.stride;
    if (field + region.stride > bytes.length) continue;
    const value = random() < 0.7 ? region.values[pick(region.values.length)] : pick(0x100000000);
    const view = new DataView(bytes.buffer);
    if (region.stride === 1) bytes[field] = random() < 0.5 ? value & 0xff : bytes[field] ^ (1 << pick(8));
    else if (region.stride === 2) view.setUint16(field, value & 0xffff, true);
    else if (random() < 0.2)
      view.setUint32(field, (view.getUint32(field, true) + 1 - 2 * pick(2)) >>> 0, true);
    else view.setUint32(field, value >>> 0, true);
  }
  return bytes;
}

/** Loads `bytes` the way the CLI does; the outcome is 'ok' or the BpfError code (with its message). */
export function outcomeOf(bytes: Uint8Array): { outcome: string; message?: string } {
  try {
    const loaded = loadBpfObject(bytes, { maxMemory: MAX_MEMORY });
    return { outcome: loaded.programs.size > 0 ? 'ok' : 'ok (no programs)' };
  } catch (e) {
    if (!(e instanceof BpfError)) throw e;
    return { outcome: e.code, message: e.message };
  }
}

export interface VariantsReport {
  /** Variants per outcome ('ok' or a BpfError code). */
  readonly outcomes: Record<string, number>;
  /** One message per BpfError code. */
  readonly examples: Record<string, string>;
  readonly slowestMs: number;
}

/**
 * Loads `count` seeded variants of `original`, calling `progress(i)` before variant i. Throws, naming
 * the variant, on a foreign exception or a load slower than VARIANT_LIMIT_MS.
 */
export function runVariants(
  name: string,
  original: Uint8Array,
  seed: number,
  count: number,
  progress: (i: number) => void = () => {},
): VariantsReport {
  const regions = regionsOf(original);
  const random = prng(seed);
  const outcomes: Record<string, number> = {};
  const examples: Record<string, string> = {};
  let slowestMs = 0;
  for (let i = 0; i < count; i++) {
    const bytes = mutate(original, regions, random);
    progress(i);
    const started = performance.now();
    let result: ReturnType<typeof outcomeOf>;
    try {
      result = outcomeOf(bytes);
    } catch (e) {
      throw new Error(`variant ${i} of ${name} threw a foreign exception: ${String(e)}`, { cause: e });
    }
    const ms = performance.now() - started;
    if (ms > VARIANT_LIMIT_MS) throw new Error(`variant ${i} of ${name} took ${ms.toFixed(0)} ms to load`);
    slowestMs = Math.max(slowestMs, ms);
    outcomes[result.outcome] = (outcomes[result.outcome] ?? 0) + 1;
    if (result.message !== undefined) examples[result.outcome] ??= result.message;
  }
  return { outcomes, examples, slowestMs };
}
