/**
 * bpf_probe_read{,_kernel,_user}{,_str} over the simulated address spaces. Kernel memory is the
 * simulated kernel region plus every guest region the program may read (stack, maps, context…),
 * since those are kernel memory too; user memory is the simulated user region. As on x86-64:
 * - a kernel read of a user-space address fails with -ERANGE (copy_from_kernel_nofault_allowed);
 *   user space here is the null slot, the user region, and [4 GiB, TASK_SIZE_MAX);
 * - any other unreadable source fails with -EFAULT; in both cases the destination is zeroed;
 * - the legacy bpf_probe_read / bpf_probe_read_str read user memory for user addresses and kernel
 *   memory otherwise (bpf_probe_read_compat on architectures with split address spaces);
 * - the _str variants copy up to size - 1 bytes plus a NUL and return the length including the NUL.
 * The destination is checked like any verifier-checked pointer: a bad one is a MemoryFault at the call.
 */
import type { HelperContext, HelperRegistry } from '../../vm/helpers.js';
import { SLOT_SIZE } from '../../vm/memory/layout.js';
import { guestPtr, u32Arg } from './args.js';
import { EFAULT, KernelHelperId } from './ids.js';
import type { KernelRuntime } from './runtime.js';

export const ERANGE = 34;

/** x86-64 TASK_SIZE_MAX + PAGE_SIZE: below it an address is a user address. */
const USER_SPACE_END = 0x7ffffffff000n + 4096n;

export type AddressSpace = 'kernel' | 'user' | 'compat';

/** Where a source address resolves: host offset and how many bytes from it are readable. */
interface Source {
  readonly host: number;
  readonly readable: number;
}

export class ProbeReader {
  constructor(private readonly runtime: KernelRuntime) {}

  /** True for addresses the kernel would treat as user space (see the module comment). */
  isUserAddress(address: bigint): boolean {
    return (
      address < BigInt(SLOT_SIZE) ||
      this.runtime.user.contains(address, 1) ||
      (address >= 1n << 32n && address < USER_SPACE_END)
    );
  }

  /** The space a read of `space` at `address` goes to, after the compat rule. */
  private resolve(space: AddressSpace, address: bigint): 'kernel' | 'user' {
    if (space !== 'compat') return space;
    return this.isUserAddress(address) ? 'user' : 'kernel';
  }

  /** Readable bytes at `address` (at most `max`), or -ERANGE / -EFAULT. */
  private source(space: 'kernel' | 'user', address: bigint, max: number): Source | number {
    if (space === 'user') {
      const { user } = this.runtime;
      const host = user.hostOffset(address, 1);
      if (host < 0) return -EFAULT;
      return { host, readable: Math.min(max, user.base + user.size - Number(address)) };
    }
    if (this.isUserAddress(address)) return -ERANGE;
    const memory = this.runtime.memory;
    const host = memory.translate(address, 1, 'read');
    if (host < 0) return -EFAULT;
    // Readable length is monotonic in the size asked for: binary search for the largest that translates.
    let lo = 1;
    let hi = max;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (memory.translate(address, mid, 'read') >= 0) lo = mid;
      else hi = mid - 1;
    }
    return { host, readable: Math.min(lo, max) };
  }

  /** copy_from_{kernel,user}_nofault: `size` bytes, or -ERANGE / -EFAULT. */
  readBytes(space: AddressSpace, address: bigint, size: number): Uint8Array | number {
    if (size === 0) return new Uint8Array(0);
    const src = this.source(this.resolve(space, address), address, size);
    if (typeof src === 'number') return src;
    if (src.readable < size) return -EFAULT;
    return this.runtime.memory.u8.slice(src.host, src.host + size);
  }

  /**
   * strncpy_from_{kernel,user}_nofault: the string's bytes and its NUL (at most `size` in all, the
   * last one forced to NUL when the string is longer), or -ERANGE / -EFAULT when the source becomes
   * unreadable before a NUL.
   */
  readCString(space: AddressSpace, address: bigint, size: number): Uint8Array | number {
    if (size === 0) return new Uint8Array(0);
    const src = this.source(this.resolve(space, address), address, size);
    if (typeof src === 'number') return src;
    const u8 = this.runtime.memory.u8;
    const limit = Math.min(src.readable, size);
    let n = 0;
    while (n < limit && u8[src.host + n] !== 0) n++;
    if (n === limit && n < size) return -EFAULT;
    const copied = Math.min(n, size - 1);
    const out = new Uint8Array(copied + 1);
    out.set(u8.subarray(src.host, src.host + copied));
    return out;
  }
}

function define(
  registry: HelperRegistry,
  reader: ProbeReader,
  id: number,
  name: string,
  space: AddressSpace,
  str: boolean,
): void {
  registry.define(id, name, (ctx: HelperContext) => {
    const size = u32Arg(ctx, 2);
    const dst = guestPtr(ctx, 1, size, 'write');
    const u8 = ctx.memory.u8;
    const got = str ? reader.readCString(space, ctx.arg(3), size) : reader.readBytes(space, ctx.arg(3), size);
    if (typeof got === 'number') {
      u8.fill(0, dst, dst + size);
      return got;
    }
    u8.set(got, dst);
    return str ? got.length : 0;
  });
}

export function registerProbeReadHelpers(registry: HelperRegistry, runtime: KernelRuntime): HelperRegistry {
  const reader = new ProbeReader(runtime);
  define(registry, reader, KernelHelperId.probe_read, 'bpf_probe_read', 'compat', false);
  define(registry, reader, KernelHelperId.probe_read_str, 'bpf_probe_read_str', 'compat', true);
  define(registry, reader, KernelHelperId.probe_read_user, 'bpf_probe_read_user', 'user', false);
  define(registry, reader, KernelHelperId.probe_read_kernel, 'bpf_probe_read_kernel', 'kernel', false);
  define(registry, reader, KernelHelperId.probe_read_user_str, 'bpf_probe_read_user_str', 'user', true);
  define(registry, reader, KernelHelperId.probe_read_kernel_str, 'bpf_probe_read_kernel_str', 'kernel', true);
  return registry;
}
