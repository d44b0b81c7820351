/**
 * The packet of network program types in Slot.PACKET: one buffer laid out like the kernel's
 * (headroom, optional XDP metadata, data, tailroom), of which only the window the program may touch
 * is mapped. The window is [data_meta, data_end) for XDP and [data, data_end) for __sk_buff types, so
 * LD_ABS/LD_IND (which read from the window start) see offset 0 at `data`, and every byte outside the
 * packet faults like an access the kernel's verifier would refuse.
 */
import { UsageError } from '../../errors.js';
import type { GuestMemory, Region } from '../../vm/memory/guest-memory.js';
import {
  MAX_REGION_SIZE,
  PERM_READ,
  PERM_WRITE,
  Slot,
  TABLE_HOST_BASE,
  TABLE_LEN_READ,
  TABLE_LEN_WRITE,
  TABLE_START,
  TABLE_STRIDE,
} from '../../vm/memory/layout.js';
import { ETH_HLEN } from './headers.js';
import { alignUp } from './layout.js';

const EINVAL = 22;
const EACCES = 13;

/** XDP_PACKET_HEADROOM: the headroom drivers leave before an XDP frame's data. */
export const XDP_PACKET_HEADROOM = 256;
/** sizeof(struct xdp_frame) on 64-bit: bpf_xdp_adjust_head may not move data into it. */
export const XDP_FRAME_SIZE = 40;
/** SKB_DATA_ALIGN(sizeof(struct skb_shared_info)): reserved at the end of every frame. */
export const SKB_SHARED_INFO_SIZE = 320;
/** NET_SKB_PAD: headroom of a received sk_buff. */
export const NET_SKB_PAD = 64;
/** Largest XDP metadata (xdp_metalen_invalid: at most 32 bytes, a multiple of 4). */
export const XDP_MAX_META = 32;

export interface PacketOptions {
  /** Bytes before `data` in the buffer. */
  readonly headroom: number;
  /** XDP metadata right before `data` (a multiple of 4, at most 32 bytes). */
  readonly meta?: Uint8Array;
  /** Whether the window starts at data_meta (XDP) or at data (sk_buff types). */
  readonly windowFromMeta: boolean;
  /** Direct packet writes allowed (tc, XDP) or not (socket filters). */
  readonly writable: boolean;
}

/** Offsets of the packet pointers inside the buffer. */
export interface PacketGeometry {
  readonly meta: number;
  readonly data: number;
  readonly end: number;
}

/** Buffer size of a frame holding `headroom + length` bytes: a page, or whole pages when larger. */
export function frameSize(headroom: number, length: number): number {
  return alignUp(headroom + length + SKB_SHARED_INFO_SIZE, 4096);
}

export class PacketBuffer {
  readonly region: Region;
  /** Where data_end may grow to (xdp_data_hard_end). */
  readonly hardEnd: number;
  private geometry: PacketGeometry;
  private readonly initial: Uint8Array;
  private readonly initialGeometry: PacketGeometry;
  private readonly listeners: ((g: PacketGeometry) => void)[] = [];

  constructor(
    private readonly memory: GuestMemory,
    packet: Uint8Array,
    private readonly options: PacketOptions,
  ) {
    const meta = options.meta ?? new Uint8Array(0);
    if (meta.length > XDP_MAX_META || meta.length % 4 !== 0) {
      throw new UsageError(`XDP metadata of ${meta.length} bytes: it must be a multiple of 4, at most 32`);
    }
    const size = frameSize(options.headroom, packet.length);
    if (size > MAX_REGION_SIZE) throw new UsageError(`packet of ${packet.length} bytes is too large`);
    this.hardEnd = size - SKB_SHARED_INFO_SIZE;
    this.initial = new Uint8Array(size);
    const data = options.headroom;
    this.initial.set(meta, data - meta.length);
    this.initial.set(packet, data);
    this.initialGeometry = { meta: data - meta.length, data, end: data + packet.length };
    this.geometry = this.initialGeometry;
    // Mapped read-write; the window below narrows what the guest sees.
    this.region = memory.map(Slot.PACKET, 'packet', size, PERM_READ | PERM_WRITE, this.initial);
    this.applyWindow();
  }

  /** Calls `listener` whenever data_meta, data or data_end move (the context mirrors them). */
  onMove(listener: (g: PacketGeometry) => void): void {
    this.listeners.push(listener);
  }

  get offsets(): PacketGeometry {
    return this.geometry;
  }

  /** Guest addresses of data_meta, data and data_end (all below 4 GiB, so they fit u32 fields). */
  get dataMeta(): number {
    return this.region.guestBase + this.geometry.meta;
  }
  get data(): number {
    return this.region.guestBase + this.geometry.data;
  }
  get dataEnd(): number {
    return this.region.guestBase + this.geometry.end;
  }
  get length(): number {
    return this.geometry.end - this.geometry.data;
  }

  /** Packet bytes between data and data_end, now. */
  bytes(): Uint8Array {
    return this.slice(this.geometry.data, this.geometry.end);
  }

  /** Metadata bytes between data_meta and data, now. */
  meta(): Uint8Array {
    return this.slice(this.geometry.meta, this.geometry.data);
  }

  private slice(from: number, to: number): Uint8Array {
    const h = this.region.hostBase;
    return this.memory.u8.slice(h + from, h + to);
  }

  /** Restores the original bytes and pointers, for the next run of a repeated event. */
  reset(): void {
    this.memory.u8.set(this.initial, this.region.hostBase);
    this.move(this.initialGeometry);
  }

  /** bpf_xdp_adjust_head: moves data (and the metadata with it) by `delta`; 0 or -EINVAL. */
  adjustHead(delta: number): number {
    const { meta, data, end } = this.geometry;
    const metaLength = data - meta;
    const next = data + delta;
    if (next < XDP_FRAME_SIZE + metaLength || next > end - ETH_HLEN) return -EINVAL;
    if (metaLength > 0) this.memory.u8.copyWithin(this.host(meta + delta), this.host(meta), this.host(data));
    this.move({ meta: meta + delta, data: next, end });
    return 0;
  }

  /** bpf_xdp_adjust_tail: moves data_end by `delta`, zeroing grown bytes; 0 or -EINVAL. */
  adjustTail(delta: number): number {
    const { meta, data, end } = this.geometry;
    const next = end + delta;
    if (next > this.hardEnd || next < data + ETH_HLEN) return -EINVAL;
    if (delta > 0) this.memory.u8.fill(0, this.host(end), this.host(next));
    this.move({ meta, data, end: next });
    return 0;
  }

  /** bpf_xdp_adjust_meta: moves data_meta by `delta`; 0, -EINVAL or -EACCES (bad metadata length). */
  adjustMeta(delta: number): number {
    const { meta, data, end } = this.geometry;
    const next = meta + delta;
    if (next < XDP_FRAME_SIZE || next > data) return -EINVAL;
    const length = data - next;
    if (length > XDP_MAX_META || length % 4 !== 0) return -EACCES;
    this.move({ meta: next, data, end });
    return 0;
  }

  private host(offset: number): number {
    return this.region.hostBase + offset;
  }

  private move(g: PacketGeometry): void {
    this.geometry = g;
    this.applyWindow();
    for (const listener of this.listeners) listener(g);
  }

  /** Points the packet slot's region-table entry at the window (the stack narrows its slot the same way). */
  private applyWindow(): void {
    const start = this.options.windowFromMeta ? this.geometry.meta : this.geometry.data;
    const length = this.geometry.end - start;
    const t = Slot.PACKET * TABLE_STRIDE;
    const table = this.memory.table;
    table[t + TABLE_START] = start;
    table[t + TABLE_LEN_READ] = length;
    table[t + TABLE_LEN_WRITE] = this.options.writable ? length : 0;
    table[t + TABLE_HOST_BASE] = this.region.hostBase + start;
  }
}
