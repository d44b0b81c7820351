// SPDX-License-Identifier: GPL-2.0
/*
 * XDP counter: parses Ethernet / IPv4 / UDP with bounds checks, counts packets and bytes per verdict
 * in a PERCPU_ARRAY, and drops UDP packets to one port, a `const volatile` global set at load time
 * (the loader's `globals: { blocked_port: … }`, libbpf's skel->rodata->blocked_port).
 *
 * Shows: direct packet access, a per-CPU array, .rodata parameters. Test: test/examples/xdp-counter.test.ts.
 *
 * Demo (`npx bpfbox demo`): each `demo:` line runs PROGRAM on an IN.json as `bpfbox run OBJ.o --input`
 * takes it, then a label; the `expect:` line after it checks r0 (and ringbuf/printk).
 *   what: bounds-checked packet parsing, a PERCPU_ARRAY of totals, a const volatile blocked_port (53)
 *   demo: xdp_count {"packet": "0200000000020200000000010800 4500001c00000000401166cf0a0000010a000002 9c40003500080000"} UDP to port 53
 *   expect: XDP_DROP
 *   demo: xdp_count {"packet": "0200000000020200000000010800 4500001c00000000401166cf0a0000010a000002 9c401f9000080000"} UDP to port 8080
 *   expect: XDP_PASS
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

const volatile __u16 blocked_port = 53;

enum counter { PASSED, DROPPED, NOT_UDP, COUNTERS };

struct totals {
  __u64 packets;
  __u64 bytes;
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, COUNTERS);
  __type(key, __u32);
  __type(value, struct totals);
} stats SEC(".maps");

static __always_inline void count(__u32 which, __u64 bytes) {
  struct totals *t = bpf_map_lookup_elem(&stats, &which);
  if (!t) return;
  /* Per-CPU values need no atomics: one CPU runs one program at a time. */
  t->packets++;
  t->bytes += bytes;
}

SEC("xdp")
int xdp_count(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  __u64 len = data_end - data;

  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP)) goto not_udp;
  struct iphdr *ip = (void *)(eth + 1);
  if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_UDP || ip->ihl < 5) goto not_udp;
  struct udphdr *udp = (void *)ip + ip->ihl * 4;
  if ((void *)(udp + 1) > data_end) goto not_udp;

  if (udp->dest == bpf_htons(blocked_port)) {
    count(DROPPED, len);
    return XDP_DROP;
  }
  count(PASSED, len);
  return XDP_PASS;

not_udp:
  count(NOT_UDP, len);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
