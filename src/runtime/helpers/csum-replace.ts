/**
 * bpf_l3_csum_replace and bpf_l4_csum_replace: incremental update (RFC 1624) of a 16-bit checksum
 * stored in an skb's packet after the program changed a 2- or 4-byte field, or by a bpf_csum_diff
 * result (size 0). Arithmetic as include/net/checksum.h does it; the packet's checksum state is
 * CHECKSUM_NONE (nothing simulated keeps skb->csum), so the L4 variant patches the field exactly like
 * the L3 one and only adds the BPF_F_MARK_MANGLED_0 rule.
 */
import { HelperError } from '../../errors.js';
import type { HelperContext, HelperRegistry } from '../../vm/helpers.js';
import { u32Arg } from './args.js';
import { EFAULT, EINVAL, KernelHelperId } from './ids.js';
import { packetFor, packetHost } from './packet.js';
import type { KernelRuntime } from './runtime.js';

/** BPF_F_HDR_FIELD_MASK: the low four flag bits give the field size (0, 2 or 4). */
export const BPF_F_HDR_FIELD_MASK = 0xf;
export const BPF_F_PSEUDO_HDR = 1 << 4;
export const BPF_F_MARK_MANGLED_0 = 1 << 5;
export const BPF_F_MARK_ENFORCE = 1 << 6;
export const BPF_F_IPV6 = 1 << 7;
/** CSUM_MANGLED_0: a UDP checksum that folds to 0 is sent as 0xffff (0 means "no checksum"). */
const CSUM_MANGLED_0 = 0xffff;
const L4_FLAGS =
  BPF_F_HDR_FIELD_MASK | BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0 | BPF_F_MARK_ENFORCE | BPF_F_IPV6;

/** csum_add: 32-bit ones'-complement addition with end-around carry. */
function csumAdd(a: number, b: number): number {
  const res = (a + b) >>> 0;
  return (res + (res < b >>> 0 ? 1 : 0)) >>> 0;
}

/** csum_fold: 32-bit sum to the complemented 16-bit checksum. */
export function csumFold(sum: number): number {
  const s = (sum + (((sum >>> 16) | (sum << 16)) >>> 0)) >>> 0;
  return ~s >>> 16;
}

/** csum_replace4: the checksum after a 32-bit word changed from `from` to `to`. */
export function csumReplace4(sum: number, from: number, to: number): number {
  return csumFold(csumAdd(csumAdd(~sum >>> 0, ~from >>> 0), to >>> 0));
}

/** csum_replace2: the checksum after a 16-bit word changed (csum16_add / csum16_sub). */
export function csumReplace2(sum: number, from: number, to: number): number {
  const add16 = (a: number, b: number) => {
    const res = (a + b) & 0xffff;
    return res + (res < b ? 1 : 0);
  };
  return ~add16(add16(~sum & 0xffff, ~from & 0xffff), to & 0xffff) & 0xffff;
}

/** csum_replace_by_diff: the checksum after adding a 32-bit difference (bpf_csum_diff's result). */
export function csumReplaceByDiff(sum: number, diff: number): number {
  return csumFold(csumAdd(diff >>> 0, ~sum >>> 0));
}

/** Checks and locates the checksum field; returns its host offset or a negative errno. */
function checksumField(ctx: HelperContext, runtime: KernelRuntime, helper: string): number {
  const skb = packetFor(runtime, ctx, helper, 'skb');
  if (!skb.writable) {
    throw new HelperError(`${helper} at pc ${ctx.pc}: this program's packet is read-only`, { pc: ctx.pc });
  }
  const offset = u32Arg(ctx, 2);
  if (offset > 0xffff || (offset & 1) !== 0) return -EFAULT;
  // bpf_try_make_writable: the two bytes must be inside the packet.
  if (offset + 2 > skb.dataEnd - skb.data) return -EFAULT;
  return packetHost(ctx, skb, skb.data + offset, 2);
}

/** The new checksum for the field size in `flags`, or undefined for a size the helper refuses. */
function replaced(sum: number, from: bigint, to: bigint, size: number): number | undefined {
  const lo = (v: bigint) => Number(v & 0xffffffffn);
  switch (size) {
    case 0:
      return from === 0n ? csumReplaceByDiff(sum, lo(to)) : undefined;
    case 2:
      return csumReplace2(sum, lo(from) & 0xffff, lo(to) & 0xffff);
    case 4:
      return csumReplace4(sum, lo(from), lo(to));
    default:
      return undefined;
  }
}

export function registerCsumReplaceHelpers(registry: HelperRegistry, runtime: KernelRuntime): HelperRegistry {
  // The checksum is read and written as the kernel's __sum16: two bytes in memory order (little-endian
  // here, like from and to, which the program loaded from the packet the same way).
  const update = (ctx: HelperContext, helper: string, allowed: number): number => {
    const flags = ctx.arg(5);
    if ((flags & ~BigInt(allowed)) !== 0n) return -EINVAL;
    const at = checksumField(ctx, runtime, helper);
    if (at < 0) return at;
    const u8 = ctx.memory.u8;
    const sum = u8[at] | (u8[at + 1] << 8);
    const f = Number(flags);
    const mangled0 = (f & BPF_F_MARK_MANGLED_0) !== 0;
    if (mangled0 && (f & BPF_F_MARK_ENFORCE) === 0 && sum === 0) return 0;
    let next = replaced(sum, ctx.arg(3), ctx.arg(4), f & BPF_F_HDR_FIELD_MASK);
    if (next === undefined) return -EINVAL;
    if (mangled0 && next === 0) next = CSUM_MANGLED_0;
    u8[at] = next & 0xff;
    u8[at + 1] = next >>> 8;
    return 0;
  };
  return registry
    .define(KernelHelperId.l3_csum_replace, 'bpf_l3_csum_replace', (ctx) =>
      update(ctx, 'bpf_l3_csum_replace', BPF_F_HDR_FIELD_MASK),
    )
    .define(KernelHelperId.l4_csum_replace, 'bpf_l4_csum_replace', (ctx) =>
      update(ctx, 'bpf_l4_csum_replace', L4_FLAGS),
    );
}
