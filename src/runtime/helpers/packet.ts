/**
 * Packet helpers over the run's PacketContext (runtime.packet): skb load/store, XDP head/tail/meta
 * adjustment, checksum differences and redirects. A helper the program type does not have (skb
 * helpers in XDP, XDP helpers on an skb, any of them without a packet) stops the program with a
 * HelperError, as the kernel's verifier would have refused it.
 */
import { HelperError } from '../../errors.js';
import type { HelperContext, HelperRegistry } from '../../vm/helpers.js';
import { Slot } from '../../vm/memory/layout.js';
import { MapTrap } from '../maps/errors.js';
import { guestPtr, s32Arg, u32Arg } from './args.js';
import { EACCES, EFAULT, EINVAL, KernelHelperId } from './ids.js';
import { type PacketContext, XDP_FRAME_SIZE } from './packet-context.js';
import type { KernelRuntime } from './runtime.js';

export const ETH_HLEN = 14;
export const BPF_F_RECOMPUTE_CSUM = 1;
export const BPF_F_INVALIDATE_HASH = 2;
export const BPF_F_INGRESS = 1;
export const BPF_F_BROADCAST = 1 << 3;
export const BPF_F_EXCLUDE_INGRESS = 1 << 4;
/**
 * Largest XDP metadata (xdp_metalen_invalid): what skb_shared_info.meta_len (a u8) holds, as in
 * Linux 6.18 (kernels before 6.16 allowed 32 bytes).
 */
export const XDP_META_MAX = 255;
/** enum xdp_action and the tc actions the redirect helpers return. */
export const XdpAction = { ABORTED: 0, DROP: 1, PASS: 2, TX: 3, REDIRECT: 4 } as const;
export const TC_ACT_SHOT = 2;
export const TC_ACT_REDIRECT = 7;
/** sizeof(bpf_scratchpad.diff): before Linux 6.13 bpf_csum_diff worked on at most 512 bytes. */
export const CSUM_DIFF_MAX = 512;
const INT_MAX = 0x7fffffff;

export function packetFor(
  runtime: KernelRuntime,
  ctx: HelperContext,
  helper: string,
  kind: 'skb' | 'xdp',
): PacketContext {
  const packet = runtime.packet;
  if (packet === undefined || packet.kind !== kind) {
    throw new HelperError(
      `${helper} at pc ${ctx.pc}: ${packet === undefined ? 'this run has no packet' : `not available to ${packet.kind} programs`}`,
      { pc: ctx.pc },
    );
  }
  return packet;
}

/**
 * Host offset of `length` packet bytes at guest address `address`, through the packet region rather
 * than the guest's window (which ends at data_end): the helpers may move data and data_end within the
 * whole buffer. Callers have checked the bytes against the packet's own bounds.
 */
export function packetHost(
  ctx: HelperContext,
  packet: PacketContext,
  address: number,
  length: number,
): number {
  const region = ctx.memory.region(Slot.PACKET);
  if (
    region === undefined ||
    address < packet.hardStart ||
    address + length > region.guestBase + region.size
  ) {
    throw new HelperError(`packet helper at pc ${ctx.pc}: the packet is not in the packet region`, {
      pc: ctx.pc,
    });
  }
  return region.hostBase + (address - region.guestBase);
}

/**
 * x86-64 csum_partial: the ones'-complement sum (end-around carry) of the buffer as little-endian
 * 32-bit words, the last one zero-padded, plus `seed`.
 */
export function csumPartial(bytes: Uint8Array, seed: number): number {
  let sum = seed >>> 0;
  for (let k = 0; k < bytes.length; k += 4) {
    const w = (bytes[k] | (bytes[k + 1] << 8) | (bytes[k + 2] << 16) | (bytes[k + 3] << 24)) >>> 0;
    sum += w;
    if (sum > 0xffffffff) sum -= 0xffffffff;
  }
  return sum;
}

/** csum_sub: a - b in ones'-complement arithmetic (csum_add of ~b). */
function csumSub(a: number, b: number): number {
  const nb = ~b >>> 0;
  const res = (a + nb) >>> 0;
  return (res + (res < nb ? 1 : 0)) >>> 0;
}

/** csum_from32to16: folds a 32-bit sum to 16 bits. */
function csumFrom32to16(sum: number): number {
  const s = (sum + (((sum >>> 16) | (sum << 16)) >>> 0)) >>> 0;
  return s >>> 16;
}

/**
 * bpf_csum_diff since Linux 6.13: any sizes (the verifier bounds the buffers), result folded to 16
 * bits; with both sizes 0 the seed itself.
 */
export function csumDiff(from: Uint8Array, to: Uint8Array, seed: number): number {
  if (from.length > 0 && to.length > 0)
    return csumFrom32to16(csumSub(csumPartial(to, seed), csumPartial(from, 0)));
  if (to.length > 0) return csumFrom32to16(csumPartial(to, seed));
  if (from.length > 0) return csumFrom32to16(~csumPartial(from, ~seed >>> 0) >>> 0);
  return seed >>> 0;
}

/**
 * bpf_csum_diff before Linux 6.13, for sizes it accepts (multiples of 4, 512 bytes in all; the helper
 * returns -EINVAL for others before reading anything): the unfolded 32-bit sum of ~from words, to
 * words and the seed.
 */
export function csumDiffLegacy(from: Uint8Array, to: Uint8Array, seed: number): number {
  const inverted = from.map((b) => ~b & 0xff);
  return csumPartial(to, csumPartial(inverted, seed));
}

export function registerPacketHelpers(registry: HelperRegistry, runtime: KernelRuntime): HelperRegistry {
  const lookupKey = new Uint8Array(4);
  const lookupView = new DataView(lookupKey.buffer);
  return registry
    .define(KernelHelperId.skb_load_bytes, 'bpf_skb_load_bytes', (ctx) => {
      const skb = packetFor(runtime, ctx, 'bpf_skb_load_bytes', 'skb');
      const offset = u32Arg(ctx, 2);
      const len = u32Arg(ctx, 4);
      const to = guestPtr(ctx, 3, len, 'write');
      const u8 = ctx.memory.u8;
      if (offset > INT_MAX || offset + len > skb.dataEnd - skb.data) {
        u8.fill(0, to, to + len);
        return -EFAULT;
      }
      const from = packetHost(ctx, skb, skb.data + offset, len);
      u8.copyWithin(to, from, from + len);
      return 0;
    })
    .define(KernelHelperId.skb_store_bytes, 'bpf_skb_store_bytes', (ctx) => {
      const skb = packetFor(runtime, ctx, 'bpf_skb_store_bytes', 'skb');
      if (!skb.writable) {
        throw new HelperError(`bpf_skb_store_bytes at pc ${ctx.pc}: this program's packet is read-only`, {
          pc: ctx.pc,
        });
      }
      const offset = u32Arg(ctx, 2);
      const len = u32Arg(ctx, 4);
      const from = guestPtr(ctx, 3, len, 'read');
      const flags = ctx.arg(5);
      if ((flags & ~BigInt(BPF_F_RECOMPUTE_CSUM | BPF_F_INVALIDATE_HASH)) !== 0n) return -EINVAL;
      if (offset > INT_MAX) return -EFAULT;
      // The bytes must exist in the (linear) packet; Linux 6.18 answers -EFAULT (older ones -ENOMEM).
      if (offset + len > skb.dataEnd - skb.data) return -EFAULT;
      const to = packetHost(ctx, skb, skb.data + offset, len);
      // BPF_F_RECOMPUTE_CSUM maintains skb->csum for CHECKSUM_COMPLETE packets; no checksum state
      // is simulated, so it only needs to be accepted.
      ctx.memory.u8.copyWithin(to, from, from + len);
      if (flags & BigInt(BPF_F_INVALIDATE_HASH)) skb.clearHash?.();
      return 0;
    })
    .define(KernelHelperId.xdp_adjust_head, 'bpf_xdp_adjust_head', (ctx) => {
      const xdp = packetFor(runtime, ctx, 'bpf_xdp_adjust_head', 'xdp');
      const offset = s32Arg(ctx, 2);
      const metalen = xdp.data - xdp.dataMeta;
      const data = xdp.data + offset;
      if (data < xdp.hardStart + XDP_FRAME_SIZE + metalen || data > xdp.dataEnd - ETH_HLEN) return -EINVAL;
      if (metalen > 0) {
        const meta = packetHost(ctx, xdp, xdp.dataMeta, metalen);
        ctx.memory.u8.copyWithin(meta + offset, meta, meta + metalen);
      }
      // In the order that keeps data_meta <= data at every step, so the context's window stays valid.
      if (offset < 0) {
        xdp.dataMeta += offset;
        xdp.data = data;
      } else {
        xdp.data = data;
        xdp.dataMeta += offset;
      }
      return 0;
    })
    .define(KernelHelperId.xdp_adjust_meta, 'bpf_xdp_adjust_meta', (ctx) => {
      const xdp = packetFor(runtime, ctx, 'bpf_xdp_adjust_meta', 'xdp');
      const meta = xdp.dataMeta + s32Arg(ctx, 2);
      const metalen = xdp.data - meta;
      if (meta < xdp.hardStart + XDP_FRAME_SIZE || meta > xdp.data) return -EINVAL;
      if (metalen % 4 !== 0 || metalen > XDP_META_MAX) return -EACCES;
      xdp.dataMeta = meta;
      return 0;
    })
    .define(KernelHelperId.xdp_adjust_tail, 'bpf_xdp_adjust_tail', (ctx) => {
      const xdp = packetFor(runtime, ctx, 'bpf_xdp_adjust_tail', 'xdp');
      const offset = s32Arg(ctx, 2);
      const dataEnd = xdp.dataEnd + offset;
      if (dataEnd > xdp.hardEnd || dataEnd < xdp.data + ETH_HLEN) return -EINVAL;
      // Growing exposes bytes that may hold old data: the kernel clears them.
      if (offset > 0) {
        const at = packetHost(ctx, xdp, xdp.dataEnd, offset);
        ctx.memory.u8.fill(0, at, at + offset);
      }
      xdp.dataEnd = dataEnd;
      return 0;
    })
    .define(KernelHelperId.csum_diff, 'bpf_csum_diff', (ctx) => {
      const fromSize = u32Arg(ctx, 2);
      const toSize = u32Arg(ctx, 4);
      const legacy = runtime.csumDiff === 'legacy';
      if (legacy && (((fromSize | toSize) & 3) !== 0 || fromSize + toSize > CSUM_DIFF_MAX)) return -EINVAL;
      // The verifier allows NULL only together with size 0, so only non-empty buffers are read.
      const read = (i: number, size: number) => {
        if (size === 0) return new Uint8Array(0);
        const at = guestPtr(ctx, i, size, 'read');
        return ctx.memory.u8.subarray(at, at + size);
      };
      const seed = u32Arg(ctx, 5);
      return (legacy ? csumDiffLegacy : csumDiff)(read(1, fromSize), read(3, toSize), seed);
    })
    .define(KernelHelperId.redirect, 'bpf_redirect', (ctx) => {
      const ifindex = u32Arg(ctx, 1);
      const flags = ctx.arg(2);
      if (runtime.packet?.kind === 'xdp') {
        if (flags !== 0n) return XdpAction.ABORTED;
        runtime.redirect = { kind: 'ifindex', ifindex, flags: 0 };
        return XdpAction.REDIRECT;
      }
      if ((flags & ~BigInt(BPF_F_INGRESS)) !== 0n) return TC_ACT_SHOT;
      runtime.redirect = { kind: 'ifindex', ifindex, flags: Number(flags) };
      return TC_ACT_REDIRECT;
    })
    .define(KernelHelperId.redirect_map, 'bpf_redirect_map', (ctx) => {
      packetFor(runtime, ctx, 'bpf_redirect_map', 'xdp');
      const map = runtime.maps?.fromHandle(ctx.argLo(1), ctx.argHi(1));
      if (map === undefined) {
        throw new MapTrap(
          'BAD_MAP_HANDLE',
          `bpf_redirect_map at pc ${ctx.pc}: r1 = 0x${ctx.arg(1).toString(16)} is not a map`,
          ctx.pc,
        );
      }
      // DEVMAP/DEVMAP_HASH are not simulated map types: an array or a hash with u32 keys stands in.
      if ((map.type !== 'array' && map.type !== 'hash') || map.def.keySize !== 4) {
        throw new MapTrap(
          'BAD_MAP_TYPE',
          `bpf_redirect_map at pc ${ctx.pc}: map "${map.name}" is a ${map.type} map; use an array or hash map with 4-byte keys as the device map`,
          ctx.pc,
        );
      }
      const key = u32Arg(ctx, 2);
      const flags = ctx.arg(3);
      const actionMask = 3n;
      // The low two bits are the action returned when the key has no entry.
      if ((flags & ~(actionMask | BigInt(BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS))) !== 0n) {
        return XdpAction.ABORTED;
      }
      lookupView.setUint32(0, key, true);
      if (map.lookupElem(lookupKey, 0) === 0 && (flags & BigInt(BPF_F_BROADCAST)) === 0n) {
        return Number(flags & actionMask);
      }
      runtime.redirect = { kind: 'map', map: map.name, key, flags: Number(flags) };
      return XdpAction.REDIRECT;
    });
}
