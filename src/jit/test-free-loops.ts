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
 * A rotated loop's mid entry starts a first, partial iteration there, after no header test: the
 * copy is entered only when left ≥ restMid − slack as well, restMid bounding what that iteration
 * charges (its entry block's charge included).
 *
 * Shape: an innermost natural loop (no loop inside, no dispatch), whose jumps go
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
  /** From the mid entry (Region.mid) with its block, before a call: instructions and gas; 0 without one. */
  readonly restMid: number;
  readonly restMidGas: number;
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
  if (!R.isLoop || R.dispatch || R.inner >= 0) return undefined;
  if (R.last - R.first + 1 > MAX_TEST_FREE_INSNS) return undefined;
  const { insns } = program;
  const head = insns[R.first].pc;
  const span = insns[R.last].pc - head + 1; // an lddw's second slot lies beyond: no jump lands there
  const scan = new IterationScan(program, layout, R, inline, span);
  if (!scan.run(R.first)) return undefined;
  const { rest, restGas } = scan;
  let restMid = 0;
  let restMidGas = 0;
  if (R.mid >= 0) {
    const from = program.insnAt[R.mid];
    if (from <= R.first || from > R.last || !scan.run(from)) return undefined;
    restMid = scan.rest;
    restMidGas = scan.restGas;
  }
  const free: number[] = [];
  const { leader } = layout;
  for (let i = R.first + 1; i <= R.last; i++) {
    const pc = insns[i].pc;
    if (leader[pc] === 1 && scan.tainted[pc - head] === 0 && scan.reached[pc - head] === 1) free.push(pc);
  }
  if (free.length === 0) return undefined;
  return { rest, restGas, restMid, restMidGas, free };
}

/** One iteration's paths from a start block to the back edges and exits (see `planTestFree`). */
class IterationScan {
  /** Per pc offset from the header: a path to the block passed a call (in any scan). */
  readonly tainted: Uint8Array;
  /** Per pc offset: some scan reached the block. */
  readonly reached: Uint8Array;
  /** Of the last scan: the most charged on a path before a call. */
  rest = 0;
  restGas = 0;
  // Per pc offset, of the current scan: the most charged before entering the block, -1 unreached.
  private readonly most: Int32Array;
  private readonly mostGas: Float64Array;
  private readonly head: number;
  private readonly end: number;
  // The current block: charged up to its end, and whether a path through it passed a call.
  private out = 0;
  private outGas = 0;
  private dirty = false;

  constructor(
    private readonly program: Program,
    private readonly layout: ProgramLayout,
    private readonly R: Region,
    private readonly inline: (i: number) => boolean,
    span: number,
  ) {
    this.tainted = new Uint8Array(span);
    this.reached = new Uint8Array(span);
    this.most = new Int32Array(span);
    this.mostGas = new Float64Array(span);
    this.head = program.insns[R.first].pc;
    this.end = program.insns[R.last].pc;
  }

  /**
   * Scans from instruction index `from` (the header, whose charge is tested, or the mid entry, whose
   * block's charge counts) to the loop's end; false when the loop breaks the shape.
   */
  run(from: number): boolean {
    const { insns } = this.program;
    const { leader, pollSite, loopAt, tailCopy, blockInsns, blockGas } = this.layout;
    const { R, head, most, mostGas } = this;
    most.fill(-1);
    mostGas.fill(-1);
    this.rest = 0;
    this.restGas = 0;
    most[insns[from].pc - head] = 0;
    mostGas[insns[from].pc - head] = 0;
    for (let i = from; i <= R.last; i++) {
      const insn: Insn = insns[i];
      const pc = insn.pc;
      if (i > R.first && (loopAt[i] >= 0 || pollSite[pc] === 1)) return false;
      if (leader[pc] === 1) {
        const o = pc - head;
        if (i === R.first) {
          // The header's own charge is tested.
          this.out = 0;
          this.outGas = 0;
          this.dirty = false;
          this.reached[o] = 1;
        } else {
          // Unreached blocks (none in this shape) keep their test.
          this.dirty = this.tainted[o] === 1 || most[o] < 0;
          if (most[o] >= 0) this.reached[o] = 1;
          if (!this.dirty) {
            this.out = most[o] + blockInsns[pc];
            this.outGas = mostGas[o] + blockGas[pc];
            if (this.out > this.rest) this.rest = this.out;
            if (this.outGas > this.restGas) this.restGas = this.outGas;
          }
        }
      }
      switch (insn.kind) {
        case 'call':
          if (insn.op === 'local') this.dirty = true;
          else if (insn.op !== 'helper' || !this.inline(i)) return false;
          break;
        case 'packet_load':
          return false;
        case 'jump':
          if (insn.op === 'may_goto' || tailCopy[pc] === 1) return false;
          if (!this.reach(insn.target, pc)) return false;
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
      if (leader[next] === 1 && !this.reach(next, pc)) return false;
    }
    return true;
  }

  /** Control goes to pc t from the instruction at `from`: false when that breaks the shape. */
  private reach(t: number, from: number): boolean {
    if (t <= this.head || t > this.end) return true; // back edge or exit: the iteration ends
    if (t <= from) return false; // backward inside the loop
    const o = t - this.head;
    if (this.dirty) this.tainted[o] = 1;
    else {
      if (this.out > this.most[o]) this.most[o] = this.out;
      if (this.outGas > this.mostGas[o]) this.mostGas[o] = this.outGas;
    }
    return true;
  }
}
