/**
 * The object loader end to end on clang-19 objects: maps and globals in guest memory, `const volatile`
 * parameters set before load, tail calls through a PROG_ARRAY filled from `.maps`, ring buffer and
 * printk output per run, maps that persist across runs, CO-RE failures and traps located by line info.
 */
import { describe, expect, it } from 'vitest';
import { BpfError, CoreRelocationFailed, LoadError, MemoryFault, UsageError } from '../../src/errors.js';
import { JitProgram } from '../../src/jit/engine.js';
import { makeTask } from '../../src/runtime/contexts/task.js';
import { type LoadedObject, loadBpfObject, type ObjectEngine } from '../../src/runtime/loader.js';
import { ArrayMap } from '../../src/runtime/maps/array.js';
import { HashMap } from '../../src/runtime/maps/hash.js';
import { clangAvailable, compileBpf, warnIfMissing } from '../elf/compile.js';

warnIfMissing('test/runtime/loader');

const SOURCE = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 port = 53;
__u64 seen = 0;

struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 8); __type(key, __u32); __type(value, __u64); } counts SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); } events SEC(".maps");

SEC("xdp") int leaf(struct xdp_md *ctx) { return XDP_DROP; }

struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __array(values, int (void *));
} jumps SEC(".maps") = { .values = { [2] = (void *)&leaf } };

SEC("xdp") int entry(struct xdp_md *ctx) {
  __u32 k = port;
  __u64 one = 1, *v = bpf_map_lookup_elem(&counts, &k);
  if (v) __sync_fetch_and_add(v, 1); else bpf_map_update_elem(&counts, &k, &one, BPF_ANY);
  seen++;
  __u32 *r = bpf_ringbuf_reserve(&events, 4, 0);
  if (r) { *r = (__u32)seen; bpf_ringbuf_submit(r, 0); }
  bpf_printk("seen %llu port %u", seen, port);
  if (seen == 3) bpf_tail_call(ctx, &jumps, 2);
  return XDP_PASS;
}

SEC("kprobe/do_sys_open") int faulty(void *ctx) {
  volatile int *p = (int *)(long)12345;
  return *p;
}

char LICENSE[] SEC("license") = "GPL";
`;

function hintOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof UsageError ? e.hint : `not a UsageError: ${e}`;
  }
  return 'no error';
}

const PACKET = { packet: '00'.repeat(64) };
const ENGINES: readonly ObjectEngine[] = ['interp', 'jit'];

/** A run or a trap as plain data, to compare engines. */
function outcome(obj: LoadedObject, name: string, input: unknown): unknown {
  try {
    const { r0, instructions, gasUsed, printk, ringbuf, perf, result, redirect } = obj.run(name, input);
    return { r0, instructions, gasUsed, printk, ringbuf, perf, result, redirect, maps: obj.maps.dump() };
  } catch (e) {
    if (!(e instanceof BpfError)) throw e;
    return { error: e.toJSON(), maps: obj.maps.dump() };
  }
}

describe.skipIf(!clangAvailable)('loadBpfObject on a clang-19 object', () => {
  const bytes = clangAvailable ? compileBpf(SOURCE) : new Uint8Array();

  it('runs events against persistent maps, globals, ringbuf, printk and a tail call', () => {
    const obj = loadBpfObject(bytes, { globals: { port: 8080 } });
    expect([...obj.programs.keys()].sort()).toEqual(['entry', 'faulty', 'leaf']);
    const runs = [1, 2, 3, 4].map(() => obj.run('entry', PACKET));
    expect(runs.map((r) => r.r0)).toEqual([2n, 2n, 1n, 2n]); // XDP_PASS, except the tail call to leaf
    expect(runs[0].printk).toEqual(['seen 1 port 8080']);
    expect(runs[3].printk).toEqual(['seen 4 port 8080']);
    expect(runs.map((r) => [...r.ringbuf[0]])).toEqual([
      [1, 0, 0, 0],
      [2, 0, 0, 0],
      [3, 0, 0, 0],
      [4, 0, 0, 0],
    ]);
    expect(runs[2].result).toMatchObject({ kind: 'xdp', action: 'DROP' });
    const counts = obj.maps.get('counts', HashMap);
    expect(counts.entries().map((e) => [[...e.key], e.value])).toEqual([
      [[0x90, 0x1f, 0, 0], new Uint8Array([4, 0, 0, 0, 0, 0, 0, 0])],
    ]);
    const bss = obj.maps.maps.find((m) => m.name.endsWith('.bss'));
    expect(bss).toBeInstanceOf(ArrayMap);
  });

  it('a new input object gets a fresh context; the same one is reset', () => {
    const obj = loadBpfObject(bytes);
    const a = obj.run('entry', { packet: '11'.repeat(20) });
    const b = obj.run('entry', { packet: '22'.repeat(30) });
    expect((a.result as { packet: Uint8Array }).packet.length).toBe(20);
    expect((b.result as { packet: Uint8Array }).packet.length).toBe(30);
    expect(b.printk).toEqual(['seen 2 port 53']);
  });

  it('a trap names the source line', () => {
    const obj = loadBpfObject(bytes);
    let error: unknown;
    try {
      obj.run('faulty', {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MemoryFault);
    const fault = error as MemoryFault;
    expect(fault.file).toMatch(/prog\.c$/);
    expect(fault.line).toBe(SOURCE.split('\n').findIndex((l) => l.includes('return *p;')) + 1);
    expect(fault.message).toContain('return *p;');
  });

  it('unknown programs and globals are usage errors that list what exists', () => {
    const obj = loadBpfObject(bytes);
    expect(() => obj.run('nope')).toThrow(UsageError);
    expect(hintOf(() => obj.run('nope'))).toBe('programs: leaf, entry, faulty');
    expect(hintOf(() => loadBpfObject(bytes, { globals: { nope: 1 } }))).toMatch(/port/);
  });

  it('the JIT gives the same runs, tail call and trap as the interpreter', () => {
    const events = (engine: ObjectEngine) => {
      const obj = loadBpfObject(bytes, { globals: { port: 8080 }, engine });
      for (const p of obj.programs.values()) {
        expect(p.vm instanceof JitProgram).toBe(engine === 'jit');
        expect(p.compileNs).toBeGreaterThan(0);
      }
      const runs = [1, 2, 3, 4, 5].map(() => outcome(obj, 'entry', PACKET));
      return [...runs, outcome(obj, 'leaf', PACKET), outcome(obj, 'faulty', {})];
    };
    const interp = events('interp');
    expect(interp.map((o) => (o as { r0?: bigint }).r0)).toEqual([2n, 2n, 1n, 2n, 2n, 1n, undefined]);
    expect(interp[6]).toMatchObject({ error: { code: 'MEMORY_FAULT' } });
    expect(events('jit')).toEqual(interp);
  });
});

describe.skipIf(!clangAvailable)('helpers bpfbox does not implement', () => {
  it('are a load error naming the helper and the line', () => {
    const source = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("tc") int vlan(struct __sk_buff *skb) {
  return bpf_skb_vlan_push(skb, 0x8100, 7);
}
char LICENSE[] SEC("license") = "GPL";
`;
    let error: unknown;
    try {
      loadBpfObject(compileBpf(source));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LoadError);
    expect(error).toMatchObject({ code: 'UNKNOWN_HELPER', line: 5, section: 'tc' });
    expect((error as LoadError).message).toMatch(
      /^program vlan calls bpf_skb_vlan_push \(helper 18\) at pc \d+ \(.*prog\.c:5: return bpf_skb_vlan_push\(skb, 0x8100, 7\);\), which bpfbox does not implement$/,
    );
  });
});

const TAIL_TRAP = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp") int target(struct xdp_md *ctx) {
  return *(volatile int *)(long)16;
}
struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __array(values, int (void *));
} jumps SEC(".maps") = { .values = { [0] = (void *)&target } };
SEC("xdp") int entry(struct xdp_md *ctx) {
  bpf_tail_call(ctx, &jumps, 0);
  return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
`;

describe.skipIf(!clangAvailable)('traps after a tail call', () => {
  it.each(ENGINES)('name the line of the program that was running (%s)', (engine) => {
    const obj = loadBpfObject(compileBpf(TAIL_TRAP), { engine });
    let error: unknown;
    try {
      obj.run('entry', PACKET);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MemoryFault);
    expect((error as MemoryFault).line).toBe(5);
    expect((error as MemoryFault).message).toMatch(
      /in tail-called program target \(.*prog\.c:5: return \*\(volatile int \*\)\(long\)16;\)/,
    );
  });
});

describe.skipIf(!clangAvailable)('CO-RE through the loader', () => {
  it('resolves BPF_CORE_READ against the built-in vmlinux and traps on an unsatisfiable field', () => {
    const bytes = compileBpf(`
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
struct task_struct { int pid; int tgid; struct task_struct *real_parent; int not_in_kernel; }
  __attribute__((preserve_access_index));
SEC("kprobe/x") int parent(void *ctx) {
  struct task_struct *t = (void *)bpf_get_current_task();
  return BPF_CORE_READ(t, real_parent, tgid);
}
SEC("kprobe/y") int missing(void *ctx) {
  struct task_struct *t = (void *)bpf_get_current_task();
  return BPF_CORE_READ(t, not_in_kernel);
}
char LICENSE[] SEC("license") = "GPL";
`);
    const obj = loadBpfObject(bytes);
    const task = { task: { pid: 10, tgid: 10, parent: { pid: 7, tgid: 7 } } };
    expect(obj.run('parent', task).r0).toBe(7n);
    // LoadOptions.task is the task of inputs that name none.
    const parentless = loadBpfObject(bytes, { task: makeTask({ pid: 5, parent: { pid: 3 } }) });
    expect(parentless.run('parent', {}).r0).toBe(3n);
    expect(() => obj.run('missing', task)).toThrow(CoreRelocationFailed);
    expect(() => obj.run('missing', task)).toThrow(/not_in_kernel/);
  });
});
