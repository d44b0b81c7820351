// SPDX-License-Identifier: GPL-2.0
/*
 * Socket filter: keeps only IPv4 TCP packets (whole: the program returns skb->len) and drops the rest
 * (returns 0), counting both outcomes in an ARRAY map. It expects the view of a packet (AF_PACKET)
 * socket, where data starts at the Ethernet header. A socket filter's packet is read-only and has no
 * direct access: it reads headers with bpf_skb_load_bytes.
 *
 * Shows: a socket_filter program, the keep-length verdict, bpf_skb_load_bytes.
 * Test: test/examples/socket-filter.test.ts.
 *
 * Demo (`npx bpfbox demo`): each `demo:` line runs PROGRAM on an IN.json as `bpfbox run OBJ.o --input`
 * takes it, then a label; the `expect:` line after it checks r0 (and ringbuf/printk).
 *   what: bpf_skb_load_bytes on a read-only packet, the keep-length verdict (r0 = bytes kept)
 *   demo: keep_tcp {"packet": "0200000000020200000000010800 4500002800000000400666ce0a0000010a000002 9c40005000000000000000005000000000000000"} TCP packet, 54 bytes
 *   expect: 54
 *   demo: keep_tcp {"packet": "0200000000020200000000010800 4500001c00000000401166cf0a0000010a000002 9c40003500080000"} UDP packet
 *   expect: 0
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <stddef.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

enum outcome { KEPT, DROPPED, OUTCOMES };

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, OUTCOMES);
  __type(key, __u32);
  __type(value, __u64);
} outcomes SEC(".maps");

static __always_inline void count(__u32 which) {
  __u64 *n = bpf_map_lookup_elem(&outcomes, &which);
  if (n) __sync_fetch_and_add(n, 1);
}

SEC("socket")
int keep_tcp(struct __sk_buff *skb) {
  __u16 proto;
  __u8 l4;
  if (bpf_skb_load_bytes(skb, offsetof(struct ethhdr, h_proto), &proto, sizeof(proto)) < 0 ||
      proto != bpf_htons(ETH_P_IP) ||
      bpf_skb_load_bytes(skb, ETH_HLEN + offsetof(struct iphdr, protocol), &l4, sizeof(l4)) < 0 ||
      l4 != IPPROTO_TCP) {
    count(DROPPED);
    return 0;
  }
  count(KEPT);
  return skb->len;
}

char LICENSE[] SEC("license") = "GPL";
