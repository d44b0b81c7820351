// SPDX-License-Identifier: GPL-2.0
/*
 * Tail-call dispatcher: an XDP entry program reads the IPv4 protocol and jumps through a PROG_ARRAY
 * indexed by protocol number. The array is filled statically in `.maps` (ICMP and UDP handlers);
 * protocols without a slot (TCP here) make bpf_tail_call return, and the entry program falls through
 * to its default verdict.
 *
 * Shows: BPF_MAP_TYPE_PROG_ARRAY with `.values = { [n] = &prog }`, bpf_tail_call, a missing slot.
 * Test: test/examples/tail-call.test.ts.
 *
 * Demo (`npx bpfbox demo`): each `demo:` line runs PROGRAM on an IN.json as `bpfbox run OBJ.o --input`
 * takes it, then a label; the `expect:` line after it checks r0 (and ringbuf/printk).
 *   what: bpf_tail_call through a PROG_ARRAY filled in .maps; an empty slot falls through
 *   demo: dispatch {"packet": "0200000000020200000000010800 4500001c00000000400166df0a0000010a000002 0800000000000000"} ICMP → handle_icmp
 *   expect: XDP_DROP
 *   demo: dispatch {"packet": "0200000000020200000000010800 4500001c00000000401166cf0a0000010a000002 9c40003500080000"} UDP → handle_udp
 *   expect: XDP_TX
 *   demo: dispatch {"packet": "0200000000020200000000010800 4500002800000000400666ce0a0000010a000002 9c40005000000000000000005000000000000000"} TCP: no slot, no jump
 *   expect: XDP_PASS
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* Packets handled per protocol; the entry program counts fall-throughs under key 0. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 256);
  __type(key, __u32);
  __type(value, __u64);
} handled SEC(".maps");

static __always_inline void count(__u32 key) {
  __u64 one = 1, *n = bpf_map_lookup_elem(&handled, &key);
  if (n) __sync_fetch_and_add(n, 1);
  else bpf_map_update_elem(&handled, &key, &one, BPF_NOEXIST);
}

SEC("xdp") int handle_icmp(struct xdp_md *ctx) {
  count(IPPROTO_ICMP);
  return XDP_DROP;
}

SEC("xdp") int handle_udp(struct xdp_md *ctx) {
  count(IPPROTO_UDP);
  return XDP_TX;
}

struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(max_entries, 256);
  __type(key, __u32);
  __array(values, int(void *));
} by_protocol SEC(".maps") = {
    .values = {[IPPROTO_ICMP] = (void *)&handle_icmp, [IPPROTO_UDP] = (void *)&handle_udp},
};

SEC("xdp") int dispatch(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  struct iphdr *ip = (void *)(eth + 1);
  if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP)) return XDP_PASS;
  bpf_tail_call(ctx, &by_protocol, ip->protocol);
  /* Only reached when the slot is empty: a successful tail call never returns. */
  count(0);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
