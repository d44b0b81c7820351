/*
 * Recursive Fibonacci as bpf-to-bpf calls. The depth stays at 7 (BPF allows 8 frames), so the work
 * is many shallow calls: fib(6) or fib(7) per iteration.
 */
#include "kernel.h"

u32 iterations;

NOINLINE u64 fib(u32 n) {
  if (n < 2) return n;
  return fib(n - 1) + fib(n - 2);
}

KERNEL(kernel_init) {
  iterations = 40000;
  return 0;
}

KERNEL(kernel_run) {
  u64 sum = 0;
  for (u32 i = 0; i < iterations; i++) sum += fib(6 + (i & 1));
  return sum;
}
