/**
 * What an instruction other than alu, load and lddw does to facts the JIT keeps per register along
 * straight-line code (checked ranges, narrow registers, address forms): one definition of which
 * registers it writes and when every fact must go.
 */
import type { Insn } from '../isa/instruction.js';

/** Every fact must go. */
export const FORGET_ALL = -1;

/** A mask of the registers `insn` writes (alu, load and lddw are each analysis's own), or FORGET_ALL. */
export function sideWrites(insn: Insn): number {
  switch (insn.kind) {
    case 'store':
      return 0;
    case 'atomic':
      // Fetching forms write src; cmpxchg writes r0.
      return (1 << insn.src) | 1;
    case 'jump':
      // A conditional jump's fall-through is reached only from here; after `ja`, only by jumps.
      return insn.op === 'ja' ? FORGET_ALL : 0;
    default:
      // Calls (the callee or a helper may change anything), exit, packet loads, anything new.
      return FORGET_ALL;
  }
}

/** Calls `forget` for every register of a `sideWrites` mask that is not FORGET_ALL. */
export function forEachWritten(mask: number, forget: (reg: number) => void): void {
  for (let m = mask; m !== 0; m &= m - 1) forget(31 - Math.clz32(m & -m));
}
