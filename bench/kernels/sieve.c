/* Sieve of Eratosthenes over 1 Mi numbers: byte stores with strided access. */
#include "kernel.h"

#define N (1u << 20)
u8 composite[N];

KERNEL(kernel_init) { return 0; }

KERNEL(kernel_run) {
  for (u32 i = 0; i < N; i++) composite[i] = 0;
  u64 count = 0;
  for (u32 i = 2; i < N; i++) {
    if (composite[i]) continue;
    count++;
    for (u32 j = i * 2; j < N; j += i) composite[j] = 1;
  }
  return count;
}
