/** Packets for the example tests: Ethernet + IPv4 + UDP/TCP/ICMP with a valid IP header checksum. */

export type L4 = 'udp' | 'tcp' | 'icmp';

const PROTOCOL: Record<L4, number> = { icmp: 1, tcp: 6, udp: 17 };
const L4_HEADER: Record<L4, number> = { icmp: 8, tcp: 20, udp: 8 };

export interface PacketOptions {
  readonly l4?: L4;
  readonly sport?: number;
  readonly dport?: number;
  readonly ttl?: number;
  readonly payload?: number;
}

/** The Internet checksum (RFC 1071) of `bytes`, as a big-endian 16-bit value. */
export function internetChecksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i] << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** 10.0.0.1 → 10.0.0.2 over Ethernet; ports apply to UDP and TCP. */
export function ipv4(options: PacketOptions = {}): Uint8Array {
  const { l4 = 'udp', sport = 40000, dport = 53, ttl = 64, payload = 10 } = options;
  const ipLength = 20 + L4_HEADER[l4] + payload;
  const p = new Uint8Array(14 + ipLength);
  const v = new DataView(p.buffer);
  p.set([0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01], 0);
  v.setUint16(12, 0x0800);
  p[14] = 0x45;
  v.setUint16(16, ipLength);
  p[22] = ttl;
  p[23] = PROTOCOL[l4];
  p.set([10, 0, 0, 1, 10, 0, 0, 2], 26);
  v.setUint16(24, internetChecksum(p.subarray(14, 34)));
  if (l4 !== 'icmp') {
    v.setUint16(34, sport);
    v.setUint16(36, dport);
  }
  if (l4 === 'udp') v.setUint16(38, 8 + payload);
  if (l4 === 'tcp') p[46] = 0x50;
  if (l4 === 'icmp') p[34] = 8; // echo request
  return p;
}

/** An ARP request: not IPv4, so every example's parser lets it pass untouched. */
export function arp(): Uint8Array {
  const p = new Uint8Array(42);
  p.fill(0xff, 0, 6);
  p.set([0x02, 0, 0, 0, 0, 0x01], 6);
  p.set([0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4, 0, 1], 12);
  return p;
}

export const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
