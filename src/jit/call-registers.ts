/**
 * Which registers a bpf-to-bpf call must carry, per function, so the JIT's calls pass no more than
 * that (codegen.ts, `subType`). With the interpreter's shared register file a callee starts with
 * every register of its caller and hands r0..r5 back; a compiled call only needs
 *  - in: the registers the callee (or anything it calls) may read before writing them — live at its
 *    entry; everything else starts with a meaningless value that nothing observes;
 *  - out: the registers among r0..r5 it (or anything it calls) may write and some caller may read
 *    after the call (r0 always: `run` returns it); the others keep the caller's value, so the caller
 *    keeps its own, or are dead there. With a callx in the program any function may be called
 *    through its full-convention adapter, whose caller may read all of r0..r5: then every register
 *    the function may write comes back.
 * Both are rounded up to a prefix r0..rN, so register r stays wasm local r. Helper calls and callx
 * read every register (callbacks start with r0 and r6..r9, tail calls take all of them), and
 * functions cut into parts take and return all of them. Linear: a few rounds of liveness worklists
 * (a set grows at most 10 times, each time revisiting the predecessors) and closures over the call
 * graph.
 */
import type { Program } from '../isa/instruction.js';
import { closeOver } from './call-graph.js';
import type { ProgramLayout } from './control-flow.js';
import { ALL_REGS as ALL, F_CALLX, F_DEFS, F_EXIT, F_JA, WRITES_SHIFT } from './insn-facts.js';
import { borrowWork, releaseWork } from './scratch.js';

const R0_TO_R5 = 0x3f;
/** Liveness passes over the whole program before the results fall back to everything written. */
const MAX_ROUNDS = 6;

export interface CallRegisters {
  /** Per function: registers passed in (r0..r(n−1)), 0..10. */
  readonly params: Uint8Array;
  /** Per function: registers returned (r0..r(n−1)), 1..6. */
  readonly results: Uint8Array;
  /**
   * Per function: the registers among its params it may read before writing them (a mask). A
   * caller passes 0 for the others: the callee neither reads nor returns them unwritten (a result
   * register it may leave unwritten is live at its exit, so at its entry), so their values are
   * unobservable, and V8 then need not keep the caller's value alive up to the call.
   */
  readonly live: Uint16Array;
}

const prefix = (mask: number): number => 32 - Math.clz32(mask);

// Per instruction, in `info`: falls through to the next one, is an exit, what it reads and writes.
const FALLS = 1;
const EXIT = 2;
const USE_SHIFT = 2;
const DEF_SHIFT = 12;

export function callRegisters(program: Program, layout: ProgramLayout): CallRegisters {
  const { insnAt } = program;
  const { functionSpans, facts, jumpTarget, calls } = layout;
  const count = layout.functions.length;
  if (calls.sites.length === 0) {
    // No local calls: every function is entered through `run` (or callx) with all registers.
    return {
      params: new Uint8Array(count).fill(10),
      results: new Uint8Array(count).fill(6),
      live: new Uint16Array(count).fill(ALL),
    };
  }
  const { callees, callers, sites, siteCallee } = calls;
  const n = program.insns.length;
  // Work memory (scratch.ts): per instruction its info and successor (a jump's target, or
  // -2 − callee for a local call), predecessors as offsets into a list, liveness and the worklist.
  const work = borrowWork(7 * n + 1);
  try {
    const info = work.subarray(0, n);
    const succ = work.subarray(n, 2 * n);
    const predStart = work.subarray(2 * n, 3 * n + 1);
    const preds = work.subarray(3 * n + 1, 5 * n + 1);
    const live = work.subarray(5 * n + 1, 6 * n + 1);
    const stack = work.subarray(6 * n + 1, 7 * n + 1);
    const written = new Uint16Array(count);
    let callx = false;
    predStart.fill(0);
    // Per function: its range and whether it is split (from the compact spans, not the objects).
    const split = new Uint8Array(count);
    for (let k = 0; k < count; k++) split[k] = functionSpans[3 * k + 2] > 1 ? 1 : 0;
    let site = 0;
    for (let k = 0; k < count; k++) {
      const first = functionSpans[3 * k];
      const last = functionSpans[3 * k + 1];
      let w = 0;
      for (let i = first; i <= last; i++) {
        const x = facts[i];
        const writes = (x >>> WRITES_SHIFT) & ALL;
        w |= writes;
        const flow = x & F_EXIT ? EXIT : x & F_JA ? 0 : FALLS;
        const defs = x & F_DEFS ? writes : 0;
        info[i] = (i < last ? flow : flow & EXIT) | ((x & ALL) << USE_SHIFT) | (defs << DEF_SHIFT);
        const t = jumpTarget[i];
        succ[i] = t >= 0 ? insnAt[t] : -1;
        if (x & F_CALLX) callx = true;
        if (site < sites.length && sites[site] === i) succ[i] = -2 - siteCallee[site++];
        if (info[i] & FALLS) predStart[i + 2]++;
        if (succ[i] >= 0) predStart[succ[i] + 1]++;
      }
      written[k] = split[k] === 1 ? ALL : w;
    }
    for (let i = 0; i < n; i++) predStart[i + 1] += predStart[i];
    const fill = stack; // the fill cursors, before the stack is used
    fill.set(predStart.subarray(0, n));
    for (let i = 0; i < n; i++) {
      if (info[i] & FALLS) preds[fill[i + 1]++] = i;
      if (succ[i] >= 0) preds[fill[succ[i]]++] = i;
    }
    // A callee's r0..r5 come back to its caller: close over the call graph.
    closeOver(written, callees, callers, R0_TO_R5);
    const mayReturn = new Uint8Array(count);
    for (let k = 0; k < count; k++) mayReturn[k] = Math.max(1, prefix(written[k] & R0_TO_R5));
    // Liveness across functions: a local call reads its callee's live-in registers, and an exit its
    // function's results, which are r0 and whatever some caller reads after a call among what the
    // function may write (with callx: all it may write). Start from nothing, repeat until nothing
    // grows (both only grow); callees usually follow their callers, so go backwards.
    const entry = new Uint16Array(count);
    const results = new Uint8Array(count);
    for (let k = 0; k < count; k++) {
      results[k] = split[k] === 1 ? 6 : callx ? mayReturn[k] : 1;
      if (split[k] === 1) entry[k] = ALL;
    }
    const liveAfter = new Uint16Array(count);
    const flow: Flow = { info, succ, predStart, preds, live, stack };
    for (let round = 0; ; round++) {
      if (round === MAX_ROUNDS) {
        // Deep call chains: pass everything and return everything written (no liveness needed).
        return {
          params: new Uint8Array(count).fill(10),
          results: mayReturn,
          live: new Uint16Array(count).fill(ALL),
        };
      }
      let grown = false;
      liveAfter.fill(0);
      for (let k = count - 1; k >= 0; k--) {
        if (split[k] === 1) {
          for (const g of callees[k]) liveAfter[g] = ALL;
          continue;
        }
        const exitUses = (1 << results[k]) - 1;
        const e =
          entry[k] |
          liveAtEntry(flow, functionSpans[3 * k], functionSpans[3 * k + 1], exitUses, entry, liveAfter);
        if (e !== entry[k]) {
          entry[k] = e;
          grown = true;
        }
      }
      if (!callx) {
        for (let k = 0; k < count; k++) {
          if (split[k] === 1) continue;
          const q = Math.max(results[k], prefix(written[k] & (liveAfter[k] | 1) & R0_TO_R5));
          if (q !== results[k]) {
            results[k] = q;
            grown = true;
          }
        }
      }
      if (!grown) break;
    }
    const params = new Uint8Array(count);
    for (let k = 0; k < count; k++) params[k] = prefix(entry[k]);
    return { params, results, live: entry };
  } finally {
    releaseWork(work);
  }
}

/** The program's flow graph and liveness work arrays (see callRegisters). */
interface Flow {
  readonly info: Int32Array;
  readonly succ: Int32Array;
  readonly predStart: Int32Array;
  readonly preds: Int32Array;
  /** Per instruction: registers live before it, | QUEUED while on the worklist. */
  readonly live: Int32Array;
  readonly stack: Int32Array;
}

const QUEUED = 1 << 16;

/**
 * Registers live at insns[first] of the function first..last (jumps stay inside it), a local call
 * reading `entry` of its callee and an exit `exitUses`; adds what is live after each local call to
 * `liveAfter` of its callee. A worklist: every instruction once, last first, then the predecessors
 * of each change (a set grows at most 10 times).
 */
function liveAtEntry(
  flow: Flow,
  first: number,
  last: number,
  exitUses: number,
  entry: Uint16Array,
  liveAfter: Uint16Array,
): number {
  const { info, succ, predStart, preds, live, stack } = flow;
  let top = 0;
  for (let i = first; i <= last; i++) {
    live[i] = QUEUED;
    stack[top++] = i;
  }
  while (top > 0) {
    const i = stack[--top];
    const was = live[i] & ALL;
    const x = info[i];
    const s = succ[i];
    let out = x & FALLS ? live[i + 1] : 0;
    if (s >= 0) out |= live[s];
    const read = s < -1 ? entry[-2 - s] : x & EXIT ? exitUses : (x >>> USE_SHIFT) & ALL;
    const now = (read | (out & ~((x >>> DEF_SHIFT) & ALL))) & ALL;
    live[i] = now;
    if (now === was) continue;
    for (let p = predStart[i]; p < predStart[i + 1]; p++) {
      const q = preds[p];
      if ((live[q] & QUEUED) === 0) {
        live[q] |= QUEUED;
        stack[top++] = q;
      }
    }
  }
  for (let i = first; i < last; i++) if (succ[i] < -1) liveAfter[-2 - succ[i]] |= live[i + 1];
  return live[first];
}
