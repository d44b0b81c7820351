/**
 * Control flow of one compiled function (a subprogram), found in one linear pass.
 *
 * Layout in wasm: the code of a function is cut at every jump target T_0 < T_1 < … < T_{k-1}. Segment
 * `j` (the code from T_j to T_{j+1}) is placed right after the `end` of block T_j, and all blocks are
 * nested, so from any segment a forward jump to T_j is a plain `br` out of block T_j. Backward jumps
 * (loops) set a dispatch index and branch to an enclosing `loop`, whose `br_table` re-enters the
 * right block. This handles every CFG, reducible or not, with size linear in the program (one block
 * per target, one br_table entry per target) and costs nothing on forward edges.
 *
 * Gas and instructions are charged per basic block (leaders: function start, jump targets, the
 * instruction after any control transfer). The interpreter charges maximal straight-line runs
 * instead; both charge the same instructions in the same order, so the first instruction the budget
 * cannot pay — and therefore the trap pc and the counters — are identical.
 */
import { LoadError } from '../errors.js';
import type { Insn, Program } from '../isa/instruction.js';

/** Instructions after which a new basic block starts (same set as the interpreter's run ends). */
export function endsBlock(insn: Insn): boolean {
  return insn.kind === 'jump' || insn.kind === 'call' || insn.kind === 'exit' || insn.kind === 'packet_load';
}

export interface FunctionLayout {
  /** Index of this subprogram in `program.subprograms` (and in the wasm table). */
  readonly index: number;
  readonly startPc: number;
  /** Indices into `program.insns`, inclusive. */
  readonly first: number;
  readonly last: number;
  /** Jump targets other than the start, ascending. Label j of the nesting is targets[j]. */
  readonly targets: readonly number[];
  /** True when some jump goes backwards (or to the start): the function needs the dispatch loop. */
  readonly hasBackEdge: boolean;
}

export interface ProgramLayout {
  readonly functions: readonly FunctionLayout[];
  /** pc → subprogram index, -1 when `pc` does not start a subprogram. */
  readonly functionAt: Int32Array;
  /** pc → 1 when a basic block starts there. */
  readonly leader: Uint8Array;
  /** pc → label index of a jump target within its function, -1 otherwise. */
  readonly labelAt: Int32Array;
  /** Per leader pc: instructions and gas of its block. */
  readonly blockInsns: Int32Array;
  readonly blockGas: Float64Array;
  /** Per pc: instructions and gas after it in its block (refunded when it traps). */
  readonly afterInsns: Int32Array;
  readonly afterGas: Float64Array;
  /** Per pc: gas of the instruction itself. */
  readonly insnGas: Float64Array;
}

/**
 * Splits the program into functions and basic blocks. Rejects what the structured layout cannot
 * express (only possible when the decoder's structure checks were turned off): jumps that leave their
 * function and functions that run off their end.
 */
export function analyze(program: Program, price?: (insn: Insn) => number): ProgramLayout {
  const { insns, insnAt, slotCount, subprograms } = program;
  const count = insns.length;
  const functionAt = new Int32Array(slotCount).fill(-1);
  const leader = new Uint8Array(slotCount);
  const labelAt = new Int32Array(slotCount).fill(-1);
  const blockInsns = new Int32Array(slotCount);
  const blockGas = new Float64Array(slotCount);
  const afterInsns = new Int32Array(slotCount);
  const afterGas = new Float64Array(slotCount);
  const insnGas = new Float64Array(slotCount);
  // One pass over the (differently shaped) Insn objects; everything after works on typed arrays.
  const pcs = new Int32Array(count);
  const ends = new Uint8Array(count);
  const jumpTarget = new Int32Array(count).fill(-1);
  for (let i = 0; i < count; i++) {
    const insn = insns[i];
    const pc = insn.pc;
    pcs[i] = pc;
    if (endsBlock(insn)) ends[i] = 1;
    if (insn.kind === 'jump') jumpTarget[i] = insn.target;
    insnGas[pc] = price === undefined ? 1 : price(insn);
  }
  for (let k = 0; k < subprograms.length; k++) functionAt[subprograms[k]] = k;

  const functions: FunctionLayout[] = [];
  for (let k = 0; k < subprograms.length; k++) {
    const startPc = subprograms[k];
    const endPc = k + 1 < subprograms.length ? subprograms[k + 1] : slotCount;
    const first = insnAt[startPc];
    const last = k + 1 < subprograms.length ? insnAt[endPc] - 1 : count - 1;
    const tail = insns[last];
    if (!(tail.kind === 'exit' || (tail.kind === 'jump' && tail.op === 'ja'))) {
      throw new LoadError(
        'NO_EXIT',
        `the function at pc ${startPc} does not end with exit or ja, which the JIT cannot compile`,
        { pc: tail.pc },
      );
    }
    leader[startPc] = 1;
    let hasBackEdge = false;
    for (let i = first; i <= last; i++) {
      if (ends[i] === 1 && i < last) leader[pcs[i + 1]] = 1;
      const t = jumpTarget[i];
      if (t < 0) continue;
      if (t < startPc || t >= endPc) {
        throw new LoadError(
          'JUMP_OUT_OF_SUBPROGRAM',
          `jump to pc ${t} leaves the function [${startPc}, ${endPc}), which the JIT cannot compile`,
          { pc: pcs[i] },
        );
      }
      leader[t] = 1;
      if (t <= pcs[i]) hasBackEdge = true;
      if (t !== startPc) labelAt[t] = 0;
    }
    const targets: number[] = [];
    for (let i = first; i <= last; i++) {
      const pc = pcs[i];
      if (labelAt[pc] === 0) {
        labelAt[pc] = targets.length;
        targets.push(pc);
      }
    }
    // Block sizes, backwards: a block runs from its leader to the next leader or the function end.
    let n = 0;
    let gas = 0;
    for (let i = last; i >= first; i--) {
      const pc = pcs[i];
      if (i === last || leader[pcs[i + 1]] === 1) {
        n = 0;
        gas = 0;
      }
      afterInsns[pc] = n;
      afterGas[pc] = gas;
      n += 1;
      gas += insnGas[pc];
      if (leader[pc] === 1) {
        blockInsns[pc] = n;
        blockGas[pc] = gas;
      }
    }
    functions.push({ index: k, startPc, first, last, targets, hasBackEdge });
  }
  return { functions, functionAt, leader, labelAt, blockInsns, blockGas, afterInsns, afterGas, insnGas };
}
