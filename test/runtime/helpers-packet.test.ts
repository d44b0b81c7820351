/** Packet helpers: skb load/store, XDP head/tail/meta adjustment, csum_diff, redirects. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HelperError } from '../../src/errors.js';
import { createProgramContext } from '../../src/runtime/contexts/create.js';
import { PacketBuffer } from '../../src/runtime/contexts/packet.js';
import { csumDiff, csumPartial } from '../../src/runtime/helpers/packet.js';
import { SKB_HEADROOM, XDP_HEADROOM } from '../../src/runtime/helpers/packet-context.js';
import type { MapDefinition } from '../../src/runtime/maps/map-def.js';
import { HEAP, type Kernel, kernel, neg } from './helpers-kernel-setup.js';

const EINVAL = 22;
const EFAULT = 14;
const EACCES = 13;

const packet = (n: number) => Uint8Array.from({ length: n }, (_, i) => i);

function withPacket(
  kind: 'skb' | 'xdp',
  bytes = packet(64),
  maps: MapDefinition[] = [],
): Kernel & { pkt: PacketBuffer } {
  const k = kernel({}, maps);
  const pkt = new PacketBuffer(k.memory, bytes, {
    kind,
    headroom: kind === 'xdp' ? XDP_HEADROOM : SKB_HEADROOM,
    writable: true,
  });
  k.runtime.packet = pkt;
  return Object.assign(k, { pkt });
}

describe('bpf_skb_load_bytes (26)', () => {
  const load = (offset: number, len: number) => `
    stdw [%r10-8], -1
    stdw [%r10-16], -1
    mov %r1, 0
    mov %r2, ${offset}
    mov %r3, %r10
    add %r3, -16
    mov %r4, ${len}
    call 26
    mov %r6, %r0
    ldxdw %r0, [%r10-16]
    lsh %r6, 56
    xor %r0, %r6
    exit`;

  it('copies packet bytes at an offset from data', () => {
    const k = withPacket('skb');
    // r0 = 0, so the low 8 bytes are the copied bytes 10..17 (little-endian u64).
    expect(k.run(load(10, 8))).toBe(0x1110_0f0e_0d0c_0b0an);
  });

  it('past the end is -EFAULT with the buffer zeroed', () => {
    const k = withPacket('skb');
    const r0 = k.run(load(60, 8));
    // r0 = -EFAULT in the top byte position xor zeros.
    expect(r0).toBe((neg(EFAULT) << 56n) & 0xffff_ffff_ffff_ffffn);
    expect(k.run(load(56, 8))).toBe(0x3f3e_3d3c_3b3a_3938n);
  });

  it('is not an XDP helper', () => {
    const k = withPacket('xdp');
    expect(() => k.run(load(0, 4))).toThrow(HelperError);
    expect(() => kernel().run(load(0, 4))).toThrow(/has no packet/);
  });
});

describe('bpf_skb_store_bytes (9)', () => {
  const store = (offset: number, len: number, flags: number) => `
    stdw [%r10-8], 0x44332211
    mov %r1, 0
    mov %r2, ${offset}
    mov %r3, %r10
    add %r3, -8
    mov %r4, ${len}
    mov %r5, ${flags}
    call 9
    exit`;

  it('writes into the packet; BPF_F_RECOMPUTE_CSUM and BPF_F_INVALIDATE_HASH are accepted', () => {
    const k = withPacket('skb');
    let hashCleared = false;
    k.pkt.clearHash = () => {
      hashCleared = true;
    };
    expect(k.run(store(12, 2, 1))).toBe(0n);
    expect([...k.pkt.bytes().subarray(10, 16)]).toEqual([10, 11, 0x11, 0x22, 14, 15]);
    expect(hashCleared).toBe(false);
    expect(k.run(store(0, 4, 3))).toBe(0n);
    expect(hashCleared).toBe(true);
    expect([...k.pkt.bytes().subarray(0, 4)]).toEqual([0x11, 0x22, 0x33, 0x44]);
  });

  it('unknown flags are -EINVAL, writes past the end -EFAULT (Linux 6.18); nothing changes', () => {
    const k = withPacket('skb');
    expect(k.run(store(0, 4, 4))).toBe(neg(EINVAL));
    expect(k.run(store(62, 4, 0))).toBe(neg(EFAULT));
    expect(k.pkt.bytes()).toEqual(packet(64));
  });

  it('a read-only skb (socket filter) cannot be written', () => {
    const k = kernel();
    k.runtime.packet = new PacketBuffer(k.memory, packet(20), {
      kind: 'skb',
      headroom: SKB_HEADROOM,
      writable: false,
    });
    expect(() => k.run(store(0, 4, 0))).toThrow(/read-only/);
  });
});

describe('XDP adjust helpers', () => {
  const call = (id: number, offset: number) => `mov %r1, 0\nmov %r2, ${offset}\ncall ${id}\nexit`;

  it('bpf_xdp_adjust_head (44) moves data within headroom and packet', () => {
    const k = withPacket('xdp');
    const data = k.pkt.data;
    expect(k.run(call(44, -14))).toBe(0n);
    expect(k.pkt.data).toBe(data - 14);
    expect(k.pkt.bytes().length).toBe(78);
    expect(k.run(call(44, 20))).toBe(0n);
    expect(k.pkt.bytes()).toEqual(packet(64).subarray(6));
    // Below the xdp_frame at the start of the headroom, or leaving fewer than ETH_HLEN bytes.
    expect(k.run(call(44, -(XDP_HEADROOM - 40 + 6 + 1)))).toBe(neg(EINVAL));
    expect(k.run(call(44, 58 - 14 + 1))).toBe(neg(EINVAL));
    expect(k.run(call(44, 58 - 14))).toBe(0n);
  });

  it('bpf_xdp_adjust_meta (54): 4-byte multiples up to 255 bytes before data (Linux 6.16+)', () => {
    const k = withPacket('xdp');
    expect(k.run(call(54, -8))).toBe(0n);
    expect(k.pkt.data - k.pkt.dataMeta).toBe(8);
    expect(k.run(call(54, -2))).toBe(neg(EACCES));
    // With 256 bytes of headroom, the xdp_frame (40 bytes) is reached before the 255-byte limit.
    expect(k.run(call(54, -212))).toBe(neg(EINVAL));
    expect(k.run(call(54, -208))).toBe(0n);
    expect(k.run(call(54, 208))).toBe(0n);
    expect(k.run(call(54, 12))).toBe(neg(EINVAL));
    expect(k.run(call(54, 8))).toBe(0n);
    expect(k.pkt.dataMeta).toBe(k.pkt.data);
  });

  it('adjust_head moves the metadata with the data', () => {
    const k = withPacket('xdp');
    k.run(call(54, -4));
    k.memory.write(k.pkt.dataMeta, Uint8Array.of(0xde, 0xad, 0xbe, 0xef));
    expect(k.run(call(44, -10))).toBe(0n);
    expect([...k.pkt.meta()]).toEqual([0xde, 0xad, 0xbe, 0xef]);
  });

  it('bpf_xdp_adjust_tail (65) shrinks, grows with zeroes, and stops at the frame end', () => {
    const k = withPacket('xdp');
    expect(k.run(call(65, -10))).toBe(0n);
    expect(k.pkt.bytes()).toEqual(packet(54));
    expect(k.run(call(65, 10))).toBe(0n);
    expect(k.pkt.bytes()).toEqual(Uint8Array.from([...packet(54), ...new Array(10).fill(0)]));
    expect(k.run(call(65, -51))).toBe(neg(EINVAL));
    const room = k.pkt.hardEnd - k.pkt.dataEnd;
    expect(k.run(call(65, room + 1))).toBe(neg(EINVAL));
    expect(k.run(call(65, room))).toBe(0n);
  });

  it('are not skb helpers', () => {
    expect(() => withPacket('skb').run(call(44, 0))).toThrow(HelperError);
  });
});

describe('bpf_csum_diff (28) since Linux 6.13 (default)', () => {
  function diff(k: Kernel, from: Uint8Array, to: Uint8Array, seed: number): bigint {
    k.put(0, from);
    k.put(0x200, to);
    return k.run(
      `lddw %r1, ${from.length === 0 ? 0 : HEAP}\nmov %r2, ${from.length}\nlddw %r3, ${HEAP + 0x200}\nmov %r4, ${to.length}\nlddw %r5, ${seed}\ncall 28\nexit`,
    );
  }
  const le64 = (v: bigint) => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, v, true);
    return b;
  };

  it('matches the kernel selftest values (test_progs csum_diff: folded 16-bit results)', () => {
    const k = kernel();
    expect(diff(k, new Uint8Array(0), le64(0xdeadbeefdeadbeefn), 0)).toBe(0x3b3bn);
    expect(
      diff(
        k,
        new Uint8Array(0),
        Uint8Array.from([...le64(0xdeadbeefdeadbeefn), ...le64(0xbeefdeadbeefdeadn)]),
        0,
      ),
    ).toBe(0x7676n);
  });

  it('accepts any sizes (zero-padding the last word) and returns the seed for empty buffers', () => {
    const k = kernel();
    expect(diff(k, new Uint8Array(0), Uint8Array.of(1, 2, 3), 0)).toBe(
      BigInt(csumDiff(new Uint8Array(0), Uint8Array.of(1, 2, 3, 0), 0)),
    );
    expect(diff(k, new Uint8Array(0), new Uint8Array(0), 0x12345678)).toBe(0x12345678n);
    expect(diff(k, new Uint8Array(600), new Uint8Array(600), 0)).toBe(
      BigInt(csumDiff(new Uint8Array(1), new Uint8Array(1), 0)),
    );
  });

  it('an incremental update equals the checksum of the new data', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 12 }).map((b) => b.slice(0, b.length & ~3 || 4)),
        fc.uint8Array({ minLength: 24, maxLength: 24 }),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        (before, rest, newBytes) => {
          const after = newBytes.slice(0, before.length);
          const old = csumDiff(new Uint8Array(0), Uint8Array.from([...before, ...rest]), 0);
          const updated = csumDiff(before, after, old);
          expect(updated).toBe(csumDiff(new Uint8Array(0), Uint8Array.from([...after, ...rest]), 0));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('bpf_csum_diff (28) before Linux 6.13 (csumDiff: legacy)', () => {
  /** csum_diff(from = heap, fromSize, to = heap + 0x200, toSize, seed). */
  function diff(k: Kernel, from: Uint8Array, to: Uint8Array, seed: number): bigint {
    k.put(0, from);
    k.put(0x200, to);
    const fromPtr = from.length === 0 ? 0 : HEAP;
    return k.run(
      `lddw %r1, ${fromPtr}\nmov %r2, ${from.length}\nlddw %r3, ${HEAP + 0x200}\nmov %r4, ${to.length}\nlddw %r5, ${seed}\ncall 28\nexit`,
    );
  }
  const fold = (c: bigint) => {
    let v = Number(c);
    v = (v & 0xffff) + (v >>> 16);
    v = (v & 0xffff) + (v >>> 16);
    return v;
  };

  it('matches the kernel selftest values (push 0xdeadbeefdeadbeef → folded 0x3b3b)', () => {
    const k = kernel({ csumDiff: 'legacy' });
    const to = new Uint8Array(8);
    new DataView(to.buffer).setBigUint64(0, 0xdeadbeefdeadbeefn, true);
    expect(fold(diff(k, new Uint8Array(0), to, 0))).toBe(0x3b3b);
  });

  it('gives the IPv4 header checksum (RFC 1071 reference) when pushing a header', () => {
    const k = kernel({ csumDiff: 'legacy' });
    const hdr = Uint8Array.from([
      0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0, 0, 0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0, 0xc7,
    ]);
    // RFC 1071: ones' complement of the ones' complement sum of big-endian 16-bit words.
    let sum = 0;
    for (let i = 0; i < hdr.length; i += 2) sum += (hdr[i] << 8) | hdr[i + 1];
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    const rfc = ~sum & 0xffff;
    expect(rfc).toBe(0xb861);
    const folded = ~fold(diff(k, new Uint8Array(0), hdr, 0)) & 0xffff;
    // The helper sums in host (little-endian) order, so the folded value is the checksum's bytes as stored.
    expect([folded & 0xff, folded >> 8]).toEqual([0xb8, 0x61]);
  });

  it('diffing old → new plus the old checksum gives the new checksum', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 8, maxLength: 8 }),
        fc.uint8Array({ minLength: 8, maxLength: 8 }),
        fc.uint8Array({ minLength: 24, maxLength: 24 }),
        (before, after, rest) => {
          const k = kernel({ csumDiff: 'legacy' });
          const whole = (x: Uint8Array) => Uint8Array.from([...x, ...rest]);
          const csumOld = Number(diff(k, new Uint8Array(0), whole(before), 0));
          const updated = diff(k, before, after, csumOld);
          const direct = diff(k, new Uint8Array(0), whole(after), 0);
          expect(fold(updated)).toBe(fold(direct));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('sizes must be multiples of 4 and at most 512 bytes in all', () => {
    const k = kernel({ csumDiff: 'legacy' });
    expect(diff(k, new Uint8Array(0), new Uint8Array(6), 0)).toBe(neg(EINVAL));
    expect(diff(k, new Uint8Array(2), new Uint8Array(4), 0)).toBe(neg(EINVAL));
    expect(diff(k, new Uint8Array(256), new Uint8Array(260), 0)).toBe(neg(EINVAL));
    expect(diff(k, new Uint8Array(256), new Uint8Array(256), 0)).toBe(
      BigInt(csumPartial(new Uint8Array(256).fill(0xff), 0)),
    );
  });

  it('returns the seed for empty buffers and a 32-bit value', () => {
    const k = kernel({ csumDiff: 'legacy' });
    expect(diff(k, new Uint8Array(0), new Uint8Array(0), 0x1234)).toBe(0x1234n);
    const big = diff(k, new Uint8Array(0), new Uint8Array(8).fill(0xff), 0xffffffff);
    expect(big).toBe(0xffffffffn);
  });
});

describe('redirects', () => {
  const redirect = (ifindex: number, flags: number) =>
    `mov %r1, ${ifindex}\nmov %r2, ${flags}\ncall 23\nexit`;

  it('tc: bpf_redirect returns TC_ACT_REDIRECT and records the target; bad flags are TC_ACT_SHOT', () => {
    const k = withPacket('skb');
    expect(k.run(redirect(3, 0))).toBe(7n);
    expect(k.runtime.redirect).toEqual({ kind: 'ifindex', ifindex: 3, flags: 0 });
    expect(k.run(redirect(4, 1))).toBe(7n);
    expect(k.runtime.redirect).toEqual({ kind: 'ifindex', ifindex: 4, flags: 1 });
    expect(k.run(redirect(4, 2))).toBe(2n);
    expect(k.runtime.redirect).toBeUndefined();
  });

  it('XDP: bpf_redirect returns XDP_REDIRECT; any flag is XDP_ABORTED', () => {
    const k = withPacket('xdp');
    expect(k.run(redirect(2, 0))).toBe(4n);
    expect(k.runtime.redirect).toEqual({ kind: 'ifindex', ifindex: 2, flags: 0 });
    expect(k.run(redirect(2, 1))).toBe(0n);
  });

  it('bpf_redirect_map (51): XDP_REDIRECT for a present key, the flags action otherwise', () => {
    const defs: MapDefinition[] = [
      { name: 'devs', type: 'array', keySize: 4, valueSize: 4, maxEntries: 4, flags: 0 },
      { name: 'devhash', type: 'hash', keySize: 4, valueSize: 4, maxEntries: 4, flags: 0 },
    ];
    const k = withPacket('xdp', packet(64), defs);
    const text = (map: number, key: number, flags: number) =>
      `lddw map_idx %r1, ${map}\nmov %r2, ${key}\nmov %r3, ${flags}\ncall 51\nexit`;
    expect(k.run(text(0, 2, 0))).toBe(4n);
    expect(k.runtime.redirect).toEqual({ kind: 'map', map: 'devs', key: 2, flags: 0 });
    expect(k.run(text(0, 9, 2))).toBe(2n);
    expect(k.runtime.redirect).toBeUndefined();
    expect(k.run(text(1, 1, 1))).toBe(1n);
    expect(k.run(text(1, 1, 8))).toBe(4n);
    expect(k.run(text(0, 0, 0x40))).toBe(0n);
  });
});

describe('KernelRuntime.useContext', () => {
  it('takes the task and packet of a program context', () => {
    const k = kernel();
    const context = createProgramContext(
      k.memory,
      { type: 'xdp' },
      { packet: '00'.repeat(60), task: { pid: 9, tgid: 8, comm: 'ctx' } },
    );
    k.runtime.useContext(context);
    expect(k.run('call 14\nexit')).toBe((8n << 32n) | 9n);
    expect(k.run('mov %r1, 0\nmov %r2, -10\ncall 65\nexit')).toBe(0n);
    expect(context.packet?.dataEnd).toBe(k.runtime.packet?.dataEnd);
    expect(k.runtime.packet?.kind).toBe('xdp');
  });
});
