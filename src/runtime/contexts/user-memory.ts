/**
 * Simulated memory that context arguments point into: a syscall's `filename`, execve's argv, a string
 * passed to a kprobe. Mapped read-only in slot 9, so bpf_probe_read_user(_str) and
 * bpf_probe_read_kernel(_str) over guest memory find the bytes at the pointer the context holds.
 */
import type { GuestMemory } from '../../vm/memory/guest-memory.js';
import { MAX_REGION_SIZE, PERM_READ, slotBase } from '../../vm/memory/layout.js';
import { formatError } from './json.js';
import { writeInt } from './layout.js';

/** Slot of the argument memory (the first of the slots layout.ts leaves free). */
export const USER_MEMORY_SLOT = 9;

/** Collects argument bytes while the input is parsed, then maps them once. */
export class UserMemoryBuilder {
  private readonly chunks: Uint8Array[] = [];
  private size = 0;

  /** Appends `bytes` (8-byte aligned, like a real allocation) and returns their guest address. */
  add(bytes: Uint8Array, path: string): bigint {
    const at = Math.ceil(this.size / 8) * 8;
    if (at + bytes.length > MAX_REGION_SIZE) throw formatError(path, 'argument data exceeds the user memory');
    if (at > this.size) this.chunks.push(new Uint8Array(at - this.size));
    this.chunks.push(bytes);
    this.size = at + bytes.length;
    return BigInt(slotBase(USER_MEMORY_SLOT) + at);
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
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  /** Maps the collected bytes read-only (nothing when no argument needed memory). */
  install(memory: GuestMemory): void {
    if (this.size > 0) memory.map(USER_MEMORY_SLOT, 'user memory', this.size, PERM_READ, this.image());
  }
}
