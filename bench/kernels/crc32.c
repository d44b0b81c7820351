/* Table-driven CRC-32 (IEEE) over 1 MiB: a dependent load per byte. */
#include "kernel.h"

#define BYTES (1u << 20)
u8 data[BYTES];
u32 table[256];

KERNEL(kernel_init) {
  for (u32 i = 0; i < 256; i++) {
    u32 c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  u32 x = 12345;
  for (u32 i = 0; i < BYTES; i++) {
    x = x * 1103515245u + 12345u;
    data[i] = (u8)(x >> 16);
  }
  return 0;
}

KERNEL(kernel_run) {
  u32 crc = 0xffffffffu;
  for (u32 i = 0; i < BYTES; i++) crc = table[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
  return crc ^ 0xffffffffu;
}
