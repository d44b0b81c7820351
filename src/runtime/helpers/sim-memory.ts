/**
 * Simulated kernel and user address spaces. Each is one region of guest memory in a free slot (see
 * vm/memory/layout.ts) that the host fills through a bump allocator. Kernel memory is mapped read-only,
 * so BTF pointers (bpf_get_current_task_btf) can be dereferenced directly as in tp_btf/fentry programs;
 * user memory is mapped with no permissions, because a BPF program can never load from a user pointer:
 * it must go through bpf_probe_read_user, which reads the region here on the host side.
 */
import { UsageError } from '../../errors.js';
import type { GuestMemory, Region } from '../../vm/memory/guest-memory.js';
import { PERM_READ } from '../../vm/memory/layout.js';

/** Slots of the simulated address spaces (free slots 9..15 of the layout; 15 holds map handles). */
export const KERNEL_SLOT = 9;
export const USER_SLOT = 10;

export const DEFAULT_KERNEL_MEMORY_SIZE = 1 << 16;
export const DEFAULT_USER_MEMORY_SIZE = 1 << 16;

export class SimulatedMemory {
  readonly region: Region;
  /** Offset of the first free byte; `reserved` bytes at the start belong to the runtime. */
  private top: number;

  /** Wraps a mapped region; its first `reserved` bytes are not handed out by `alloc`. */
  constructor(
    private readonly memory: GuestMemory,
    region: Region,
    readonly reserved = 0,
  ) {
    this.region = region;
    this.top = reserved;
  }

  get base(): number {
    return this.region.guestBase;
  }

  get size(): number {
    return this.region.size;
  }

  /** True when `length` bytes at `address` lie inside this space. */
  contains(address: bigint | number, length: number): boolean {
    return this.hostOffset(address, length) >= 0;
  }

  /** Host offset of `length` bytes at `address`, or -1 when they are not all inside this space. */
  hostOffset(address: bigint | number, length: number): number {
    const a = typeof address === 'bigint' ? address : BigInt(address);
    const o = a - BigInt(this.region.guestBase);
    if (o < 0n || o + BigInt(length) > BigInt(this.region.size)) return -1;
    return this.region.hostBase + Number(o);
  }

  /** Copies `bytes` to `address` (host side, whatever the guest's permissions). */
  write(address: bigint | number, bytes: Uint8Array): void {
    const h = this.hostOffset(address, bytes.length);
    if (h < 0) {
      throw new UsageError(
        `${this.region.name} memory: ${bytes.length} bytes at 0x${address.toString(16)} are outside [0x${this.base.toString(16)}, 0x${(this.base + this.size).toString(16)})`,
      );
    }
    this.memory.u8.set(bytes, h);
  }

  read(address: bigint | number, length: number): Uint8Array {
    const h = this.hostOffset(address, length);
    if (h < 0)
      throw new UsageError(
        `${this.region.name} memory: ${length} bytes at 0x${address.toString(16)} are unmapped`,
      );
    return this.memory.u8.slice(h, h + length);
  }

  /** Places `bytes` at the next free 8-byte-aligned address and returns that address. */
  alloc(bytes: Uint8Array | number): number {
    const length = typeof bytes === 'number' ? bytes : bytes.length;
    const at = Math.ceil(this.top / 8) * 8;
    if (at + length > this.region.size) {
      throw new UsageError(
        `${this.region.name} memory is full: ${length} more bytes do not fit in ${this.region.size}`,
        {},
        { hint: 'raise kernelMemorySize / userMemorySize in the runtime options' },
      );
    }
    this.top = at + length;
    const address = this.base + at;
    if (typeof bytes !== 'number') this.write(address, bytes);
    return address;
  }

  /** Places a NUL-terminated UTF-8 string and returns its address (e.g. an execve filename). */
  allocString(text: string): number {
    const utf8 = new TextEncoder().encode(text);
    const bytes = new Uint8Array(utf8.length + 1);
    bytes.set(utf8);
    return this.alloc(bytes);
  }

  /** Forgets every allocation and zeroes the space after the reserved area. */
  clear(): void {
    const { hostBase, size } = this.region;
    this.memory.u8.fill(0, hostBase + this.reserved, hostBase + size);
    this.top = this.reserved;
  }
}

export function kernelMemory(memory: GuestMemory, size: number, reserved: number): SimulatedMemory {
  return new SimulatedMemory(memory, memory.map(KERNEL_SLOT, 'kernel', size, PERM_READ), reserved);
}

/** Maps a new user space of `size` bytes. */
export function userMemory(memory: GuestMemory, size: number): SimulatedMemory {
  return new SimulatedMemory(memory, memory.map(USER_SLOT, 'user', size, 0));
}

/** The user space already mapped in `memory` (e.g. by a program context), all of it in use. */
export function mappedUserMemory(memory: GuestMemory): SimulatedMemory | undefined {
  const region = memory.region(USER_SLOT);
  return region === undefined ? undefined : new SimulatedMemory(memory, region, region.size);
}
