/* memcpy of 1 MiB in 64-bit words, then a sampled checksum so the copy cannot be dropped. */
#include "kernel.h"

#define WORDS ((1u << 20) / 8)
u64 src[WORDS];
u64 dst[WORDS];

KERNEL(kernel_init) {
  u64 x = 0x9e3779b97f4a7c15ull;
  for (u32 i = 0; i < WORDS; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    src[i] = x;
  }
  return 0;
}

KERNEL(kernel_run) {
  for (u32 i = 0; i < WORDS; i++) dst[i] = src[i];
  u64 sum = 0;
  for (u32 i = 0; i < WORDS; i += 4099) sum = sum * 31 + dst[i];
  return sum + dst[WORDS - 1];
}
