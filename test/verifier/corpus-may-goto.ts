/**
 * Corpus programs with `can_loop` (may_goto, from the kernel's bpf_experimental.h; see corpus.ts for
 * the format): loops whose only bound is the frame's may_goto counter are accepted once their body is
 * safe for every iteration, and the usual rejections still happen inside them.
 */
import type { CorpusCase } from './corpus.js';

const CAN_LOOP = `
#define can_loop ({ __label__ l_break, l_continue; int ret = 1; \\
  asm volatile goto("may_goto %l[l_break]" :::: l_break); goto l_continue; \\
  l_break: ret = 0; l_continue:; ret; })
`;
const HASH = `
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 64); __type(key, __u32); __type(value, __u64); } counts SEC(".maps");
`;
const ARRAY = `
struct value { __u32 slots[16]; __u64 total; };
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 4); __type(key, __u32); __type(value, struct value); } table SEC(".maps");
`;

export const CORPUS_MAY_GOTO: readonly CorpusCase[] = [
  {
    name: 'can_loop: a loop bounded only by may_goto',
    expect: 'ok',
    source: `${CAN_LOOP}
SEC("xdp") int prog(struct xdp_md *ctx) {
  int i = 0, s = 0;
  while (can_loop) { s += i++; }
  return s & 1;
}`,
  },
  {
    name: 'can_loop: a counter from the context, no other bound',
    expect: 'ok',
    source: `${CAN_LOOP}
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u64 n = ctx->rx_queue_index, x = 1;
  while (can_loop) { x = x * 3 + n; if (x == 77) break; }
  return x & 1;
}`,
  },
  {
    name: 'can_loop: an array walked with a bounds check',
    expect: 'ok',
    source: `${CAN_LOOP}${ARRAY}
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 key = 0;
  struct value *v = bpf_map_lookup_elem(&table, &key);
  if (!v) return XDP_PASS;
  __u32 i = ctx->rx_queue_index;
  while (can_loop) {
    if (i >= 16) break;
    v->total += v->slots[i];
    i = i * 3 + 1;
  }
  return XDP_PASS;
}`,
  },
  {
    // clang turns &v->slots[i] into a pointer it advances by 4 beside i: the check on i says nothing
    // about that pointer, whose start from the unchecked first i is unbounded (the kernel agrees).
    name: 'can_loop: a checked index that clang strength-reduces into an unchecked pointer',
    expect: 'MAP_VALUE_OOB',
    source: `${CAN_LOOP}${ARRAY}
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 key = 0;
  struct value *v = bpf_map_lookup_elem(&table, &key);
  if (!v) return XDP_PASS;
  __u32 i = ctx->rx_queue_index;
  while (can_loop) {
    if (i >= 16) break;
    v->total += v->slots[i];
    i++;
  }
  return XDP_PASS;
}`,
  },
  {
    name: 'can_loop: a stack buffer indexed under a mask',
    expect: 'ok',
    kernel: {
      verdict: 'rejected',
      why: 'the index is precise for the kernel (it addresses the stack), so no two iterations are equal and it explores until "BPF program is too large"; bpfbox widens it and converges',
    },
    source: `${CAN_LOOP}
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u8 buf[16] = {};
  __u32 i = 0, s = 0;
  while (can_loop) { buf[i & 15] += i; s += buf[(i * 7) & 15]; i++; }
  return s & 1;
}`,
  },
  {
    // clang makes the pointer an offset that cycles through 16 values while the sum keeps growing:
    // the offset must stay exact (a repeat of an earlier iteration), only the sum is widened.
    name: 'can_loop: a pointer that wraps around an array',
    expect: 'ok',
    source: `${CAN_LOOP}${ARRAY}
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 key = 0;
  struct value *v = bpf_map_lookup_elem(&table, &key);
  if (!v) return XDP_PASS;
  __u32 *p = v->slots, s = 0;
  while (can_loop) { s += *p; p++; if (p == &v->slots[16]) p = v->slots; }
  return s & 1;
}`,
  },
  {
    name: 'can_loop: a packet pointer advanced until data_end',
    expect: 'UNBOUNDED_LOOP',
    // The pointer differs in every iteration; the kernel gives up with "The sequence of 8193 jumps is too complex".
    maxInsns: 50_000,
    source: `${CAN_LOOP}
SEC("xdp") int prog(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
  __u8 *p = data;
  __u32 s = 0;
  while (can_loop) { if ((void *)(p + 1) > end) break; s += *p; p++; }
  return s & 1;
}`,
  },
  {
    name: 'can_loop: loops in a subprogram called from a can_loop loop',
    expect: 'ok',
    source: `${CAN_LOOP}${ARRAY}
static __attribute__((noinline)) int sum(struct value *v, __u32 n) {
  int s = 0;
  for (__u32 i = 0; i < 8 && can_loop; i++) s += v->slots[i] * n;
  return s;
}
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 key = 0;
  struct value *v = bpf_map_lookup_elem(&table, &key);
  if (!v) return XDP_PASS;
  int t = 0;
  while (can_loop) { t += sum(v, ctx->rx_queue_index); if (t > 1000) break; }
  return t & 1;
}`,
  },
  {
    name: 'can_loop: an index growing past the array without a check',
    expect: 'MAP_VALUE_OOB',
    source: `${CAN_LOOP}${ARRAY}
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 key = 0;
  struct value *v = bpf_map_lookup_elem(&table, &key);
  if (!v) return XDP_PASS;
  __u32 i = 0;
  while (can_loop) { v->slots[i] += 1; i++; }
  return XDP_PASS;
}`,
  },
  {
    name: 'can_loop: an index from the context, checked only against the wrong bound',
    expect: 'MAP_VALUE_OOB',
    source: `${CAN_LOOP}${ARRAY}
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 key = 0;
  struct value *v = bpf_map_lookup_elem(&table, &key);
  if (!v) return XDP_PASS;
  __u32 i = ctx->rx_queue_index;
  while (can_loop) { if (i >= 20) break; v->total += v->slots[i]; i++; }
  return XDP_PASS;
}`,
  },
  {
    name: 'can_loop: a map lookup used without a NULL check inside the loop',
    expect: 'NULL_DEREF',
    source: `${CAN_LOOP}${HASH}
SEC("xdp") int prog(struct xdp_md *ctx) {
  __u32 key = ctx->rx_queue_index;
  while (can_loop) {
    __u64 *v = bpf_map_lookup_elem(&counts, &key);
    *v += 1;
    key++;
  }
  return XDP_PASS;
}`,
  },
];
