/**
 * Which budget tests of an innermost loop one test at its header makes redundant (see codegen's
 * `testFreeLoop`).
 *
 * A block that is not a poll site stops the program when its charge takes the instruction countdown
 * below −slack (the exact end of the budget; gas likewise with its own slack). An iteration of a loop
 * starts at its header, which polls: past that test, left ≥ pollAt. If `rest` bounds what the blocks
 * after the header charge on any path of one iteration, then from left ≥ pollAt ≥ rest − slack no
 * later test of the iteration can fire, so a copy of the loop without them behaves exactly like the
 * loop. The bound holds only up to a local call: the callee charges what it likes (its own blocks
 * stop exactly), so the blocks after one keep their tests. pollAt only changes where the meters are
 * read back (a poll at the header, which re-enters the loop, or a helper call: no copy then).
 *
 * Shape: an innermost natural loop (no loop inside, no mid entry, no dispatch), whose jumps go
 * forward inside it, back to its header or out of it; no helper call (it reads the meters back)
 * unless the JIT runs it inline, no callx, kfunc, packet load, may_goto or tail copy. Linear in the
 * loop's size, which is capped (the copy doubles its code).
 */
import type { Insn, Program } from '../isa/instruction.js';
import type { ProgramLayout, Region } from './control-flow.js';

/** Loops longer than this keep their tests (code size and codegen time of the copy). */
export const MAX_TEST_FREE_INSNS = 160;

export interface TestFreePlan {
  /** The most instructions the blocks after the header charge in one iteration before a call. */
  readonly rest: number;
  /** The same for gas (from `blockGas`). */
  readonly restGas: number;
  /** Leader pcs (ascending) of the blocks that need no test in the copy. */
  readonly free: readonly number[];
}

/**
 * The plan for loop region `R`, or undefined when its shape does not fit or no block would lose its
 * test. `inline(i)`: the helper call at instruction index i runs inline (no host call).
 */
export function planTestFree(
  program: Program,
  layout: ProgramLayout,
  R: Region,
  inline: (i: number) => boolean,
): TestFreePlan | undefined {
  if (!R.isLoop || R.dispatch || R.mid >= 0 || R.inner >= 0) return undefined;
  if (R.last - R.first + 1 > MAX_TEST_FREE_INSNS) return undefined;
  const { insns } = program;
  const { leader, pollSite, loopAt, tailCopy, blockInsns, blockGas } = layout;
  const head = insns[R.first].pc;
  const end = insns[R.last].pc; // an lddw's second slot lies beyond: no jump lands there
  const span = end - head + 1;
  // Per pc offset from the header: the most charged after the header before entering the block
  // (instructions, gas), -1 while unreached; 1 in `tainted` when a path to it passed a call.
  const most = new Int32Array(span).fill(-1);
  const mostGas = new Float64Array(span).fill(-1);
  const tainted = new Uint8Array(span);
  let rest = 0;
  let restGas = 0;
  let out = 0; // charged after the header up to the end of the current block
  let outGas = 0;
  let dirty = false; // a path through the current block passed a call
  // Control reaches pc t from the instruction at `from`: false when that breaks the shape.
  const reach = (t: number, from: number): boolean => {
    if (t <= head || t > end) return true; // back edge or exit: the iteration ends
    if (t <= from) return false; // backward inside the loop
    const o = t - head;
    if (dirty) tainted[o] = 1;
    else {
      if (out > most[o]) most[o] = out;
      if (outGas > mostGas[o]) mostGas[o] = outGas;
    }
    return true;
  };
  for (let i = R.first; i <= R.last; i++) {
    const insn: Insn = insns[i];
    const pc = insn.pc;
    if (i > R.first && (loopAt[i] >= 0 || pollSite[pc] === 1)) return undefined;
    if (leader[pc] === 1) {
      const cur = pc - head;
      if (i === R.first) {
        out = 0;
        outGas = 0;
        dirty = false;
      } else {
        // Unreached blocks (none in this shape) keep their test.
        dirty = tainted[cur] === 1 || most[cur] < 0;
        if (!dirty) {
          out = most[cur] + blockInsns[pc];
          outGas = mostGas[cur] + blockGas[pc];
          if (out > rest) rest = out;
          if (outGas > restGas) restGas = outGas;
        }
      }
    }
    switch (insn.kind) {
      case 'call':
        if (insn.op === 'local') dirty = true;
        else if (insn.op !== 'helper' || !inline(i)) return undefined;
        break;
      case 'packet_load':
        return undefined;
      case 'jump':
        if (insn.op === 'may_goto' || tailCopy[pc] === 1) return undefined;
        if (!reach(insn.target, pc)) return undefined;
        if (insn.op === 'ja') continue;
        break;
      case 'exit':
        continue;
      default:
        break;
    }
    // Falls through: into the next block, or out of the loop after its last instruction.
    if (i === R.last) continue;
    const next = insns[i + 1].pc;
    if (leader[next] === 1 && !reach(next, pc)) return undefined;
  }
  const free: number[] = [];
  for (let i = R.first + 1; i <= R.last; i++) {
    const o = insns[i].pc - head;
    if (leader[insns[i].pc] === 1 && tainted[o] === 0 && most[o] >= 0) free.push(insns[i].pc);
  }
  if (free.length === 0) return undefined;
  return { rest, restGas, free };
}
