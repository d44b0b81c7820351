/* 64-bit FNV-1a over 1 MiB: one byte load and a 64-bit multiply per byte. */
#include "kernel.h"

#define BYTES (1u << 20)
u8 data[BYTES];

KERNEL(kernel_init) {
  for (u32 i = 0; i < BYTES; i++) data[i] = (u8)(i * 131 + (i >> 9));
  return 0;
}

KERNEL(kernel_run) {
  u64 h = 0xcbf29ce484222325ull;
  for (u32 i = 0; i < BYTES; i++) {
    h ^= data[i];
    h *= 0x100000001b3ull;
  }
  return h;
}
