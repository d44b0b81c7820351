/** bpf_l3_csum_replace (10) and bpf_l4_csum_replace (11) on a simulated skb. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HelperError } from '../../src/errors.js';
import { PacketBuffer } from '../../src/runtime/contexts/packet.js';
import {
  BPF_F_MARK_ENFORCE,
  BPF_F_MARK_MANGLED_0,
  BPF_F_PSEUDO_HDR,
} from '../../src/runtime/helpers/csum-replace.js';
import { csumDiff } from '../../src/runtime/helpers/packet.js';
import { SKB_HEADROOM } from '../../src/runtime/helpers/packet-context.js';
import { type Kernel, kernel, neg } from './helpers-kernel-setup.js';

const EINVAL = 22;
const EFAULT = 14;

/** The Internet checksum of `bytes` (RFC 1071), as a header stores it (big-endian value). */
function internetChecksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i] << 8) | (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** A 20-byte IPv4 header with a valid checksum at offset 10. */
function ipHeader(seed: Uint8Array): Uint8Array {
  const h = Uint8Array.from(seed);
  h[0] = 0x45;
  h[10] = 0;
  h[11] = 0;
  const c = internetChecksum(h);
  h[10] = c >>> 8;
  h[11] = c & 0xff;
  return h;
}

function withSkb(bytes: Uint8Array, writable = true): Kernel & { pkt: PacketBuffer } {
  const k = kernel();
  const pkt = new PacketBuffer(k.memory, bytes, { kind: 'skb', headroom: SKB_HEADROOM, writable });
  k.runtime.packet = pkt;
  return Object.assign(k, { pkt });
}

/** csum_replace(ctx = 0, offset, from, to, flags) with 64-bit from/to. */
const call = (id: number, offset: number, from: bigint, to: bigint, flags: number) => `
  mov %r1, 0
  mov %r2, ${offset}
  lddw %r3, ${from}
  lddw %r4, ${to}
  mov %r5, ${flags}
  call ${id}
  exit`;

/** A 16-bit word of the packet as the program's ldxh sees it (little-endian). */
const le16 = (b: Uint8Array, at: number) => BigInt(b[at] | (b[at + 1] << 8));
const le32 = (b: Uint8Array, at: number) =>
  BigInt((b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0);

describe('bpf_l3_csum_replace (10)', () => {
  it('after a 2-byte or 4-byte field changes, the patched checksum equals a full recomputation', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 20, maxLength: 20 }),
        // A field at an even offset that does not overlap the checksum (bytes 10..11).
        fc.constantFrom([2, 2], [2, 8], [2, 12], [2, 18], [4, 0], [4, 6], [4, 12], [4, 16]),
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        (seed, [size, at], replacement) => {
          const header = ipHeader(seed);
          const after = Uint8Array.from(header);
          after.set(replacement.subarray(0, size), at);
          const read = size === 2 ? le16 : le32;
          const k = withSkb(header);
          expect(k.run(call(10, 10, read(header, at), read(after, at), size))).toBe(0n);
          const patched = k.pkt.bytes();
          patched.set(replacement.subarray(0, size), at);
          // The checksum of a header with a valid checksum field sums to 0 (RFC 1071).
          expect(internetChecksum(patched)).toBe(0);
        },
      ),
    );
  });

  it('size 0 adds a bpf_csum_diff result (from must be 0)', () => {
    const header = ipHeader(Uint8Array.from({ length: 20 }, (_, i) => i * 7));
    const after = Uint8Array.from(header);
    after.set([1, 2, 3, 4, 5, 6, 7, 8], 12); // both addresses
    const diff = csumDiff(header.subarray(12, 20), after.subarray(12, 20), 0);
    const k = withSkb(header);
    expect(k.run(call(10, 10, 0n, BigInt(diff), 0))).toBe(0n);
    const patched = k.pkt.bytes();
    patched.set(after.subarray(12, 20), 12);
    expect(internetChecksum(patched)).toBe(0);
    expect(k.run(call(10, 10, 1n, BigInt(diff), 0))).toBe(neg(EINVAL));
  });

  it('refuses bad flags and sizes (-EINVAL), odd or out-of-packet offsets (-EFAULT); nothing changes', () => {
    const header = ipHeader(new Uint8Array(20));
    const k = withSkb(header);
    expect(k.run(call(10, 10, 0n, 1n, 0x10))).toBe(neg(EINVAL)); // BPF_F_PSEUDO_HDR is L4 only
    expect(k.run(call(10, 10, 0n, 1n, 3))).toBe(neg(EINVAL));
    expect(k.run(call(10, 11, 0n, 1n, 2))).toBe(neg(EFAULT));
    expect(k.run(call(10, 18, 0n, 1n, 2))).toBe(0n); // the last two bytes
    expect(k.run(call(10, 20, 0n, 1n, 2))).toBe(neg(EFAULT));
    const untouched = ipHeader(new Uint8Array(20));
    expect(k.pkt.bytes().subarray(0, 18)).toEqual(untouched.subarray(0, 18));
  });

  it('stops the program on a read-only skb or without an skb', () => {
    const k = withSkb(ipHeader(new Uint8Array(20)), false);
    expect(() => k.run(call(10, 10, 0n, 1n, 2))).toThrow(/read-only/);
    expect(() => kernel().run(call(10, 10, 0n, 1n, 2))).toThrow(HelperError);
  });
});

describe('bpf_l4_csum_replace (11)', () => {
  it('patches like L3 with BPF_F_PSEUDO_HDR (no checksum offload state is simulated)', () => {
    const header = ipHeader(Uint8Array.from({ length: 20 }, (_, i) => 200 - i));
    const after = Uint8Array.from(header);
    after.set([192, 168, 1, 1], 12);
    const k = withSkb(header);
    expect(k.run(call(11, 10, le32(header, 12), le32(after, 12), 4 | BPF_F_PSEUDO_HDR))).toBe(0n);
    const patched = k.pkt.bytes();
    patched.set(after.subarray(12, 16), 12);
    expect(internetChecksum(patched)).toBe(0);
  });

  it('BPF_F_MARK_MANGLED_0 leaves a zero (absent) checksum alone and writes 0xffff for a zero result', () => {
    const bytes = new Uint8Array(8); // checksum field at 6..7 is 0
    const k = withSkb(bytes);
    expect(k.run(call(11, 6, 0n, 0x1234n, 2 | BPF_F_MARK_MANGLED_0))).toBe(0n);
    expect([...k.pkt.bytes().subarray(6, 8)]).toEqual([0, 0]);
    // ENFORCE updates it anyway: ~(~0 - 0 + 0x1234) = 0x1234 ones'-complement negated.
    expect(k.run(call(11, 6, 0n, 0x1234n, 2 | BPF_F_MARK_MANGLED_0 | BPF_F_MARK_ENFORCE))).toBe(0n);
    expect(le16(k.pkt.bytes(), 6)).toBe(0xffffn - 0x1234n);
    // Replacing 0x0000 by ~sum's complement folds to 0: marked as 0xffff instead.
    const k2 = withSkb(Uint8Array.of(0, 0, 0, 0, 0, 0, 0x01, 0x00));
    expect(k2.run(call(11, 6, 0n, 1n, 2 | BPF_F_MARK_MANGLED_0))).toBe(0n);
    expect([...k2.pkt.bytes().subarray(6, 8)]).toEqual([0xff, 0xff]);
    const k3 = withSkb(Uint8Array.of(0, 0, 0, 0, 0, 0, 0x01, 0x00));
    expect(k3.run(call(11, 6, 0n, 1n, 2))).toBe(0n);
    expect([...k3.pkt.bytes().subarray(6, 8)]).toEqual([0, 0]);
  });

  it('refuses unknown flags', () => {
    const k = withSkb(new Uint8Array(8));
    expect(k.run(call(11, 6, 0n, 1n, 2 | (1 << 8)))).toBe(neg(EINVAL));
  });
});
