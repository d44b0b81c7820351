/**
 * The second half of the C corpus (see corpus.ts for the format): real-style programs (packet parsers
 * with variable-length headers, counters over several map types, ringbuf loggers, loops, bpf_loop,
 * nested subprograms, tail calls, kprobes and tracepoints, pointer spills) and an accepted and a
 * rejected variant for the error classes with few cases.
 */
import type { CorpusCase } from './corpus.js';

const NET = `
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/if_vlan.h>
#include <linux/in.h>
struct vlan_hdr { __be16 tci; __be16 proto; };
`;
const HASH = `
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 64); __type(key, __u32); __type(value, __u64); } counts SEC(".maps");
`;
const ARRAY = `
struct value { __u32 n; __u32 slots[16]; __u64 total; };
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 4); __type(key, __u32); __type(value, struct value); } table SEC(".maps");
`;
const RINGBUF = `
struct event { __u32 pid; __u32 len; char comm[16]; };
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); } events SEC(".maps");
`;
const PROGS = `
struct { __uint(type, BPF_MAP_TYPE_PROG_ARRAY); __uint(max_entries, 4); __type(key, __u32); __type(value, __u32); } jumps SEC(".maps");
`;
/** The x86-64 pt_regs slot of the first argument (di). */
const ARG1 = '(((unsigned long *)ctx)[14])';

export const CORPUS_MORE: readonly CorpusCase[] = [
  // ---- packet parsers ----
  {
    name: 'parser: eth, IPv4 with options (ihl), TCP ports',
    expect: 'ok',
    source: `${NET}${HASH}
SEC("xdp") int prog(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP)) return XDP_PASS;
  struct iphdr *ip = (void *)(eth + 1);
  if ((void *)(ip + 1) > end || ip->ihl < 5 || ip->protocol != IPPROTO_TCP) return XDP_PASS;
  struct tcphdr *tcp = (void *)ip + ip->ihl * 4;
  if ((void *)(tcp + 1) > end) return XDP_PASS;
  __u32 port = bpf_ntohs(tcp->dest);
  __u64 one = 1, *v = bpf_map_lookup_elem(&counts, &port);
  if (v) __sync_fetch_and_add(v, 1); else bpf_map_update_elem(&counts, &port, &one, BPF_NOEXIST);
  return XDP_PASS;
}`,
  },
  {
    name: 'parser: TCP header after IPv4 options read without its own check',
    expect: 'PACKET_OOB',
    source: `${NET}
SEC("xdp") int prog(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP)) return XDP_PASS;
  struct iphdr *ip = (void *)(eth + 1);
  if ((void *)(ip + 1) > end) return XDP_PASS;
  struct tcphdr *tcp = (void *)ip + ip->ihl * 4;
  return tcp->syn ? XDP_DROP : XDP_PASS;
}`,
  },
  {
    name: 'parser: eth, up to two VLAN tags, IPv6, UDP (tc)',
    expect: 'ok',
    source: `${NET}
SEC("tc") int prog(struct __sk_buff *skb) {
  void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > end) return 0;
  void *cur = eth + 1;
  __u16 proto = eth->h_proto;
#pragma unroll
  for (int i = 0; i < 2; i++) {
    if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD)) break;
    struct vlan_hdr *vh = cur;
    if ((void *)(vh + 1) > end) return 0;
    proto = vh->proto;
    cur = vh + 1;
  }
  if (proto != bpf_htons(ETH_P_IPV6)) return 0;
  struct ipv6hdr *ip6 = cur;
  if ((void *)(ip6 + 1) > end || ip6->nexthdr != IPPROTO_UDP) return 0;
  struct udphdr *udp = (void *)(ip6 + 1);
  if ((void *)(udp + 1) > end) return 0;
  if (udp->dest == bpf_htons(53)) skb->mark = 53;
  return 0;
}`,
  },
  {
    name: 'parser: UDP read with only the IPv6 header checked',
    expect: 'PACKET_OOB',
    source: `${NET}
SEC("xdp") int prog(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IPV6)) return XDP_PASS;
  struct ipv6hdr *ip6 = (void *)(eth + 1);
  if ((void *)(ip6 + 1) > end) return XDP_PASS;
  struct udphdr *udp = (void *)(ip6 + 1);
  return udp->dest == bpf_htons(53) ? XDP_DROP : XDP_PASS;
}`,
  },
  {
    name: 'parser: TCP options walked byte by byte, 10 at most (tc)',
    expect: 'ok',
    source: `${NET}
SEC("tc") int prog(struct __sk_buff *skb) {
  void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP)) return 0;
  struct iphdr *ip = (void *)(eth + 1);
  if ((void *)(ip + 1) > end || ip->ihl != 5 || ip->protocol != IPPROTO_TCP) return 0;
  struct tcphdr *tcp = (void *)(ip + 1);
  if ((void *)(tcp + 1) > end) return 0;
  __u8 *opt = (void *)(tcp + 1);
  for (int i = 0; i < 10; i++) {
    if ((void *)(opt + 2) > end) break;
    if (opt[0] == 0) break;
    if (opt[0] == 2) { skb->mark = opt[1]; break; }
    opt += opt[0] == 1 ? 1 : 2;
  }
  return 0;
}`,
  },
  {
    name: 'parser: tc rewrites the IPv4 TTL in place',
    expect: 'ok',
    source: `
SEC("tc") int prog(struct __sk_buff *skb) {
  void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
  struct ethhdr *eth = data;
  struct iphdr *ip = (void *)(eth + 1);
  if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP)) return 0;
  if (ip->ttl > 1) ip->ttl--;
  return 0;
}`,
  },
  {
    name: 'parser: last byte read at data + len - 1 (a negative offset from the checked pointer)',
    expect: 'PACKET_OOB',
    source: `
SEC("xdp") int prog(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
  __u64 len = end - data;
  if (len < 1 || len > 1500) return XDP_PASS;
  __u8 *last = data + (len - 1);
  if ((void *)(last + 1) > end) return XDP_PASS;
  return *last == 0xff ? XDP_DROP : XDP_PASS;
}`,
  },
  {
    name: 'parser: a data_end check with the wrong comparison (>= instead of >) still guards',
    expect: 'ok',
    source: `
SEC("xdp") int prog(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) >= end) return XDP_PASS;
  return eth->h_proto == 0 ? XDP_DROP : XDP_PASS;
}`,
  },
  // ---- map counters over several map types ----
  {
    name: 'per-CPU array counter',
    expect: 'ok',
    source: `
struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __uint(max_entries, 8); __type(key, __u32); __type(value, __u64); } pc SEC(".maps");
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 key = ctx->rx_queue_index & 7;
  __u64 *v = bpf_map_lookup_elem(&pc, &key);
  if (v) *v += 1;
  return XDP_PASS;
}`,
  },
  {
    name: 'per-CPU hash and LRU hash counters with update on miss',
    expect: 'ok',
    source: `
struct { __uint(type, BPF_MAP_TYPE_PERCPU_HASH); __uint(max_entries, 64); __type(key, __u32); __type(value, __u64); } ph SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_LRU_HASH); __uint(max_entries, 64); __type(key, __u32); __type(value, __u64); } lru SEC(".maps");
SEC("tc") int prog(struct __sk_buff *skb) {
  __u32 key = skb->ifindex;
  __u64 one = 1, *v = bpf_map_lookup_elem(&ph, &key);
  if (v) *v += 1; else bpf_map_update_elem(&ph, &key, &one, BPF_ANY);
  v = bpf_map_lookup_elem(&lru, &key);
  if (v) *v += skb->len; else bpf_map_delete_elem(&lru, &key);
  return 0;
}`,
  },
  {
    name: 'queue map: push a value, pop it back',
    expect: 'ok',
    source: `
struct { __uint(type, BPF_MAP_TYPE_QUEUE); __uint(max_entries, 16); __type(value, __u64); } q SEC(".maps");
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u64 v = ctx->ingress_ifindex, out;
  bpf_map_push_elem(&q, &v, BPF_EXIST);
  if (bpf_map_pop_elem(&q, &out) == 0 && out == 3) return XDP_DROP;
  return XDP_PASS;
}`,
  },
  {
    name: 'map lookup on a queue map',
    expect: 'HELPER_ARG',
    source: `
struct { __uint(type, BPF_MAP_TYPE_QUEUE); __uint(max_entries, 16); __type(value, __u64); } q SEC(".maps");
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 key = 0;
  __u64 *v = bpf_map_lookup_elem(&q, &key);
  return v ? XDP_DROP : XDP_PASS;
}`,
  },
  {
    // The helper reads value_size (8) bytes from &small: the 4 bytes after it are the initialized key,
    // so the read stays in initialized stack and both verifiers accept it.
    name: 'map update whose value is a u32 next to the key on the stack',
    expect: 'ok',
    source: `${HASH}
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 key = 1, small = 1;
  bpf_map_update_elem(&counts, &key, &small, BPF_ANY);
  return XDP_PASS;
}`,
  },
  {
    name: 'array value: slot index masked to the array size',
    expect: 'ok',
    source: `${ARRAY}
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 key = 0;
  struct value *v = bpf_map_lookup_elem(&table, &key);
  if (!v) return XDP_PASS;
  v->slots[ctx->rx_queue_index & 15] += 1;
  return XDP_PASS;
}`,
  },
  {
    name: 'array value: slot index masked with a mask wider than the array',
    expect: 'MAP_VALUE_OOB',
    source: `${ARRAY}
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 key = 0;
  struct value *v = bpf_map_lookup_elem(&table, &key);
  if (!v) return XDP_PASS;
  v->slots[ctx->rx_queue_index & 31] += 1;
  return XDP_PASS;
}`,
  },
  {
    name: 'map value written at a constant offset past its end',
    expect: 'MAP_VALUE_OOB',
    source: `${HASH}
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 key = 0;
  __u64 *v = bpf_map_lookup_elem(&counts, &key);
  if (!v) return XDP_PASS;
  v[1] = 7;
  return XDP_PASS;
}`,
  },
  {
    name: 'map value used as the key of another lookup',
    expect: 'ok',
    source: `${ARRAY}${HASH}
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 key = 0;
  struct value *v = bpf_map_lookup_elem(&table, &key);
  if (!v) return XDP_PASS;
  __u64 *c = bpf_map_lookup_elem(&counts, &v->n);
  if (c) *c += 1;
  return XDP_PASS;
}`,
  },
  {
    name: 'packet bytes used as a map key',
    expect: 'ok',
    source: `${HASH}
SEC("xdp") int prog(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
  if (data + 4 > end) return XDP_PASS;
  __u64 *c = bpf_map_lookup_elem(&counts, data);
  if (c) *c += 1;
  return XDP_PASS;
}`,
  },
  {
    name: 'packet bytes used as a map key without a data_end check',
    expect: 'PACKET_OOB',
    source: `${HASH}
SEC("xdp") int prog(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  __u64 *c = bpf_map_lookup_elem(&counts, data);
  if (c) *c += 1;
  return XDP_PASS;
}`,
  },
  {
    name: 'the context pointer passed as a map key',
    expect: 'HELPER_ARG',
    source: `${HASH}
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u64 *c = bpf_map_lookup_elem(&counts, ctx);
  if (c) *c += 1;
  return XDP_PASS;
}`,
  },
  {
    // A hash map: an array lookup with a constant in-range key is never NULL (for both verifiers).
    name: 'pointer arithmetic on a lookup result before its NULL check',
    expect: 'NULL_DEREF',
    source: `
struct value { __u32 n; __u32 slots[16]; __u64 total; };
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 4); __type(key, __u32); __type(value, struct value); } hv SEC(".maps");
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 key = 0;
  struct value *v = bpf_map_lookup_elem(&hv, &key);
  __u32 *slot = &v->slots[3];
  asm volatile("" : "+r"(slot));
  if (!v) return XDP_PASS;
  return *slot;
}`,
  },
  // ---- ringbuf loggers ----
  {
    name: 'ringbuf: output of a stack record',
    expect: 'ok',
    source: `${RINGBUF}
SEC("kprobe/do_nanosleep") int prog(void *ctx) {
  struct event e = {};
  e.pid = bpf_get_current_pid_tgid() >> 32;
  bpf_get_current_comm(e.comm, sizeof(e.comm));
  bpf_ringbuf_output(&events, &e, sizeof(e), 0);
  return 0;
}`,
  },
  {
    name: 'ringbuf: output reads past the stack record',
    expect: 'STACK_OOB',
    source: `${RINGBUF}
SEC("kprobe/do_nanosleep") int prog(void *ctx) {
  struct event e = {};
  e.pid = bpf_get_current_pid_tgid() >> 32;
  bpf_ringbuf_output(&events, &e, sizeof(e) + 8, 0);
  return 0;
}`,
  },
  {
    name: 'ringbuf: submitted on one branch, discarded on the other',
    expect: 'ok',
    source: `${RINGBUF}
SEC("kprobe/do_nanosleep") int prog(void *ctx) {
  struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) return 0;
  e->pid = bpf_get_current_pid_tgid() >> 32;
  e->len = 0;
  if (bpf_get_current_comm(e->comm, sizeof(e->comm)) < 0) bpf_ringbuf_discard(e, 0);
  else bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
  return 0;
}`,
  },
  {
    name: 'ringbuf: record written after submit',
    expect: 'INVALID_MEM_ACCESS',
    source: `${RINGBUF}
SEC("kprobe/do_nanosleep") int prog(void *ctx) {
  struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) return 0;
  e->pid = 1;
  bpf_ringbuf_submit(e, 0);
  e->len = 2;
  return 0;
}`,
  },
  {
    name: 'ringbuf: reservation written without a NULL check',
    expect: 'NULL_DEREF',
    source: `${RINGBUF}
SEC("kprobe/do_nanosleep") int prog(void *ctx) {
  struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  e->pid = 1;
  bpf_ringbuf_submit(e, 0);
  return 0;
}`,
  },
  {
    name: 'ringbuf: reservation released in a subprogram',
    expect: 'ok',
    source: `${RINGBUF}
static __noinline void finish(struct event *e, int ok) {
  if (ok) bpf_ringbuf_submit(e, 0); else bpf_ringbuf_discard(e, 0);
}
SEC("kprobe/do_nanosleep") int prog(void *ctx) {
  struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
  if (!e) return 0;
  e->pid = 7;
  finish(e, bpf_get_prandom_u32() & 1);
  return 0;
}`,
  },
  {
    name: 'ringbuf: the last byte of a record, then one past it',
    expect: 'MEM_OOB',
    source: `${RINGBUF}
SEC("kprobe/do_nanosleep") int prog(void *ctx) {
  char *e = bpf_ringbuf_reserve(&events, 24, 0);
  if (!e) return 0;
  e[23] = 1;
  e[24 + (bpf_get_prandom_u32() & 1)] = 1;
  bpf_ringbuf_submit(e, 0);
  return 0;
}`,
  },
  // ---- loops over arrays ----
  {
    name: 'loop: bound from a map value clamped to the array size',
    expect: 'ok',
    source: `${ARRAY}
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 key = 0;
  struct value *v = bpf_map_lookup_elem(&table, &key);
  if (!v) return XDP_PASS;
  __u32 n = v->n;
  if (n > 16) n = 16;
  __u64 sum = 0;
  for (__u32 i = 0; i < n; i++) sum += v->slots[i];
  v->total = sum;
  return XDP_PASS;
}`,
  },
  {
    // slots[16..] is still inside the value (the total field); 20 reaches past its 80 bytes.
    name: 'loop: bound from a map value clamped past the end of the value',
    expect: 'MAP_VALUE_OOB',
    source: `${ARRAY}
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 key = 0;
  struct value *v = bpf_map_lookup_elem(&table, &key);
  if (!v) return XDP_PASS;
  __u32 n = v->n;
  if (n > 20) n = 20;
  __u64 sum = 0;
  for (__u32 i = 0; i < n; i++) sum += v->slots[i];
  v->total = sum;
  return XDP_PASS;
}`,
  },
  {
    name: 'loop: not unrolled, over a 64-byte stack buffer',
    expect: 'ok',
    source: `
SEC("kprobe/do_nanosleep") int prog(void *ctx) {
  char buf[64];
  if (bpf_probe_read_kernel(buf, sizeof(buf), (void *)${ARG1}) < 0) return 0;
  __u32 h = 0;
#pragma clang loop unroll(disable)
  for (int i = 0; i < 64; i++) h = h * 31 + buf[i];
  return h & 1;
}`,
  },
  {
    name: 'loop: stack buffer walked one element too far (i <= size)',
    expect: 'STACK_OOB',
    source: `
SEC("kprobe/do_nanosleep") int prog(void *ctx) {
  __u32 buf[8];
  if (bpf_probe_read_kernel(buf, sizeof(buf), (void *)${ARG1}) < 0) return 0;
  __u32 h = 0;
#pragma clang loop unroll(disable)
  for (int i = 0; i <= 8; i++) h ^= buf[i];
  return h & 1;
}`,
  },
  {
    name: 'loop: 4096 iterations of a not-unrolled loop with a map update',
    expect: 'ok',
    source: `${HASH}
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 key = 5;
  __u64 *v = bpf_map_lookup_elem(&counts, &key);
  if (!v) return XDP_PASS;
#pragma clang loop unroll(disable)
  for (int i = 0; i < 4096; i++) *v += i;
  return XDP_PASS;
}`,
  },
  {
    // A loop that exhausts the budget is reported as the loop (UNBOUNDED_LOOP), not as COMPLEXITY_LIMIT.
    name: 'loop: two million iterations exceed the instruction budget',
    expect: 'UNBOUNDED_LOOP',
    kernel: {
      verdict: 'rejected',
      why: 'the kernel gives up with "BPF program is too large" at 1M instructions',
    },
    maxInsns: 50_000,
    source: `${HASH}
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 key = 5;
  __u64 *v = bpf_map_lookup_elem(&counts, &key);
  if (!v) return XDP_PASS;
#pragma clang loop unroll(disable)
  for (int i = 0; i < 2000000; i++) {
    __u64 x = i;
    asm volatile("" : "+r"(x)); // keeps clang from summing the series in closed form
    *v += x;
  }
  return XDP_PASS;
}`,
  },
  // ---- bpf_loop ----
  {
    name: 'bpf_loop: callback fills a caller stack array through a bounded index',
    expect: 'ok',
    source: `
struct fill { __u32 vals[16]; __u32 seed; };
static long step(__u64 i, struct fill *f) {
  if (i >= 16) return 1;
  f->vals[i] = f->seed ^ (__u32)i;
  return 0;
}
SEC("xdp") int prog(struct xdp_md *ctx) {
  struct fill f = {};
  f.seed = ctx->ingress_ifindex;
  bpf_loop(16, step, &f, 0);
  return f.vals[15] & 1 ? XDP_DROP : XDP_PASS;
}`,
  },
  {
    name: 'bpf_loop: callback indexes the caller stack array without a bound',
    expect: 'POINTER_ARITH',
    source: `
struct fill { __u32 vals[16]; __u32 seed; };
static long step(__u64 i, struct fill *f) {
  f->vals[i] = f->seed ^ (__u32)i;
  return 0;
}
SEC("xdp") int prog(struct xdp_md *ctx) {
  struct fill f = {};
  f.seed = ctx->ingress_ifindex;
  bpf_loop(16, step, &f, 0);
  return f.vals[15] & 1 ? XDP_DROP : XDP_PASS;
}`,
  },
  {
    name: 'bpf_loop: callback counts into a hash map, iteration count from a map value',
    expect: 'ok',
    source: `${HASH}${ARRAY}
static long count(__u64 i, void *ctx) {
  __u32 key = i & 63;
  __u64 one = 1, *v = bpf_map_lookup_elem(&counts, &key);
  if (v) __sync_fetch_and_add(v, 1); else bpf_map_update_elem(&counts, &key, &one, BPF_ANY);
  return 0;
}
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 key = 0;
  struct value *t = bpf_map_lookup_elem(&table, &key);
  if (!t) return XDP_PASS;
  bpf_loop(t->n, count, 0, 0);
  return XDP_PASS;
}`,
  },
  {
    name: 'bpf_loop: callback dereferences a lookup without a NULL check',
    expect: 'NULL_DEREF',
    source: `${HASH}
static long count(__u64 i, void *ctx) {
  __u32 key = i & 63;
  __u64 *v = bpf_map_lookup_elem(&counts, &key);
  *v += 1;
  return 0;
}
SEC("xdp") int prog(struct xdp_md *ctx) {
  bpf_loop(64, count, 0, 0);
  return XDP_PASS;
}`,
  },
  // ---- nested subprograms passing pointers ----
  {
    name: 'subprograms: map value pointer passed two calls deep',
    expect: 'ok',
    source: `${ARRAY}
static __noinline void bump(__u32 *slot) { *slot += 1; }
static __noinline void record(struct value *v, __u32 i) { if (i < 16) bump(&v->slots[i]); v->total++; }
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 key = 1;
  struct value *v = bpf_map_lookup_elem(&table, &key);
  if (v) record(v, ctx->rx_queue_index);
  return XDP_PASS;
}`,
  },
  {
    name: 'subprograms: packet pointers passed to a static parser',
    expect: 'ok',
    source: `
static __noinline int proto_of(void *data, void *end) {
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > end) return -1;
  return eth->h_proto;
}
SEC("xdp") int prog(struct xdp_md *ctx) {
  int p = proto_of((void *)(long)ctx->data, (void *)(long)ctx->data_end);
  return p == bpf_htons(ETH_P_ARP) ? XDP_DROP : XDP_PASS;
}`,
  },
  {
    name: 'subprograms: a static parser reads the packet without checking data_end',
    expect: 'PACKET_OOB',
    source: `
static __noinline int proto_of(struct ethhdr *eth) { return eth->h_proto; }
SEC("xdp") int prog(struct xdp_md *ctx) {
  int p = proto_of((void *)(long)ctx->data);
  return p == bpf_htons(ETH_P_ARP) ? XDP_DROP : XDP_PASS;
}`,
  },
  {
    name: 'subprograms: callee writes past the caller stack buffer',
    expect: 'STACK_OOB',
    source: `
static __noinline void fill(__u64 *buf, int n) {
#pragma clang loop unroll(disable)
  for (int i = 0; i < n; i++) buf[i] = i;
}
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u64 buf[4];
  fill(buf, 5);
  return buf[3] & 1;
}`,
  },
  {
    name: 'subprograms: a chain of 8 frames',
    expect: 'ok',
    source: `
#define F(n, m) static __noinline int f##n(int x) { return f##m(x + 1) ^ x; }
static __noinline int f7(int x) { return x * 3; }
F(6, 7) F(5, 6) F(4, 5) F(3, 4) F(2, 3) F(1, 2)
SEC("xdp") int prog(struct xdp_md *ctx) { return f1(ctx->rx_queue_index) & 1; }`,
  },
  {
    name: 'subprograms: a chain of 9 frames',
    expect: 'CALL_DEPTH',
    source: `
#define F(n, m) static __noinline int f##n(int x) { return f##m(x + 1) ^ x; }
static __noinline int f8(int x) { return x * 3; }
F(7, 8) F(6, 7) F(5, 6) F(4, 5) F(3, 4) F(2, 3) F(1, 2)
SEC("xdp") int prog(struct xdp_md *ctx) { return f1(ctx->rx_queue_index) & 1; }`,
  },
  {
    name: 'subprograms: a function returns a pointer to its own stack',
    expect: 'INVALID_RETURN',
    source: `
static __noinline char *scratch(int x) {
  char buf[8];
  buf[0] = x;
  char *p = buf;
  asm volatile("" : "+r"(p) :: "memory");
  return p;
}
SEC("xdp") int prog(struct xdp_md *ctx) {
  char *p = scratch(ctx->rx_queue_index);
  return p != 0;
}`,
  },
  // ---- tail calls ----
  {
    name: 'tail call with an index from the context, falling through on failure',
    expect: 'ok',
    source: `${PROGS}
SEC("xdp") int prog(struct xdp_md *ctx) {
  bpf_tail_call(ctx, &jumps, ctx->rx_queue_index & 3);
  return XDP_PASS;
}`,
  },
  {
    name: 'tail call through a hash map',
    expect: 'HELPER_ARG',
    source: `${HASH}
SEC("xdp") int prog(struct xdp_md *ctx) {
  bpf_tail_call(ctx, &counts, 0);
  return XDP_PASS;
}`,
  },
  // ---- kprobes and tracepoints ----
  {
    name: 'kprobe: probe_read_kernel of a structure the first argument points to',
    expect: 'ok',
    source: `${RINGBUF}
struct timespec64 { __s64 tv_sec; long tv_nsec; };
SEC("kprobe/do_nanosleep") int prog(void *ctx) {
  struct timespec64 ts;
  if (bpf_probe_read_kernel(&ts, sizeof(ts), (void *)${ARG1})) return 0;
  struct event e = { .pid = bpf_get_current_pid_tgid() >> 32, .len = ts.tv_nsec & 0xffff };
  bpf_ringbuf_output(&events, &e, sizeof(e), 0);
  return 0;
}`,
  },
  {
    name: 'kprobe: a kernel pointer from the registers dereferenced directly',
    expect: 'INVALID_MEM_ACCESS',
    source: `
SEC("kprobe/do_nanosleep") int prog(void *ctx) {
  long *p = (long *)${ARG1};
  return *p & 1;
}`,
  },
  {
    name: 'kprobe: probe_read_kernel_str with a size clamped by a mask',
    expect: 'ok',
    source: `
SEC("kprobe/do_nanosleep") int prog(void *ctx) {
  char name[64];
  __u32 n = bpf_get_prandom_u32() & 63;
  long r = bpf_probe_read_kernel_str(name, n, (void *)${ARG1});
  return r > 0 && name[0] == '/';
}`,
  },
  {
    name: 'kprobe: probe_read_kernel with a size mask wider than the buffer',
    expect: 'STACK_OOB',
    source: `
SEC("kprobe/do_nanosleep") int prog(void *ctx) {
  char name[64];
  __u32 n = bpf_get_prandom_u32() & 127;
  bpf_probe_read_kernel(name, n, (void *)${ARG1});
  return name[0] == '/';
}`,
  },
  {
    name: 'kprobe: read past the end of pt_regs',
    expect: 'CTX_ACCESS',
    source: `
SEC("kprobe/do_nanosleep") int prog(void *ctx) { return ((unsigned long *)ctx)[30] & 1; }`,
  },
  {
    name: 'tracepoint: sys_enter id and first argument',
    expect: 'ok',
    source: `${HASH}
struct sys_enter { __u64 common; long id; unsigned long args[6]; };
SEC("tracepoint/raw_syscalls/sys_enter") int prog(struct sys_enter *ctx) {
  __u32 key = ctx->id & 63;
  __u64 *v = bpf_map_lookup_elem(&counts, &key);
  if (v) *v += ctx->args[0] & 1;
  return 0;
}`,
  },
  {
    name: 'tracepoint: a record field at a variable (masked, in-range) index',
    expect: 'CTX_ACCESS',
    source: `
struct sys_enter { __u64 common; long id; unsigned long args[6]; };
SEC("tracepoint/raw_syscalls/sys_enter") int prog(struct sys_enter *ctx) {
  __u32 i = bpf_get_prandom_u32() & 3;
  return ctx->args[i] & 1;
}`,
  },
  {
    name: 'tracepoint: a write into the record',
    expect: 'CTX_WRITE',
    source: `
struct sys_enter { __u64 common; long id; unsigned long args[6]; };
SEC("tracepoint/raw_syscalls/sys_enter") int prog(struct sys_enter *ctx) {
  ctx->args[0] = 0;
  return 0;
}`,
  },
  // ---- spills and fills of pointers ----
  {
    name: 'spill: map value pointer through a volatile stack slot',
    expect: 'ok',
    source: `${HASH}
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 key = 2;
  __u64 *volatile slot = bpf_map_lookup_elem(&counts, &key);
  __u64 *v = slot;
  if (!v) return XDP_PASS;
  bpf_get_prandom_u32();
  v = slot;
  if (v) *v += 1;
  return XDP_PASS;
}`,
  },
  {
    name: 'spill: packet pointer through a volatile stack slot after the check',
    expect: 'ok',
    source: `
SEC("xdp") int prog(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
  if (data + 16 > end) return XDP_PASS;
  __u8 *volatile slot = data;
  bpf_get_prandom_u32();
  __u8 *p = slot;
  return p[15] == 1 ? XDP_DROP : XDP_PASS;
}`,
  },
  {
    name: 'spill: lookup result filled from the stack and used without a NULL check',
    expect: 'NULL_DEREF',
    source: `${HASH}
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 key = 2;
  __u64 *volatile slot = bpf_map_lookup_elem(&counts, &key);
  if (!slot) return XDP_PASS;
  slot = bpf_map_lookup_elem(&counts, &key);
  *slot += 1;
  return XDP_PASS;
}`,
  },
  // ---- context access ----
  {
    name: 'xdp reads ingress_ifindex and rx_queue_index',
    expect: 'ok',
    source: `
SEC("xdp") int prog(struct xdp_md *ctx) { return (ctx->ingress_ifindex ^ ctx->rx_queue_index) & 1 ? XDP_DROP : XDP_PASS; }`,
  },
  {
    name: 'xdp reads egress_ifindex outside a devmap program',
    expect: 'CTX_ACCESS',
    source: `
SEC("xdp") int prog(struct xdp_md *ctx) { return ctx->egress_ifindex == 1 ? XDP_DROP : XDP_PASS; }`,
  },
  {
    name: 'xdp writes ctx->data',
    expect: 'CTX_WRITE',
    source: `
SEC("xdp") int prog(struct xdp_md *ctx) { ctx->data = ctx->data + 4; return XDP_PASS; }`,
  },
  {
    name: 'tc writes skb->cb[] and tc_index',
    expect: 'ok',
    source: `
SEC("tc") int prog(struct __sk_buff *skb) { skb->cb[0] = skb->len; skb->tc_index = 3; return skb->cb[0] & 1; }`,
  },
  // ---- helpers ----
  {
    name: 'bpf_skb_store_bytes from tc',
    expect: 'ok',
    source: `
SEC("tc") int prog(struct __sk_buff *skb) {
  __u8 tos = 0x10;
  bpf_skb_store_bytes(skb, 15, &tos, 1, BPF_F_RECOMPUTE_CSUM);
  return 0;
}`,
  },
  {
    name: 'bpf_skb_store_bytes from xdp',
    expect: 'HELPER_UNAVAILABLE',
    source: `
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u8 tos = 0x10;
  bpf_skb_store_bytes(ctx, 15, &tos, 1, 0);
  return XDP_PASS;
}`,
  },
  {
    name: 'const global read from .rodata',
    expect: 'ok',
    source: `
const volatile __u32 limit = 100;
SEC("xdp") int prog(struct xdp_md *ctx) { return ctx->rx_queue_index > limit ? XDP_DROP : XDP_PASS; }`,
  },
  {
    name: 'memset stack key and value before a hash update',
    expect: 'ok',
    source: `
struct key { __u32 a; __u8 b; };
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 8); __type(key, struct key); __type(value, __u64); } m SEC(".maps");
SEC("xdp") int prog(struct xdp_md *ctx) {
  struct key k;
  __builtin_memset(&k, 0, sizeof(k));
  k.a = ctx->ingress_ifindex;
  k.b = 1;
  __u64 v = 1;
  bpf_map_update_elem(&m, &k, &v, BPF_ANY);
  return XDP_PASS;
}`,
  },
  // ---- combined stack of a call chain, global functions, more helpers and packet checks ----
  {
    name: 'stack: two 300-byte frames on one call chain (608 bytes)',
    expect: 'STACK_OOB',
    source: `
static __noinline int inner(int x) { volatile char buf[300]; buf[x & 255] = 1; return buf[7]; }
SEC("xdp") int prog(struct xdp_md *ctx) { volatile char buf[300]; buf[ctx->rx_queue_index & 255] = 1; return inner(buf[3]) & 1; }`,
  },
  {
    name: 'stack: 300- and 200-byte frames on one call chain (512 bytes with 16-byte rounding under the JIT)',
    expect: 'ok',
    source: `
static __noinline int inner(int x) { volatile char buf[200]; buf[x & 127] = 1; return buf[7]; }
SEC("xdp") int prog(struct xdp_md *ctx) { volatile char buf[300]; buf[ctx->rx_queue_index & 255] = 1; return inner(buf[3]) & 1; }`,
  },
  {
    name: 'stack: a bpf_loop callback frame counts toward the chain of its caller (528 bytes)',
    expect: 'STACK_OOB',
    source: `
struct fill { __u64 v[40]; };
static long step(__u64 i, struct fill *f) { volatile char buf[200]; buf[i & 127] = 1; if (i < 40) f->v[i] = buf[3]; return 0; }
SEC("xdp") int prog(struct xdp_md *ctx) { struct fill f = {}; bpf_loop(40, step, &f, 0); return f.v[3] & 1; }`,
  },
  {
    name: 'stack: two 300-byte frames in a kprobe (the kernel puts large frames on a private stack)',
    expect: 'ok',
    source: `
static __noinline int inner(int x) { volatile char buf[300]; buf[x & 255] = 1; return buf[7]; }
SEC("kprobe/do_nanosleep") int prog(void *ctx) { volatile char buf[300]; buf[bpf_get_prandom_u32() & 255] = 1; return inner(buf[3]) & 1; }`,
  },
  // ---- global (non-static) functions: verified once from their BTF prototype, like the kernel ----
  {
    name: 'global function dereferences its pointer argument without a NULL check',
    expect: 'NULL_DEREF',
    source: `
__noinline int count(__u32 *p) { return *p + 1; }
SEC("xdp") int prog(struct xdp_md *ctx) { __u32 x = ctx->rx_queue_index; return count(&x) & 1; }`,
  },
  {
    name: 'static function with the same body: verified in its calling context, where the pointer is the stack',
    expect: 'ok',
    source: `
static __noinline int count(__u32 *p) { return *p + 1; }
SEC("xdp") int prog(struct xdp_md *ctx) { __u32 x = ctx->rx_queue_index; return count(&x) & 1; }`,
  },
  {
    name: 'global function checks its pointer argument for NULL',
    expect: 'ok',
    source: `
__noinline int count(__u32 *p) { if (!p) return 0; return *p + 1; }
SEC("xdp") int prog(struct xdp_md *ctx) { __u32 x = ctx->rx_queue_index; return count(&x) & 1; }`,
  },
  {
    name: 'global function called with NULL for its pointer argument',
    expect: 'ok',
    source: `
__noinline int count(__u32 *p) { if (!p) return 0; return (*p + 1) & 1; }
SEC("xdp") int prog(struct xdp_md *ctx) { return count(0); }`,
  },
  {
    name: "global function with a context argument (a pointer to the program type's ctx struct)",
    expect: 'ok',
    source: `
__noinline int queue(struct xdp_md *c) { return c->rx_queue_index & 1; }
SEC("xdp") int prog(struct xdp_md *ctx) { return queue(ctx) ? XDP_PASS : XDP_DROP; }`,
  },
  {
    name: 'global function with a context argument given a stack pointer',
    expect: 'FUNC_ARG',
    source: `
__noinline int queue(struct xdp_md *c) { return c->rx_queue_index & 1; }
SEC("xdp") int prog(struct xdp_md *ctx) { __u32 x = 0; return queue((struct xdp_md *)&x) ? XDP_PASS : XDP_DROP; }`,
  },
  {
    name: 'global function with a void * context argument tagged __arg_ctx (tracepoint)',
    expect: 'ok',
    source: `
#define __arg_ctx __attribute__((btf_decl_tag("arg:ctx")))
struct { __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY); __uint(key_size, 4); __uint(value_size, 4); } perf SEC(".maps");
__noinline int emit(void *ctx __arg_ctx, __u32 v) { bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, &v, sizeof(v)); return 0; }
SEC("tracepoint/syscalls/sys_enter_execve") int prog(void *ctx) { return emit(ctx, bpf_get_prandom_u32()); }`,
  },
  {
    name: 'global function with an untagged void * argument (its size cannot be determined)',
    expect: 'FUNC_PROTO',
    source: `
__noinline int emit(void *ctx, __u32 v) { return v & 1; }
SEC("tracepoint/syscalls/sys_enter_execve") int prog(void *ctx) { return emit(ctx, bpf_get_prandom_u32()); }`,
  },
  {
    name: 'global function argument too small at the call site (8 bytes for a 16-byte struct)',
    expect: 'FUNC_ARG',
    source: `
struct pair { __u64 a, b; };
__noinline int sum(struct pair *p) { if (!p) return 0; return (p->a + p->b) & 1; }
SEC("xdp") int prog(struct xdp_md *ctx) { __u64 x = ctx->rx_queue_index; return sum((struct pair *)&x); }`,
  },
  {
    name: 'global function given packet data checked for its whole pointee (14-byte ethhdr)',
    expect: 'ok',
    source: `
__noinline int proto(struct ethhdr *eth) { if (!eth) return 0; return eth->h_proto == bpf_htons(ETH_P_IP); }
SEC("xdp") int prog(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
  if (data + sizeof(struct ethhdr) > end) return XDP_PASS;
  return proto(data) ? XDP_PASS : XDP_DROP;
}`,
  },
  {
    name: 'global function given packet data checked for 8 of its 14 bytes',
    expect: 'FUNC_ARG',
    source: `
__noinline int proto(struct ethhdr *eth) { if (!eth) return 0; return eth->h_proto == bpf_htons(ETH_P_IP); }
SEC("xdp") int prog(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
  if (data + 8 > end) return XDP_PASS;
  return proto(data) ? XDP_PASS : XDP_DROP;
}`,
  },
  {
    name: 'global function given read-only data for a const pointer (the kernel checks it writable too)',
    expect: 'FUNC_ARG',
    source: `
const volatile __u32 cfg = 3;
__noinline int count(const __u32 *p) { if (!p) return 0; return (*p + 1) & 1; }
SEC("xdp") int prog(struct xdp_md *ctx) { return count((const __u32 *)&cfg); }`,
  },
  {
    name: 'global function given a pointer for an integer argument',
    expect: 'FUNC_ARG',
    source: `
__noinline int add(long a, int b) { return (a + b) & 1; }
SEC("xdp") int prog(struct xdp_md *ctx) { __u32 x = 1; return add((long)&x, 1); }`,
  },
  {
    name: 'global function returning a pointer',
    expect: 'FUNC_PROTO',
    source: `
__u32 g;
__noinline __u32 *pick(int i) { return i ? &g : 0; }
SEC("xdp") int prog(struct xdp_md *ctx) { __u32 *p = pick(ctx->rx_queue_index); return p ? XDP_PASS : XDP_DROP; }`,
  },
  {
    name: 'global function returning void',
    expect: 'FUNC_PROTO',
    source: `
__noinline void bump(__u32 *p) { if (p) *p += 1; }
SEC("xdp") int prog(struct xdp_md *ctx) { __u32 x = ctx->rx_queue_index; bump(&x); return x & 1; }`,
  },
  {
    name: 'global function taking a struct by value',
    expect: 'FUNC_PROTO',
    source: `
struct pair { __u64 a, b; };
__noinline int sum(struct pair p) { return (p.a + p.b) & 1; }
SEC("xdp") int prog(struct xdp_md *ctx) { struct pair p = { ctx->rx_queue_index, 2 }; return sum(p); }`,
  },
  {
    name: 'global function called from two programs (each checks its own call)',
    expect: 'ok',
    source: `
__noinline int count(__u32 *p) { if (!p) return 0; return (*p + 1) & 1; }
SEC("xdp") int prog(struct xdp_md *ctx) { __u32 x = ctx->rx_queue_index; return count(&x); }
SEC("tc") int prog2(struct __sk_buff *skb) { __u32 y = skb->len; return count(&y); }`,
  },
  {
    name: 'precision through a global call in a subprogram: index 8 or 15 into 16 bytes',
    expect: 'ok',
    source: `
__noinline int g(int v) { return v + 1; }
static __noinline int sub(__u32 sel) {
  __u8 buf[16] = {};
  __u32 x = 15;
  if (sel & 1) x = 8;
  asm volatile("" : "+r"(x));
  int r = g(sel);
  asm volatile("" : "+r"(x));
  return buf[x] + r;
}
SEC("xdp") int prog(struct xdp_md *ctx) { return sub(bpf_get_prandom_u32()) & 1; }`,
  },
  {
    name: 'precision through a global call in a subprogram: index 8 or 100 into 16 bytes',
    expect: 'STACK_OOB',
    source: `
__noinline int g(int v) { return v + 1; }
static __noinline int sub(__u32 sel) {
  __u8 buf[16] = {};
  __u32 x = 100;
  if (sel & 1) x = 8;
  asm volatile("" : "+r"(x));
  int r = g(sel);
  asm volatile("" : "+r"(x));
  return buf[x] + r;
}
SEC("xdp") int prog(struct xdp_md *ctx) { return sub(bpf_get_prandom_u32()) & 1; }`,
  },
  {
    name: 'global function called from two programs, the second with a too small argument',
    expect: 'FUNC_ARG',
    source: `
struct pair { __u64 a, b; };
__noinline int sum(struct pair *p) { if (!p) return 0; return (p->a + p->b) & 1; }
SEC("xdp") int prog(struct xdp_md *ctx) { struct pair q = { ctx->rx_queue_index, 1 }; return sum(&q); }
SEC("tc") int prog2(struct __sk_buff *skb) { __u64 x = skb->len; return sum((struct pair *)&x); }`,
  },
  {
    name: 'global function tagged __arg_nonnull dereferences its argument without a check',
    expect: 'ok',
    source: `
#define __arg_nonnull __attribute__((btf_decl_tag("arg:nonnull")))
__noinline int count(__u32 *p __arg_nonnull) { return *p + 1; }
SEC("xdp") int prog(struct xdp_md *ctx) { __u32 x = ctx->rx_queue_index; return count(&x) & 1; }`,
  },
  {
    name: 'global function tagged __arg_nonnull given an unchecked map lookup',
    expect: 'FUNC_ARG',
    source: `${HASH}
#define __arg_nonnull __attribute__((btf_decl_tag("arg:nonnull")))
__noinline int bump(__u64 *v __arg_nonnull) { *v += 1; return 0; }
SEC("xdp") int prog(struct xdp_md *ctx) { __u32 k = ctx->rx_queue_index; __u64 *v = bpf_map_lookup_elem(&counts, &k); return bump(v) + XDP_PASS; }`,
  },
  {
    name: 'global function tagged __arg_nonnull given NULL',
    expect: 'FUNC_ARG',
    kernel: {
      verdict: 'accepted',
      why: 'the kernel lets a NULL constant through to an __arg_nonnull argument (check_mem_reg returns before the non-NULL test), and the function then dereferences NULL; bpfbox refuses it',
    },
    source: `
#define __arg_nonnull __attribute__((btf_decl_tag("arg:nonnull")))
__noinline int count(__u32 *p __arg_nonnull) { return (*p + 1) & 1; }
SEC("xdp") int prog(struct xdp_md *ctx) { return count(0); }`,
  },
  {
    name: "global function calling a packet-moving helper: the caller's packet pointers are invalid after the call",
    expect: 'INVALID_MEM_ACCESS',
    source: `
__noinline int grow(struct xdp_md *c) { return bpf_xdp_adjust_head(c, -4) ? 1 : 0; }
SEC("xdp") int prog(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
  if (data + 14 > end) return XDP_PASS;
  grow(ctx);
  return ((__u8 *)data)[0] ? XDP_PASS : XDP_DROP;
}`,
  },
  {
    name: "global function may write through its pointer argument: the caller's value is unknown after the call",
    expect: 'MAP_VALUE_OOB',
    source: `
__u8 tbl[8];
__noinline int set(__u32 *p) { if (p) *p &= 7; return 0; }
SEC("xdp") int prog(struct xdp_md *ctx) { __u32 i = 0; set(&i); return tbl[i] & 1; }`,
  },
  {
    name: 'static function with the same body: the caller sees what it wrote',
    expect: 'ok',
    source: `
__u8 tbl[8];
static __noinline int set(__u32 *p) { if (p) *p &= 7; return 0; }
SEC("xdp") int prog(struct xdp_md *ctx) { __u32 i = 0; set(&i); return tbl[i] & 1; }`,
  },
  {
    name: "global function indexes with its integer argument unchecked (the caller's constant does not reach it)",
    expect: 'MAP_VALUE_OOB',
    source: `
__u8 tbl[8];
__noinline int get(__u32 i) { return tbl[i]; }
SEC("xdp") int prog(struct xdp_md *ctx) { return get(3) & 1; }`,
  },
  {
    name: 'stack: a 300-byte frame calling a global function with a 300-byte frame (608 bytes)',
    expect: 'STACK_OOB',
    source: `
__noinline int inner(int x) { volatile char buf[300]; buf[x & 255] = 1; return buf[7]; }
SEC("xdp") int prog(struct xdp_md *ctx) { volatile char buf[300]; buf[ctx->rx_queue_index & 255] = 1; return inner(buf[3]) & 1; }`,
  },
  {
    name: 'two global functions calling each other (recursion through functions verified once)',
    expect: 'CALL_DEPTH',
    source: `
int pong(__u32 i);
__attribute__((noinline, optnone)) int ping(__u32 i) { if (i == 0 || i > 4) return 0; return pong(i - 1) + 1; }
__attribute__((noinline, optnone)) int pong(__u32 i) { if (i == 0 || i > 4) return 0; return ping(i - 1) + 1; }
SEC("xdp") int prog(struct xdp_md *ctx) { return ping(ctx->rx_queue_index) & 1; }`,
  },
  {
    name: 'a chain of 8 frames through global functions (the limit)',
    expect: 'ok',
    source: `
#define G(n, m) __noinline int g##n(__u32 i) { return g##m(i + 1) + 1; }
__noinline int g7(__u32 i) { return i & 1; }
G(6, 7) G(5, 6) G(4, 5) G(3, 4) G(2, 3) G(1, 2)
SEC("xdp") int prog(struct xdp_md *ctx) { return g1(ctx->rx_queue_index) & 1; }`,
  },
  {
    name: 'a chain of 9 frames through global functions (each verified alone, counted on the call graph)',
    expect: 'CALL_DEPTH',
    source: `
#define G(n, m) __noinline int g##n(__u32 i) { return g##m(i + 1) + 1; }
__noinline int g8(__u32 i) { return i & 1; }
G(7, 8) G(6, 7) G(5, 6) G(4, 5) G(3, 4) G(2, 3) G(1, 2)
SEC("xdp") int prog(struct xdp_md *ctx) { return g1(ctx->rx_queue_index) & 1; }`,
  },
  {
    name: 'static function recursing a bounded number of times (the kernel refuses any recursion)',
    expect: 'CALL_DEPTH',
    source: `
static __attribute__((noinline, optnone)) int down(__u32 i) { if (i == 0) return 0; return down(i - 1) + 1; }
SEC("xdp") int prog(struct xdp_md *ctx) { return down(2) & 1; }`,
  },
  {
    name: 'global function called 64 times in a loop (verified once)',
    expect: 'ok',
    source: `
__noinline int mix(__u32 *p, __u32 i) {
  if (!p) return 0;
  __u32 v = *p;
  if (v & 1) v = v * 3 + i; else v >>= 1;
  if (v > 1000) v -= 1000;
  if (i & 2) v ^= 0x55;
  *p = v;
  return v & 7;
}
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 x = ctx->rx_queue_index, acc = 0;
  for (__u32 i = 0; i < 64; i++) acc += mix(&x, i);
  return acc & 1;
}`,
  },
  {
    name: 'atomic add on packet data',
    expect: 'INVALID_MEM_ACCESS',
    source: `
SEC("tc") int prog(struct __sk_buff *skb) {
  void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
  if (data + 8 > end) return 0;
  __sync_fetch_and_add((__u32 *)data, 1);
  return 0;
}`,
  },
  {
    name: 'tail call from a static subprogram',
    expect: 'ok',
    source: `
struct { __uint(type, BPF_MAP_TYPE_PROG_ARRAY); __uint(max_entries, 4); __type(key, __u32); __type(value, __u32); } jumps SEC(".maps");
static __noinline int go(struct xdp_md *ctx, __u32 i) { bpf_tail_call(ctx, &jumps, i); return 1; }
SEC("xdp") int prog(struct xdp_md *ctx) { return go(ctx, ctx->rx_queue_index & 3) ? XDP_PASS : XDP_DROP; }`,
  },
  {
    name: 'perf_event_output of a stack value from xdp',
    expect: 'ok',
    source: `
struct { __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY); __uint(key_size, 4); __uint(value_size, 4); } perf SEC(".maps");
SEC("xdp") int prog(struct xdp_md *ctx) { __u64 v = ctx->ingress_ifindex; bpf_perf_event_output(ctx, &perf, BPF_F_CURRENT_CPU, &v, sizeof(v)); return XDP_PASS; }`,
  },
  {
    name: 'index bounded by a bit test (i & ~15)',
    expect: 'ok',
    source: `
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u8 buf[16] = {};
  __u32 i = ctx->rx_queue_index;
  if (i & ~15u) return XDP_PASS;
  buf[i] = 1;
  return buf[3];
}`,
  },
  {
    name: 'packet re-checked after bpf_xdp_adjust_tail',
    expect: 'ok',
    source: `
SEC("xdp") int prog(struct xdp_md *ctx) {
  if (bpf_xdp_adjust_tail(ctx, -4)) return XDP_DROP;
  void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
  if (data + 1 > end) return XDP_DROP;
  return *(__u8 *)data == 1 ? XDP_TX : XDP_PASS;
}`,
  },
  {
    name: 'cmpxchg and xchg on a map value',
    expect: 'ok',
    source: `
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, __u64); } a SEC(".maps");
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 k = 0; __u64 *v = bpf_map_lookup_elem(&a, &k);
  if (!v) return XDP_PASS;
  __sync_val_compare_and_swap(v, 0, 5);
  __sync_lock_test_and_set(v, 3);
  return XDP_PASS;
}`,
  },
  {
    name: 'kprobe: probe_read_user and a four-argument bpf_printk',
    expect: 'ok',
    source: `
SEC("kprobe/do_nanosleep") int prog(void *ctx) {
  char buf[16];
  bpf_probe_read_user(buf, sizeof(buf), (void *)((unsigned long *)ctx)[13]);
  bpf_printk("%s %d %d %d", buf, 1, 2, 3);
  return 0;
}`,
  },
  {
    name: 'packet bounds from reversed comparisons (end < data + n, end <= data + n)',
    expect: 'ok',
    source: `
SEC("xdp") int prog(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
  if (end < data + 14) return XDP_DROP;
  if (end <= data + 20) return XDP_PASS;
  return ((__u8 *)data)[19];
}`,
  },
  {
    name: 'packet read at a masked variable length checked against data_end',
    expect: 'ok',
    source: `
SEC("xdp") int prog(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
  __u32 len = ctx->rx_queue_index & 63;
  if (data + len + 1 > end) return XDP_PASS;
  return ((__u8 *)data)[len];
}`,
  },
  {
    name: 'subprograms: a stack key passed to a subprogram that calls map_lookup_elem',
    expect: 'ok',
    source: `
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 64); __type(key, __u32); __type(value, __u64); } counts SEC(".maps");
static __noinline __u64 get(__u32 *key) { __u64 *v = bpf_map_lookup_elem(&counts, key); return v ? *v : 0; }
SEC("xdp") int prog(struct xdp_md *ctx) { __u32 k = ctx->rx_queue_index; return get(&k) & 1; }`,
  },
  {
    name: 'bpf_loop: callback reads a map value through a pointer in its context struct',
    expect: 'ok',
    source: `
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, __u64[8]); } a SEC(".maps");
struct lctx { __u64 *vals; __u64 sum; };
static long cb(__u64 i, struct lctx *c) { if (i < 8) c->sum += c->vals[i]; return 0; }
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 k = 0; __u64 *v = bpf_map_lookup_elem(&a, &k);
  if (!v) return XDP_PASS;
  struct lctx c = { .vals = v, .sum = 0 };
  bpf_loop(8, cb, &c, 0);
  return c.sum & 1;
}`,
  },
];
