/** Reading helper arguments the way the kernel's BPF_CALL_x prototypes type them. */
import type { HelperContext } from '../../vm/helpers.js';

/** Argument `i` as the kernel's `u32` parameter (the register's low half). */
export function u32Arg(ctx: HelperContext, i: number): number {
  return ctx.argLo(i) >>> 0;
}

/** Argument `i` as the kernel's `int` parameter. */
export function s32Arg(ctx: HelperContext, i: number): number {
  return ctx.argLo(i) | 0;
}

/**
 * Host offset of `size` bytes at the guest pointer in argument `i`. A pointer the kernel's verifier
 * would have checked (stack buffer, map value, context) that is bad here stops the program with the
 * MemoryFault at the call rather than returning an error.
 */
export function guestPtr(ctx: HelperContext, i: number, size: number, access: 'read' | 'write'): number {
  return ctx.memory.checked(ctx.arg(i), size, access, ctx.pc);
}
