/**
 * RINGBUF (kernel/bpf/ringbuf.c semantics). The data area lives in guest memory so bpf_ringbuf_reserve
 * returns a real pointer. Every record starts with the kernel's 8-byte header {u32 len; u32 pg_off},
 * where len carries BPF_RINGBUF_BUSY_BIT until submit/discard and BPF_RINGBUF_DISCARD_BIT after a
 * discard; records are 8-byte aligned and positions grow forever (offset = position & mask).
 *
 * The kernel maps the data pages twice back to back so a record that wraps is contiguous. The arena
 * block here is twice the ring size for the same reason: the part of a record past the end is written
 * into the mirror half and copied to the ring's start when the record is committed.
 */
import { UsageError } from '../../errors.js';
import type { Arena, Block } from './arena.js';
import {
  BPF_RB_AVAIL_DATA,
  BPF_RB_CONS_POS,
  BPF_RB_FORCE_WAKEUP,
  BPF_RB_NO_WAKEUP,
  BPF_RB_PROD_POS,
  BPF_RB_RING_SIZE,
  BPF_RINGBUF_BUSY_BIT,
  BPF_RINGBUF_DISCARD_BIT,
  BPF_RINGBUF_HDR_SZ,
  EAGAIN,
  EINVAL,
  ENOTSUPP,
  PAGE_SIZE,
} from './constants.js';
import { BpfMap, type MapEnv, requireDef } from './map.js';
import type { MapDefinition } from './map-def.js';

const LEN_MASK = ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT) >>> 0;
/** The kernel's RINGBUF_MAX_RECORD_SZ (UINT_MAX / 4). */
const MAX_RECORD = 0x3fffffff;

const recordLength = (size: number): number => Math.ceil((size + BPF_RINGBUF_HDR_SZ) / 8) * 8;

/** Outcome of committing a record pointer. */
export type CommitResult = 'ok' | 'bad_pointer';

export class RingBuf extends BpfMap {
  /** Data size in bytes (max_entries): a power of two, a multiple of the page size. */
  readonly capacity: number;
  private readonly mask: number;
  private readonly block: Block;
  private consumerPos = 0;
  private producerPos = 0;
  /** Position of the oldest record not yet committed (equal to producerPos when none is pending). */
  private pendingPos = 0;

  static storageBytes(def: MapDefinition): number {
    return 2 * def.maxEntries;
  }

  constructor(def: MapDefinition, env: MapEnv, arena: Arena) {
    super(def, env);
    const n = def.maxEntries;
    requireDef(def, def.keySize === 0 && def.valueSize === 0, 'ringbuf key_size and value_size must be 0');
    requireDef(
      def,
      Number.isInteger(n) && n >= PAGE_SIZE && (n & (n - 1)) === 0 && n <= 1 << 26,
      'ringbuf max_entries must be a power of two, a multiple of the 4096-byte page size, at most 64 MiB',
    );
    this.capacity = n;
    this.mask = n - 1;
    this.block = arena.take(2 * n);
  }

  private view(): DataView {
    return this.env.memory.view;
  }

  /** Advances pendingPos past records already committed (their BUSY bit cleared). */
  private settle(): void {
    const dv = this.view();
    while (this.pendingPos < this.producerPos) {
      const len = dv.getUint32(this.block.host + (this.pendingPos & this.mask), true);
      if (len & BPF_RINGBUF_BUSY_BIT) break;
      this.pendingPos += recordLength(len & LEN_MASK);
    }
  }

  /** bpf_ringbuf_reserve: guest address of `size` writable bytes, or 0 (NULL) when they do not fit. */
  reserve(size: number, flags: number): number {
    if (flags !== 0 || size < 0 || size > MAX_RECORD) return 0;
    const len = recordLength(size);
    if (len > this.capacity) return 0;
    this.settle();
    const next = this.producerPos + len;
    // The kernel keeps both the unconsumed span and the uncommitted span below the ring size.
    if (next - this.consumerPos > this.mask || next - this.pendingPos > this.mask) return 0;
    const off = this.producerPos & this.mask;
    const dv = this.view();
    dv.setUint32(this.block.host + off, (size | BPF_RINGBUF_BUSY_BIT) >>> 0, true);
    dv.setUint32(this.block.host + off + 4, Math.floor(off / PAGE_SIZE), true);
    this.producerPos = next;
    return this.block.guest + off + BPF_RINGBUF_HDR_SZ;
  }

  /** Whether `sample` points into this ring's data (where reserved records start). */
  contains(sample: number): boolean {
    const off = sample - this.block.guest;
    return off >= BPF_RINGBUF_HDR_SZ && off < this.capacity + BPF_RINGBUF_HDR_SZ;
  }

  /**
   * bpf_ringbuf_submit / bpf_ringbuf_discard of the record at guest address `sample`. A pointer that is
   * not a reserved, uncommitted record is `bad_pointer` (the verifier makes that impossible in the kernel).
   */
  commit(sample: number, discard: boolean): CommitResult {
    const off = sample - BPF_RINGBUF_HDR_SZ - this.block.guest;
    if (off < 0 || off >= this.capacity || off % 8 !== 0) return 'bad_pointer';
    const dv = this.view();
    const h = this.block.host + off;
    const len = dv.getUint32(h, true);
    if (!(len & BPF_RINGBUF_BUSY_BIT)) return 'bad_pointer';
    const size = len & LEN_MASK;
    const end = off + recordLength(size);
    if (end > this.capacity) {
      // Bring the part written into the mirror half back to the ring's start.
      const u8 = this.env.memory.u8;
      u8.copyWithin(this.block.host, this.block.host + this.capacity, this.block.host + end);
    }
    dv.setUint32(h, (size | (discard ? BPF_RINGBUF_DISCARD_BIT : 0)) >>> 0, true);
    this.settle();
    return 'ok';
  }

  /** bpf_ringbuf_output: copies `size` bytes from `src[off..]` as one record; 0, -EINVAL or -EAGAIN. */
  output(src: Uint8Array, off: number, size: number, flags: number): number {
    if (flags < 0 || flags > (BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP)) return -EINVAL;
    const sample = this.reserve(size, 0);
    if (sample === 0) return -EAGAIN;
    const h = sample - this.block.guest + this.block.host;
    this.env.memory.u8.set(src.subarray(off, off + size), h);
    this.commit(sample, false);
    return 0;
  }

  /** bpf_ringbuf_query. */
  query(flags: number): number {
    switch (flags) {
      case BPF_RB_AVAIL_DATA:
        return this.producerPos - this.consumerPos;
      case BPF_RB_RING_SIZE:
        return this.capacity;
      case BPF_RB_CONS_POS:
        return this.consumerPos;
      case BPF_RB_PROD_POS:
        return this.producerPos;
      default:
        return 0;
    }
  }

  // ------------------------------------------------------------------ consumer (host) side
  /**
   * Takes committed records in order, like ring_buffer__consume: stops at the first record still
   * reserved, skips discarded ones, and frees the space of everything it passed.
   */
  consume(limit = Number.POSITIVE_INFINITY): Uint8Array[] {
    const out: Uint8Array[] = [];
    const dv = this.view();
    const u8 = this.env.memory.u8;
    while (this.consumerPos < this.producerPos && out.length < limit) {
      const off = this.consumerPos & this.mask;
      const len = dv.getUint32(this.block.host + off, true);
      if (len & BPF_RINGBUF_BUSY_BIT) break;
      const size = len & LEN_MASK;
      if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
        const record = new Uint8Array(size);
        for (let i = 0; i < size; i++) {
          record[i] = u8[this.block.host + ((off + BPF_RINGBUF_HDR_SZ + i) & this.mask)];
        }
        out.push(record);
      }
      this.consumerPos += recordLength(size);
    }
    return out;
  }

  /** Committed, not discarded records not yet consumed, without consuming them. */
  peekRecords(): Uint8Array[] {
    const saved = this.consumerPos;
    const out = this.consume();
    this.consumerPos = saved;
    return out;
  }

  /**
   * Ring buffers have no elements: the kernel answers syscall lookups, updates and deletes with
   * -ENOTSUPP (lookup finds nothing here); records are read with `consume`.
   */
  lookup(key: Uint8Array): Uint8Array | undefined {
    if (key.length !== 0) throw new UsageError(`map "${this.name}": ringbuf maps have no keys`);
    return undefined;
  }

  update(_key: Uint8Array, _value: Uint8Array, _flags = 0): number {
    return -ENOTSUPP;
  }

  delete(_key: Uint8Array): number {
    return -ENOTSUPP;
  }

  nextKey(_key: Uint8Array | null): Uint8Array | undefined {
    return undefined;
  }

  override entries(): [] {
    return [];
  }
}
