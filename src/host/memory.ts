/**
 * The host's view of an instance's guest memory: typed reads and writes at guest addresses with the
 * guest's own bounds and permission checks (through GuestMemory), and the contract memory map.
 */
import { UsageError } from '../errors.js';
import type { GuestMemory } from '../vm/memory/guest-memory.js';
import { Slot, slotBase } from '../vm/memory/layout.js';

/** Where one region lives in guest address space. */
export interface RegionInfo {
  /** Guest address of the first byte. */
  readonly base: number;
  /** Size in bytes (0 when the module has no such data). */
  readonly size: number;
}

/** The contract memory map of an instance (see "Contracts" in docs/ARCHITECTURE.md). */
export interface InstanceLayout {
  /** Read-only data at 0x1000_0000. */
  readonly rodata: RegionInfo;
  /** Read-write data at 0x2000_0000. */
  readonly data: RegionInfo;
  /** Read-write heap at 0x3000_0000 (size set by the host). */
  readonly heap: RegionInfo;
  /** Stack frames at 0x7000_0000; r10 at entry is `base + size`. */
  readonly stack: RegionInfo;
}

export function instanceLayout(memory: GuestMemory): InstanceLayout {
  const info = (slot: number): RegionInfo =>
    Object.freeze({ base: slotBase(slot), size: memory.region(slot)?.size ?? 0 });
  return Object.freeze({
    rodata: info(Slot.RODATA),
    data: info(Slot.DATA),
    heap: info(Slot.HEAP),
    stack: info(Slot.STACK),
  });
}

/**
 * Guest memory as the host sees it. Out-of-bounds or forbidden accesses throw the MemoryFault a guest
 * would get; inside a host function it carries the pc of the guest's call, elsewhere pc -1.
 */
export class InstanceMemory {
  /** @internal pc of the host call in progress, or -1. */
  pc = -1;

  constructor(private readonly guest: GuestMemory) {}

  /** Copies `length` bytes out of guest memory. */
  read(address: bigint | number, length: number): Uint8Array {
    const h = this.guest.checked(address, length, 'read', this.pc);
    return this.guest.u8.slice(h, h + length);
  }

  write(address: bigint | number, bytes: Uint8Array): void {
    this.guest.u8.set(bytes, this.guest.checked(address, bytes.length, 'write', this.pc));
  }

  readU8(address: bigint | number): number {
    return this.guest.u8[this.guest.checked(address, 1, 'read', this.pc)];
  }

  writeU8(address: bigint | number, value: number): void {
    this.guest.u8[this.guest.checked(address, 1, 'write', this.pc)] = value;
  }

  readU32(address: bigint | number): number {
    return this.guest.view.getUint32(this.guest.checked(address, 4, 'read', this.pc), true);
  }

  writeU32(address: bigint | number, value: number): void {
    this.guest.view.setUint32(this.guest.checked(address, 4, 'write', this.pc), value >>> 0, true);
  }

  readU64(address: bigint | number): bigint {
    return this.guest.view.getBigUint64(this.guest.checked(address, 8, 'read', this.pc), true);
  }

  writeU64(address: bigint | number, value: bigint): void {
    this.guest.view.setBigUint64(
      this.guest.checked(address, 8, 'write', this.pc),
      BigInt.asUintN(64, value),
      true,
    );
  }

  /** Decodes `length` bytes of UTF-8 at `address` (e.g. a `(ptr, len)` string argument). */
  readString(address: bigint | number, length: number): string {
    const h = this.guest.checked(address, length, 'read', this.pc);
    return decoder.decode(this.guest.u8.subarray(h, h + length));
  }

  /**
   * Decodes the NUL-terminated UTF-8 string at `address` (a `const char *` from the guest), reading at
   * most `maxLength` bytes: a MemoryFault if it runs off its region, a UsageError without a NUL.
   */
  readCString(address: bigint | number, maxLength = 4096): string {
    const start = BigInt(address);
    for (let n = 0; n < maxLength; n++) {
      const h = this.guest.checked(start + BigInt(n), 1, 'read', this.pc);
      if (this.guest.u8[h] === 0) return n === 0 ? '' : this.readString(start, n);
    }
    throw new UsageError(
      `no NUL within ${maxLength} bytes of 0x${start.toString(16)}`,
      {},
      { hint: 'pass a larger maxLength, or read a (pointer, length) string with readString' },
    );
  }
}

const decoder = new TextDecoder();
