/**
 * Which registers a bpf-to-bpf call must carry, per function, so the JIT's calls pass no more than
 * that (codegen.ts, `Signature`). With the interpreter's shared register file a callee starts with
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
 * functions cut into parts take and return all of them. Linear: one liveness worklist per function
 * (a mask grows at most 10 times, each time revisiting the predecessors) and one over the call graph.
 */
import type { Insn, Program } from '../isa/instruction.js';
import type { ProgramLayout } from './control-flow.js';

/** Registers r0..r9 as bits. */
const ALL = 0x3ff;
const R0_TO_R5 = 0x3f;
/** Liveness passes over the whole program before the results fall back to everything written. */
const MAX_ROUNDS = 4;

export interface CallRegisters {
  /** Per function: registers passed in (r0..r(n−1)), 0..10. */
  readonly params: Uint8Array;
  /** Per function: registers returned (r0..r(n−1)), 1..6. */
  readonly results: Uint8Array;
}

const bit = (r: number): number => (r < 10 ? 1 << r : 0);

/** Registers `insn` may read (local calls: their callee's live-in, see `liveAtEntry`). */
function uses(insn: Insn, exitUses: number): number {
  switch (insn.kind) {
    case 'alu': {
      const src = insn.useReg || insn.op === 'movsx' ? bit(insn.src) : 0;
      return insn.op === 'mov' || insn.op === 'movsx' ? src : src | bit(insn.dst);
    }
    case 'jump':
      if (insn.op === 'ja' || insn.op === 'may_goto') return 0;
      return bit(insn.dst) | (insn.useReg ? bit(insn.src) : 0);
    case 'load':
      return bit(insn.src);
    case 'store':
      return bit(insn.dst) | (insn.useReg ? bit(insn.src) : 0);
    case 'atomic':
      return bit(insn.dst) | bit(insn.src) | 1;
    case 'packet_load':
      return insn.indirect ? bit(insn.src) : 0;
    case 'call':
      return insn.op === 'local' ? 0 : ALL;
    case 'exit':
      return exitUses;
    case 'lddw':
      return 0;
  }
}

/** Registers `insn` certainly writes (only those, so liveness stays an over-approximation). */
function defs(insn: Insn): number {
  return insn.kind === 'alu' || insn.kind === 'lddw' || insn.kind === 'load' ? bit(insn.dst) : 0;
}

/** Registers `insn` may write, for the results (local calls: added over the call graph). */
function writes(insn: Insn): number {
  switch (insn.kind) {
    case 'alu':
    case 'lddw':
    case 'load':
      return bit(insn.dst);
    case 'atomic':
      return 1 | bit(insn.src);
    case 'packet_load':
      return 1;
    case 'call':
      return insn.op === 'local' ? 0 : insn.op === 'helper' ? 1 : R0_TO_R5;
    default:
      return 0;
  }
}

const prefix = (mask: number): number => 32 - Math.clz32(mask);

export function callRegisters(program: Program, layout: ProgramLayout): CallRegisters {
  const { insns } = program;
  const { functions, functionAt } = layout;
  const count = functions.length;
  const callees: number[][] = functions.map(() => []);
  const callers: number[][] = functions.map(() => []);
  const written = new Uint16Array(count);
  let callx = false;
  for (const f of functions) {
    let w = 0;
    for (let i = f.first; i <= f.last; i++) {
      const insn = insns[i];
      w |= writes(insn);
      if (insn.kind === 'call' && insn.op === 'callx') callx = true;
      if (insn.kind === 'call' && insn.op === 'local') {
        const g = functionAt[insn.target];
        callees[f.index].push(g);
        callers[g].push(f.index);
      }
    }
    written[f.index] = f.parts.length > 1 ? ALL : w;
  }
  // A callee's r0..r5 come back to its caller: close over the call graph.
  closeOver(written, callees, callers, R0_TO_R5);
  const mayReturn = new Uint8Array(count);
  for (let k = 0; k < count; k++) mayReturn[k] = Math.max(1, prefix(written[k] & R0_TO_R5));
  // Liveness across functions: a local call reads its callee's live-in registers, and an exit its
  // function's results, which are r0 and whatever some caller reads after a call among what the
  // function may write (with callx: all it may write). Start from nothing, repeat until nothing
  // grows (both only grow); callees usually follow their callers, so go backwards.
  const live = new Uint16Array(count);
  const results = new Uint8Array(count);
  for (const f of functions) {
    results[f.index] = f.parts.length > 1 ? 6 : callx ? mayReturn[f.index] : 1;
    if (f.parts.length > 1) live[f.index] = ALL;
  }
  const liveAfter = new Uint16Array(count);
  const maxLen = functions.reduce((m, f) => Math.max(m, f.last - f.first + 1), 0);
  const work = new LivenessWork(maxLen);
  for (let round = 0; ; round++) {
    if (round === MAX_ROUNDS) {
      // Deep call chains: pass everything and return everything written (no liveness needed).
      return { params: new Uint8Array(count).fill(10), results: mayReturn };
    }
    let grown = false;
    liveAfter.fill(0);
    for (let k = count - 1; k >= 0; k--) {
      const f = functions[k];
      if (f.parts.length > 1) {
        for (const g of callees[k]) liveAfter[g] = ALL;
        continue;
      }
      const exitUses = (1 << results[k]) - 1;
      const entry =
        live[k] | work.liveAtEntry(program, functionAt, f.first, f.last, exitUses, live, liveAfter);
      if (entry !== live[k]) {
        live[k] = entry;
        grown = true;
      }
    }
    if (!callx) {
      for (const f of functions) {
        const k = f.index;
        if (f.parts.length > 1) continue;
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
  for (let k = 0; k < count; k++) params[k] = prefix(live[k]);
  return { params, results };
}

/** mask[f] |= mask[g] & keep for every call f → g, to the fixed point (a worklist over callers). */
function closeOver(mask: Uint16Array, callees: number[][], callers: number[][], keep: number): void {
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
    for (const g of callees[f]) m |= mask[g] & keep;
    if (m === mask[f]) continue;
    mask[f] = m;
    for (const c of callers[f]) {
      if (queued[c] === 0) {
        queued[c] = 1;
        stack.push(c);
      }
    }
  }
}

/** Backward liveness of one function's registers, on arrays sized for the longest function. */
class LivenessWork {
  private readonly liveIn: Uint16Array;
  private readonly predStart: Int32Array;
  private readonly preds: Int32Array;
  private readonly queued: Uint8Array;
  private readonly stack: Int32Array;

  constructor(n: number) {
    this.liveIn = new Uint16Array(n);
    this.predStart = new Int32Array(n + 1);
    this.preds = new Int32Array(2 * n);
    this.queued = new Uint8Array(n);
    this.stack = new Int32Array(n);
  }

  /**
   * Registers live at insns[first] (instructions first..last, jumps stay inside), a local call
   * reading `entryLive` of its callee; adds those live after each local call to `liveAfter` of its
   * callee.
   */
  liveAtEntry(
    program: Program,
    functionAt: Int32Array,
    first: number,
    last: number,
    exitUses: number,
    entryLive: Uint16Array,
    liveAfter: Uint16Array,
  ): number {
    const { insns, insnAt } = program;
    const n = last - first + 1;
    const { liveIn, predStart, preds, queued, stack } = this;
    // Successors of local instruction j: j + 1 unless it ends the flow, and a jump's target.
    const next = (j: number) => {
      const insn = insns[first + j];
      return insn.kind === 'exit' || (insn.kind === 'jump' && insn.op === 'ja') || j + 1 >= n ? -1 : j + 1;
    };
    const target = (j: number) => {
      const insn = insns[first + j];
      return insn.kind === 'jump' ? insnAt[insn.target] - first : -1;
    };
    predStart.fill(0, 0, n + 1);
    for (let j = 0; j < n; j++) {
      const a = next(j);
      const b = target(j);
      if (a >= 0) predStart[a + 1]++;
      if (b >= 0) predStart[b + 1]++;
    }
    for (let j = 0; j < n; j++) predStart[j + 1] += predStart[j];
    const fill = stack; // the fill cursors, before the stack is used
    fill.set(predStart.subarray(0, n));
    for (let j = 0; j < n; j++) {
      const a = next(j);
      const b = target(j);
      if (a >= 0) preds[fill[a]++] = j;
      if (b >= 0) preds[fill[b]++] = j;
    }
    liveIn.fill(0, 0, n);
    // Every instruction once, last first; then whatever a change reaches.
    let top = 0;
    for (let j = 0; j < n; j++) {
      stack[top++] = j;
      queued[j] = 1;
    }
    while (top > 0) {
      const j = stack[--top];
      queued[j] = 0;
      const a = next(j);
      const b = target(j);
      const out = (a >= 0 ? liveIn[a] : 0) | (b >= 0 ? liveIn[b] : 0);
      const insn = insns[first + j];
      const read =
        insn.kind === 'call' && insn.op === 'local'
          ? entryLive[functionAt[insn.target]]
          : uses(insn, exitUses);
      const live = read | (out & ~defs(insn));
      if (live === liveIn[j]) continue;
      liveIn[j] = live;
      for (let p = predStart[j]; p < predStart[j + 1]; p++) {
        const q = preds[p];
        if (queued[q] === 0) {
          queued[q] = 1;
          stack[top++] = q;
        }
      }
    }
    for (let j = 0; j + 1 < n; j++) {
      const insn = insns[first + j];
      if (insn.kind === 'call' && insn.op === 'local') liveAfter[functionAt[insn.target]] |= liveIn[j + 1];
    }
    return liveIn[0];
  }
}
