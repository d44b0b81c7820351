/**
 * Robustness: seeded mutations of real `.BTF` / `.BTF.ext` sections (and a hand-built one, so the test
 * runs without a toolchain). Every variant must parse cleanly or fail with a BpfError, through every
 * query the loader uses (render, size, member lookup, value formatting, map decoding, line lookups) —
 * never another exception, never a hang.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { type Btf, parseBtf } from '../../src/elf/btf.js';
import { parseBtfExt } from '../../src/elf/btf-ext.js';
import { decodeBtfMaps } from '../../src/elf/btf-maps.js';
import { BpfError } from '../../src/errors.js';
import { MapType } from '../../src/runtime/maps/map-def.js';
import { prng as rng } from '../support/prng.js';
import { BtfBuilder, buildBtfExt } from './btf-builder.js';
import { cleanupCompiled, compileBpfMany, HAVE_BPF_TOOLCHAIN, warnIfMissing } from './btf-fixtures.js';

warnIfMissing('test/elf/btf-mutation');
afterAll(cleanupCompiled);

const SOURCE = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
struct task_struct { int pid; int tgid; struct task_struct *real_parent; char comm[16]; } __attribute__((preserve_access_index));
struct val { __u64 n; char comm[16]; unsigned f1 : 3, f2 : 7; union { int a; short b; }; enum { X, Y = -3 } e; double d; };
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 8); __type(key, __u32); __type(value, struct val); } h SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); } rb SEC(".maps");
struct inner { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 2); __type(key, __u32); __type(value, __u64); };
struct { __uint(type, BPF_MAP_TYPE_HASH_OF_MAPS); __uint(max_entries, 2); __type(key, __u32); __array(values, struct inner); } hom SEC(".maps");
static __attribute__((noinline)) int sub(int x) { return x * 3; }
SEC("tp/sched/sched_process_exec") int prog(void *ctx) {
  struct task_struct *t = (void *)bpf_get_current_task();
  __u32 k = BPF_CORE_READ(t, real_parent, tgid);
  struct val *v = bpf_map_lookup_elem(&h, &k);
  if (v) v->n += sub(k);
  return 0;
}
char LICENSE[] SEC("license") = "GPL";
`;

const INTERESTING = [
  0, 1, 2, 3, 4, 7, 8, 12, 16, 24, 0x7f, 0x80, 0xff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff,
];

function mutate(input: Uint8Array, random: () => number): Uint8Array {
  const pick = (n: number): number => Math.floor(random() * n);
  let bytes = input.slice();
  const rounds = 1 + pick(4);
  for (let r = 0; r < rounds; r++) {
    const at = pick(bytes.length);
    const view = new DataView(bytes.buffer);
    switch (pick(7)) {
      case 0: // flip a bit
        bytes[at] ^= 1 << pick(8);
        break;
      case 1: // random byte
        bytes[at] = pick(256);
        break;
      case 2: // an interesting u32 (lengths, ids, kinds, offsets) at an aligned word
        if (bytes.length >= 4)
          view.setUint32((at & ~3) % (bytes.length - 3), INTERESTING[pick(INTERESTING.length)], true);
        break;
      case 3: // a small number at an aligned word: plausible type ids and counts
        if (bytes.length >= 4) view.setUint32((at & ~3) % (bytes.length - 3), pick(80), true);
        break;
      case 4: // truncate
        bytes = bytes.slice(0, at);
        break;
      case 5: // duplicate a chunk in place (repeats records)
        {
          const len = 1 + pick(32);
          const chunk = bytes.slice(at, at + len);
          const out = new Uint8Array(bytes.length + chunk.length);
          out.set(bytes.subarray(0, at));
          out.set(chunk, at);
          out.set(bytes.subarray(at), at + chunk.length);
          bytes = out;
        }
        break;
      default: // zero a run
        bytes.fill(0, at, at + 1 + pick(16));
    }
    if (bytes.length === 0) break;
  }
  return bytes;
}

/** Runs `f`; a BpfError is a clean outcome, anything else fails the test. */
function clean(f: () => void): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof BpfError)) throw e;
  }
}

function exercise(btf: Btf): void {
  for (const t of btf.types) {
    clean(() => btf.render(t.id));
    clean(() => btf.renderDefinition(t.id));
    clean(() => btf.resolve(t.id));
    clean(() => {
      const size = btf.size(t.id);
      if (size <= 4096) btf.formatValue(t.id, new Uint8Array(size).fill(0x41));
    });
    if (t.kind === 'struct' || t.kind === 'union') {
      for (const m of t.members) clean(() => btf.member(t.id, `${m.name}.${m.name}`));
    }
    if (t.name !== '') clean(() => btf.find(t.name, t.kind));
  }
  clean(() => decodeBtfMaps(btf, { symbolOffset: (name) => name.length }));
}

function handBuilt(): { btf: Uint8Array; ext: Uint8Array } {
  const b = new BtfBuilder();
  const int = b.int('int', 4, true);
  const index = b.int('__ARRAY_SIZE_TYPE__', 4, false);
  const uint = (n: number): number => b.ptr(b.array(int, index, n));
  const pair = b.struct('pair', 8, [
    ['a', int, 0, 3],
    ['b', int, 3, 29],
    ['c', int, 32, 0],
  ]);
  const map = b.struct('', 32, [
    ['type', uint(MapType.hash), 0],
    ['max_entries', uint(4), 64],
    ['key', b.ptr(int), 128],
    ['value', b.ptr(pair), 192],
  ]);
  b.datasec('.maps', [[b.variable('m', map), 0, 32]]);
  const fn = b.func('main', b.funcProto(int, [['ctx', b.ptr(0)]]));
  const sec = b.str('xdp');
  const file = b.str('a.c');
  const access = b.str('0:1');
  const ext = buildBtfExt(
    { recordSize: 8, sections: [{ nameOff: sec, records: [[0, fn]] }] },
    {
      recordSize: 16,
      sections: [
        {
          nameOff: sec,
          records: [
            [0, file, file, 1 << 10],
            [8, file, file, 2 << 10],
          ],
        },
      ],
    },
    { recordSize: 16, sections: [{ nameOff: sec, records: [[8, pair, access, 0]] }] },
  );
  return { btf: b.build(), ext };
}

describe('seeded mutations of .BTF and .BTF.ext', () => {
  const seeds: { name: string; btf: Uint8Array; ext: Uint8Array }[] = [
    { name: 'hand-built', ...handBuilt() },
  ];
  if (HAVE_BPF_TOOLCHAIN) {
    const [plain] = compileBpfMany([['mutation', SOURCE]]);
    const [v4] = compileBpfMany([['mutation_v4', SOURCE]], ['-mcpu=v4']);
    seeds.push(
      { name: 'clang', btf: plain.btf, ext: plain.btfExt },
      { name: 'clang-v4', btf: v4.btf, ext: v4.btfExt },
    );
  }

  it('the unmutated inputs parse and exercise without errors', () => {
    for (const s of seeds) {
      const btf = parseBtf(s.btf);
      exercise(btf);
      expect(decodeBtfMaps(btf).length).toBeGreaterThan(0);
      expect(parseBtfExt(s.ext, btf).sections.size).toBeGreaterThan(0);
    }
  });

  it('10,000 variants end in a clean parse or a BpfError', () => {
    const random = rng(0xb7f);
    const started = performance.now();
    const outcomes = { btfOk: 0, btfError: 0, extOk: 0, extError: 0 };
    for (let i = 0; i < 10_000; i++) {
      const seed = seeds[i % seeds.length];
      if (i % 2 === 0) {
        const bytes = mutate(seed.btf, random);
        try {
          const btf = parseBtf(bytes);
          outcomes.btfOk++;
          exercise(btf);
          clean(() => parseBtfExt(seed.ext, btf));
        } catch (e) {
          if (!(e instanceof BpfError))
            throw new Error(`variant ${i} (${seed.name}): ${String(e)}`, { cause: e });
          outcomes.btfError++;
        }
      } else {
        const btf = parseBtf(seed.btf);
        const bytes = mutate(seed.ext, random);
        try {
          const ext = parseBtfExt(bytes, btf);
          outcomes.extOk++;
          for (const [name, s] of ext.sections) {
            for (const l of s.lineInfo) ext.lineAt(name, l.insn + 1);
            for (const r of s.coreRelos) clean(() => btf.access(r.typeId, r.access));
          }
        } catch (e) {
          if (!(e instanceof BpfError))
            throw new Error(`variant ${i} (${seed.name}): ${String(e)}`, { cause: e });
          outcomes.extError++;
        }
      }
    }
    // Both outcomes occur for both sections, so the mutations reach past the header checks.
    for (const [k, n] of Object.entries(outcomes)) expect(n, k).toBeGreaterThan(100);
    // No variant may make a query spin: the whole run stays far below the test timeout.
    expect(performance.now() - started).toBeLessThan(45_000);
  });
});
