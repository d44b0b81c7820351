/**
 * Storage of map values in guest memory. Every map is known before a program runs, so the arena maps
 * one read-write region in `Slot.MAP_VALUES` of the total size once and hands out 8-byte-aligned blocks;
 * maps never allocate guest memory afterwards (hash maps preallocate all slots, like the kernel).
 * Maps programs may only read (BPF_F_RDONLY_PROG, e.g. `.rodata`) get a second, read-only arena in
 * `Slot.RODATA`, so a program's write faults where the kernel's verifier would refuse it.
 */
import type { GuestMemory } from '../../vm/memory/guest-memory.js';
import { PERM_READ, PERM_WRITE, Slot } from '../../vm/memory/layout.js';

export interface Block {
  /** Guest address of the first byte. */
  readonly guest: number;
  /** Offset of the first byte in `memory.u8` (stable: the linear memory only grows). */
  readonly host: number;
  readonly size: number;
}

export const align8 = (n: number): number => Math.ceil(n / 8) * 8;

export class Arena {
  private used = 0;
  private readonly guestBase: number;
  private readonly hostBase: number;

  /**
   * Maps the region for `total` bytes (the sum of `align8` of every block that will be taken; at most
   * MAX_REGION_SIZE — callers check, to name the map that does not fit).
   */
  constructor(
    readonly memory: GuestMemory,
    readonly total: number,
    readOnly = false,
  ) {
    const region = readOnly
      ? memory.map(Slot.RODATA, 'read-only map values', total, PERM_READ)
      : memory.map(Slot.MAP_VALUES, 'map values', total, PERM_READ | PERM_WRITE);
    this.guestBase = region.guestBase;
    this.hostBase = region.hostBase;
  }

  /** Takes the next block of `size` bytes (zeroed: the region starts zeroed and blocks never overlap). */
  take(size: number): Block {
    const start = this.used;
    const end = start + align8(size);
    if (end > this.total) throw new RangeError(`arena of ${this.total} bytes exhausted taking ${size}`);
    this.used = end;
    return { guest: this.guestBase + start, host: this.hostBase + start, size };
  }

  get free(): number {
    return this.total - this.used;
  }
}
