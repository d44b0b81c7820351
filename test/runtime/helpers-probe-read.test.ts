/** bpf_probe_read{,_kernel,_user}{,_str}: simulated kernel/user memory, faults, zeroing, lengths. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryFault } from '../../src/errors.js';
import { USER_SLOT } from '../../src/runtime/helpers/sim-memory.js';
import { TaskStructOffset } from '../../src/runtime/helpers/task-struct.js';
import { slotBase } from '../../src/vm/memory/layout.js';
import { cstring, HEAP, type Kernel, kernel, neg } from './helpers-kernel-setup.js';

const EFAULT = 14;
const ERANGE = 34;
const DST = 0x100; // heap offset of the destination buffer

/** Calls helper `id`(dst = heap + DST, size, src) after filling the destination with 0xaa. */
function probe(k: Kernel, id: number, size: number, src: bigint | number): { r0: bigint; dst: Uint8Array } {
  k.put(DST, new Uint8Array(64).fill(0xaa));
  const r0 = k.run(`lddw %r1, ${HEAP + DST}\nmov %r2, ${size}\nlddw %r3, ${BigInt(src)}\ncall ${id}\nexit`);
  return { r0, dst: k.heap(DST, 64) };
}

const filled = (n: number, rest = 64) => [...new Array(n).fill(0), ...new Array(rest - n).fill(0xaa)];

describe('bpf_probe_read_kernel (113) / bpf_probe_read_user (112)', () => {
  it('copies kernel memory: kernel blobs, the heap, the stack', () => {
    const k = kernel();
    const blob = k.runtime.kernel.alloc(Uint8Array.of(1, 2, 3, 4, 5));
    const r = probe(k, 113, 5, blob);
    expect(r.r0).toBe(0n);
    expect([...r.dst.subarray(0, 6)]).toEqual([1, 2, 3, 4, 5, 0xaa]);
    k.put(0x300, Uint8Array.of(9, 8, 7));
    expect([...probe(k, 113, 3, HEAP + 0x300).dst.subarray(0, 3)]).toEqual([9, 8, 7]);
  });

  it('a bad kernel source is -EFAULT with exactly size bytes zeroed', () => {
    const k = kernel();
    const end = k.runtime.kernel.base + k.runtime.kernel.size;
    for (const src of [end - 4, 0x1_0000_0000_0000_0000n - 8n, 0xffff_8880_0000_0000n, slotBase(8)]) {
      const r = probe(k, 113, 8, src);
      expect(r.r0).toBe(neg(EFAULT));
      expect([...r.dst]).toEqual(filled(8));
    }
  });

  it('a kernel read of a user address is -ERANGE (x86 copy_from_kernel_nofault), zeroed', () => {
    const k = kernel();
    const user = k.runtime.user.allocString('abc');
    for (const src of [0, 16, user, 0x7ffd_0000_0000n]) {
      const r = probe(k, 113, 4, src);
      expect(r.r0).toBe(neg(ERANGE));
      expect([...r.dst]).toEqual(filled(4));
    }
  });

  it('probe_read_user reads only user memory; other addresses are -EFAULT', () => {
    const k = kernel();
    const user = k.runtime.user.alloc(Uint8Array.of(0x11, 0x22, 0x33, 0x44));
    expect(probe(k, 112, 4, user)).toEqual({
      r0: 0n,
      dst: Uint8Array.from([0x11, 0x22, 0x33, 0x44, ...filled(0, 60)]),
    });
    for (const src of [0, HEAP, k.runtime.currentTaskAddress, user + 0x10000]) {
      const r = probe(k, 112, 4, src);
      expect(r.r0).toBe(neg(EFAULT));
      expect([...r.dst]).toEqual(filled(4));
    }
  });

  it('user memory is not loadable by the guest directly, kernel memory is read-only', () => {
    const k = kernel();
    const user = k.runtime.user.alloc(Uint8Array.of(1));
    expect(user >= slotBase(USER_SLOT)).toBe(true);
    expect(() => k.run(`lddw %r1, ${user}\nldxb %r0, [%r1]\nexit`)).toThrow(MemoryFault);
  });

  it('size 0 succeeds and touches nothing; a bad destination is a fault at the call', () => {
    const k = kernel();
    expect(probe(k, 113, 0, 0)).toEqual({ r0: 0n, dst: new Uint8Array(64).fill(0xaa) });
    expect(() => k.run('mov %r1, 0\nmov %r2, 8\nmov %r3, 0\ncall 113\nexit')).toThrow(MemoryFault);
  });

  it('legacy bpf_probe_read (4) reads user memory at user addresses and kernel memory elsewhere', () => {
    const k = kernel();
    const user = k.runtime.user.alloc(Uint8Array.of(5, 6));
    const blob = k.runtime.kernel.alloc(Uint8Array.of(7, 8));
    expect([...probe(k, 4, 2, user).dst.subarray(0, 2)]).toEqual([5, 6]);
    expect([...probe(k, 4, 2, blob).dst.subarray(0, 2)]).toEqual([7, 8]);
    expect(probe(k, 4, 2, 0).r0).toBe(neg(EFAULT));
  });

  it('random sources: success copies, failure zeroes exactly size bytes', () => {
    const k = kernel();
    const base = k.runtime.kernel.base;
    const end = base + k.runtime.kernel.size;
    fc.assert(
      fc.property(
        fc.integer({ min: base - 64, max: end + 64 }),
        fc.integer({ min: 0, max: 64 }),
        (src, size) => {
          const r = probe(k, 113, size, src);
          if (src >= base && src + size <= end) {
            expect(r.r0).toBe(0n);
            expect(r.dst.subarray(0, size)).toEqual(k.memory.read(src, size));
          } else if (size > 0) {
            expect(r.r0).toBe(neg(EFAULT));
            expect([...r.dst]).toEqual(filled(size));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('_str variants (115 kernel, 114 user, 45 legacy)', () => {
  it('return the length including the NUL and copy the NUL', () => {
    const k = kernel();
    const user = k.runtime.user.allocString('/bin/true');
    const r = probe(k, 114, 64, user);
    expect(r.r0).toBe(10n);
    expect([...r.dst.subarray(0, 11)]).toEqual([...cstring('/bin/true'), 0xaa]);
    k.put(0x300, cstring('kern'));
    expect(probe(k, 115, 64, HEAP + 0x300).r0).toBe(5n);
    expect(probe(k, 45, 64, user).r0).toBe(10n);
    expect(probe(k, 45, 64, HEAP + 0x300).r0).toBe(5n);
  });

  it('truncate to size - 1 bytes plus a NUL and return size', () => {
    const k = kernel();
    const user = k.runtime.user.allocString('abcdefgh');
    const r = probe(k, 114, 4, user);
    expect(r.r0).toBe(4n);
    expect([...r.dst.subarray(0, 5)]).toEqual([0x61, 0x62, 0x63, 0, 0xaa]);
  });

  it('an empty string has length 1; size 0 returns 0', () => {
    const k = kernel();
    const user = k.runtime.user.allocString('');
    expect(probe(k, 114, 8, user).r0).toBe(1n);
    expect(probe(k, 114, 0, user).r0).toBe(0n);
  });

  it('a string that runs into unmapped memory before its NUL is -EFAULT, zeroed', () => {
    const k = kernel();
    const { user } = k.runtime;
    const end = user.base + user.size;
    user.write(end - 3, Uint8Array.of(0x61, 0x62, 0x63));
    const r = probe(k, 114, 16, end - 3);
    expect(r.r0).toBe(neg(EFAULT));
    expect([...r.dst]).toEqual(filled(16));
    // With size 3 the copy stops before the end: truncated, not a fault.
    expect(probe(k, 114, 3, end - 3).r0).toBe(3n);
    user.write(end - 3, Uint8Array.of(0x61, 0x62, 0));
    expect(probe(k, 114, 16, end - 3).r0).toBe(3n);
  });

  it('kernel _str of a user address is -ERANGE; user _str of a kernel address is -EFAULT', () => {
    const k = kernel();
    const user = k.runtime.user.allocString('x');
    expect(probe(k, 115, 8, user).r0).toBe(neg(ERANGE));
    expect(probe(k, 114, 8, HEAP).r0).toBe(neg(EFAULT));
    expect([...probe(k, 115, 8, 0).dst]).toEqual(filled(8));
  });

  it('reads task->comm through the simulated task_struct', () => {
    const k = kernel();
    const comm = k.runtime.currentTaskAddress + TaskStructOffset.comm;
    expect(probe(k, 115, 16, comm).r0).toBe(BigInt('bpfbox'.length + 1));
  });
});
