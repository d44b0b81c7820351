/** bpf_loop: calls a BPF callback up to nr_loops times through HelperContext.callFunction. */
import type { HelperRegistry } from '../../vm/helpers.js';
import { u32Arg } from './args.js';
import { E2BIG, EINVAL, KernelHelperId } from './ids.js';

/** BPF_MAX_LOOPS. */
export const MAX_LOOPS = 1 << 23;

export function registerLoopHelpers(registry: HelperRegistry): HelperRegistry {
  return registry.define(KernelHelperId.loop, 'bpf_loop', (ctx) => {
    const nrLoops = u32Arg(ctx, 1);
    const callback = ctx.arg(2);
    const callbackCtx = ctx.arg(3);
    if (ctx.arg(4) !== 0n) return -EINVAL;
    if (nrLoops > MAX_LOOPS) return -E2BIG;
    for (let i = 0; i < nrLoops; i++) {
      // The verifier restricts the callback's result to 0 (continue) or 1 (stop).
      if (ctx.callFunction(callback, [BigInt(i), callbackCtx, 0n, 0n, 0n]) !== 0n) return i + 1;
    }
    return nrLoops;
  });
}
