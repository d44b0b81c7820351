/**
 * The local-call graph of a program's functions, built once per compilation (control-flow.ts) and
 * read by the JIT's analyses of calls (call-registers.ts: registers written; codegen's window-free
 * functions; slot-prediction.ts: functions that reach host code), and its closure: what a function
 * may do includes what the functions it calls may do.
 */

/** Local calls, in program order. */
export interface CallGraph {
  /** Instruction indices of the local calls, ascending. */
  readonly sites: Int32Array;
  /** Per call site: the called function's index. */
  readonly siteCallee: Int32Array;
  /** Per function: the functions it calls, once per call site. */
  readonly callees: readonly (readonly number[])[];
  /** Per function: its callers, once per call site. */
  readonly callers: readonly (readonly number[])[];
}

/** The list of a function without calls (or callers), shared and frozen. */
const NONE = Object.freeze([]) as unknown as number[];

/**
 * The graph of the local calls at instruction indices `sites` (ascending) to pcs `targets`;
 * `functions` are contiguous and ascending, `functionAt` maps a start pc to its function.
 */
export function buildCallGraph(
  sites: readonly number[],
  targets: readonly number[],
  functions: readonly { readonly index: number; readonly last: number }[],
  functionAt: Int32Array,
): CallGraph {
  // Two passes, so every list is allocated at its size (a growing array reserves 16 slots, and there
  // may be 10^5 functions); functions without calls share one empty list.
  const count = functions.length;
  const siteCaller = new Int32Array(sites.length);
  const siteCallee = new Int32Array(sites.length);
  const outDegree = new Int32Array(count);
  const inDegree = new Int32Array(count);
  let f = 0;
  for (let s = 0; s < sites.length; s++) {
    while (functions[f].last < sites[s]) f++;
    const g = functionAt[targets[s]];
    siteCaller[s] = f;
    siteCallee[s] = g;
    outDegree[f]++;
    inDegree[g]++;
  }
  const callees: number[][] = new Array(count);
  const callers: number[][] = new Array(count);
  for (let k = 0; k < count; k++) {
    callees[k] = outDegree[k] === 0 ? NONE : new Array(outDegree[k]);
    callers[k] = inDegree[k] === 0 ? NONE : new Array(inDegree[k]);
    outDegree[k] = 0;
    inDegree[k] = 0;
  }
  for (let s = 0; s < sites.length; s++) {
    const caller = siteCaller[s];
    const g = siteCallee[s];
    callees[caller][outDegree[caller]++] = g;
    callers[g][inDegree[g]++] = caller;
  }
  return { sites: Int32Array.from(sites), siteCallee, callees, callers };
}

/**
 * mask[f] |= mask[g] & keep for every call f → g, to the fixed point: a worklist over callers, so
 * each function is revisited only when a callee's mask grew (linear in calls × mask bits).
 */
export function closeOver(
  mask: Uint16Array,
  callees: readonly (readonly number[])[],
  callers: readonly (readonly number[])[],
  keep: number,
): void {
  const stack: number[] = [];
  const queued = new Uint8Array(mask.length);
  for (let k = 0; k < mask.length; k++) {
    stack.push(k);
    queued[k] = 1;
  }
  while (stack.length > 0) {
    const f = stack.pop() as number;
    queued[f] = 0;
    let m = mask[f];
    const out = callees[f];
    for (let j = 0; j < out.length; j++) m |= mask[out[j]] & keep;
    if (m === mask[f]) continue;
    mask[f] = m;
    const into = callers[f];
    for (let j = 0; j < into.length; j++) {
      const c = into[j];
      if (queued[c] === 0) {
        queued[c] = 1;
        stack.push(c);
      }
    }
  }
}

/**
 * Per function: the most local calls on a chain ending at it — the deepest frame it can run in when
 * every run starts at depth 0 in any function — or -1 when a cycle (recursion) reaches it, so its
 * depth is unbounded. Kahn's order over the callers: linear in functions and calls.
 */
export function longestCallChains(graph: CallGraph, count: number): Int32Array {
  const { callees, callers } = graph;
  const chain = new Int32Array(count).fill(-1);
  const pending = new Int32Array(count);
  const ready: number[] = [];
  for (let k = 0; k < count; k++) {
    pending[k] = callers[k].length;
    if (pending[k] === 0) {
      chain[k] = 0;
      ready.push(k);
    }
  }
  while (ready.length > 0) {
    const f = ready.pop() as number;
    for (const g of callees[f]) {
      chain[g] = Math.max(chain[g], chain[f] + 1);
      if (--pending[g] === 0) ready.push(g);
    }
  }
  // Functions left waiting lie on a cycle or below one: some of their callers never became ready.
  for (let k = 0; k < count; k++) if (pending[k] !== 0) chain[k] = -1;
  return chain;
}
