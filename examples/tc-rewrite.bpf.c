// SPDX-License-Identifier: GPL-2.0
/*
 * tc TTL rewrite: sets the TTL of every IPv4 packet to `new_ttl` (a `const volatile` global) with
 * bpf_skb_store_bytes and patches the IP header checksum incrementally with bpf_l3_csum_replace, the
 * way tc programs mangle headers. Counts rewritten packets in a one-element ARRAY.
 *
 * Shows: a sched_cls program, skb helpers that write the packet, incremental checksum update (RFC 1624).
 * Test: test/examples/tc-rewrite.test.ts.
 *
 * Demo (`npx bpfbox demo`): each `demo:` line runs PROGRAM on an IN.json as `bpfbox run OBJ.o --input`
 * takes it, then a label; the `expect:` line after it checks r0 (and ringbuf/printk).
 *   what: bpf_skb_store_bytes and bpf_l3_csum_replace set the TTL to 64 and patch the IP checksum
 *   demo: set_ttl {"packet": "0200000000020200000000010800 4500001c00000000c811dece0a0000010a000002 9c40003500080000"} IPv4 with TTL 200
 *   expect: TC_ACT_OK
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <stddef.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define IP_TTL_OFF (ETH_HLEN + offsetof(struct iphdr, ttl))
#define IP_CSUM_OFF (ETH_HLEN + offsetof(struct iphdr, check))

const volatile __u8 new_ttl = 64;

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} rewritten SEC(".maps");

SEC("tc")
int set_ttl(struct __sk_buff *skb) {
  void *data = (void *)(long)skb->data;
  void *data_end = (void *)(long)skb->data_end;
  struct ethhdr *eth = data;
  struct iphdr *ip = (void *)(eth + 1);
  if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP)) return TC_ACT_OK;
  if (ip->ttl == new_ttl) return TC_ACT_OK;

  /* The checksum covers 16-bit words: replace the (ttl, protocol) word as a whole. */
  __u16 old_word = *(__u16 *)&ip->ttl;
  __u8 ttl = new_ttl;
  __u16 new_word = old_word;
  *(__u8 *)&new_word = ttl;
  /* Both helpers may move the packet: ip and data must not be used after this point. */
  if (bpf_l3_csum_replace(skb, IP_CSUM_OFF, old_word, new_word, sizeof(__u16)) < 0) return TC_ACT_SHOT;
  if (bpf_skb_store_bytes(skb, IP_TTL_OFF, &ttl, sizeof(ttl), 0) < 0) return TC_ACT_SHOT;

  __u32 zero = 0;
  __u64 *n = bpf_map_lookup_elem(&rewritten, &zero);
  if (n) __sync_fetch_and_add(n, 1);
  return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
