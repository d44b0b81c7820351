/**
 * Control flow of the compiled functions (subprograms), found in linear time.
 *
 * Layout in wasm. A *region* is a function or a natural loop inside it. The code of a region is cut at
 * its jump targets T_0 < … < T_{k-1}; the code from T_j on is placed right after the `end` of block
 * T_j and all the blocks nest, so a forward jump to T_j is a plain `br` out of block T_j. A natural
 * loop — entered only at its header, left only forwards — is a region of its own inside a wasm `loop`,
 * so its back edges are `br`s to that loop. So is a *rotated* loop, clang's favourite shape: laid out
 * from the top of its body but entered from outside at one instruction in the middle (its *mid
 * entry*). A jump from outside to the mid entry sets a flag (the entry's pc) and enters the wasm loop
 * at its start, where a test of the flag branches to the mid entry's block. Loops nest as clang's
 * outer cycles need: several may start at one instruction (the outermost reaching down to the last
 * back edge, the innermost natural, so its iterations pass no flag test), several nested loops may
 * share a mid entry (the flag passes through each start on its way in), and a loop entered mid-body
 * from below nests in a loop reaching down to that jump (which then `br`s to the outer start).
 * A backward jump to a short block that leaves forwards (a shared switch tail) runs a copy of it.
 * Every other backward jump (irreducible flow, loops left backwards) sets a dispatch index and
 * branches to a `loop` + `br_table` around its region, which re-enters the right block: every CFG
 * compiles, with one block per target and one table entry per target. Loop candidates are checked by scanning them; the scans share a budget proportional to the
 * function size, so deeply nested hostile input falls back to dispatch instead of going quadratic.
 *
 * A function longer than the part size is cut at block boundaries into parts, each its own wasm
 * function with the layout above; a jump to another part returns to a driver loop that calls that
 * part with the target's dispatch index (V8 refuses function bodies over 7.6 MB).
 *
 * Gas and instructions are charged per basic block (leaders: function start, jump targets, the
 * instruction after any control transfer). The interpreter charges maximal straight-line runs
 * instead; both charge the same instructions in the same order, so the first instruction the budget
 * cannot pay — and therefore the trap pc and the counters — are identical.
 */
import { LoadError } from '../errors.js';
import type { Insn, Program } from '../isa/instruction.js';
import { buildCallGraph, type CallGraph } from './call-graph.js';
import { type ChargedCalls, chargeStraightCalls } from './charged-calls.js';
import {
  ALL_REGS,
  DEFS_BIT,
  F_DEFS,
  F_ENDS_BLOCK,
  F_EXIT,
  F_JA,
  F_JUMP,
  F_LOCAL_CALL,
  F_MAY_GOTO,
  insnFacts,
  LOCAL_CALL_BIT,
  WRITES_SHIFT,
} from './insn-facts.js';
import { borrowWork, releaseWork, WorkPool, workBuffer } from './scratch.js';

/** Instructions after which a new basic block starts (same set as the interpreter's run ends). */
export function endsBlock(insn: Insn): boolean {
  return kindEndsBlock(insn.kind);
}

function kindEndsBlock(kind: Insn['kind']): boolean {
  return kind === 'jump' || kind === 'call' || kind === 'exit' || kind === 'packet_load';
}

/** A part of a function (region 0) or a natural loop in it. */
export interface Region {
  /** Indices into `program.insns`, inclusive. */
  readonly first: number;
  readonly last: number;
  /** Enclosing region (-1 for the function). */
  readonly parent: number;
  readonly isLoop: boolean;
  /** Jump targets whose block lives in this region, ascending pcs (label j of its nesting). */
  labels: number[];
  /** True when a backward jump re-enters this region through its br_table dispatch. */
  dispatch: boolean;
  /**
   * A loop's mid entry: the pc of the one instruction after the header that code outside the loop
   * jumps to (it then enters through the loop's start with the mid-entry flag set); -1 if none.
   * Nested loops may share one (see `midEntryLoop`): the flag passes through every start on the way.
   */
  readonly mid: number;
  /** The loop that starts at the same instruction directly inside this loop, -1 if none. */
  inner: number;
}

/**
 * A piece of a function compiled as one wasm function. Functions over the part size are split at
 * block boundaries (V8 limits a function body to 7.6 MB); jumps between parts return to a driver
 * loop, which calls the target part with an entry index for its dispatch table.
 */
export interface Part {
  /** Indices into `program.insns`, inclusive. */
  readonly first: number;
  readonly last: number;
  /** Region 0 is the part; loops follow in program order of their headers. */
  readonly regions: readonly Region[];
}

export interface FunctionLayout {
  /** Index of this subprogram in `program.subprograms` (and in the wasm table). */
  readonly index: number;
  readonly startPc: number;
  /** Indices into `program.insns`, inclusive. */
  readonly first: number;
  readonly last: number;
  /** One part unless the function is longer than the part size. */
  readonly parts: readonly Part[];
}

/** Instructions per wasm function before a function is split (≈ 17 bytes each, under V8's limit). */
export const DEFAULT_PART_SIZE = 100_000;

/**
 * The analysis of a program, for the code generator (the engine keeps only a BlockCounts made
 * from `leader`). `functionAt`, `leader`, `pollSite`, `labelAt`, `labelRegion`, `loopAt`, `midOf`,
 * `tailCopy`, `partAt`, `blockInsns`, `blockLive`, `facts`, `operands` and `jumpTarget`: their memory
 * is pooled, and `generateModule` hands it back (`recycleLayout`), after which they hold another
 * program's facts.
 */
export interface ProgramLayout {
  readonly functions: readonly FunctionLayout[];
  /**
   * The same, compact: function k's first instruction at [3k], last at [3k + 1], part count at
   * [3k + 2]. Passes over every function (there may be 10^5) read this, not the objects.
   */
  readonly functionSpans: Int32Array;
  /** pc → subprogram index, -1 when `pc` does not start a subprogram. */
  readonly functionAt: Int32Array;
  /** pc → 1 when a basic block starts there. */
  readonly leader: Uint8Array;
  /** pc → 1 at blocks that poll the meters: function entries and backward-jump targets. */
  readonly pollSite: Uint8Array;
  /** Per function: 1 when it contains a may_goto (its frame then needs the counter). */
  readonly mayGoto: Uint8Array;
  /** pc of an instruction → label index of a jump target within its label region, -1 otherwise. */
  readonly labelAt: Int32Array;
  /** pc of a label → region (of its function) whose nesting holds the target's block. */
  readonly labelRegion: Int32Array;
  /**
   * Instruction index → region id of the (outermost) loop headed there, -1 otherwise; a loop inside
   * it with the same header is its `Region.inner`.
   */
  readonly loopAt: Int32Array;
  /**
   * pc → region id of the innermost loop whose mid entry it is (see Region.mid), -1 otherwise; the
   * loops around it entered there too are its ancestors (see `midEntryLoop`).
   */
  readonly midOf: Int32Array;
  /**
   * pc of a backward jump → 1 when it is compiled as a copy of its target block instead (a short
   * block outside any cycle through the jump, ending in exit or a forward `ja`: clang's shared
   * switch tails), which spares the function a dispatch region.
   */
  readonly tailCopy: Uint8Array;
  /** Instruction index → part of its function. */
  readonly partAt: Int32Array;
  /** Per leader pc: instructions and gas of its block (0 at other pcs). */
  readonly blockInsns: Int32Array;
  readonly blockGas: ArrayLike<number>;
  /**
   * Per leader pc: the registers (bits r0..r9) that may be live at the block's start — all but those
   * the block certainly writes before reading them, looking no further than a local call.
   */
  readonly blockLive: Uint16Array;
  /** Instructions the natural-loop checks visited: at most 4 per instruction plus 64 per part. */
  readonly loopScanned: number;
  /** Instruction index → its facts and operand facts (insn-facts.ts), for the analyses after this one. */
  readonly facts: Int32Array;
  readonly operands: Int32Array;
  /** Instruction index → target pc of a jump, -1 for other instructions. */
  readonly jumpTarget: Int32Array;
  /** The local calls between the functions. */
  readonly calls: CallGraph;
  /** Per function: 1 when it is straight and its callers' blocks charge it (charged-calls.ts). */
  readonly chargedByCaller: Uint8Array;
  /** Per function: 1 when its callers' blocks charge its entry block (charged-calls.ts). */
  readonly entryChargedByCaller: Uint8Array;
  /** The most instructions one function's blocks charge, charged callees included (charged-calls.ts). */
  readonly longestCharge: number;
  /** What calling blocks charge for their callees, and straight functions' rests after calls. */
  readonly charges: ChargedCalls;
}

/** Memory of the code generator's layout arrays (one buffer per layout). */
const codegenMemory = new WorkPool(workBuffer);

/** Returns the memory of the layout's code-generator arrays to the pool (they are stale afterwards). */
export function recycleLayout(layout: ProgramLayout): void {
  codegenMemory.release(layout.labelAt.buffer);
}

/**
 * Splits the program into functions and basic blocks. Rejects what the structured layout cannot
 * express (only possible when the decoder's structure checks were turned off): jumps that leave their
 * function and functions that run off their end.
 */
export function analyze(
  program: Program,
  price?: (insn: Insn) => number,
  partSize = DEFAULT_PART_SIZE,
): ProgramLayout {
  const work = borrowWork(scratchLength(program.insns.length));
  try {
    return layOut(program, price, partSize, work);
  } finally {
    releaseWork(work);
  }
}

/** `analyze` on borrowed work memory (see scratch.ts). */
function layOut(
  program: Program,
  price: ((insn: Insn) => number) | undefined,
  partSize: number,
  work: Int32Array,
): ProgramLayout {
  const { insns, insnAt, slotCount, subprograms } = program;
  const count = insns.length;
  // The per-pc arrays are for the code generator only (the engine keeps BlockCounts): they share
  // pooled memory, which generateModule recycles (see ProgramLayout), so a compile allocates nothing
  // in proportion to the program that outlives it.
  const words = 5 * slotCount + 5 * count;
  const pooled = codegenMemory.borrow(4 * words + 5 * slotCount + 1);
  let at = 0;
  const int32s = (length: number): Int32Array => {
    const a = new Int32Array(pooled, at, length);
    at += 4 * length;
    return a;
  };
  // labelAt and loopAt are set where they are computed (labelJumpTargets, structure); labelRegion
  // only at labels; blockInsns is read as 0 where no block starts (codegen's unitGas).
  const labelAt = int32s(slotCount);
  const labelRegion = int32s(slotCount);
  const midOf = int32s(slotCount).fill(-1);
  const functionAt = int32s(slotCount).fill(-1);
  const blockInsns = int32s(slotCount).fill(0);
  const loopAt = int32s(count);
  const partAt = int32s(count).fill(0);
  const facts = int32s(count);
  const jumpTarget = int32s(count);
  const operands = int32s(count);
  // The narrower arrays after the int32 ones. leader first, at a multiple of 4: BlockCounts reads
  // it by quads when it is aligned, and a program whose leaders were not would run (and first
  // deoptimize into) its byte-wise path. A Uint16Array needs an even offset.
  const leader = new Uint8Array(pooled, 4 * words, slotCount).fill(0);
  const pollSite = new Uint8Array(pooled, 4 * words + slotCount, slotCount).fill(0);
  const tailCopy = new Uint8Array(pooled, 4 * words + 2 * slotCount, slotCount).fill(0);
  const blockLive = new Uint16Array(pooled, 4 * words + 3 * slotCount + (slotCount & 1), slotCount);
  const mayGoto = new Uint8Array(subprograms.length);
  const functionSpans = new Int32Array(3 * subprograms.length);
  // Without a cost table gas equals the instruction count: share those arrays (less memory at 1M).
  const priced = price !== undefined;
  const blockGas = priced ? new Float64Array(slotCount) : blockInsns;
  const insnGas = priced ? new Float64Array(slotCount) : undefined;
  const { columns } = program;
  const pcs = columns.pc;
  const scratch = newScratch(work, count, pcs, loopAt, partAt, jumpTarget);
  const { ends } = scratch;
  // Local calls: instruction indices and target pcs (few: plain arrays).
  const callSites: number[] = [];
  const callTargets: number[] = [];
  // One pass over the program's columns (not the Insn objects: 1M of them are far bigger than the
  // caches); it sets every element of ends, jumpTarget, facts and operands. Everything after, here
  // and in the later analyses, works on typed arrays.
  // It also marks the leaders after block ends and at jump targets (function starts: below).
  const targets = columns.target;
  let mayGotos = 0;
  for (let i = 0; i < count; i++) {
    const x = insnFacts(columns, i, operands);
    facts[i] = x;
    const end = (x & F_ENDS_BLOCK) === 0 ? 0 : (x & F_MAY_GOTO) === 0 ? 1 : MAY_GOTO;
    ends[i] = end;
    if (end !== 0 && i + 1 < count) leader[pcs[i + 1]] = 1;
    mayGotos |= end & MAY_GOTO;
    if ((x & F_JUMP) !== 0) {
      const t = targets[i];
      jumpTarget[i] = t;
      leader[t] = 1;
    } else {
      jumpTarget[i] = -1;
      if ((x & F_LOCAL_CALL) !== 0) {
        callSites.push(i);
        callTargets.push(targets[i]);
      }
    }
  }
  // A cost table prices the objects (few programs have one).
  if (insnGas !== undefined && price !== undefined)
    for (let i = 0; i < count; i++) insnGas[pcs[i]] = price(insns[i]);
  for (let k = 0; k < subprograms.length; k++) functionAt[subprograms[k]] = k;

  // What labelJumpTargets reads, built once (tailCopy: none in a split function). One literal for
  // both: a spread copy has another hidden class, and its first use (the first split function)
  // would deoptimize labelJumpTargets.
  const labelArrays = (copies: Uint8Array | undefined): LabelArrays => ({
    pcs,
    jumpTarget,
    insnAt,
    insns,
    labelAt,
    labelRegion,
    midOf,
    leader,
    tailCopy: copies,
  });
  const labels = labelArrays(tailCopy);
  const splitLabels = labelArrays(undefined);
  const functions: FunctionLayout[] = [];
  for (let k = 0; k < subprograms.length; k++) {
    const startPc = subprograms[k];
    const endPc = k + 1 < subprograms.length ? subprograms[k + 1] : slotCount;
    const first = insnAt[startPc];
    const last = k + 1 < subprograms.length ? insnAt[endPc] - 1 : count - 1;
    // From the facts: the tail's object left the caches since the first pass.
    if ((facts[last] & (F_EXIT | F_JA)) === 0) {
      throw new LoadError(
        'NO_EXIT',
        `the function at pc ${startPc} does not end with exit or ja, which the JIT cannot compile`,
        { pc: pcs[last] },
      );
    }
    leader[startPc] = 1;
    if (mayGotos !== 0)
      for (let i = first; i <= last && mayGoto[k] === 0; i++) if (ends[i] === MAY_GOTO) mayGoto[k] = 1;
    // Parts (see cutParts); a short function, the usual case, is one part without a scan.
    const bounds: readonly number[] =
      last - first + 1 <= partSize ? [first, last + 1] : cutParts(first, last, partSize, pcs, leader);
    // partAt starts zeroed: part 0 needs no fill.
    for (let p = 1; p + 1 < bounds.length; p++) scratch.partAt.fill(p, bounds[p], bounds[p + 1]);
    scanJumps(first, last, endPc, pcs, jumpTarget, insnAt, scratch);
    // Sized up front: a growing array would reserve room for 16 parts in every function.
    const parts: Part[] = new Array(bounds.length - 1);
    for (let p = 0; p + 1 < bounds.length; p++) {
      const pFirst = bounds[p];
      const pLast = bounds[p + 1] - 1;
      // A split function's parts are entered by the driver's dispatch only: no mid entries there.
      const regions = structure(
        pFirst,
        pLast,
        pcs,
        jumpTarget,
        scratch,
        bounds.length > 2 ? undefined : midOf,
      );
      labelJumpTargets(pFirst, pLast, regions, scratch, bounds.length > 2 ? splitLabels : labels);
      // A split function's parts are entered through their dispatch table (entry index 0 = start).
      if (bounds.length > 2) regions[0].dispatch = true;
      parts[p] = { first: pFirst, last: pLast, regions };
    }
    markPollSites(first, last, parts[0].regions, pcs, jumpTarget, leader, midOf, pollSite);
    // Block sizes and live registers, backwards: a block runs from its leader to the next leader or
    // the function end. Live: what the block reads before writing it, and whatever it does not
    // certainly write, up to a local call (which reads its callee's registers: taken as all live).
    // Branch-free bit arithmetic: kinds and block starts follow no pattern the CPU could predict,
    // and at 1M instructions the mispredictions cost more than the rest of this loop.
    let n = 0;
    let gas = 0;
    let read = 0;
    let killed = 0;
    for (let i = last; i >= first; i--) {
      const pc = pcs[i];
      const x = facts[i];
      // -1, or 0 at a local call, which forgets what its block reads and kills after it.
      const keep = ((x & F_LOCAL_CALL) >>> LOCAL_CALL_BIT) - 1;
      const defs = (x >>> WRITES_SHIFT) & ALL_REGS & -((x & F_DEFS) >>> DEFS_BIT);
      read = ((x & ALL_REGS) | (read & ~defs)) & keep;
      killed = (killed | defs) & keep;
      n += 1;
      if (insnGas !== undefined) gas += insnGas[pc];
      // blockInsns and blockLive are read at leaders only: writing every pc saves a branch, and
      // leaves blockInsns 0 elsewhere (codegen's unitGas reads it there).
      const lead = leader[pc];
      blockInsns[pc] = n & -lead;
      blockLive[pc] = ALL_REGS & ~(killed & ~read);
      if (priced && lead === 1) {
        blockGas[pc] = gas;
        gas = 0;
      }
      // A leader starts the block: the one before it ends the previous block.
      const more = lead - 1;
      n &= more;
      read &= more;
      killed &= more;
    }
    functions.push({ index: k, startPc, first, last, parts });
    functionSpans[3 * k] = first;
    functionSpans[3 * k + 1] = last;
    functionSpans[3 * k + 2] = parts.length;
  }
  const calls = buildCallGraph(callSites, callTargets, functions, functionAt);
  const leaves = chargeStraightCalls({
    functions,
    calls,
    facts,
    pcs,
    jumpTarget,
    leader,
    pollSite,
    blockInsns,
    blockGas,
    insnGas,
  });
  return {
    facts,
    operands,
    jumpTarget,
    calls,
    chargedByCaller: leaves.charged,
    entryChargedByCaller: leaves.entryCharged,
    longestCharge: leaves.longestCharge,
    charges: leaves,
    functions,
    functionSpans,
    functionAt,
    leader,
    pollSite,
    mayGoto,
    labelAt,
    labelRegion,
    loopAt,
    midOf,
    tailCopy,
    partAt,
    blockInsns,
    blockGas,
    blockLive,
    loopScanned: scratch.loopScanned,
  };
}

/**
 * Part bounds of a long function: a cut at the first block boundary after every `partSize`
 * instructions (so only the instructions from `partSize` after the last cut are candidates).
 */
function cutParts(
  first: number,
  last: number,
  partSize: number,
  pcs: Int32Array,
  leader: Uint8Array,
): number[] {
  const bounds: number[] = [first];
  for (let i = first + partSize - 1; i < last; i++) {
    if (leader[pcs[i + 1]] === 1) {
      bounds.push(i + 1);
      i += partSize - 1;
    }
  }
  bounds.push(last + 1);
  return bounds;
}

/**
 * Marks the blocks that poll the meters (ProgramLayout.pollSite): the function entry and every
 * backward-jump target — except that a jump from outside a rotated loop to its mid entry polls at its
 * own block, so the meter call stays out of the loop (V8 keeps a loop with a returning call in it out
 * of registers). Every cycle still passes a poll site, and between two polls a frame runs that block
 * plus one forward path from the mid entry that cannot reach it again unpolled: at most the
 * function's length, as codegen's `pollSlack` assumes. `regions`: those of the function's first part
 * (a function with mid entries has only one).
 */
function markPollSites(
  first: number,
  last: number,
  regions: readonly Region[],
  pcs: Int32Array,
  jumpTarget: Int32Array,
  leader: Uint8Array,
  midOf: Int32Array,
  pollSite: Uint8Array,
): void {
  let block = pcs[first];
  pollSite[block] = 1;
  for (let i = first; i <= last; i++) {
    if (leader[pcs[i]] === 1) block = pcs[i];
    const t = jumpTarget[i];
    if (t < 0 || t > pcs[i]) continue;
    pollSite[midEntryLoop(regions, midOf, t, i) >= 0 ? block : t] = 1;
  }
}

/**
 * The loop that a jump at instruction index `i` to pc `t` enters through its start with the mid-entry
 * flag raised: the outermost loop entered at mid entry `t` that does not hold `i`; -1 when `t` is no
 * mid entry or every loop entered there holds `i` (an ordinary jump). Loops sharing a mid entry are
 * ancestors of each other (a loop between two of them is entered there from outside too), at most
 * MAX_MID_NESTING of them, so this walk is short.
 */
export function midEntryLoop(regions: readonly Region[], midOf: Int32Array, t: number, i: number): number {
  let r = midOf[t];
  if (r < 0 || (i >= regions[r].first && i <= regions[r].last)) return -1;
  for (;;) {
    const p = regions[r].parent;
    if (p < 0 || regions[p].mid !== t || (i >= regions[p].first && i <= regions[p].last)) return r;
    r = p;
  }
}

/** Loops that may share one mid entry (bounds `midEntryLoop`'s walk per jump). */
const MAX_MID_NESTING = 8;

/** Per-instruction work arrays shared by all functions of a program (each function uses its range). */
interface Scratch {
  /** pc of every instruction. */
  pcs: Int32Array;
  /** 1 when the instruction ends a block (MAY_GOTO for a may_goto). */
  ends: Uint8Array;
  /** Target pc of a jump, -1 for other instructions. */
  jumpTarget: Int32Array;
  /**
   * Last and first instruction jumping here, -1 when none. Where maxSource ≥ 0: the first and last
   * backward jump from the same part (loop candidate ends), -1 if none. (Only maxSource is filled:
   * the others are set at the first jump to the instruction.)
   */
  maxSource: Int32Array;
  minSource: Int32Array;
  firstBack: Int32Array;
  lastBack: Int32Array;
  /** Innermost region containing the instruction. */
  regionOf: Int32Array;
  /** The result's arrays and counter (see ProgramLayout). */
  loopAt: Int32Array;
  partAt: Int32Array;
  loopScanned: number;
}

/** `ends` of a may_goto. */
const MAY_GOTO = 2;

/** Int32 elements of the work arrays for `count` instructions. */
function scratchLength(count: number): number {
  return 5 * count + ((count + 3) >> 2);
}

/** The work arrays as views of `work` (pooled memory: every array is initialized here or before use). */
function newScratch(
  work: Int32Array,
  count: number,
  pcs: Int32Array,
  loopAt: Int32Array,
  partAt: Int32Array,
  jumpTarget: Int32Array,
): Scratch {
  return {
    pcs,
    jumpTarget,
    lastBack: work.subarray(0, count),
    minSource: work.subarray(count, 2 * count),
    maxSource: work.subarray(2 * count, 3 * count).fill(-1),
    regionOf: work.subarray(3 * count, 4 * count),
    firstBack: work.subarray(4 * count, 5 * count),
    ends: new Uint8Array(work.buffer, work.byteOffset + 5 * count * 4, count),
    loopAt,
    partAt,
    loopScanned: 0,
  };
}

/**
 * Sources of the jumps to every instruction, over the whole function (so a part's loop also sees
 * jumps from other parts), and the first and last back edge within the same part. Sources come in
 * ascending order, so the first one seen is the minimum and the last the maximum. Rejects a jump that
 * leaves the function (only possible without the decoder's structure checks).
 */
function scanJumps(
  first: number,
  last: number,
  endPc: number,
  pcs: Int32Array,
  jumpTarget: Int32Array,
  insnAt: Int32Array,
  scratch: Scratch,
): void {
  const { firstBack, lastBack, minSource, maxSource, partAt } = scratch;
  const startPc = pcs[first];
  for (let i = first; i <= last; i++) {
    const t = jumpTarget[i];
    if (t < 0) continue;
    if (t < startPc || t >= endPc) {
      throw new LoadError(
        'JUMP_OUT_OF_SUBPROGRAM',
        `jump to pc ${t} leaves the function [${startPc}, ${endPc}), which the JIT cannot compile`,
        { pc: pcs[i] },
      );
    }
    const ti = insnAt[t];
    if (maxSource[ti] < 0) {
      minSource[ti] = i;
      firstBack[ti] = -1;
      lastBack[ti] = -1;
    }
    maxSource[ti] = i;
    if (t <= pcs[i] && partAt[i] === partAt[ti]) {
      lastBack[ti] = i;
      if (firstBack[ti] < 0) firstBack[ti] = i;
    }
  }
}

/**
 * The labels of a region without any (most of them), shared: its first label replaces it, so a
 * region costs no array of its own until it has one (frozen: a push would be a bug).
 */
const NO_LABELS = Object.freeze([]) as unknown as number[];

/** Results of `loopKind` besides a mid entry's index. */
const NOT_A_LOOP = -2;
const NATURAL = -1;

/**
 * Finds the natural loops of one part and returns its regions. A candidate is a backward target
 * `h` with its last back edge `b`; it is a loop when nothing outside [h, b] jumps into (h, b] — or
 * into one instruction of it only, its mid entry — and nothing inside jumps to before h. [h, first
 * back edge] is tried too: when [h, b] fails, an inner loop re-entered from the end of an outer,
 * irreducible cycle still becomes a wasm loop (the outer jump re-enters by dispatch); when [h, b] is
 * a loop with a mid entry and [h, first back edge] a natural one, both are loops, the natural one
 * inside (clang's sieve and trial division: the inner loop shares the outer loop's first
 * instruction), so the inner iterations skip the outer loop's mid-entry test. A mid entry may be
 * shared by nested loops (a rotated loop inside a rotated loop, both entered at the inner one's
 * entry). Loops that pass nest properly (a partial overlap would be a jump into the other one's
 * interior), so one stack pass builds the tree.
 */
function structure(
  first: number,
  last: number,
  pcs: Int32Array,
  jumpTarget: Int32Array,
  scratch: Scratch,
  midOf: Int32Array | undefined,
): Region[] {
  const { lastBack, maxSource, loopAt, regionOf } = scratch;
  const regions: Region[] = [
    { first, last, parent: -1, isLoop: false, labels: NO_LABELS, dispatch: false, mid: -1, inner: -1 },
  ];
  // Most functions have no backward jump: one pass, none of the loop machinery below. A candidate
  // has maxSource ≥ 0 and lastBack ≥ 0 (lastBack is stale where maxSource < 0), so the sign of the
  // `and` of every (maxSource | lastBack) says whether there is one, without a branch per jump target.
  // (No TypedArray fill: a part may be a 4-instruction function, one of 10^5.)
  let none = -1;
  for (let h = first; h <= last; h++) {
    loopAt[h] = -1;
    regionOf[h] = 0;
    none &= maxSource[h] | lastBack[h];
  }
  return none >= 0 ? findLoops(first, last, pcs, jumpTarget, scratch, midOf, regions) : regions;
}

/**
 * `structure` for a part with loop candidates: adds its loops to `regions` (region 0 alone so far).
 * A function of its own: its closures' context is only allocated for such parts.
 */
function findLoops(
  first: number,
  last: number,
  pcs: Int32Array,
  jumpTarget: Int32Array,
  scratch: Scratch,
  midOf: Int32Array | undefined,
  regions: Region[],
): Region[] {
  const { firstBack, lastBack, minSource, maxSource, loopAt, regionOf } = scratch;
  const stack = [0];
  /** Per region: loops entered at its mid entry, itself included (0 without one). */
  const midDepth = [0];
  let budget = 4 * (last - first + 1) + 64;
  /**
   * Whether [h, b] is a loop: NOT_A_LOOP, NATURAL, or the index of its mid entry (allowed when
   * `midOf` is given and no loop enters there yet, or the one that does encloses [h, b] directly and
   * the nesting stays under MAX_MID_NESTING); its scan is paid from the budget.
   */
  const loopKind = (h: number, b: number): number => {
    budget -= b - h + 1;
    if (budget < 0) return NOT_A_LOOP;
    scratch.loopScanned += b - h + 1;
    const headerPc = pcs[h];
    let mid = NATURAL;
    for (let j = h; j <= b; j++) {
      const t = jumpTarget[j];
      if (t >= 0 && t < headerPc) return NOT_A_LOOP;
      if (j > h && maxSource[j] >= 0 && (minSource[j] < h || maxSource[j] > b)) {
        if (mid !== NATURAL || midOf === undefined) return NOT_A_LOOP;
        const outer = midOf[pcs[j]];
        const parent = stack[stack.length - 1];
        if (outer >= 0 && (outer !== parent || midDepth[parent] >= MAX_MID_NESTING)) return NOT_A_LOOP;
        mid = j;
      }
    }
    return mid;
  };
  const push = (h: number, b: number, kind: number): number => {
    const id = regions.length;
    const parent = stack[stack.length - 1];
    const mid = kind === NATURAL ? -1 : pcs[kind];
    let depth = 0;
    if (midOf !== undefined && mid >= 0) {
      depth = midOf[mid] >= 0 ? midDepth[midOf[mid]] + 1 : 1;
      midOf[mid] = id;
    }
    regions.push({
      first: h,
      last: b,
      parent,
      isLoop: true,
      labels: NO_LABELS,
      dispatch: false,
      mid,
      inner: -1,
    });
    midDepth.push(depth);
    stack.push(id);
    return id;
  };
  for (let h = first; h <= last; h++) {
    while (regions[stack[stack.length - 1]].last < h) stack.pop();
    loopAt[h] = -1;
    const b = maxSource[h] >= 0 ? lastBack[h] : -1;
    if (b >= 0 && budget > 0) {
      // The last back edge keeps the most iterations inside the loop; a natural inner loop to the
      // first keeps its iterations free of the outer loop's mid-entry test (or of the dispatch
      // around it when [h, b] is no loop).
      const kind = loopKind(h, b);
      const fb = firstBack[h];
      const inner = kind !== NATURAL && fb !== b && budget > 0 ? loopKind(h, fb) : NOT_A_LOOP;
      // A loop entered at its mid entry from below (clang's trial division: the outer loop's end
      // jumps into the inner loop's middle) nests in a loop reaching down to that jump, so the
      // jump is a `br` to that loop's start instead of a dispatch.
      const ext = kind >= 0 && maxSource[kind] > b && maxSource[kind] <= last ? maxSource[kind] : -1;
      const outer = ext >= 0 && budget > 0 ? loopKind(h, ext) : NOT_A_LOOP;
      let innermost = -1;
      const nest = (end: number, k: number): void => {
        const id = push(h, end, k);
        if (innermost >= 0) regions[innermost].inner = id;
        else loopAt[h] = id;
        innermost = id;
      };
      if (outer !== NOT_A_LOOP) nest(ext, outer);
      if (kind !== NOT_A_LOOP) {
        nest(b, kind);
        if (inner === NATURAL) nest(fb, inner);
      } else if (inner !== NOT_A_LOOP) {
        nest(fb, inner);
      }
    }
    regionOf[h] = stack[stack.length - 1];
  }
  return regions;
}

/** The per-pc arrays `labelJumpTargets` reads and fills (tailCopy: none in a split function). */
interface LabelArrays {
  readonly pcs: Int32Array;
  readonly jumpTarget: Int32Array;
  readonly insnAt: Int32Array;
  readonly insns: readonly Insn[];
  readonly labelAt: Int32Array;
  readonly labelRegion: Int32Array;
  readonly midOf: Int32Array;
  readonly leader: Uint8Array;
  readonly tailCopy: Uint8Array | undefined;
}

/** Longest block a backward jump copies instead of dispatching (see ProgramLayout.tailCopy). */
const MAX_TAIL_COPY = 4;
/** Enclosing regions `copyableTail` climbs to find the copied `ja`'s target block open. */
const MAX_TAIL_NESTING = 8;

/**
 * Gives every jump target its block: in the region enclosing a loop for a loop header, else in the
 * innermost region holding it. Marks the regions that backward jumps must re-enter by dispatch.
 */
function labelJumpTargets(
  first: number,
  last: number,
  regions: Region[],
  scratch: Scratch,
  a: LabelArrays,
): void {
  const { pcs, jumpTarget, insnAt, labelAt, labelRegion, midOf } = a;
  const { maxSource, loopAt, regionOf, partAt } = scratch;
  const startPc = pcs[first];
  for (let i = first; i <= last; i++) {
    const pc = pcs[i];
    labelAt[pc] = -1;
    if (maxSource[i] < 0) continue;
    const loop = loopAt[i];
    if (pc === startPc && loop < 0) continue;
    const r = loop >= 0 ? regions[loop].parent : regionOf[i];
    const R = regions[r];
    labelAt[pc] = R.labels.length;
    labelRegion[pc] = r;
    if (R.labels === NO_LABELS) R.labels = [pc];
    else R.labels.push(pc);
  }
  for (let i = first; i <= last; i++) {
    let t = jumpTarget[i];
    if (t < 0) continue;
    // From outside a rotated loop to its mid entry: through the loop's header (see Region.mid).
    const m = midEntryLoop(regions, midOf, t, i);
    if (m >= 0) t = pcs[regions[m].first];
    if (t > pcs[i]) continue;
    const ti = insnAt[t];
    if (partAt[ti] !== partAt[i]) continue; // to another part: through the driver
    const loop = loopAt[ti];
    if (loop >= 0 && i <= regions[loop].last) continue; // a loop's own back edge: `br` to the loop
    if (t === jumpTarget[i] && t !== startPc && loop < 0 && copyableTail(i, ti, regions, scratch, a)) {
      (a.tailCopy as Uint8Array)[pcs[i]] = 1;
      continue;
    }
    regions[t === startPc && loop < 0 ? 0 : labelRegion[t]].dispatch = true;
  }
}

/**
 * True when the backward jump at index `i` can run a copy of the block at `ti` in place: the block is
 * short, ends in exit or in a `ja` forward past `i` to a block that is open at `i` (its label's
 * region encloses i's), so the copy leaves no cycle behind and needs no dispatch.
 */
function copyableTail(
  i: number,
  ti: number,
  regions: readonly Region[],
  scratch: Scratch,
  a: LabelArrays,
): boolean {
  const { pcs, insns, leader, labelRegion, midOf, tailCopy } = a;
  if (tailCopy === undefined) return false;
  let e = ti;
  while (e - ti < MAX_TAIL_COPY && e < insns.length) {
    const insn = insns[e];
    if (insn.kind === 'exit') return true;
    if (insn.kind === 'jump') {
      if (insn.op !== 'ja' || insn.target <= pcs[i] || midOf[insn.target] >= 0) return false;
      const home = labelRegion[insn.target];
      let r = scratch.regionOf[i];
      for (let up = 0; up < MAX_TAIL_NESTING && r >= 0; up++, r = regions[r].parent)
        if (r === home) return true;
      return false;
    }
    if (insn.kind === 'call' || insn.kind === 'packet_load') return false; // ends the block otherwise
    e++;
    if (e < insns.length && leader[pcs[e]] === 1) return false; // falls into another block
  }
  return false;
}
