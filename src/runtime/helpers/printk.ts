/**
 * bpf_trace_printk (at most 3 arguments in registers) and bpf_trace_vprintk (up to 12 in an array).
 * The formatted text is appended to `runtime.printk` exactly as the kernel writes it to the trace
 * buffer: nothing is added, so libbpf's bpf_printk("x") yields "x" (trace_pipe shows each write on
 * its own line). Both return the length of the full formatted output, or -errno (see bprintf.ts).
 */
import type { HelperContext, HelperRegistry } from '../../vm/helpers.js';
import { guestPtr, u32Arg } from './args.js';
import { bprintf, MAX_TRACE_PRINTK_ARGS, MAX_VPRINTK_ARGS } from './bprintf.js';
import { EINVAL, KernelHelperId } from './ids.js';
import { ProbeReader } from './probe-read.js';
import type { KernelRuntime } from './runtime.js';

export function registerPrintkHelpers(registry: HelperRegistry, runtime: KernelRuntime): HelperRegistry {
  const reader = new ProbeReader(runtime);
  const emit = (ctx: HelperContext, args: readonly bigint[]): number => {
    const fmtSize = u32Arg(ctx, 2);
    const at = guestPtr(ctx, 1, fmtSize, 'read');
    const result = bprintf(ctx.memory.u8.slice(at, at + fmtSize), args, reader);
    if (typeof result === 'number') return result;
    runtime.printk.push(result.text);
    return result.length;
  };
  return registry
    .define(KernelHelperId.trace_printk, 'bpf_trace_printk', (ctx) => {
      const args: bigint[] = [];
      for (let i = 0; i < MAX_TRACE_PRINTK_ARGS; i++) args.push(ctx.arg(3 + i));
      return emit(ctx, args);
    })
    .define(KernelHelperId.trace_vprintk, 'bpf_trace_vprintk', (ctx) => {
      const dataLen = u32Arg(ctx, 4);
      const data = ctx.arg(3);
      if (dataLen % 8 !== 0 || dataLen > MAX_VPRINTK_ARGS * 8 || (dataLen !== 0 && data === 0n))
        return -EINVAL;
      const args: bigint[] = [];
      if (dataLen > 0) {
        const at = guestPtr(ctx, 3, dataLen, 'read');
        for (let k = 0; k < dataLen; k += 8) args.push(ctx.memory.view.getBigUint64(at + k, true));
      }
      return emit(ctx, args);
    });
}
