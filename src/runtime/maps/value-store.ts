/**
 * Fixed-size value slots in an arena block, optionally one copy per CPU (per-CPU maps), plus the free
 * list that hash-like maps use to reuse slots without allocating.
 */
import type { GuestMemory } from '../../vm/memory/guest-memory.js';
import { type Arena, align8, type Block } from './arena.js';

/** Selects every CPU's copy (host writes to per-CPU maps replicate the value). */
export const ALL_CPUS = -1;

export class ValueStore {
  /** Bytes between two CPUs' copies of one slot (the kernel rounds per-CPU values up to 8). */
  readonly cpuStride: number;
  /** Bytes between two slots. */
  readonly stride: number;
  private readonly block: Block;

  constructor(
    private readonly memory: GuestMemory,
    arena: Arena,
    readonly slots: number,
    readonly valueSize: number,
    /** Copies per slot: the CPU count for per-CPU maps, else 1. */
    readonly copies: number,
  ) {
    this.cpuStride = align8(valueSize);
    this.stride = this.cpuStride * copies;
    this.block = arena.take(this.stride * slots);
  }

  static bytes(slots: number, valueSize: number, copies: number): number {
    return align8(valueSize) * copies * slots;
  }

  /** Guest address of `slot`'s copy for `cpu` (copy 0 for maps that are not per CPU). */
  address(slot: number, cpu: number): number {
    return this.block.guest + slot * this.stride + (this.copies === 1 ? 0 : cpu * this.cpuStride);
  }

  host(slot: number, cpu: number): number {
    return this.block.host + slot * this.stride + (this.copies === 1 ? 0 : cpu * this.cpuStride);
  }

  /**
   * Writes `valueSize` bytes from `src[off..]` into one CPU's copy, or into every copy with ALL_CPUS.
   * With `zeroOthers`, the other CPUs' copies are cleared (a program creating a per-CPU element).
   */
  write(slot: number, cpu: number, src: Uint8Array, off: number, zeroOthers = false): void {
    const u8 = this.memory.u8;
    const end = off + this.valueSize;
    for (let c = 0; c < this.copies; c++) {
      const h = this.host(slot, c);
      if (cpu === ALL_CPUS || c === cpu || this.copies === 1) {
        // Values coming from guest memory are copied inside the buffer, without a subarray view.
        if (src === u8) u8.copyWithin(h, off, end);
        else u8.set(src.subarray(off, end), h);
      } else if (zeroOthers) u8.fill(0, h, h + this.valueSize);
    }
  }

  read(slot: number, cpu: number): Uint8Array {
    const h = this.host(slot, cpu);
    return this.memory.u8.slice(h, h + this.valueSize);
  }

  readAll(slot: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let c = 0; c < this.copies; c++) out.push(this.read(slot, c));
    return out;
  }

  zero(slot: number): void {
    const h = this.host(slot, 0);
    this.memory.u8.fill(0, h, h + this.stride);
  }
}

/** A stack of free slot numbers 0..capacity-1 (lowest first), allocation-free after construction. */
export class SlotPool {
  private readonly stack: Int32Array;
  private top: number;

  constructor(readonly capacity: number) {
    this.stack = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.stack[i] = capacity - 1 - i;
    this.top = capacity;
  }

  /** A free slot, or -1 when all are in use. */
  take(): number {
    return this.top === 0 ? -1 : this.stack[--this.top];
  }

  give(slot: number): void {
    this.stack[this.top++] = slot;
  }

  get used(): number {
    return this.capacity - this.top;
  }
}
