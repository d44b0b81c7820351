/**
 * What a helper sees when JIT-compiled code calls it: the same `HelperContext` interface the
 * interpreter's helpers get, reading r1..r5 from the int32 halves the compiled code passed in.
 */
import type { HelperContext, TailCallTarget } from '../vm/helpers.js';
import { pairToBigInt } from '../vm/interpreter/int64.js';
import type { GuestMemory } from '../vm/memory/guest-memory.js';

/** The engine services a helper call may use. */
export interface JitHost {
  readonly memory: GuestMemory;
  requestTerminate(lo: number, hi: number): void;
  requestTailCall(target: TailCallTarget): boolean;
  consumeGas(amount: number, pc: number): void;
  callFunction(target: bigint, args: readonly bigint[], pc: number): bigint;
}

export class JitCallContext implements HelperContext {
  pc = 0;
  /** r0..r5 as (lo, hi) int32 pairs, index 2·r (r0 is not passed and reads as 0). */
  readonly registers = new Int32Array(12);

  constructor(private readonly host: JitHost) {}

  get memory(): GuestMemory {
    return this.host.memory;
  }
  argLo(i: number): number {
    return this.registers[2 * i];
  }
  argHi(i: number): number {
    return this.registers[2 * i + 1];
  }
  arg(i: number): bigint {
    return pairToBigInt(this.argLo(i), this.argHi(i));
  }
  argNumber(i: number): number {
    return (this.argHi(i) >>> 0) * 4294967296 + (this.argLo(i) >>> 0);
  }
  terminate(r0: bigint | number): void {
    const v = BigInt.asUintN(64, BigInt(r0));
    this.host.requestTerminate(Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0);
  }
  tailCall(target: TailCallTarget): boolean {
    return this.host.requestTailCall(target);
  }
  consumeGas(amount: number): void {
    this.host.consumeGas(amount, this.pc);
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
