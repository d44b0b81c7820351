/**
 * What the packet helpers need from a network program's context: the packet's bounds as guest
 * addresses, movable by the xdp_adjust_* helpers. The contexts module builds `__sk_buff` / `xdp_md`
 * over a PacketContext (its data/data_end/data_meta fields read these values); `PacketBuffer` is a
 * ready implementation over the PACKET slot that such a context can use as is.
 */
import type { GuestMemory, Region } from '../../vm/memory/guest-memory.js';
import { PERM_READ, PERM_WRITE, Slot } from '../../vm/memory/layout.js';

export interface PacketContext {
  /** `skb` for socket filter and tc programs, `xdp` for XDP programs. */
  readonly kind: 'skb' | 'xdp';
  /** Guest addresses: first byte of the packet, one past its last byte, first byte of metadata. */
  data: number;
  dataEnd: number;
  dataMeta: number;
  /** data_hard_start: the first byte of headroom. */
  readonly hardStart: number;
  /** The end of the buffer that the packet may grow into (xdp_data_hard_end: frame minus skb_shared_info). */
  readonly hardEnd: number;
  /** Whether the skb's data may be written by helpers (tc: yes; socket filters are read-only). */
  readonly writable: boolean;
  /** skb_clear_hash, for BPF_F_INVALIDATE_HASH; optional because XDP has no hash to clear. */
  clearHash?(): void;
}

/** XDP_PACKET_HEADROOM. */
export const XDP_HEADROOM = 256;
/** sizeof(struct xdp_frame), which the kernel keeps at data_hard_start, so data can never move below it. */
export const XDP_FRAME_SIZE = 40;
/** SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) on x86-64: reserved at the end of every XDP frame. */
export const SKB_SHARED_INFO_SIZE = 320;
/** NET_SKB_PAD: headroom in front of a received skb's data. */
export const SKB_HEADROOM = 64;
/** The usual XDP frame size (one page). */
export const XDP_FRAME_SZ = 4096;

export interface PacketBufferOptions {
  kind: 'skb' | 'xdp';
  /** Default true for XDP and tc-style skbs. */
  writable?: boolean;
  /** Headroom before the packet (default XDP_HEADROOM for xdp, SKB_HEADROOM for skb). */
  headroom?: number;
}

/** A packet in the PACKET slot: headroom, the bytes, and tailroom up to the frame's hard end. */
export class PacketBuffer implements PacketContext {
  readonly kind: 'skb' | 'xdp';
  readonly writable: boolean;
  readonly region: Region;
  readonly hardStart: number;
  readonly hardEnd: number;
  data: number;
  dataEnd: number;
  dataMeta: number;
  /** skb->hash (cleared by BPF_F_INVALIDATE_HASH). */
  hash = 0;

  constructor(
    private readonly memory: GuestMemory,
    packet: Uint8Array,
    options: PacketBufferOptions,
  ) {
    this.kind = options.kind;
    this.writable = options.writable ?? true;
    const headroom = options.headroom ?? (options.kind === 'xdp' ? XDP_HEADROOM : SKB_HEADROOM);
    const frame = Math.max(
      XDP_FRAME_SZ,
      Math.ceil((headroom + packet.length + SKB_SHARED_INFO_SIZE) / 64) * 64,
    );
    const perms = this.writable ? PERM_READ | PERM_WRITE : PERM_READ;
    this.region = memory.map(Slot.PACKET, 'packet', frame - SKB_SHARED_INFO_SIZE, perms);
    this.hardStart = this.region.guestBase;
    this.hardEnd = this.region.guestBase + this.region.size;
    this.data = this.hardStart + headroom;
    this.dataEnd = this.data + packet.length;
    this.dataMeta = this.data;
    memory.u8.set(packet, this.region.hostBase + headroom);
  }

  /** The packet's bytes now (after the program's writes and head/tail adjustments). */
  bytes(): Uint8Array {
    const at = this.region.hostBase + (this.data - this.hardStart);
    return this.memory.u8.slice(at, at + (this.dataEnd - this.data));
  }

  /** The metadata area [data_meta, data). */
  metadata(): Uint8Array {
    const at = this.region.hostBase + (this.dataMeta - this.hardStart);
    return this.memory.u8.slice(at, at + (this.data - this.dataMeta));
  }

  clearHash(): void {
    this.hash = 0;
  }
}
