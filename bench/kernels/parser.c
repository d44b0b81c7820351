/*
 * A switch-heavy packet parser loop: 64-byte synthetic frames (Ethernet, optional VLAN, IPv4/IPv6/ARP,
 * TCP/UDP/ICMP), classified field by field into per-class counters folded into one checksum.
 */
#include "kernel.h"

#define FRAMES 16384
#define FRAME 64
u8 frames[FRAMES * FRAME];

KERNEL(kernel_init) {
  u32 x = 7;
  for (u32 f = 0; f < FRAMES; f++) {
    u8 *p = frames + f * FRAME;
    for (u32 i = 0; i < FRAME; i++) {
      x = x * 1103515245u + 12345u;
      p[i] = (u8)(x >> 16);
    }
    u32 off = 12;
    if ((x >> 8) % 4 == 0) { /* VLAN tag */
      p[12] = 0x81, p[13] = 0x00;
      off = 16;
    }
    static const u16 types[4] = {0x0800, 0x86dd, 0x0806, 0x88cc};
    u16 type = types[(x >> 4) % 4];
    p[off] = (u8)(type >> 8), p[off + 1] = (u8)type;
    static const u8 protos[4] = {6, 17, 1, 47};
    u8 proto = protos[(x >> 12) % 4];
    if (type == 0x0800) p[off + 2 + 9] = proto, p[off + 2] = 0x45;
    if (type == 0x86dd) p[off + 2 + 6] = proto;
  }
  return 0;
}

/* Classifies the L4 header at `l4` by protocol; returns a small class number. */
NOINLINE u64 l4_class(const u8 *l4, u32 proto) {
  switch (proto) {
  case 6: {
    u32 flags = l4[13];
    switch (flags & 0x17) {
    case 0x02: return 10; /* SYN */
    case 0x12: return 11; /* SYN-ACK */
    case 0x10: return 12; /* ACK */
    case 0x01: case 0x11: return 13; /* FIN */
    case 0x04: case 0x14: return 14; /* RST */
    default: return 15;
    }
  }
  case 17: {
    u32 port = (u32)l4[2] << 8 | l4[3];
    switch (port & 0xff) {
    case 53: return 20;
    case 67: case 68: return 21;
    case 123: return 22;
    default: return 23 + (port & 3);
    }
  }
  case 1: return 30 + (l4[0] & 7);
  default: return 40;
  }
}

KERNEL(kernel_run) {
  u64 counts[48];
  for (u32 i = 0; i < 48; i++) counts[i] = 0;
  for (u32 f = 0; f < FRAMES; f++) {
    const u8 *p = frames + f * FRAME;
    u32 off = 12;
    u32 type = (u32)p[off] << 8 | p[off + 1];
    if (type == 0x8100) {
      off = 16;
      type = (u32)p[off] << 8 | p[off + 1];
    }
    off += 2;
    u64 cls;
    switch (type) {
    case 0x0800: {
      u32 ihl = (p[off] & 0x0f) * 4;
      cls = ihl == 20 ? l4_class(p + off + 20, p[off + 9]) : 1;
      break;
    }
    case 0x86dd: cls = l4_class(p + off + 40 - 32, p[off + 6]) + 16; break; /* frames are short: L4 overlaps */
    case 0x0806: cls = 2 + (p[off + 7] & 1); break;
    default: cls = 4; break;
    }
    counts[cls % 48]++;
  }
  u64 sum = 0;
  for (u32 i = 0; i < 48; i++) sum = sum * 1000003 + counts[i];
  return sum;
}
