// SPDX-License-Identifier: GPL-2.0
/*
 * kprobe counter: counts calls of do_unlinkat per process (tgid) in a HASH map, and remembers the
 * last dfd argument (PT_REGS_PARM1) each process passed.
 *
 * Shows: BPF_KPROBE from bpf_tracing.h (built with -D__TARGET_ARCH_x86), arguments from pt_regs,
 * bpf_get_current_pid_tgid, lookup-or-insert with an atomic add on a hash map value.
 * Test: test/examples/kprobe-counter.test.ts.
 *
 * Demo (`npx bpfbox demo`): each `demo:` line runs PROGRAM on an IN.json as `bpfbox run OBJ.o --input`
 * takes it, then a label; the `expect:` line after it checks r0 (and ringbuf/printk).
 *   what: BPF_KPROBE arguments from pt_regs, a HASH map per process updated in place
 *   demo: count_unlinkat {"task": {"pid": 100, "comm": "rm"}, "regs": {"di": -100}} rm (pid 100) unlinks
 *   expect: 0
 *   demo: count_unlinkat {"task": {"pid": 101, "tgid": 100}, "regs": {"di": 3}} its thread 101, dfd 3
 *   expect: 0
 */
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct stats {
  __u64 calls;
  __s64 last_dfd;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, __u32); /* tgid */
  __type(value, struct stats);
} calls SEC(".maps");

SEC("kprobe/do_unlinkat")
int BPF_KPROBE(count_unlinkat, int dfd) {
  __u32 tgid = bpf_get_current_pid_tgid() >> 32;
  struct stats *s = bpf_map_lookup_elem(&calls, &tgid);
  if (s) {
    __sync_fetch_and_add(&s->calls, 1);
    s->last_dfd = dfd;
    return 0;
  }
  struct stats first = {.calls = 1, .last_dfd = dfd};
  /* BPF_NOEXIST: if another CPU inserted the key meanwhile, that entry wins (its count misses one). */
  bpf_map_update_elem(&calls, &tgid, &first, BPF_NOEXIST);
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
