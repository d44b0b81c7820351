/**
 * What a compiled program's engine needs from the analysis after compiling: the function starting at
 * a pc, and, where a trap or a budget stop refunds the rest of a block the compiled code charged in
 * full, the instructions and gas of the block or after an instruction in it.
 *
 * Traps and budget stops are rare, so these are counted on demand from one bit per pc (block
 * leaders) instead of kept per pc: three int32 per slot, allocated afresh for each compiled program,
 * were 12 MB at 1M instructions, external memory that made V8 run a full garbage collection — which
 * marks every decoded instruction object — every few compilations. A count walks its block once
 * (linear in what the compiled code just ran).
 *
 * Calls charged by their callers (charged-calls.ts) count as the compiled code charges them: a block
 * ending in a local call includes what it charges for its callee (`callCharge`), and in a straight
 * function (`charged`) what remains after a pc is the rest of the whole function, callees included.
 */
import type { Insn, Program } from '../isa/instruction.js';
import { indexInSorted, lastAtOrBefore } from '../util/sorted.js';
import type { ChargedCalls } from './charged-calls.js';

export class BlockCounts {
  /** Bit pc: a basic block starts at pc. */
  private readonly leaders: Uint32Array;

  constructor(
    private readonly program: Program,
    leader: Uint8Array,
    private readonly price: ((insn: Insn) => number) | undefined,
    private readonly charges: ChargedCalls,
  ) {
    const n = program.slotCount;
    const bits = new Uint32Array((n + 31) >>> 5);
    let w = 0;
    if ((leader.byteOffset & 3) === 0) {
      // Four pcs per read (little-endian, as wasm): the multiply moves the four 0/1 bytes of a
      // quad to bits 28..31 in pc order, without carries (their partial products never overlap).
      const quads = new Uint32Array(leader.buffer, leader.byteOffset, (n >>> 5) << 3);
      for (; w < n >>> 5; w++) {
        let word = 0;
        for (let q = 0; q < 8; q++) word |= (Math.imul(quads[8 * w + q], 0x10204080) >>> 28) << (4 * q);
        bits[w] = word;
      }
    }
    // Branch-free (leader holds 0 or 1): a fifth of the pcs may be leaders, in no pattern.
    for (; w < bits.length; w++) {
      const base = w << 5;
      const end = Math.min(32, n - base);
      let word = 0;
      for (let k = 0; k < end; k++) word |= leader[base + k] << k;
      bits[w] = word;
    }
    this.leaders = bits;
  }

  /** Index of the subprogram starting at `pc`, -1 when none does. */
  functionAt(pc: number): number {
    return indexInSorted(this.program.subprograms, pc);
  }

  /** Instructions after the one at `pc` in its block (0 where no instruction starts). */
  insnsAfter(pc: number): number {
    return this.after(pc, false);
  }

  /** Gas of the instructions after the one at `pc` in its block. */
  gasAfter(pc: number): number {
    return this.price === undefined ? this.after(pc, false) : this.after(pc, true);
  }

  /** Instructions of the block starting at `pc`. */
  blockInsns(pc: number): number {
    return this.program.insnAt[pc] < 0 ? 0 : 1 + this.after(pc, false);
  }

  /** Gas of the block starting at `pc`. */
  blockGas(pc: number): number {
    const i = this.program.insnAt[pc];
    if (i < 0) return 0;
    const price = this.price;
    return price === undefined
      ? 1 + this.after(pc, false)
      : price(this.program.insns[i]) + this.after(pc, true);
  }

  /**
   * Instructions (or their gas) from the one after `pc` up to the next leader (in a straight
   * function: up to its end) or the program's end, plus the charges for callees of the local calls
   * from `pc` on.
   */
  private after(pc: number, priced: boolean): number {
    const { insns, insnAt, subprograms } = this.program;
    const i = insnAt[pc];
    if (i < 0) return 0;
    const { callCharge, callChargeGas, charged } = this.charges;
    const charges = priced ? callChargeGas : callCharge;
    const k = lastAtOrBefore(subprograms, pc);
    const straight = charged.length > 0 && charged[k] === 1;
    const end = straight && k + 1 < subprograms.length ? subprograms[k + 1] : Number.POSITIVE_INFINITY;
    const leaders = this.leaders;
    let sum = charges.length > 0 ? this.calleeCharge(insns[i], charges) : 0;
    for (let j = i + 1; j < insns.length; j++) {
      const insn = insns[j];
      const at = insn.pc;
      if (straight ? at >= end : (leaders[at >>> 5] & (1 << (at & 31))) !== 0) break;
      sum += priced ? (this.price as (insn: Insn) => number)(insn) : 1;
      if (charges.length > 0) sum += this.calleeCharge(insn, charges);
    }
    return sum;
  }

  /** What the block of a local call charges for its callee (0 for any other instruction). */
  private calleeCharge(insn: Insn, charges: Float64Array): number {
    if (insn.kind !== 'call' || insn.op !== 'local') return 0;
    const g = this.functionAt(insn.target);
    return g >= 0 ? charges[g] : 0;
  }
}
