/**
 * The packet of network program types in Slot.PACKET: one buffer laid out like the kernel's
 * (headroom, optional XDP metadata, data, tailroom), of which only the window the program may touch
 * is mapped. The window is [data_meta, data_end) for XDP and [data, data_end) for __sk_buff types, so
 * LD_ABS/LD_IND (which read from the window start) see offset 0 at `data`, and every byte outside the
 * packet faults like an access the kernel's verifier would refuse.
 *
 * It is the helpers' PacketContext: bpf_xdp_adjust_head/tail/meta move data/data_end/data_meta
 * through the setters, and the window and the context struct's pointer fields follow.
 */
import { UsageError } from '../../errors.js';
import type { GuestMemory, Region } from '../../vm/memory/guest-memory.js';
import {
  MAX_REGION_SIZE,
  PERM_READ,
  PERM_WRITE,
  Slot,
  slotBase,
  TABLE_STRIDE,
  writeTableEntry,
} from '../../vm/memory/layout.js';
import { XDP_META_MAX } from '../helpers/packet.js';
import { type PacketContext, SKB_SHARED_INFO_SIZE } from '../helpers/packet-context.js';
import { alignUp } from './layout.js';

/** Largest XDP metadata (xdp_metalen_invalid, Linux 6.16+), shared with bpf_xdp_adjust_meta. */
export const XDP_MAX_META = XDP_META_MAX;

export interface PacketOptions {
  readonly kind: 'skb' | 'xdp';
  /** Bytes before `data` in the buffer. */
  readonly headroom: number;
  /** XDP metadata right before `data` (a multiple of 4, at most XDP_MAX_META bytes). */
  readonly meta?: Uint8Array;
  /** Direct packet writes allowed (tc, XDP) or not (socket filters). */
  readonly writable: boolean;
}

/** Guest address where `data` starts for a packet with `headroom` (known before anything is mapped). */
export function packetDataAddress(headroom: number): number {
  return slotBase(Slot.PACKET) + headroom;
}

/** Buffer size of a frame holding `headroom + length` bytes: a page, or whole pages when larger. */
export function frameSize(headroom: number, length: number): number {
  return alignUp(headroom + length + SKB_SHARED_INFO_SIZE, 4096);
}

export class PacketBuffer implements PacketContext {
  readonly kind: 'skb' | 'xdp';
  readonly writable: boolean;
  readonly region: Region;
  /** data_hard_start and xdp_data_hard_end, as guest addresses. */
  readonly hardStart: number;
  readonly hardEnd: number;
  /** skb_clear_hash (BPF_F_INVALIDATE_HASH); set by the __sk_buff context. */
  clearHash?: () => void;
  private meta0: number;
  private data0: number;
  private end0: number;
  private readonly initial: Uint8Array;
  private readonly initialPointers: readonly [number, number, number];
  private readonly listeners: (() => void)[] = [];

  constructor(
    private readonly memory: GuestMemory,
    packet: Uint8Array,
    options: PacketOptions,
  ) {
    const meta = options.meta ?? new Uint8Array(0);
    if (meta.length > XDP_MAX_META || meta.length % 4 !== 0) {
      throw new UsageError(
        `XDP metadata of ${meta.length} bytes: it must be a multiple of 4, at most ${XDP_MAX_META}`,
      );
    }
    const size = frameSize(options.headroom, packet.length);
    if (size > MAX_REGION_SIZE) throw new UsageError(`packet of ${packet.length} bytes is too large`);
    this.kind = options.kind;
    this.writable = options.writable;
    this.initial = new Uint8Array(size);
    this.initial.set(meta, options.headroom - meta.length);
    this.initial.set(packet, options.headroom);
    // Mapped read-write; the window narrows what the guest sees and whether it may write.
    this.region = memory.map(Slot.PACKET, 'packet', size, PERM_READ | PERM_WRITE, this.initial);
    this.hardStart = this.region.guestBase;
    this.hardEnd = this.region.guestBase + size - SKB_SHARED_INFO_SIZE;
    const data = this.hardStart + options.headroom;
    this.initialPointers = [data - meta.length, data, data + packet.length];
    [this.meta0, this.data0, this.end0] = this.initialPointers;
    this.applyWindow();
  }

  /** Calls `listener` whenever data_meta, data or data_end move (the context struct mirrors them). */
  onMove(listener: () => void): void {
    this.listeners.push(listener);
  }

  get dataMeta(): number {
    return this.meta0;
  }
  set dataMeta(address: number) {
    this.meta0 = address;
    this.moved();
  }
  get data(): number {
    return this.data0;
  }
  set data(address: number) {
    this.data0 = address;
    this.moved();
  }
  get dataEnd(): number {
    return this.end0;
  }
  set dataEnd(address: number) {
    this.end0 = address;
    this.moved();
  }

  get length(): number {
    return this.end0 - this.data0;
  }

  /** Packet bytes between data and data_end, now. */
  bytes(): Uint8Array {
    return this.slice(this.data0, this.end0);
  }

  /** Metadata bytes between data_meta and data, now. */
  meta(): Uint8Array {
    return this.slice(this.meta0, this.data0);
  }

  private slice(from: number, to: number): Uint8Array {
    const h = this.region.hostBase - this.hardStart;
    return this.memory.u8.slice(h + from, h + to);
  }

  /** Restores the original bytes and pointers, for the next run of a repeated event. */
  reset(): void {
    this.memory.u8.set(this.initial, this.region.hostBase);
    [this.meta0, this.data0, this.end0] = this.initialPointers;
    this.moved();
  }

  private moved(): void {
    this.applyWindow();
    for (const listener of this.listeners) listener();
  }

  /**
   * Points the packet slot's region-table entry at the window (the stack narrows its slot the same
   * way). A pointer outside the buffer (only a buggy caller sets one) leaves nothing mapped.
   */
  private applyWindow(): void {
    const start = (this.kind === 'xdp' ? this.meta0 : this.data0) - this.hardStart;
    const end = this.end0 - this.hardStart;
    const valid = start >= 0 && start <= end && end <= this.region.size;
    const length = valid ? end - start : 0;
    const at = Slot.PACKET * TABLE_STRIDE;
    const s = valid ? start : 0;
    const table = this.memory.table;
    writeTableEntry(table, at, Slot.PACKET, s, length, this.writable ? length : 0, this.region.hostBase + s);
  }
}
