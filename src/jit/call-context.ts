/**
 * What a helper sees when JIT-compiled code calls it: the same `HelperContext` interface the
 * interpreter's helpers get, reading r1..r5 from the int32 halves the compiled code passed in.
 */
import type { HelperHost } from '../vm/register-helper-context.js';
import { RegisterHelperContext } from '../vm/register-helper-context.js';

/** The engine services a helper call may use (the interpreter's, see RegisterHelperContext). */
export type JitHost = HelperHost;

export class JitCallContext extends RegisterHelperContext {
  /** r0..r5 as (lo, hi) int32 pairs, index 2·r (r0 is not passed and reads as 0). */
  readonly registers = new Int32Array(12);

  protected get registerHalves(): Int32Array {
    return this.registers;
  }

  callFunction(target: bigint, args: readonly bigint[]): bigint {
    const pc = this.pc;
    // A nested helper call overwrites the arguments and pc; the caller may still read them.
    const saved = this.registers.slice();
    try {
      return this.host.callFunction(target, args, pc);
    } finally {
      this.registers.set(saved);
      this.pc = pc;
    }
  }
}
