/**
 * bpf_get_stackid over the runtime's simulated call stacks (kernelStack / userStack). The id is the
 * bucket of the stack's hash in a table of max_entries rounded up to a power of two, as in the kernel's
 * stack map; the recorded stacks are in `runtime.stackTraces` (map name → id → addresses). The kernel
 * wants a STACK_TRACE map, which is not a simulated map type: any map stands in, and only its
 * max_entries and value_size (8 bytes per frame) are used.
 */
import type { HelperRegistry } from '../../vm/helpers.js';
import { MapTrap } from '../maps/errors.js';
import { EEXIST, EFAULT, EINVAL, KernelHelperId } from './ids.js';
import type { KernelRuntime } from './runtime.js';

export const BPF_F_SKIP_FIELD_MASK = 0xff;
export const BPF_F_USER_STACK = 1 << 8;
export const BPF_F_FAST_STACK_CMP = 1 << 9;
export const BPF_F_REUSE_STACKID = 1 << 10;
const STACKID_FLAGS = BigInt(
  BPF_F_SKIP_FIELD_MASK | BPF_F_USER_STACK | BPF_F_FAST_STACK_CMP | BPF_F_REUSE_STACKID,
);

/** FNV-1a over the addresses: a stable hash, so the same stack always gets the same id. */
export function stackHash(ips: readonly bigint[]): number {
  let h = 0x811c9dc5;
  for (const ip of ips) {
    let v = BigInt.asUintN(64, ip);
    for (let k = 0; k < 8; k++) {
      h = Math.imul(h ^ Number(v & 0xffn), 0x01000193);
      v >>= 8n;
    }
  }
  return h >>> 0;
}

export function registerStackHelpers(registry: HelperRegistry, runtime: KernelRuntime): HelperRegistry {
  return registry.define(KernelHelperId.get_stackid, 'bpf_get_stackid', (ctx) => {
    const map = runtime.maps?.fromHandle(ctx.argLo(2), ctx.argHi(2));
    if (map === undefined) {
      throw new MapTrap(
        'BAD_MAP_HANDLE',
        `bpf_get_stackid at pc ${ctx.pc}: r2 = 0x${ctx.arg(2).toString(16)} is not a map`,
        ctx.pc,
      );
    }
    const flags = ctx.arg(3);
    if ((flags & ~STACKID_FLAGS) !== 0n) return -EINVAL;
    const f = Number(flags);
    const stack = f & BPF_F_USER_STACK ? runtime.userStack : runtime.kernelStack;
    const skip = f & BPF_F_SKIP_FIELD_MASK;
    if (stack.length <= skip) return -EFAULT;
    const maxDepth = Math.max(1, Math.floor(map.def.valueSize / 8));
    const ips = stack.slice(skip, skip + maxDepth);
    const buckets = 2 ** Math.ceil(Math.log2(Math.max(1, map.def.maxEntries)));
    const id = stackHash(ips) & (buckets - 1);
    let table = runtime.stackTraces.get(map.name);
    if (table === undefined) {
      table = new Map();
      runtime.stackTraces.set(map.name, table);
    }
    const old = table.get(id);
    const same = old !== undefined && old.length === ips.length && old.every((ip, k) => ip === ips[k]);
    if (old !== undefined && !same && !(f & BPF_F_REUSE_STACKID)) return -EEXIST;
    table.set(id, ips);
    return id;
  });
}
