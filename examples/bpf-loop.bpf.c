// SPDX-License-Identifier: GPL-2.0
/*
 * bpf_loop: sums the samples of an ARRAY map and finds the largest one with a callback instead of an
 * unrolled loop, stopping at the first zero sample (end of data), and prints the result with
 * bpf_printk. The host fills the array before the run; the program returns the number of samples seen.
 *
 * Shows: bpf_loop with a callback context on the stack, early exit (callback returns 1), map lookups
 * from a callback, bpf_printk. Test: test/examples/bpf-loop.test.ts.
 *
 * Demo (`npx bpfbox demo`): each `demo:` line runs PROGRAM on an IN.json as `bpfbox run OBJ.o --input`
 * takes it, then a label; the `expect:` line after it checks r0 (and ringbuf/printk).
 *   what: bpf_loop with a callback over an ARRAY the host filled, stopping early; bpf_printk
 *   (`maps` is the demo's own key: what the host writes to the map before the run, samples[0..6])
 *   demo: summarize {"maps": {"samples": [5, 17, 3, 42, 8, 0, 99]}} samples 5 17 3 42 8 0 99
 *   expect: 5; printk samples=5 sum=75 max=42
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define MAX_SAMPLES 32

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, MAX_SAMPLES);
  __type(key, __u32);
  __type(value, __u64);
} samples SEC(".maps");

struct scan {
  __u64 sum;
  __u64 max;
  __u32 max_at;
  __u32 count;
};

/* Returns 0 to go on, 1 to stop: the only values the verifier allows. */
static long visit(__u64 index, struct scan *s) {
  __u32 key = index;
  __u64 *v = bpf_map_lookup_elem(&samples, &key);
  if (!v || *v == 0) return 1;
  s->sum += *v;
  if (*v > s->max) {
    s->max = *v;
    s->max_at = key;
  }
  s->count++;
  return 0;
}

SEC("syscall")
int summarize(void *ctx) {
  struct scan s = {};
  long loops = bpf_loop(MAX_SAMPLES, visit, &s, 0);
  if (loops < 0) return loops;
  bpf_printk("samples=%u sum=%llu max=%llu", s.count, s.sum, s.max);
  bpf_printk("max at %u after %ld iterations", s.max_at, loops);
  return s.count;
}

char LICENSE[] SEC("license") = "GPL";
