/**
 * `LoadedObject.typedMap`: a clang-19 program updates a HASH map of structs, a PERCPU_ARRAY and an
 * ARRAY of u64; the host reads them as JS values by their BTF types, writes typed values the next run
 * sees (asserted through r0 and printk), and falls back to bytes for maps without BTF types.
 */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { loadBpfObject } from '../../src/runtime/loader.js';
import { EEXIST, EINVAL, ENOENT } from '../../src/runtime/maps/constants.js';
import { clangAvailable, compileBpf, warnIfMissing } from '../elf/compile.js';

warnIfMissing('test/runtime/typed-map');

const SOURCE = `
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

enum state { IDLE, RUNNING, DONE = 7 };
struct key { __u32 pid; char comm[16]; };
struct stats { __u64 calls; __s32 last; enum state st; __u8 flags : 3; };
struct percpu { __u64 packets; __u32 cpu; };

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 64);
  __type(key, struct key);
  __type(value, struct stats);
} stats SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 2);
  __type(key, __u32);
  __type(value, struct percpu);
} per_cpu SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u64);
} totals SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4096);
} events SEC(".maps");

struct lpm_key { __u32 prefixlen; __u8 addr[4]; };
struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, 8);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct lpm_key);
  __type(value, __u32);
} routes SEC(".maps");

struct bpf_map_def_legacy { unsigned int type, key_size, value_size, max_entries, map_flags; };
struct bpf_map_def_legacy legacy SEC("maps") = { BPF_MAP_TYPE_HASH, 4, 8, 8, 0 };

SEC("kprobe/do_unlinkat")
int BPF_KPROBE(count, int dfd) {
  struct key k = {};
  k.pid = bpf_get_current_pid_tgid() >> 32;
  bpf_get_current_comm(k.comm, sizeof(k.comm));
  struct stats *s = bpf_map_lookup_elem(&stats, &k);
  if (s) {
    s->calls++;
    s->last = dfd;
    s->st = s->calls > 2 ? DONE : RUNNING;
    s->flags = s->flags + 1;
    bpf_printk("calls=%llu st=%d flags=%d", s->calls, s->st, s->flags);
  } else {
    struct stats first = { .calls = 1, .last = dfd, .st = IDLE, .flags = 5 };
    bpf_map_update_elem(&stats, &k, &first, BPF_NOEXIST);
  }
  __u32 zero = 0;
  struct percpu *p = bpf_map_lookup_elem(&per_cpu, &zero);
  if (p) {
    p->packets++;
    p->cpu = bpf_get_smp_processor_id();
    bpf_printk("packets=%llu", p->packets);
  }
  __u32 seven = 7;
  __u64 *l = bpf_map_lookup_elem(&legacy, &seven);
  if (l) bpf_printk("legacy=%llu", *l);
  __u64 *t = bpf_map_lookup_elem(&totals, &zero);
  if (!t) return -1;
  *t += dfd;
  return *t;
}

char LICENSE[] SEC("license") = "GPL";
`;

interface Key {
  pid: number;
  comm: string;
}
interface Stats {
  calls: bigint;
  last: number;
  st: string;
  flags: number;
}

describe.skipIf(!clangAvailable)('typedMap on a clang-19 object', () => {
  const bytes = clangAvailable ? compileBpf(SOURCE, ['-D__TARGET_ARCH_x86']) : new Uint8Array();
  const bash = { task: { pid: 100, comm: 'bash' } };

  it('reads what the program wrote as JS values', () => {
    const obj = loadBpfObject(bytes);
    obj.run('count', { ...bash, args: [-100] });
    obj.run('count', { task: { pid: 200, comm: 'ls' }, args: [3] });
    obj.run('count', { ...bash, args: [4] });
    const stats = obj.typedMap<Key, Stats>('stats');
    expect(stats.entries()).toEqual([
      { key: { pid: 100, comm: 'bash' }, value: { calls: 2n, last: 4, st: 'RUNNING', flags: 6 } },
      { key: { pid: 200, comm: 'ls' }, value: { calls: 1n, last: 3, st: 'IDLE', flags: 5 } },
    ]);
    expect(stats.keys()).toEqual([
      { pid: 100, comm: 'bash' },
      { pid: 200, comm: 'ls' },
    ]);
    expect(stats.get({ pid: 200, comm: 'ls' })).toEqual({ calls: 1n, last: 3, st: 'IDLE', flags: 5 });
    expect(stats.get({ pid: 200, comm: 'bash' })).toBeUndefined();
    const [first] = stats.keys(); // a decoded key (typed Key) is a valid key again
    expect(stats.get(first)).toMatchObject({ calls: 2n });
    expect(obj.typedMap('totals').get(0)).toBe(-93n + 2n ** 64n); // -100 + 3 + 4 wraps in a __u64
  });

  it('writes typed values the program then sees', () => {
    const obj = loadBpfObject(bytes);
    const stats = obj.typedMap<Key, Stats>('stats');
    expect(stats.set({ pid: 100, comm: 'bash' }, { calls: 10, st: 'DONE', flags: 6 })).toBe(0);
    expect(obj.typedMap('totals').set(0, 1000n)).toBe(0);
    const run = obj.run('count', { ...bash, args: [5] });
    expect(run.r0).toBe(1005n);
    expect(run.printk[0]).toBe('calls=11 st=7 flags=7');
    expect(stats.get({ pid: 100, comm: 'bash' })).toEqual({ calls: 11n, last: 5, st: 'DONE', flags: 7 });
  });

  it('deletes, and keeps the syscall status codes', () => {
    const obj = loadBpfObject(bytes);
    const stats = obj.typedMap<Key, Stats>('stats');
    const key = { pid: 1, comm: 'x' };
    expect(stats.set(key, { calls: 1n })).toBe(0);
    expect(stats.set(key, { calls: 2n }, 1 /* BPF_NOEXIST */)).toBe(-EEXIST);
    expect(stats.delete(key)).toBe(0);
    expect(stats.delete(key)).toBe(-ENOENT);
    expect(stats.entries()).toEqual([]);
    expect(obj.typedMap('totals').delete(0)).toBe(-EINVAL);
  });

  it('gives one value per CPU for per-CPU maps and writes them per CPU', () => {
    const obj = loadBpfObject(bytes, { cpus: 2 });
    obj.run('count', { ...bash, args: [1] });
    obj.runtime.cpu = 1;
    obj.run('count', { ...bash, args: [1] });
    const perCpu = obj.typedMap('per_cpu');
    expect(perCpu.get(0)).toEqual([
      { packets: 1n, cpu: 0 },
      { packets: 1n, cpu: 1 },
    ]);
    expect(perCpu.entries()[1]).toEqual({
      key: 1,
      value: [
        { packets: 0n, cpu: 0 },
        { packets: 0n, cpu: 0 },
      ],
    });
    expect(perCpu.setPerCpu(0, [{ packets: 10 }, { packets: 20 }])).toBe(0);
    expect(obj.run('count', { ...bash, args: [1] }).printk).toContain('packets=21');
    expect(perCpu.set(0, { packets: 5n })).toBe(0); // every CPU's copy
    expect(perCpu.get(0)).toEqual([
      { packets: 5n, cpu: 0 },
      { packets: 5n, cpu: 0 },
    ]);
    expect(() => perCpu.setPerCpu(0, [{ packets: 1 }])).toThrow(/expected 2 per-CPU values, got 1/);
    expect(() => obj.typedMap('totals').setPerCpu(0, [1n])).toThrow(/not per-CPU/);
  });

  it('falls back to bytes, or integers for 4/8-byte keys and values, without BTF types', () => {
    const obj = loadBpfObject(bytes);
    const legacy = obj.typedMap('legacy');
    expect(legacy.typed).toEqual({ key: false, value: false });
    expect(legacy.set(7, 42n)).toBe(0);
    expect(obj.run('count', { ...bash, args: [1] }).printk).toContain('legacy=42');
    expect(legacy.entries()).toEqual([
      { key: Uint8Array.of(7, 0, 0, 0), value: Uint8Array.of(42, 0, 0, 0, 0, 0, 0, 0) },
    ]);
    expect(legacy.set(Uint8Array.of(8, 0, 0, 0), new Uint8Array(8))).toBe(0);
    expect(legacy.keys()).toHaveLength(2);
    expect(() => legacy.set({ pid: 1 }, 1)).toThrow(
      /map "legacy" has no BTF type for its key: key must be a Uint8Array of 4 bytes or an integer that fits 32 bits/,
    );
    expect(() => legacy.set(2 ** 32, 1)).toThrow(UsageError);
    expect(() => legacy.set(1, Uint8Array.of(1))).toThrow('map "legacy": value has 1 bytes, expected 8');
  });

  it('takes raw bytes for typed maps too, and names the map and path in errors', () => {
    const obj = loadBpfObject(bytes);
    const stats = obj.typedMap<Key, Stats>('stats');
    const key = new Uint8Array(20);
    key[0] = 9;
    expect(stats.set(key, { calls: 3n })).toBe(0);
    expect(stats.keys()).toEqual([{ pid: 9, comm: '' }]);
    expect(() => stats.set({ pid: 1, comm: 'x' }, { calls: -1n })).toThrow(
      'map "stats" value.calls: -1 does not fit __u64 (0..18446744073709551615)',
    );
    expect(() => stats.get({ pid: 1, name: 'x' } as never)).toThrow(
      /map "stats" key.name: struct key has no member "name"/,
    );
  });

  it('matches the longest prefix of an LPM trie with typed keys', () => {
    const routes = loadBpfObject(bytes).typedMap('routes');
    expect(routes.set({ prefixlen: 8, addr: [10] }, 1)).toBe(0);
    expect(routes.set({ prefixlen: 24, addr: [10, 0, 0] }, 2)).toBe(0);
    expect(routes.get({ prefixlen: 32, addr: [10, 0, 0, 5] })).toBe(2);
    expect(routes.get({ prefixlen: 32, addr: [10, 1, 0, 5] })).toBe(1);
    expect(routes.keys()).toEqual(
      expect.arrayContaining([
        { prefixlen: 8, addr: [10, 0, 0, 0] },
        { prefixlen: 24, addr: [10, 0, 0, 0] },
      ]),
    );
  });

  it('names the maps when one is unknown, and refuses maps that hold no data', () => {
    const obj = loadBpfObject(bytes);
    let error: unknown;
    try {
      obj.typedMap('nope');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect(error).toMatchObject({
      message: 'the object has no map named nope',
      hint: expect.stringMatching(/^maps: .*stats.*legacy/),
    });
    expect(() => obj.typedMap('events')).toThrow(
      'map "events" is a ringbuf map; typed access covers hash, array and LPM trie maps',
    );
  });
});
