/**
 * What each block charges on the JIT's countdowns (codegen's `charge`). A block A that ends in a jump
 * or falls into the next block, whose successors all have A as their only predecessor and poll no
 * meters, pays in advance the least any of its successors costs, m: A charges A + m, each successor
 * its own cost − m. The sums along every path are unchanged, and the smallest successor (every
 * branch-free fall-through, half of a compare chain's blocks) charges nothing at all, so it needs no
 * countdown test.
 *
 * Exactness: A's test fails only when the budget cannot pay A + m, so whichever way A goes, the budget
 * ends within A or within that successor (it costs at least m), before the successor's last
 * instruction: the interpreter the engine hands A to stops there, in the same frame, without passing
 * a call, exit or poll site. The engine's view follows: `blockInsns` of A (what it charged beyond the
 * count at its start) grows by m, and so does the refund of a trap inside A (`afterInsns`).
 */
import { F_ENDS_BLOCK, F_EXIT, F_JA, F_JUMP, F_MAY_GOTO } from './insn-facts.js';

/** The per-pc arrays of the layout (control-flow.ts) this pass reads and adjusts. */
export interface ChargeArrays {
  readonly pcs: Int32Array;
  readonly facts: Int32Array;
  readonly jumpTarget: Int32Array;
  readonly leader: Uint8Array;
  readonly pollSite: Uint8Array;
  /** Scratch, one byte per pc, zero outside this function: predecessors (saturated at 2). */
  readonly preds: Uint8Array;
  readonly blockInsns: Int32Array;
  readonly blockGas: Float64Array | Int32Array;
  readonly afterInsns: Int32Array;
  readonly afterGas: Float64Array | Int32Array;
  /** Out: per leader pc, what its block charges. */
  readonly chargeInsns: Int32Array;
  readonly chargeGas: Float64Array | Int32Array;
}

/**
 * Sets chargeInsns/chargeGas for the function of instructions first..last (block sizes already in
 * blockInsns/blockGas, unfolded) and folds successors' costs into their predecessors (see above).
 */
export function foldCharges(first: number, last: number, a: ChargeArrays): void {
  const { pcs, facts, jumpTarget, leader, pollSite, preds, blockInsns, blockGas, afterInsns, afterGas } = a;
  const { chargeInsns, chargeGas } = a;
  const gasToo = blockGas !== blockInsns; // else they are the same arrays (gas = instructions)
  for (let i = first; i <= last; i++) {
    const pc = pcs[i];
    if (leader[pc] === 1) {
      chargeInsns[pc] = blockInsns[pc];
      if (gasToo) chargeGas[pc] = blockGas[pc];
    }
    const x = facts[i];
    const t = jumpTarget[i];
    if (t >= 0 && preds[t] < 2) preds[t]++;
    if (i < last && (x & (F_JA | F_EXIT)) === 0) {
      const next = pcs[i + 1];
      if (leader[next] === 1 && preds[next] < 2) preds[next]++;
    }
  }
  preds[pcs[first]] = 2; // entered from the caller
  let start = first;
  for (let i = first; i <= last; i++) {
    if (leader[pcs[i]] === 1) start = i;
    if (i < last && leader[pcs[i + 1]] === 0) continue;
    const A = pcs[start];
    const x = facts[i];
    if (pollSite[A] === 1 || (x & F_MAY_GOTO) !== 0) continue;
    // Successors: a jump's target and, unless it is `ja`, the next block; a block that does not
    // end in control flow falls into the next one. Calls, exit and packet loads end here.
    let s1 = -1;
    let s2 = -1;
    if ((x & F_JUMP) !== 0) {
      s1 = jumpTarget[i];
      if ((x & F_JA) === 0) s2 = pcs[i + 1];
    } else if ((x & F_ENDS_BLOCK) === 0) {
      s1 = pcs[i + 1];
    } else {
      continue;
    }
    if (!foldable(s1, A, a) || (s2 >= 0 && !foldable(s2, A, a))) continue;
    // Successors lie after A (`foldable`), so their sizes are still their own here.
    const m = s2 < 0 ? blockInsns[s1] : Math.min(blockInsns[s1], blockInsns[s2]);
    chargeInsns[A] += m;
    chargeInsns[s1] -= m;
    if (s2 >= 0) chargeInsns[s2] -= m;
    blockInsns[A] += m;
    for (let j = start; j <= i; j++) afterInsns[pcs[j]] += m;
    if (!gasToo) continue;
    const g = s2 < 0 ? blockGas[s1] : Math.min(blockGas[s1], blockGas[s2]);
    chargeGas[A] += g;
    chargeGas[s1] -= g;
    if (s2 >= 0) chargeGas[s2] -= g;
    blockGas[A] += g;
    for (let j = start; j <= i; j++) afterGas[pcs[j]] += g;
  }
  for (let i = first; i <= last; i++) preds[pcs[i]] = 0;
}

/** Block `s` may be paid in advance by its predecessor `A`. */
function foldable(s: number, A: number, a: ChargeArrays): boolean {
  return s > A && a.preds[s] === 1 && a.pollSite[s] === 0;
}
