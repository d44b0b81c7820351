/**
 * Control-flow graph of a decoded program: successors per instruction, the subprogram each instruction
 * belongs to, prune points (where states are compared, as the kernel's `prune_point`), loop headers
 * (targets of back edges found by DFS) and, per pc, the registers that may be read before being
 * written (liveness), so state comparison ignores dead registers.
 */
import { type Insn, insnAtPc, type Program } from '../isa/instruction.js';

export interface Cfg {
  readonly program: Program;
  /** Successor pcs of the instruction at pc (empty for exit). */
  readonly succ: readonly (readonly number[])[];
  /** Index into `program.subprograms` per pc. */
  readonly subprogOf: Int32Array;
  readonly prunePoint: Uint8Array;
  readonly loopHeader: Uint8Array;
  /** pc → 1 at a may_goto: a prune point where loop iterations are compared and widened. */
  readonly mayGoto: Uint8Array;
  /** Bit r set when register r may be read at or after pc before it is written. */
  readonly liveIn: Uint16Array;
  /** Instructions no path from a subprogram entry reaches. */
  readonly unreachable: readonly number[];
}

const CALLER_SAVED = 0b111111; // r0..r5
const ARGS = 0b111110; // r1..r5

function uses(insn: Insn): number {
  const b = (r: number): number => 1 << r;
  switch (insn.kind) {
    case 'alu':
      return (insn.op === 'mov' || insn.op === 'movsx' ? 0 : b(insn.dst)) | (insn.useReg ? b(insn.src) : 0);
    case 'jump':
      return insn.op === 'ja' || insn.op === 'may_goto' ? 0 : b(insn.dst) | (insn.useReg ? b(insn.src) : 0);
    case 'call':
      return ARGS | (insn.op === 'callx' ? b(insn.dst) : 0);
    case 'exit':
      return b(0);
    case 'lddw':
      return 0;
    case 'packet_load':
      return b(6) | (insn.indirect ? b(insn.src) : 0);
    case 'load':
      return b(insn.src);
    case 'store':
      return b(insn.dst) | (insn.useReg ? b(insn.src) : 0);
    case 'atomic':
      return b(insn.dst) | b(insn.src) | (insn.op === 'cmpxchg' ? b(0) : 0);
  }
}

function defs(insn: Insn): number {
  switch (insn.kind) {
    case 'alu':
    case 'lddw':
    case 'load':
      return 1 << insn.dst;
    case 'call':
    case 'packet_load':
      return CALLER_SAVED;
    case 'atomic':
      return insn.op === 'cmpxchg' ? 1 : insn.fetch ? 1 << insn.src : 0;
    default:
      return 0;
  }
}

export function buildCfg(program: Program): Cfg {
  const n = program.slotCount;
  const succ: number[][] = Array.from({ length: n }, () => []);
  const prunePoint = new Uint8Array(n);
  const loopHeader = new Uint8Array(n);
  const mayGoto = new Uint8Array(n);
  const subprogOf = new Int32Array(n).fill(-1);
  for (const insn of program.insns) {
    const next = insn.pc + insn.slots;
    switch (insn.kind) {
      case 'exit':
        break;
      case 'jump':
        if (insn.op === 'ja') succ[insn.pc].push(insn.target);
        else {
          succ[insn.pc].push(next, insn.target);
          if (next < n) prunePoint[next] = 1;
        }
        if (insn.target < n) prunePoint[insn.target] = 1;
        if (insn.op === 'may_goto') {
          mayGoto[insn.pc] = 1;
          prunePoint[insn.pc] = 1;
        }
        break;
      case 'call':
        succ[insn.pc].push(next);
        if (next < n) prunePoint[next] = 1;
        break;
      default:
        succ[insn.pc].push(next);
    }
  }
  const subs = program.subprograms;
  for (let s = 0; s < subs.length; s++) {
    const end = s + 1 < subs.length ? subs[s + 1] : n;
    subprogOf.fill(s, subs[s], end);
    prunePoint[subs[s]] = 1;
  }
  // Iterative DFS per subprogram: an edge to a node on the DFS stack is a back edge.
  const color = new Uint8Array(n); // 0 white, 1 on stack, 2 done
  for (const start of subs) {
    if (color[start] !== 0) continue;
    const stack: [number, number][] = [[start, 0]];
    color[start] = 1;
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const [pc, i] = top;
      const out = succ[pc];
      if (i < out.length) {
        top[1]++;
        const t = out[i];
        if (t >= n) continue;
        if (color[t] === 1) {
          loopHeader[t] = 1;
          prunePoint[t] = 1;
        } else if (color[t] === 0) {
          color[t] = 1;
          stack.push([t, 0]);
        }
      } else {
        color[pc] = 2;
        stack.pop();
      }
    }
  }
  const unreachable: number[] = [];
  for (const insn of program.insns) if (color[insn.pc] === 0) unreachable.push(insn.pc);
  return {
    program,
    succ,
    subprogOf,
    prunePoint,
    loopHeader,
    mayGoto,
    liveIn: liveness(program, succ),
    unreachable,
  };
}

/** Backward may-read analysis to a fixpoint; r10 is always live. */
function liveness(program: Program, succ: readonly (readonly number[])[]): Uint16Array {
  const n = program.slotCount;
  const live = new Uint16Array(n);
  const insns = program.insns;
  let changed = true;
  while (changed) {
    changed = false;
    for (let k = insns.length - 1; k >= 0; k--) {
      const insn = insns[k];
      let out = 0;
      for (const s of succ[insn.pc]) if (s < n) out |= live[s];
      const v = (uses(insn) | (out & ~defs(insn)) | (1 << 10)) & 0xffff;
      if (v !== live[insn.pc]) {
        live[insn.pc] = v;
        changed = true;
      }
    }
  }
  return live;
}

export { insnAtPc };
