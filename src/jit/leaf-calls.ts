/**
 * Leaf calls charged by their caller. A function that is a single block ending in exit (no jump, call,
 * helper or packet load: every one of them ends a block) runs exactly that block on every call, so
 * the block of each local call to it can charge it too: the callee then has no meter test and returns
 * no countdowns (codegen's `subType`), and its entry is no poll site — it cannot run unbounded.
 *
 * The counts stay exact because the per-pc tables the engine refunds from say so: the calling block's
 * `blockInsns`/`blockGas` (budget stops and interrupt polls refund the whole charge, then the
 * interpreter reruns the block and the call) and `afterInsns`/`afterGas` of each of its pcs (a trap
 * before the call refunds the callee too). A trap inside the callee refunds the rest of its one block
 * as before. Entries through the function table (run, callx, callbacks) go through an adapter that
 * charges the block itself (codegen's `adapter`).
 */
import type { CallGraph } from './call-graph.js';
import { F_EXIT, F_HOST } from './insn-facts.js';

/**
 * A caller's charges grow by its leaf calls, which lengthens the forward paths between polls
 * (codegen's `pollSlack`): a call is charged in its caller only while the caller's instructions plus
 * its leaf calls stay within the program's longest function or this many instructions.
 */
const MAX_CHARGED_SPAN = 256;

export interface LeafCalls {
  /** Per function: 1 when its local calls charge it (see above). */
  readonly charged: Uint8Array;
  /** The most instructions one function charges, its leaf calls included (≥ every function's length). */
  readonly longestCharge: number;
}

interface LeafInput {
  readonly functions: readonly {
    readonly startPc: number;
    readonly first: number;
    readonly last: number;
    readonly parts: readonly unknown[];
  }[];
  readonly calls: CallGraph;
  readonly facts: Int32Array;
  /** Instruction index → pc. */
  readonly pcs: Int32Array;
  readonly leader: Uint8Array;
  readonly blockInsns: Int32Array;
  readonly afterInsns: Int32Array;
  /** The same arrays as blockInsns/afterInsns without a cost table. */
  readonly blockGas: Float64Array | Int32Array;
  readonly afterGas: Float64Array | Int32Array;
}

/** Marks the leaf functions and adds their charge to the blocks of their call sites (in place). */
export function chargeLeafCalls(x: LeafInput): LeafCalls {
  const { functions, calls, facts, pcs, leader, blockInsns, afterInsns, blockGas, afterGas } = x;
  const priced = blockGas !== blockInsns;
  const count = functions.length;
  const charged = new Uint8Array(count);
  let longest = 0;
  for (let k = 0; k < count; k++) {
    const f = functions[k];
    const length = f.last - f.first + 1;
    longest = Math.max(longest, length);
    if (calls.callers[k].length === 0 || f.parts.length !== 1) continue;
    if (blockInsns[f.startPc] !== length || (facts[f.last] & F_EXIT) === 0) continue;
    // A single block holds no host code (helpers and packet loads end blocks); checked all the same.
    let host = false;
    for (let i = f.first; i <= f.last && !host; i++) host = (facts[i] & F_HOST) !== 0;
    if (!host) charged[k] = 1;
  }
  const cap = Math.max(longest, MAX_CHARGED_SPAN);
  const { sites, siteCallee } = calls;
  // Per caller: its length plus the leaf charges added so far (callers are ascending with the sites).
  let caller = 0;
  let total = functions.length > 0 ? functions[0].last - functions[0].first + 1 : 0;
  let longestCharge = longest;
  for (let s = 0; s < sites.length; s++) {
    const i = sites[s];
    while (functions[caller].last < i) {
      caller++;
      total = functions[caller].last - functions[caller].first + 1;
    }
    const g = siteCallee[s];
    if (charged[g] === 0) continue;
    const start = functions[g].startPc;
    const n = blockInsns[start];
    if (total + n > cap) {
      // Too long a charge: this callee charges itself after all (and every other call of it too).
      charged[g] = 0;
      continue;
    }
    total += n;
    longestCharge = Math.max(longestCharge, total);
  }
  // Second pass, once the charged set is final (a callee unmarked above is no longer charged by any
  // caller): the call's block, from the call back to its leader.
  for (let s = 0; s < sites.length; s++) {
    const g = siteCallee[s];
    if (charged[g] === 0) continue;
    const start = functions[g].startPc;
    const n = blockInsns[start];
    const gas = blockGas[start];
    for (let i = sites[s]; ; i--) {
      const pc = pcs[i];
      afterInsns[pc] += n;
      if (priced) afterGas[pc] += gas;
      if (leader[pc] === 1) {
        blockInsns[pc] += n;
        if (priced) blockGas[pc] += gas;
        break;
      }
    }
  }
  return { charged, longestCharge };
}
