/**
 * Bytes that context arguments point to: a syscall's `filename`, execve's argv, a string passed to a
 * kprobe. They live in the simulated user address space of the helpers (slot 10, readable only
 * through bpf_probe_read_user*), so a program gets them exactly as the kernel would hand them over.
 *
 * Inputs are encoded twice: once to validate and measure (nothing is mapped if that fails), then into a
 * block reserved in the user space, so every pointer (argv entries too) is final.
 */
import type { GuestMemory } from '../../vm/memory/guest-memory.js';
import { MAX_REGION_SIZE, slotBase } from '../../vm/memory/layout.js';
import { USER_SLOT, userMemory } from '../helpers/sim-memory.js';
import { formatError } from './json.js';
import { alignUp, writeInt } from './layout.js';

/** The part of the helpers' SimulatedMemory that arguments need (KernelRuntime.user is one). */
export interface ArgumentMemory {
  alloc(bytes: Uint8Array | number): number;
  write(address: number, bytes: Uint8Array): void;
  read(address: number, length: number): Uint8Array;
}

/** Lays argument bytes out from `base`, 8-byte aligned like real allocations. */
export class UserMemoryBuilder {
  private readonly chunks: Uint8Array[] = [];
  private end = 0;

  constructor(readonly base: number = slotBase(USER_SLOT)) {}

  get size(): number {
    return this.end;
  }

  /** Appends `bytes` and returns their guest address. */
  add(bytes: Uint8Array, path: string): bigint {
    const at = alignUp(this.end, 8);
    if (at + bytes.length > MAX_REGION_SIZE) throw formatError(path, 'argument data exceeds the user memory');
    if (at > this.end) this.chunks.push(new Uint8Array(at - this.end));
    this.chunks.push(bytes);
    this.end = at + bytes.length;
    return BigInt(this.base + at);
  }

  /** A NUL-terminated string. */
  addString(text: string, path: string): bigint {
    const encoded = new TextEncoder().encode(text);
    const bytes = new Uint8Array(encoded.length + 1);
    bytes.set(encoded);
    return this.add(bytes, path);
  }

  /** A NULL-terminated array of pointers (argv, envp). */
  addPointerArray(pointers: readonly bigint[], path: string): bigint {
    const bytes = new Uint8Array((pointers.length + 1) * 8);
    for (const [i, p] of pointers.entries()) writeInt(bytes, i * 8, 8, p);
    return this.add(bytes, path);
  }

  image(): Uint8Array {
    const out = new Uint8Array(this.end);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

/**
 * Runs `encode` to validate and measure, then again into a block of `space` (or of a user space
 * mapped here when the caller has none), and returns the second result with the space used.
 */
export function encodeWithArguments<T>(
  memory: GuestMemory,
  space: ArgumentMemory | undefined,
  encode: (builder: UserMemoryBuilder) => T,
): { value: T; space: ArgumentMemory | undefined } {
  const dry = new UserMemoryBuilder();
  const value = encode(dry);
  if (dry.size === 0) return { value, space };
  const target = space ?? userMemory(memory, alignUp(dry.size, 4096));
  const builder = new UserMemoryBuilder(target.alloc(dry.size));
  const final = encode(builder);
  target.write(builder.base, builder.image());
  return { value: final, space: target };
}
