/**
 * The one implementation of `HelperContext` over int32 register halves, shared by the interpreter and
 * the JIT: both engines expose r1..r5 as (lo, hi) pairs and the same services, so helpers see exactly
 * the same thing whichever engine calls them.
 */
import type { HelperContext, TailCallTarget } from './helpers.js';
import { pairToBigInt } from './interpreter/int64.js';
import type { GuestMemory } from './memory/guest-memory.js';

/** The engine services a helper call may use. */
export interface HelperHost {
  readonly memory: GuestMemory;
  requestTerminate(lo: number, hi: number): void;
  requestTailCall(target: TailCallTarget): boolean;
  consumeGas(amount: number, pc: number): void;
  callFunction(target: bigint, args: readonly bigint[], pc: number): bigint;
}

export abstract class RegisterHelperContext implements HelperContext {
  pc = 0;

  constructor(protected readonly host: HelperHost) {}

  /** The registers as int32 pairs, index 2·r (low half) and 2·r + 1 (high half). */
  protected abstract get registerHalves(): Int32Array;

  get memory(): GuestMemory {
    return this.host.memory;
  }
  argLo(i: number): number {
    return this.registerHalves[2 * i];
  }
  argHi(i: number): number {
    return this.registerHalves[2 * i + 1];
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
  abstract callFunction(target: bigint, args: readonly bigint[]): bigint;
}
