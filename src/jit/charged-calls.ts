/**
 * Calls charged by their caller. A *straight* function — no jump, helper, callx or packet load, local
 * calls only to straight functions, exit last — runs the same instructions on every call: a fixed
 * count and gas (its *total*, callees included). The block of each local call to it charges that
 * total too, so the callee has no meter test and returns no countdowns (codegen's `subType`), and its
 * entry is no poll site: it cannot run unbounded (its calls form no cycle).
 *
 * Counts stay exact because what the engine refunds from says so (block-counts.ts, from `callCharge`):
 * - the calling block's `blockInsns`/`blockGas` include the total (budget stops and interrupt polls
 *   refund the whole charge; the interpreter then reruns the block and the call), and so does what
 *   remains after each of its pcs (a trap before or at the call refunds the callee);
 * - in a straight function, what remains after a pc is the rest of the whole function after it,
 *   callees included, and `blockInsns`/`blockGas` at its start are its total. Its countdowns, passed
 *   by the caller, stay put (`L_C`: all of it charged); it passes a callee at call site j
 *   `L_C + siteRest[j]` (the rest after the call, that callee excluded), which is what a trap in the
 *   callee then refunds from.
 * Entries through the function table (run, callx, callbacks) go through an adapter that charges the
 * total itself (codegen's `chargeInAdapter`).
 *
 * Any other called function whose entry block is no jump target and ends in no local call, and whose
 * every call is in a block that polls (a loop header, say: clang's recursion), has that *entry block*
 * charged the same way: the calling block charges it too and polls in its stead (so recursion still
 * polls at every call), the callee starts without a meter test, and its adapter charges the block
 * for the table's entries. Its other blocks charge themselves. A block that does not poll does not
 * start to: a poll path in a hot block that did not have one costs more than the test it saves.
 */
import type { CallGraph } from './call-graph.js';
import { F_ENDS_BLOCK, F_EXIT, F_HOST, F_JUMP, F_LOCAL_CALL } from './insn-facts.js';

/**
 * Charges in callers lengthen the forward paths between polls (codegen's `pollSlack`): when one
 * function's charges, totals included, would pass twice the longest function and this many
 * instructions, no call is charged by its caller.
 */
const MAX_CHARGE = 4096;

export interface ChargedCalls {
  /** Per function: 1 when it is straight and its callers charge it (see above). */
  readonly charged: Uint8Array;
  /** Per function: 1 when its callers charge its entry block (see above). */
  readonly entryCharged: Uint8Array;
  /** The most instructions one function charges, totals included (≥ every function's length). */
  readonly longestCharge: number;
  /**
   * Per function: what a block calling it charges for it (its total, its entry block, or 0 when its
   * callers charge nothing of it), in instructions and in gas (the same array without a cost table).
   */
  readonly callCharge: Float64Array;
  readonly callChargeGas: Float64Array;
  /**
   * Per call site (`CallGraph.sites`) in a straight function: the instructions (and gas) the function
   * runs after the call, its callee's total excluded; 0 at other sites.
   */
  readonly siteRest: Float64Array;
  readonly siteRestGas: Float64Array;
}

const NONE = new Float64Array(0);

/** What this reads of a function's layout (control-flow.ts FunctionLayout). */
interface FunctionSpan {
  readonly startPc: number;
  readonly first: number;
  readonly last: number;
  readonly parts: readonly unknown[];
}

interface ChargeInput {
  readonly functions: readonly FunctionSpan[];
  readonly calls: CallGraph;
  readonly facts: Int32Array;
  /** Instruction index → pc. */
  readonly pcs: Int32Array;
  /** Instruction index → target pc of a jump, -1 for other instructions. */
  readonly jumpTarget: Int32Array;
  readonly leader: Uint8Array;
  readonly pollSite: Uint8Array;
  readonly blockInsns: Int32Array;
  /** The same array as blockInsns without a cost table. */
  readonly blockGas: Float64Array | Int32Array;
  /** Per pc: an instruction's gas, undefined without a cost table (1 each). */
  readonly insnGas: Float64Array | undefined;
}

/** Finds the straight functions and moves their charges into their callers' blocks (in place). */
export function chargeStraightCalls(x: ChargeInput): ChargedCalls {
  const { functions, calls, facts, pcs, blockInsns, insnGas } = x;
  const count = functions.length;
  const charged = new Uint8Array(count);
  const entryCharged = new Uint8Array(count);
  const { sites, siteCallee, callers } = calls;
  let longest = 0;
  for (let k = 0; k < count; k++) longest = Math.max(longest, functions[k].last - functions[k].first + 1);
  const none = {
    charged,
    entryCharged,
    callCharge: NONE,
    callChargeGas: NONE,
    siteRest: NONE,
    siteRestGas: NONE,
  };
  if (sites.length === 0) return { ...none, longestCharge: longest };
  // Per function: its first call site (sites ascend, functions are contiguous), and how many of its
  // sites call functions not yet known straight (-1: it cannot be straight).
  const firstSite = new Int32Array(count + 1);
  const pending = new Int32Array(count);
  let s = 0;
  for (let k = 0; k < count; k++) {
    const f = functions[k];
    firstSite[k] = s;
    while (s < sites.length && sites[s] <= f.last) s++;
    pending[k] = straightShape(f, facts) ? s - firstSite[k] : -1;
  }
  firstSite[count] = sites.length;
  // Totals, from the callees up (Kahn's order: a function on or above a call cycle never gets there).
  const total = new Float64Array(count);
  const totalGas = new Float64Array(count);
  const ready: number[] = [];
  for (let k = 0; k < count; k++) if (pending[k] === 0) ready.push(k);
  while (ready.length > 0) {
    const k = ready.pop() as number;
    const f = functions[k];
    let n = f.last - f.first + 1;
    let gas = 0;
    if (insnGas === undefined) gas = n;
    else for (let i = f.first; i <= f.last; i++) gas += insnGas[pcs[i]];
    for (let j = firstSite[k]; j < firstSite[k + 1]; j++) {
      n += total[siteCallee[j]];
      gas += totalGas[siteCallee[j]];
    }
    total[k] = n;
    totalGas[k] = gas;
    if (callers[k].length > 0) charged[k] = 1;
    const into = callers[k];
    for (let j = 0; j < into.length; j++) {
      const c = into[j];
      if (pending[c] > 0 && --pending[c] === 0) ready.push(c);
    }
  }
  // The other called functions whose entry block their callers may charge (its size: blockInsns at
  // the start, which no straight call inflates: the block ends in no local call); 2: a call of it is
  // in a block that does not poll.
  for (let j = 0; j < sites.length; j++) {
    if (!pollingBlock(x, sites[j])) entryCharged[siteCallee[j]] = 2;
  }
  for (let k = 0; k < count; k++) {
    if (entryCharged[k] === 2) {
      entryCharged[k] = 0;
      continue;
    }
    if (charged[k] === 0 && callers[k].length > 0 && entryShape(functions[k], x)) {
      entryCharged[k] = 1;
      total[k] = blockInsns[functions[k].startPc];
      totalGas[k] = x.blockGas[functions[k].startPc];
    }
  }
  // What each function charges, its callees' totals and entry blocks included; past the bound,
  // nothing is charged by a caller.
  let longestCharge = longest;
  for (let k = 0; k < count; k++) {
    const f = functions[k];
    let n = f.last - f.first + 1;
    if (charged[k] === 1) n = total[k];
    else for (let j = firstSite[k]; j < firstSite[k + 1]; j++) n += total[siteCallee[j]];
    longestCharge = Math.max(longestCharge, n);
  }
  if (longestCharge > Math.max(2 * longest, MAX_CHARGE)) {
    charged.fill(0);
    entryCharged.fill(0);
    return { ...none, longestCharge: longest };
  }
  const priced = x.insnGas !== undefined;
  const siteRest = new Float64Array(sites.length);
  const siteRestGas = priced ? new Float64Array(sites.length) : siteRest;
  for (let k = 0; k < count; k++) {
    if (charged[k] === 1) straightTables(k, x, firstSite, total, totalGas, siteRest, siteRestGas);
  }
  // The blocks of calls from the other functions to straight ones and entry-charged ones: from the
  // call back to its leader (total: 0 for any other callee).
  for (let k = 0; k < count; k++) {
    if (charged[k] === 1) continue;
    for (let j = firstSite[k]; j < firstSite[k + 1]; j++) {
      const g = siteCallee[j];
      if (charged[g] === 0 && entryCharged[g] === 0) continue;
      addToBlock(x, sites[j], total[g], totalGas[g]);
    }
  }
  for (let k = 0; k < count; k++) {
    if (charged[k] === 0 && entryCharged[k] === 0) {
      total[k] = 0;
      totalGas[k] = 0;
    }
  }
  return {
    charged,
    entryCharged,
    longestCharge,
    callCharge: total,
    callChargeGas: priced ? totalGas : total,
    siteRest,
    siteRestGas,
  };
}

/** Whether the block of the call at instruction `i` polls. */
function pollingBlock(x: ChargeInput, i: number): boolean {
  const { pcs, leader, pollSite } = x;
  while (leader[pcs[i]] === 0) i--;
  return pollSite[pcs[i]] === 1;
}

/** Adds a callee's charge to the block of the call at instruction `i`. */
function addToBlock(x: ChargeInput, i: number, n: number, gas: number): void {
  const { pcs, leader, blockInsns, blockGas } = x;
  const priced = blockGas !== blockInsns;
  for (; ; i--) {
    const pc = pcs[i];
    if (leader[pc] === 1) {
      blockInsns[pc] += n;
      if (priced) blockGas[pc] += gas;
      return;
    }
  }
}

/**
 * Whether function `f`'s entry block may be charged by its callers: one part, no jump to its start
 * (a loop header charges itself on every trip), and the block ends in no local call (whose charge
 * would then be part of it).
 */
function entryShape(f: FunctionSpan, x: ChargeInput): boolean {
  if (f.parts.length !== 1) return false;
  const { facts, jumpTarget, leader, pcs } = x;
  for (let i = f.first; i <= f.last; i++) if (jumpTarget[i] === f.startPc) return false;
  for (let i = f.first; i <= f.last; i++) {
    if ((facts[i] & F_ENDS_BLOCK) !== 0) return (facts[i] & F_LOCAL_CALL) === 0;
    if (i < f.last && leader[pcs[i + 1]] === 1) return true;
  }
  return true;
}

/** Whether function `f` has a straight shape: no jump or host code, exit last, only local calls end blocks. */
function straightShape(f: FunctionSpan, facts: Int32Array): boolean {
  if (f.parts.length !== 1 || (facts[f.last] & F_EXIT) === 0) return false;
  for (let i = f.first; i < f.last; i++) {
    const x = facts[i];
    if ((x & (F_HOST | F_JUMP)) !== 0) return false;
    if ((x & F_ENDS_BLOCK) !== 0 && (x & F_LOCAL_CALL) === 0) return false;
  }
  return true;
}

/** Straight function k's total at its start, and the rest after each of its calls (`siteRest`). */
function straightTables(
  k: number,
  x: ChargeInput,
  firstSite: Int32Array,
  total: Float64Array,
  totalGas: Float64Array,
  siteRest: Float64Array,
  siteRestGas: Float64Array,
): void {
  const { functions, calls, pcs, blockInsns, blockGas, insnGas } = x;
  const priced = blockGas !== blockInsns;
  const f = functions[k];
  let n = 0;
  let gas = 0;
  let j = firstSite[k + 1] - 1;
  for (let i = f.last; i >= f.first; i--) {
    const pc = pcs[i];
    if (j >= firstSite[k] && calls.sites[j] === i) {
      siteRest[j] = n;
      if (priced) siteRestGas[j] = gas;
      n += total[calls.siteCallee[j]];
      gas += totalGas[calls.siteCallee[j]];
      j--;
    }
    n += 1;
    gas += insnGas === undefined ? 1 : insnGas[pc];
  }
  blockInsns[f.startPc] = n;
  if (priced) blockGas[f.startPc] = gas;
}
