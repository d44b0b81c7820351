/**
 * The verifier corpus: small C programs (clang-19 -O2 -g) with the verdict bpfbox must reach and, per
 * program, what the running kernel decides for the same object (checked by kernel.test.ts). `kernel`
 * says where the two are expected to differ and why.
 */

import { CORPUS_MAY_GOTO } from './corpus-may-goto.js';
import { CORPUS_MORE } from './corpus-more.js';

export interface CorpusCase {
  readonly name: string;
  /** C source after the common prelude (linux/bpf.h, bpf_helpers.h, bpf_endian.h, GPL license). */
  readonly source: string;
  /** 'ok' for accepted, else the expected error code. */
  readonly expect: 'ok' | string;
  /** The kernel's expected verdict when it differs from bpfbox's (with the reason). */
  readonly kernel?: { readonly verdict: 'accepted' | 'rejected' | 'skip'; readonly why: string };
  /** A smaller instruction budget where the verdict does not depend on it (keeps the suite fast). */
  readonly maxInsns?: number;
}

export const PRELUDE = `
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
char LICENSE[] SEC("license") = "GPL";
`;

const HASH = `
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 64); __type(key, __u32); __type(value, __u64); } counts SEC(".maps");
`;
const ARRAY = `
struct value { __u32 slots[16]; __u64 total; };
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 4); __type(key, __u32); __type(value, struct value); } table SEC(".maps");
`;
const RINGBUF = `
struct event { __u32 pid; __u32 len; char comm[16]; };
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); } events SEC(".maps");
`;

const CORPUS_FIRST: readonly CorpusCase[] = [
  // ---- NULL_DEREF: map lookups must be checked ----
  {
    name: 'map lookup checked before use',
    expect: 'ok',
    source: `${HASH}
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 key = ctx->ingress_ifindex;
  __u64 *v = bpf_map_lookup_elem(&counts, &key);
  if (!v) return XDP_PASS;
  __sync_fetch_and_add(v, 1);
  return XDP_PASS;
}`,
  },
  {
    name: 'map lookup used without a NULL check',
    expect: 'NULL_DEREF',
    source: `${HASH}
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 key = ctx->ingress_ifindex;
  __u64 *v = bpf_map_lookup_elem(&counts, &key);
  *v += 1;
  return XDP_PASS;
}`,
  },
  {
    name: 'NULL check on one path only',
    expect: 'NULL_DEREF',
    source: `${HASH}
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 key = ctx->rx_queue_index;
  __u64 *v = bpf_map_lookup_elem(&counts, &key);
  if (ctx->ingress_ifindex == 3 && !v) return XDP_DROP;
  return *v > 10 ? XDP_DROP : XDP_PASS;
}`,
  },
  // ---- PACKET_OOB: direct packet access needs a data_end check ----
  {
    name: 'ethernet header read after the data_end check',
    expect: 'ok',
    source: `
SEC("xdp") int prog(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > end) return XDP_DROP;
  return eth->h_proto == bpf_htons(ETH_P_IP) ? XDP_PASS : XDP_DROP;
}`,
  },
  {
    name: 'ethernet header read without a data_end check',
    expect: 'PACKET_OOB',
    source: `
SEC("xdp") int prog(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  struct ethhdr *eth = data;
  return eth->h_proto == bpf_htons(ETH_P_IP) ? XDP_PASS : XDP_DROP;
}`,
  },
  {
    name: 'IP header read with only the ethernet header checked',
    expect: 'PACKET_OOB',
    source: `
SEC("xdp") int prog(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > end) return XDP_DROP;
  struct iphdr *ip = (void *)(eth + 1);
  return ip->protocol == 6 ? XDP_DROP : XDP_PASS;
}`,
  },
  {
    name: 'IP header parsed with both checks (tc)',
    expect: 'ok',
    source: `
SEC("tc") int prog(struct __sk_buff *skb) {
  void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > end) return 0;
  if (eth->h_proto != bpf_htons(ETH_P_IP)) return 0;
  struct iphdr *ip = (void *)(eth + 1);
  if ((void *)(ip + 1) > end) return 0;
  if (ip->protocol == 17) skb->mark = 17;
  return 0;
}`,
  },
  // ---- UNINIT_READ ----
  {
    name: 'map key initialized on the stack',
    expect: 'ok',
    source: `${HASH}
SEC("kprobe/do_sys_open") int prog(void *ctx) {
  __u32 key = 1;
  __u64 init = 1, *v = bpf_map_lookup_elem(&counts, &key);
  if (v) *v += 1; else bpf_map_update_elem(&counts, &key, &init, BPF_ANY);
  return 0;
}`,
  },
  {
    name: 'map key never initialized',
    expect: 'UNINIT_READ',
    kernel: {
      verdict: 'accepted',
      why: 'root loaders (CAP_PERFMON) may read uninitialized stack; bpfbox follows the unprivileged rule',
    },
    source: `${HASH}
SEC("kprobe/do_sys_open") int prog(void *ctx) {
  __u32 key;
  __u64 *v = bpf_map_lookup_elem(&counts, &key);
  return v ? 1 : 0;
}`,
  },
  // ---- REF_LEAK: ring buffer reservations ----
  {
    name: 'ringbuf reserve, fill and submit',
    expect: 'ok',
    source: `${RINGBUF}
SEC("tracepoint/syscalls/sys_enter_execve") int prog(void *ctx) {
  struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) return 0;
  e->pid = bpf_get_current_pid_tgid() >> 32;
  e->len = 0;
  bpf_get_current_comm(e->comm, sizeof(e->comm));
  bpf_ringbuf_submit(e, 0);
  return 0;
}`,
  },
  {
    name: 'ringbuf reservation leaked on an early return',
    expect: 'REF_LEAK',
    source: `${RINGBUF}
SEC("tracepoint/syscalls/sys_enter_execve") int prog(void *ctx) {
  struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) return 0;
  e->pid = bpf_get_current_pid_tgid() >> 32;
  if (e->pid == 1) return 0;
  bpf_ringbuf_submit(e, 0);
  return 0;
}`,
  },
  {
    name: 'ringbuf reservation discarded on the early path',
    expect: 'ok',
    source: `${RINGBUF}
SEC("tracepoint/syscalls/sys_enter_execve") int prog(void *ctx) {
  struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) return 0;
  e->pid = bpf_get_current_pid_tgid() >> 32;
  if (e->pid == 1) { bpf_ringbuf_discard(e, 0); return 0; }
  bpf_ringbuf_submit(e, 0);
  return 0;
}`,
  },
  {
    name: 'ringbuf record written past the reservation',
    expect: 'MEM_OOB',
    source: `${RINGBUF}
SEC("tracepoint/syscalls/sys_enter_execve") int prog(void *ctx) {
  __u32 *e = bpf_ringbuf_reserve(&events, 8, 0);
  if (!e) return 0;
  e[2] = 1;
  bpf_ringbuf_submit(e, 0);
  return 0;
}`,
  },
  // ---- CTX_WRITE / CTX_ACCESS ----
  {
    name: 'tc writes skb->mark and priority',
    expect: 'ok',
    source: `
SEC("tc") int prog(struct __sk_buff *skb) {
  skb->mark = 0x42;
  skb->priority = skb->len > 100;
  return 0;
}`,
  },
  {
    name: 'tc writes the read-only skb->len',
    expect: 'CTX_WRITE',
    source: `
SEC("tc") int prog(struct __sk_buff *skb) {
  skb->len = 0;
  return 0;
}`,
  },
  {
    name: 'socket filter reads skb->data',
    expect: 'CTX_ACCESS',
    source: `
SEC("socket") int prog(struct __sk_buff *skb) {
  return *(volatile __u32 *)&skb->data != 0;
}`,
  },
  // ---- loops ----
  {
    name: 'bounded loop over an array in a map value',
    expect: 'ok',
    source: `${ARRAY}
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 key = 0;
  struct value *v = bpf_map_lookup_elem(&table, &key);
  if (!v) return XDP_PASS;
  __u64 sum = 0;
  for (int i = 0; i < 16; i++) sum += v->slots[i];
  v->total = sum;
  return XDP_PASS;
}`,
  },
  {
    name: 'loop of 1000 iterations with a branch in the body',
    expect: 'ok',
    source: `${ARRAY}
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 key = 0;
  struct value *v = bpf_map_lookup_elem(&table, &key);
  if (!v) return XDP_PASS;
  for (int i = 0; i < 1000; i++) {
    __u32 k = i & 15;
    if (v->slots[k] & 1) v->total += i; else v->total -= 1;
  }
  return XDP_PASS;
}`,
  },
  {
    name: 'index from a map value bounded by a check',
    expect: 'ok',
    source: `${ARRAY}
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 key = 0;
  struct value *v = bpf_map_lookup_elem(&table, &key);
  if (!v) return XDP_PASS;
  __u32 i = v->slots[0];
  if (i >= 16) return XDP_PASS;
  v->slots[i] += 1;
  return XDP_PASS;
}`,
  },
  {
    name: 'index from a map value without a bound',
    expect: 'MAP_VALUE_OOB',
    source: `${ARRAY}
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 key = 0;
  struct value *v = bpf_map_lookup_elem(&table, &key);
  if (!v) return XDP_PASS;
  __u32 i = v->slots[0];
  v->slots[i] += 1;
  return XDP_PASS;
}`,
  },
  {
    name: 'loop whose exit depends on a random number',
    expect: 'UNBOUNDED_LOOP',
    source: `
SEC("xdp") int prog(struct xdp_md *ctx) {
  for (;;) {
    if (bpf_get_prandom_u32() == 7) break;
  }
  return XDP_PASS;
}`,
  },
  {
    name: 'loop bounded by a 64-bit value from a map',
    expect: 'UNBOUNDED_LOOP',
    kernel: { verdict: 'rejected', why: 'the kernel gives up with "BPF program is too large"' },
    maxInsns: 100_000,
    source: `${HASH}
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 key = 0;
  __u64 *n = bpf_map_lookup_elem(&counts, &key);
  if (!n) return XDP_PASS;
  __u64 sum = 0, limit = *n;
  for (__u64 i = 0; i < limit; i++) sum += bpf_get_prandom_u32() & i;
  return sum & 1;
}`,
  },
  // ---- bpf_loop ----
  {
    name: 'bpf_loop with a callback summing into a stack context',
    expect: 'ok',
    source: `
struct acc { __u64 sum; __u32 seen; };
static long step(__u64 i, void *data) {
  struct acc *a = data;
  a->sum += i;
  a->seen++;
  return a->sum > 1000;
}
SEC("xdp") int prog(struct xdp_md *ctx) {
  struct acc a = {};
  bpf_loop(100, step, &a, 0);
  return a.sum > 50 ? XDP_DROP : XDP_PASS;
}`,
  },
  {
    name: 'bpf_loop callback returning 2',
    expect: 'INVALID_RETURN',
    source: `
static long step(__u64 i, void *data) { return 2; }
SEC("xdp") int prog(struct xdp_md *ctx) {
  bpf_loop(10, step, 0, 0);
  return XDP_PASS;
}`,
  },
  // ---- helpers ----
  {
    name: 'ringbuf reserve with a size that is not a constant',
    expect: 'HELPER_ARG',
    source: `${RINGBUF}
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 n = ctx->rx_queue_index & 63;
  void *e = bpf_ringbuf_reserve(&events, n + 8, 0);
  if (e) bpf_ringbuf_discard(e, 0);
  return XDP_PASS;
}`,
  },
  {
    name: 'map lookup on a ring buffer',
    expect: 'HELPER_ARG',
    source: `${RINGBUF}
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 key = 0;
  return bpf_map_lookup_elem(&events, &key) ? XDP_DROP : XDP_PASS;
}`,
  },
  {
    name: 'packet pointer used after bpf_xdp_adjust_head',
    expect: 'INVALID_MEM_ACCESS',
    source: `
SEC("xdp") int prog(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > end) return XDP_DROP;
  if (bpf_xdp_adjust_head(ctx, 0)) return XDP_DROP;
  return eth->h_proto == 0 ? XDP_DROP : XDP_PASS;
}`,
  },
  {
    name: 'skb_load_bytes into a stack buffer, then a subprogram',
    expect: 'ok',
    source: `
static __attribute__((noinline)) int classify(__u8 *b) { return b[0] == 0x45 ? 1 : 0; }
SEC("socket") int prog(struct __sk_buff *skb) {
  __u8 buf[20];
  if (bpf_skb_load_bytes(skb, 14, buf, sizeof(buf)) < 0) return 0;
  return classify(buf) ? skb->len : 0;
}`,
  },
  {
    name: 'printk with a format string in .rodata',
    expect: 'ok',
    source: `
SEC("kprobe/do_sys_open") int prog(void *ctx) {
  bpf_printk("pid %d", (int)(bpf_get_current_pid_tgid() >> 32));
  return 0;
}`,
  },
  // ---- globals and read-only data ----
  {
    name: 'global counters in .bss and .data',
    expect: 'ok',
    source: `
__u64 packets = 0;
__u32 last_len = 7;
SEC("xdp") int prog(struct xdp_md *ctx) {
  __sync_fetch_and_add(&packets, 1);
  last_len = ctx->data_end - ctx->data;
  return XDP_PASS;
}`,
  },
  {
    name: 'write into a const global (.rodata)',
    expect: 'READONLY_WRITE',
    source: `
const volatile __u32 limit = 10;
SEC("xdp") int prog(struct xdp_md *ctx) {
  *(volatile __u32 *)&limit = 5;
  return XDP_PASS;
}`,
  },
  // ---- helpers per program type ----
  {
    name: 'bpf_xdp_adjust_head called from tc',
    expect: 'HELPER_UNAVAILABLE',
    source: `
static long (*adjust_head)(void *ctx, int delta) = (void *)44;
SEC("tc") int prog(struct __sk_buff *skb) {
  return adjust_head(skb, 4) ? 2 : 0;
}`,
  },
  {
    name: 'tail call while a reservation is held',
    expect: 'REF_LEAK',
    source: `${RINGBUF}
struct { __uint(type, BPF_MAP_TYPE_PROG_ARRAY); __uint(max_entries, 4); __type(key, __u32); __type(value, __u32); } jumps SEC(".maps");
SEC("xdp") int prog(struct xdp_md *ctx) {
  struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) return XDP_PASS;
  bpf_tail_call(ctx, &jumps, 0);
  bpf_ringbuf_discard(e, 0);
  return XDP_PASS;
}`,
  },
  {
    name: 'ringbuf record submitted twice',
    expect: 'HELPER_ARG',
    source: `${RINGBUF}
SEC("xdp") int prog(struct xdp_md *ctx) {
  struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) return XDP_PASS;
  bpf_ringbuf_submit(e, 0);
  bpf_ringbuf_submit(e, 0);
  return XDP_PASS;
}`,
  },
  {
    name: 'fentry program returning 0',
    expect: 'ok',
    kernel: { verdict: 'skip', why: 'this kernel refuses to load fentry programs (EPERM)' },
    source: `
SEC("fentry/do_unlinkat") int prog(unsigned long long *ctx) { return 0; }`,
  },
  {
    name: 'fentry program returning 1',
    expect: 'INVALID_RETURN',
    kernel: { verdict: 'skip', why: 'this kernel refuses to load fentry programs (EPERM)' },
    source: `
SEC("fentry/do_unlinkat") int prog(unsigned long long *ctx) { return 1; }`,
  },
  {
    name: 'probe_read_kernel into a stack buffer',
    expect: 'ok',
    source: `
SEC("kprobe/do_sys_open") int prog(unsigned long *regs) {
  char buf[32];
  bpf_probe_read_kernel(buf, sizeof(buf), (void *)regs[14]);
  return buf[0];
}`,
  },
  {
    name: 'probe_read_kernel with a size from the context',
    expect: 'HELPER_ARG',
    source: `
SEC("kprobe/do_sys_open") int prog(unsigned long *regs) {
  char buf[32];
  bpf_probe_read_kernel(buf, regs[13], (void *)regs[14]);
  return buf[0];
}`,
  },
  // ---- pointers across calls and frames ----
  {
    name: 'map value pointer kept across a helper call',
    expect: 'ok',
    source: `${HASH}
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 key = 0;
  __u64 *v = bpf_map_lookup_elem(&counts, &key);
  if (!v) return XDP_PASS;
  *v = bpf_ktime_get_ns();
  return XDP_PASS;
}`,
  },
  {
    name: 'nested subprograms writing through a pointer to the caller stack',
    expect: 'ok',
    source: `
static __attribute__((noinline)) void fill(__u64 *slot, __u64 v) { *slot = v * 2; }
static __attribute__((noinline)) __u64 twice(__u64 v) { __u64 out = 0; fill(&out, v); return out; }
SEC("xdp") int prog(struct xdp_md *ctx) {
  return twice(ctx->rx_queue_index) > 8 ? XDP_DROP : XDP_PASS;
}`,
  },
  // ---- packet parsing ----
  {
    name: 'packet byte at a bounded variable offset',
    expect: 'ok',
    source: `
SEC("xdp") int prog(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
  __u32 off = ctx->rx_queue_index & 63;
  __u8 *p = data + off;
  if ((void *)(p + 1) > end) return XDP_DROP;
  return *p == 0x45 ? XDP_PASS : XDP_DROP;
}`,
  },
  {
    name: 'packet byte at an unbounded variable offset',
    expect: 'PACKET_OOB',
    source: `
SEC("xdp") int prog(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
  __u64 off = ctx->rx_queue_index;
  __u8 *p = data + off * 4096;
  if ((void *)(p + 1) > end) return XDP_DROP;
  return *p == 0x45 ? XDP_PASS : XDP_DROP;
}`,
  },
  {
    name: 'metadata checked against data',
    expect: 'ok',
    source: `
SEC("xdp") int prog(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data, *meta = (void *)(long)ctx->data_meta;
  __u32 *m = meta;
  if ((void *)(m + 1) > data) return XDP_PASS;
  return *m == 1 ? XDP_DROP : XDP_PASS;
}`,
  },
  {
    name: 'bounded loop over packet bytes with a check per byte',
    expect: 'ok',
    source: `
SEC("xdp") int prog(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
  __u32 sum = 0;
  for (int i = 0; i < 32; i++) {
    __u8 *p = data + i;
    if ((void *)(p + 1) > end) break;
    sum += *p;
  }
  return sum & 1 ? XDP_DROP : XDP_PASS;
}`,
  },
  // ---- signed indexes ----
  {
    name: 'signed index checked only against the upper bound',
    expect: 'POINTER_ARITH',
    source: `${ARRAY}
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 key = 0;
  struct value *v = bpf_map_lookup_elem(&table, &key);
  if (!v) return XDP_PASS;
  int i = (int)v->slots[1];
  if (i >= 16) return XDP_PASS;
  v->slots[i] += 1;
  return XDP_PASS;
}`,
  },
  {
    name: 'map update from a struct with an uninitialized padding hole',
    expect: 'UNINIT_READ',
    kernel: {
      verdict: 'accepted',
      why: 'root loaders may pass uninitialized stack to helpers; bpfbox follows the unprivileged rule',
    },
    source: `
struct rec { __u8 flag; __u64 value; };
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 8); __type(key, __u32); __type(value, struct rec); } recs SEC(".maps");
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 key = 1;
  struct rec r;
  r.flag = 1;
  r.value = ctx->rx_queue_index;
  bpf_map_update_elem(&recs, &key, &r, BPF_ANY);
  return XDP_PASS;
}`,
  },
  // ---- precision tracking: scalars no check depends on do not block pruning ----
  {
    name: 'many independent branches on values that never matter',
    expect: 'ok',
    maxInsns: 100_000,
    source: `
#define B(k) if (bpf_get_prandom_u32() & 1) { x |= 1ULL << k; asm volatile("" : "+r"(x)); }
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u64 x = 0;
  B(0) B(1) B(2) B(3) B(4) B(5) B(6) B(7) B(8) B(9) B(10) B(11) B(12) B(13) B(14) B(15)
  B(16) B(17) B(18) B(19) B(20) B(21) B(22) B(23)
  bpf_printk("%llu", x);
  return XDP_PASS;
}`,
  },
  {
    name: 'bpf_loop callback that reserves and submits',
    expect: 'ok',
    source: `${RINGBUF}
static long emit(__u64 i, void *ctx) {
  struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) return 1;
  e->pid = i;
  bpf_ringbuf_submit(e, 0);
  return 0;
}
SEC("xdp") int prog(struct xdp_md *ctx) {
  bpf_loop(8, emit, 0, 0);
  return XDP_PASS;
}`,
  },
  {
    name: 'bpf_loop callback that leaks its reservation',
    expect: 'REF_LEAK',
    source: `${RINGBUF}
static long emit(__u64 i, void *ctx) {
  struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) return 1;
  e->pid = i;
  if (i == 3) return 1;
  bpf_ringbuf_submit(e, 0);
  return 0;
}
SEC("xdp") int prog(struct xdp_md *ctx) {
  bpf_loop(8, emit, 0, 0);
  return XDP_PASS;
}`,
  },
];

export const CORPUS: readonly CorpusCase[] = [...CORPUS_FIRST, ...CORPUS_MORE, ...CORPUS_MAY_GOTO];
