/**
 * What the kernel knows about a packet from its headers: the EtherType (skb->protocol) and, for IPv4
 * and IPv6 with TCP or UDP, the addresses and ports of the flow (the __sk_buff socket fields).
 */

export const ETH_HLEN = 14;
export const ETH_P_IP = 0x0800;
export const ETH_P_IPV6 = 0x86dd;
export const ETH_P_8021Q = 0x8100;
export const ETH_P_8021AD = 0x88a8;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

export interface FlowInfo {
  /** AF_INET or AF_INET6. */
  readonly family: number;
  /** Addresses as they appear in the packet (network byte order): 4 or 16 bytes. */
  readonly source: Uint8Array;
  readonly destination: Uint8Array;
  /** IP protocol number (after IPv6 extension headers are not followed: the first next-header). */
  readonly ipProtocol: number;
  /** TCP/UDP ports (host numbers), 0 for other protocols or a truncated header. */
  readonly sourcePort: number;
  readonly destinationPort: number;
}

/** skb->pkt_type values (PACKET_HOST, …) that eth_type_trans assigns from the destination MAC. */
export const PACKET_HOST = 0;
export const PACKET_BROADCAST = 1;
export const PACKET_MULTICAST = 2;

export interface PacketHeaders {
  /** The outermost EtherType, or undefined when the packet is shorter than an Ethernet header. */
  readonly etherType: number | undefined;
  /** Broadcast, multicast, or (any other address is taken to be the device's own) host. */
  readonly pktType: number;
  /** The flow, when the packet carries a complete IPv4 or IPv6 header (inside up to two VLAN tags). */
  readonly flow: FlowInfo | undefined;
}

const u16 = (b: Uint8Array, o: number): number => (b[o] << 8) | b[o + 1];

/** Parses Ethernet (+ 802.1Q/802.1ad tags), IPv4/IPv6 and the TCP/UDP ports. Never throws. */
export function parseHeaders(packet: Uint8Array): PacketHeaders {
  if (packet.length < ETH_HLEN) return { etherType: undefined, pktType: PACKET_HOST, flow: undefined };
  const etherType = u16(packet, 12);
  const broadcast = packet.subarray(0, 6).every((b) => b === 0xff);
  const pktType = broadcast ? PACKET_BROADCAST : packet[0] & 1 ? PACKET_MULTICAST : PACKET_HOST;
  let type = etherType;
  let l3 = ETH_HLEN;
  for (let tags = 0; tags < 2 && (type === ETH_P_8021Q || type === ETH_P_8021AD); tags++) {
    if (packet.length < l3 + 4) return { etherType, pktType, flow: undefined };
    type = u16(packet, l3 + 2);
    l3 += 4;
  }
  return { etherType, pktType, flow: parseL3(packet, type, l3) };
}

function parseL3(p: Uint8Array, type: number, l3: number): FlowInfo | undefined {
  let family: number;
  let ipProtocol: number;
  let source: Uint8Array;
  let destination: Uint8Array;
  let l4: number;
  if (type === ETH_P_IP) {
    if (p.length < l3 + 20 || p[l3] >> 4 !== 4) return undefined;
    family = AF_INET;
    ipProtocol = p[l3 + 9];
    source = p.slice(l3 + 12, l3 + 16);
    destination = p.slice(l3 + 16, l3 + 20);
    l4 = l3 + (p[l3] & 0x0f) * 4;
    // A fragment after the first carries no transport header.
    if ((u16(p, l3 + 6) & 0x1fff) !== 0) l4 = -1;
  } else if (type === ETH_P_IPV6) {
    if (p.length < l3 + 40 || p[l3] >> 4 !== 6) return undefined;
    family = AF_INET6;
    ipProtocol = p[l3 + 6];
    source = p.slice(l3 + 8, l3 + 24);
    destination = p.slice(l3 + 24, l3 + 40);
    l4 = l3 + 40;
  } else {
    return undefined;
  }
  const hasPorts =
    (ipProtocol === IPPROTO_TCP || ipProtocol === IPPROTO_UDP) && l4 >= 0 && p.length >= l4 + 4;
  return {
    family,
    source,
    destination,
    ipProtocol,
    sourcePort: hasPorts ? u16(p, l4) : 0,
    destinationPort: hasPorts ? u16(p, l4 + 2) : 0,
  };
}
