/**
 * The context of socket filters and tc programs: a `struct __sk_buff` describing the input packet,
 * whose data/data_end/data_meta fields hold the guest addresses of the packet window.
 */
import type { GuestMemory } from '../../vm/memory/guest-memory.js';
import { Slot } from '../../vm/memory/layout.js';
import { SKB_HEADROOM } from '../helpers/packet-context.js';
import { ContextImage, type ContextResult, type ProgramContext } from './context.js';
import { ETH_P_8021Q, parseHeaders } from './headers.js';
import { childPath, expectArray, expectInteger, formatError, type JsonObject } from './json.js';
import { type ContextAccess, field, readField, readInt, writeField } from './layout.js';
import { PacketBuffer, packetDataAddress } from './packet.js';
import {
  SK_BUFF,
  SKB_INPUT_FIELDS,
  SKB_U64_FIELDS,
  SOCKET_FILTER_ACCESS,
  TC_ACCESS,
  TC_ACTIONS,
} from './skb.js';
import type { SimulatedTask } from './task.js';

/** ifindex of the simulated receiving device (1 is loopback; the first real NIC is 2). */
export const DEFAULT_IFINDEX = 2;

/** Program types whose context is a `struct __sk_buff` over a packet (socket filters and tc). */
export const SKB_PROGRAM_TYPES = ['socket_filter', 'sched_cls', 'sched_act'] as const;
export type SkbProgramType = (typeof SKB_PROGRAM_TYPES)[number];

export function isSkbProgramType(type: string): type is SkbProgramType {
  return (SKB_PROGRAM_TYPES as readonly string[]).includes(type);
}

/** Program types that run on a packet: the __sk_buff ones and XDP. */
export function isPacketProgramType(type: string): boolean {
  return type === 'xdp' || isSkbProgramType(type);
}

/** Builds the __sk_buff of `packet` with the IN.json field overrides in `input`. */
export function skbImage(packet: Uint8Array, input: JsonObject, data: number, dataEnd: number): Uint8Array {
  const b = new Uint8Array(SK_BUFF.size);
  const set = (name: string, value: bigint | number) => writeField(b, SK_BUFF, name, value);
  /** Network byte order in a u32 field: the two big-endian bytes first, as the kernel's __be16. */
  const setBe16 = (name: string, value: number) => {
    const o = field(SK_BUFF, name).offset;
    b[o] = value >> 8;
    b[o + 1] = value & 0xff;
  };
  const headers = parseHeaders(packet);
  set('len', packet.length);
  set('wire_len', packet.length);
  set('ifindex', DEFAULT_IFINDEX);
  set('ingress_ifindex', DEFAULT_IFINDEX);
  set('pkt_type', headers.pktType);
  if (headers.etherType !== undefined) setBe16('protocol', headers.etherType);
  const flow = headers.flow;
  if (flow !== undefined) {
    // Received packet: the remote end is the source, the local end the destination.
    set('family', flow.family);
    const four = flow.source.length === 4;
    b.set(flow.source, field(SK_BUFF, four ? 'remote_ip4' : 'remote_ip6').offset);
    b.set(flow.destination, field(SK_BUFF, four ? 'local_ip4' : 'local_ip6').offset);
    setBe16('remote_port', flow.sourcePort);
    set('local_port', flow.destinationPort);
  }
  set('data', data);
  set('data_end', dataEnd);
  set('data_meta', data);

  for (const name of SKB_INPUT_FIELDS) {
    const value = input[name];
    if (value === undefined) continue;
    if (name === 'cb') {
      const items = expectArray(value, name);
      if (items.length > 5) throw formatError(name, `cb has 5 elements, got ${items.length}`);
      for (const [i, v] of items.entries()) {
        writeField(b, SK_BUFF, 'cb', expectInteger(v, childPath(name, i), 32), i, 4);
      }
    } else if (name === 'protocol' || name === 'vlan_proto') {
      setBe16(name, Number(expectInteger(value, name, 16)));
    } else {
      set(name, expectInteger(value, name, SKB_U64_FIELDS.includes(name) ? 64 : 32));
    }
  }
  if (input.vlan_tci !== undefined) {
    set('vlan_present', 1);
    if (input.vlan_proto === undefined) setBe16('vlan_proto', ETH_P_8021Q);
  }
  return b;
}

export class SkbContext implements ProgramContext {
  readonly access: ContextAccess;
  readonly packet: PacketBuffer;
  readonly packetSlot = Slot.PACKET;
  private readonly image: ContextImage;

  constructor(
    memory: GuestMemory,
    readonly programType: SkbProgramType,
    readonly task: SimulatedTask,
    packet: Uint8Array,
    input: JsonObject,
  ) {
    const socket = programType === 'socket_filter';
    this.access = socket ? SOCKET_FILTER_ACCESS : TC_ACCESS;
    // Validate and build the struct first, so bad input maps nothing; the packet's address is fixed.
    const data = packetDataAddress(SKB_HEADROOM);
    const initial = skbImage(packet, input, data, data + packet.length);
    this.packet = new PacketBuffer(memory, packet, {
      kind: 'skb',
      headroom: SKB_HEADROOM,
      writable: !socket,
    });
    this.image = new ContextImage(memory, initial);
    this.packet.clearHash = () => writeField(this.image.bytes(), SK_BUFF, 'hash', 0);
    this.packet.onMove(() => {
      const b = this.image.bytes();
      writeField(b, SK_BUFF, 'data', this.packet.data);
      writeField(b, SK_BUFF, 'data_end', this.packet.dataEnd);
      writeField(b, SK_BUFF, 'data_meta', this.packet.dataMeta);
      writeField(b, SK_BUFF, 'len', this.packet.length);
    });
  }

  get r1(): bigint {
    return this.image.address;
  }

  reset(): void {
    this.image.reset();
    this.packet.reset();
  }

  result(r0: bigint): ContextResult {
    const b = this.image.bytes();
    const fields: Record<string, bigint | readonly bigint[]> = {};
    for (const f of this.access.writable) {
      fields[f.name] =
        f.name === 'cb'
          ? Array.from({ length: 5 }, (_, i) => readInt(b, f.offset + 4 * i, 4))
          : readField(b, SK_BUFF, f.name);
    }
    const packet = this.packet.bytes();
    if (this.programType === 'socket_filter') {
      // sk_filter_trim_cap: the u32 result is the number of bytes kept.
      const keep = Math.min(Number(r0 & 0xffffffffn), packet.length);
      return { kind: 'skb', packet, fields, keep };
    }
    const verdict = TC_ACTIONS[Number(BigInt.asIntN(32, r0))] ?? 'UNKNOWN';
    return { kind: 'skb', packet, fields, verdict };
  }
}
