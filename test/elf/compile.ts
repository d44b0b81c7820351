/** Compiles C sources with clang-19 for the ELF tests; `clangAvailable` is false (with a notice) without it. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CLANG = 'clang-19';
export const clangAvailable = spawnSync(CLANG, ['--version']).status === 0;

export function warnIfMissing(suite: string): void {
  if (!clangAvailable) {
    console.warn(
      `[${suite}] SKIPPED: ${CLANG} not found; install clang-19 and libbpf-dev to test the ELF loader on real objects (CI does).`,
    );
  }
}

/** Compiles `source` like a libbpf project does and returns the object file bytes. */
export function compileBpf(source: string, extraFlags: readonly string[] = []): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'bpfbox-elf-'));
  try {
    const c = join(dir, 'prog.c');
    const o = join(dir, 'prog.o');
    writeFileSync(c, source);
    const args = [
      '-target',
      'bpf',
      '-O2',
      '-g',
      '-I/usr/include/x86_64-linux-gnu',
      ...extraFlags,
      '-c',
      c,
      '-o',
      o,
    ];
    const r = spawnSync(CLANG, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${CLANG} failed:\n${r.stderr}`);
    return new Uint8Array(readFileSync(o));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A program with several programs per section, shared static subprograms, maps of both kinds and globals. */
export const MULTI_SOURCE = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16);
  __type(key, __u32);
  __type(value, __u64);
} counts SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 4);
  __type(key, __u32);
  __type(value, __u32);
} arr SEC(".maps");

struct bpf_map_def_legacy { unsigned int type, key_size, value_size, max_entries, map_flags; };
struct bpf_map_def_legacy legacy SEC("maps") = { BPF_MAP_TYPE_ARRAY, 4, 8, 2, 0 };

const volatile __u32 threshold = 5;
const volatile __u64 limit = 7;
__u64 total = 3;
__u64 hits;
__u32 misses;

static __attribute__((noinline)) __u64 bump(__u32 k) {
  __u64 *v = bpf_map_lookup_elem(&counts, &k);
  if (v) { *v += threshold; return *v; }
  hits++;
  return 0;
}

static long cb(__u64 i, void *ctx) { total += i; return 0; }

SEC("xdp") int xdp_prog(struct xdp_md *ctx) {
  if (bump(1) > limit) return XDP_DROP;
  bpf_loop(4, cb, 0, 0);
  bpf_printk("hello %d", misses);
  return XDP_PASS;
}

SEC("tracepoint/syscalls/sys_enter_execve") int tp_prog(void *ctx) {
  bump(2);
  __u32 k = 0;
  __u64 *v = bpf_map_lookup_elem(&legacy, &k);
  if (v) *v += 1;
  misses++;
  return 0;
}
SEC("tracepoint/syscalls/sys_enter_execve") int tp_prog2(void *ctx) { misses += 2; return bump(3); }

SEC("kprobe/do_sys_open") int kp(void *ctx) { __u32 k=0; bpf_map_lookup_elem(&arr, &k); return 0; }
SEC("kretprobe/do_sys_open") int krp(void *ctx) { return 1; }
SEC("tc") int tcp(struct __sk_buff *skb) { return skb->len > threshold; }
SEC("socket") int sock(struct __sk_buff *skb) { return 0; }

char LICENSE[] SEC("license") = "GPL";
`;

/** Every other SEC name, a static subprogram in a program section, a global subprogram, a string literal. */
export const TYPES_SOURCE = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
static __attribute__((noinline, section("xdp.frags"))) int twice(int x) { return x * 2; }
SEC("xdp.frags") int frags(struct xdp_md *ctx) { return twice(ctx->ingress_ifindex); }
__attribute__((noinline)) int global_sub(int x) { return x + 1; }
SEC("tcx/ingress") int tcx_in(struct __sk_buff *s) { return global_sub(s->len); }
SEC("classifier") int cls(struct __sk_buff *s) { return 0; }
SEC("action") int act(struct __sk_buff *s) { return 0; }
SEC("tp/sched/sched_process_exec") int tp_short(void *c) { return 0; }
SEC("raw_tp/sys_enter") int rawtp(void *c) { return 0; }
SEC("raw_tracepoint/sys_exit") int rawtp2(void *c) { return 0; }
SEC("uprobe/bin:func") int up(void *c) { return 0; }
SEC("uretprobe") int urp(void *c) { return 0; }
SEC("fentry/do_unlinkat") int fent(void *c) { return 0; }
SEC("fexit/do_unlinkat") int fex(void *c) { return 0; }
SEC("fmod_ret/security_x") int fmr(void *c) { return 0; }
SEC("tp_btf/sched_switch") int tpbtf(void *c) { return 0; }
SEC("perf_event") int pe(void *c) { return 0; }
SEC("syscall") int sc(void *c) { return 0; }
SEC("kprobe") int kp_str(void *c) { volatile int i = 3; const char *s = "hello, world"; return s[i] + global_sub(1); }
char LICENSE[] SEC("license") = "Dual BSD/GPL";
`;

/** A prog_array and a map of maps initialized in `.maps` (the `.rel.maps` relocations). */
export const TAILCALL_SOURCE = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp") int t1(struct xdp_md *c) { return 1; }
SEC("xdp") int t2(struct xdp_md *c) { return 2; }
struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(max_entries, 4);
  __uint(key_size, 4);
  __array(values, int (void *));
} jmp SEC(".maps") = { .values = { [1] = (void *)&t1, [3] = (void *)&t2 } };
struct inner { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, __u32); } in0 SEC(".maps");
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
  __uint(max_entries, 2);
  __type(key, __u32);
  __array(values, struct inner);
} outer SEC(".maps") = { .values = { [1] = &in0 } };
SEC("xdp") int dispatch(struct xdp_md *c) { bpf_tail_call(c, &jmp, 1); return 0; }
char LICENSE[] SEC("license") = "GPL";
`;
