/**
 * Which loads and stores through a register other than r10 provably stay inside the own stack frame,
 * like `counts[cls % 48]++` on a stack array: clang lowers `% 48` to a compare and a subtract, so a
 * forward range analysis over the function shows the index in [0, 48) and the address in
 * [r10 − 384, r10). Such an access needs no window check: every stack window of this depth contains
 * the own frame (like codegen's `inOwnFrame` for r10 itself), so the interpreter cannot fault there.
 *
 * The domain per register: unknown, an unsigned interval [lo, hi] ⊆ [0, 2^53) of its 64-bit value, or
 * r10 + d with d in a signed interval. Every transfer is exact or over-approximates (a result that may
 * wrap or leave the domain is unknown); joins take the hull, and a block entered more than WIDEN times
 * makes every register that still changed unknown, so the fixpoint ends. Conditional jumps narrow both
 * operands on each edge (unsigned compares; signed and 32-bit ones only where they agree with the
 * unsigned 64-bit compare); an edge whose narrowed interval is empty is never taken. A local call
 * keeps r6..r9 and r10 (the callee saves them), gives r0 the callee's return range (its exits' r0,
 * analysed the same way, callees first, unknown under recursion) and makes r1..r5 unknown; anything
 * else that may run host code makes every register but r10 unknown.
 */
import type { AluInsn, Insn, JumpInsn, Program } from '../isa/instruction.js';
import type { ProgramLayout } from './control-flow.js';
import { FORGET_ALL, forEachWritten, sideWrites } from './side-writes.js';

const REGS = 11;
const R10 = 10;
const TOP = 0;
const SCALAR = 1;
const FRAME = 2;
/** The largest interval bound: doubles add and multiply below it exactly. */
const MAX = 2 ** 53 - 1;
/** The largest |d| of r10 + d kept (far beyond any frame; keeps sums exact). */
const MAX_FRAME = 2 ** 40;
const U32 = 2 ** 32 - 1;
/** Visits of a block before registers that keep changing become unknown. */
const WIDEN = 6;
/**
 * Functions longer than this are not analysed, nor functions past BUDGET instructions analysed per
 * module (their accesses keep their checks): the fixpoint costs ≈ 1 µs per block, several times the
 * rest of the compile per instruction, so big programs pay it for a bounded part only.
 */
const MAX_FUNCTION = 2048;
const BUDGET = 16_384;
/** Callee return ranges are followed this deep. */
const MAX_DEPTH = 8;

/** Sees, for each access through r10 + d (base not r10), d's interval: tests aim accesses at its ends. */
export type FrameAccessObserver = (index: number, lo: number, hi: number) => void;

/** A register state: kind, lo and hi per register, at offsets 3·r. */
type State = Float64Array;

/**
 * Per instruction index: 1 for a load, store or atomic whose base (not r10) provably lies in the own
 * frame at r10 + d with [d + off, d + off + size) ⊆ [−frameSize, 0); undefined when there is none.
 */
export function provenFrameAccesses(
  program: Program,
  layout: ProgramLayout,
  frameSize: number,
  onAccess?: FrameAccessObserver,
): Uint8Array | undefined {
  const { insns } = program;
  const analysis = new FrameRanges(insns, program.insnAt, layout, frameSize, onAccess);
  const spans = layout.functionSpans;
  let budget = BUDGET;
  for (let k = 0; k < layout.functions.length && budget > 0; k++) {
    const first = spans[3 * k];
    const last = spans[3 * k + 1];
    if (last - first >= MAX_FUNCTION || !derivesFromR10(insns, first, last)) continue;
    budget -= last - first + 1;
    analysis.run(k, 0, true);
  }
  return analysis.proven;
}

/**
 * Whether some instruction copies or adds r10 into another register and some access goes through
 * another register than r10: else nothing to prove.
 */
function derivesFromR10(insns: readonly Insn[], first: number, last: number): boolean {
  let derived = false;
  let access = false;
  for (let i = first; i <= last && !(derived && access); i++) {
    const x = insns[i];
    if (x.kind === 'alu') {
      if (x.useReg && x.src === R10 && x.is64 && (x.op === 'mov' || x.op === 'add')) derived = true;
    } else if (x.kind === 'load') {
      if (x.src !== R10) access = true;
    } else if ((x.kind === 'store' || x.kind === 'atomic') && x.dst !== R10) access = true;
  }
  return derived && access;
}

class FrameRanges {
  proven: Uint8Array | undefined;
  /** Per function: return range as kind, lo, hi; kind -1 while unknown (not analysed yet). */
  private readonly ret: Float64Array;
  private readonly busy: Uint8Array;

  constructor(
    private readonly insns: readonly Insn[],
    private readonly insnAt: Int32Array,
    private readonly layout: ProgramLayout,
    private readonly frameSize: number,
    private readonly onAccess: FrameAccessObserver | undefined,
  ) {
    const n = layout.functions.length;
    this.ret = new Float64Array(3 * n).fill(-1);
    this.busy = new Uint8Array(n);
  }

  /** Analyses function k; with `record`, marks its proven accesses. Sets its return range. */
  run(k: number, depth: number, record: boolean): void {
    const first = this.layout.functionSpans[3 * k];
    const last = this.layout.functionSpans[3 * k + 1];
    if (last - first >= MAX_FUNCTION || depth > MAX_DEPTH) {
      this.setRet(k, TOP, 0, 0);
      return;
    }
    this.busy[k] = 1;
    const f = new FunctionRun(this, this.insns, this.insnAt, this.layout.leader, first, last, depth);
    f.solve(record);
    this.setRet(k, f.ret[3] === 1 ? f.ret[0] : TOP, f.ret[1], f.ret[2]);
    this.busy[k] = 0;
  }

  /** A local call's effect on `s`: r0 gets the callee's return range (analysed first), r1..r5 unknown. */
  localCall(s: State, target: number, depth: number): void {
    const k = this.layout.functionAt[target];
    if (k >= 0 && this.ret[3 * k] < 0 && this.busy[k] === 0) this.run(k, depth + 1, false);
    for (let r = 1; r <= 5; r++) set(s, r, TOP, 0, 0);
    if (k >= 0 && this.ret[3 * k] === SCALAR) set(s, 0, SCALAR, this.ret[3 * k + 1], this.ret[3 * k + 2]);
    else set(s, 0, TOP, 0, 0);
  }

  private setRet(k: number, kind: number, lo: number, hi: number): void {
    this.ret[3 * k] = kind;
    this.ret[3 * k + 1] = lo;
    this.ret[3 * k + 2] = hi;
  }

  mark(i: number, s: State, base: number, off: number, size: number): void {
    if (base === R10 || s[3 * base] !== FRAME) return;
    this.onAccess?.(i, s[3 * base + 1], s[3 * base + 2]);
    if (s[3 * base + 1] + off < -this.frameSize || s[3 * base + 2] + off + size > 0) return;
    this.proven ??= new Uint8Array(this.insns.length);
    this.proven[i] = 1;
  }
}

/**
 * The fixpoint over one function's blocks (methods, not closures made per function: V8 would warm up
 * and optimize every new closure again).
 */
class FunctionRun {
  /** Per instruction of the function: its block, or < 0 inside a block. */
  private readonly blockOf: Int32Array;
  private readonly starts: Int32Array;
  private readonly states: Float64Array;
  private readonly reached: Uint8Array;
  private readonly visits: Uint16Array;
  private readonly queued: Uint8Array;
  /** Blocks that a backward jump enters: every cycle passes one, so widening there ends the fixpoint. */
  private readonly header: Uint8Array;
  private readonly blocks: number;
  private pending = 0;
  private readonly cur: State = new Float64Array(3 * REGS);
  private readonly edge: State = new Float64Array(3 * REGS);
  /** The join of r0 at the exits: kind, lo, hi, and 1 once an exit was reached. */
  readonly ret = new Float64Array(4);

  constructor(
    private readonly owner: FrameRanges,
    private readonly insns: readonly Insn[],
    private readonly insnAt: Int32Array,
    leader: Uint8Array,
    private readonly first: number,
    private readonly last: number,
    private readonly depth: number,
  ) {
    const blockOf = new Int32Array(last - first + 1).fill(-1);
    let blocks = 0;
    for (let i = first; i <= last; i++) {
      const x = insns[i];
      if (i === first || leader[x.pc] === 1) blockOf[i - first] = 0;
      if (x.kind === 'jump') blockOf[insnAt[x.target] - first] = 0;
    }
    for (let i = first; i <= last; i++) if (blockOf[i - first] === 0) blockOf[i - first] = ++blocks;
    for (let i = first; i <= last; i++) blockOf[i - first]--;
    this.blockOf = blockOf;
    this.blocks = blocks;
    this.starts = new Int32Array(blocks);
    for (let i = first; i <= last; i++) if (blockOf[i - first] >= 0) this.starts[blockOf[i - first]] = i;
    this.states = new Float64Array(blocks * 3 * REGS);
    this.reached = new Uint8Array(blocks);
    this.visits = new Uint16Array(blocks);
    this.queued = new Uint8Array(blocks);
    this.header = new Uint8Array(blocks);
    for (let i = first; i <= last; i++) {
      const x = insns[i];
      if (x.kind === 'jump' && x.target <= x.pc) this.header[blockOf[insnAt[x.target] - first]] = 1;
    }
  }

  solve(record: boolean): void {
    // Entry: only r10 is known.
    const entry = this.edge;
    entry.fill(0);
    entry[3 * R10] = FRAME;
    this.merge(this.insns[this.first].pc, entry);
    // In pc order, round after round: a block's forward predecessors run before it.
    const { queued, blocks } = this;
    while (this.pending > 0) {
      for (let b = 0; b < blocks; b++) {
        if (queued[b] === 0) continue;
        queued[b] = 0;
        this.pending--;
        this.pass(b, false);
      }
    }
    if (record) for (let b = 0; b < blocks; b++) if (this.reached[b] === 1) this.pass(b, true);
  }

  private merge(pc: number, s: State): void {
    const b = this.blockOf[this.insnAt[pc] - this.first];
    const at = b * 3 * REGS;
    if (this.reached[b] === 0) {
      this.reached[b] = 1;
      for (let k = 0; k < 3 * REGS; k++) this.states[at + k] = s[k];
    } else if (!join(this.states, at, s, this.header[b] === 1 && ++this.visits[b] > WIDEN)) return;
    if (this.queued[b] === 0) {
      this.queued[b] = 1;
      this.pending++;
    }
  }

  private pass(b: number, mark: boolean): void {
    const { cur, edge, insns, blockOf, first, last, states } = this;
    for (let k = 0, o = b * 3 * REGS; k < 3 * REGS; k++) cur[k] = states[o + k];
    const start = this.starts[b];
    for (let i = start; i <= last; i++) {
      if (i !== start && blockOf[i - first] >= 0) {
        this.merge(insns[i].pc, cur);
        return;
      }
      const x = insns[i];
      switch (x.kind) {
        case 'alu':
          alu(cur, x);
          break;
        case 'load':
          if (mark) this.owner.mark(i, cur, x.src, x.off, x.size);
          if (x.signExtend || x.size === 8) set(cur, x.dst, TOP, 0, 0);
          else set(cur, x.dst, SCALAR, 0, 2 ** (8 * x.size) - 1);
          break;
        case 'store':
        case 'atomic':
          if (mark) this.owner.mark(i, cur, x.dst, x.off, x.size);
          forget(cur, sideWrites(x));
          break;
        case 'lddw': {
          const v = (x.imm >>> 0) + (x.imm2 >>> 0) * 2 ** 32;
          if (x.source === 'imm64' && v <= MAX) set(cur, x.dst, SCALAR, v, v);
          else set(cur, x.dst, TOP, 0, 0);
          break;
        }
        case 'jump':
          if (x.op === 'ja') {
            this.merge(x.target, cur);
            return;
          }
          for (let k = 0; k < 3 * REGS; k++) edge[k] = cur[k];
          if (narrow(edge, x, true)) this.merge(x.target, edge);
          if (!narrow(cur, x, false)) return;
          break;
        case 'exit': {
          const ret = this.ret;
          if (ret[3] === 0) {
            ret[0] = cur[0] === SCALAR ? SCALAR : TOP;
            ret[1] = cur[1];
            ret[2] = cur[2];
            ret[3] = 1;
          } else if (cur[0] !== SCALAR || ret[0] !== SCALAR) ret[0] = TOP;
          else {
            ret[1] = Math.min(ret[1], cur[1]);
            ret[2] = Math.max(ret[2], cur[2]);
          }
          return;
        }
        case 'call':
          if (x.op === 'local') this.owner.localCall(cur, x.target, this.depth);
          else forget(cur, FORGET_ALL);
          break;
        default:
          forget(cur, FORGET_ALL);
      }
    }
  }
}

function set(s: State, r: number, kind: number, lo: number, hi: number): void {
  if (kind === SCALAR && !(lo >= 0 && hi <= MAX && lo <= hi)) kind = TOP;
  if (kind === FRAME && !(lo >= -MAX_FRAME && hi <= MAX_FRAME && lo <= hi)) kind = TOP;
  s[3 * r] = kind;
  s[3 * r + 1] = kind === TOP ? 0 : lo;
  s[3 * r + 2] = kind === TOP ? 0 : hi;
}

/** Makes the registers of a `sideWrites` mask unknown (all but r10 for FORGET_ALL). */
function forget(s: State, mask: number): void {
  if (mask === FORGET_ALL) for (let r = 0; r < R10; r++) set(s, r, TOP, 0, 0);
  else if (mask !== 0) forEachWritten(mask, (r) => set(s, r, TOP, 0, 0));
}

/** Joins `s` into the state at `at`; with `widen` a changed register becomes unknown. True if changed. */
function join(states: Float64Array, at: number, s: State, widen: boolean): boolean {
  let changed = false;
  for (let r = 0; r < REGS; r++) {
    const o = at + 3 * r;
    const kind = states[o];
    if (kind === TOP) continue;
    if (s[3 * r] !== kind) {
      states[o] = TOP;
      states[o + 1] = 0;
      states[o + 2] = 0;
      changed = true;
      continue;
    }
    const lo = Math.min(states[o + 1], s[3 * r + 1]);
    const hi = Math.max(states[o + 2], s[3 * r + 2]);
    if (lo === states[o + 1] && hi === states[o + 2]) continue;
    changed = true;
    if (widen) {
      states[o] = TOP;
      states[o + 1] = 0;
      states[o + 2] = 0;
    } else {
      states[o + 1] = lo;
      states[o + 2] = hi;
    }
  }
  return changed;
}

/** The smallest 2^k − 1 ≥ v (v ≤ MAX). */
function mask(v: number): number {
  let m = 1;
  while (m - 1 < v) m *= 2;
  return m - 1;
}

/** dst after an ALU instruction. */
function alu(s: State, x: AluInsn): void {
  const d = x.dst;
  const op = x.op;
  if (
    op === 'le' ||
    op === 'be' ||
    op === 'bswap' ||
    op === 'neg' ||
    op === 'movsx' ||
    op === 'sdiv' ||
    op === 'smod'
  ) {
    if (x.is64 || op === 'le' || op === 'be' || op === 'bswap') set(s, d, TOP, 0, 0);
    else set(s, d, SCALAR, 0, U32);
    return;
  }
  // Operands: a = dst, b = src or the immediate (sign-extended for 64-bit ops; add/sub keep the sign).
  const top = x.is64 ? Number.POSITIVE_INFINITY : U32;
  let aK = s[3 * d];
  let aLo = s[3 * d + 1];
  let aHi = s[3 * d + 2];
  let bK: number;
  let bLo: number;
  let bHi: number;
  if (x.useReg) {
    bK = s[3 * x.src];
    bLo = s[3 * x.src + 1];
    bHi = s[3 * x.src + 2];
  } else {
    const v = x.is64 || op === 'add' || op === 'sub' ? x.imm : x.imm >>> 0;
    bK = SCALAR;
    bLo = v;
    bHi = v;
  }
  if (!x.is64) {
    // 32-bit operands are low halves: exact for values below 2^32, else any 32-bit value.
    if (aK !== SCALAR || aHi > U32) {
      aK = SCALAR;
      aLo = 0;
      aHi = U32;
    }
    if (x.useReg && (bK !== SCALAR || bHi > U32)) {
      bK = SCALAR;
      bLo = 0;
      bHi = U32;
    }
  }
  set3(TOP, 0, 0);
  const scalars = aK === SCALAR && bK === SCALAR;
  switch (op) {
    case 'mov':
      if (!x.is64 || bK !== SCALAR || bLo >= 0) set3(bK, bLo, bHi);
      break;
    case 'add':
      if (scalars || (aK === FRAME && bK === SCALAR)) set3(aK, aLo + bLo, aHi + bHi);
      else if (aK === SCALAR && bK === FRAME) set3(FRAME, aLo + bLo, aHi + bHi);
      break;
    case 'sub':
      if (scalars || (aK === FRAME && bK === SCALAR)) set3(aK, aLo - bHi, aHi - bLo);
      break;
    case 'and': {
      // v & m ≤ m for any v when m ≥ 0.
      const m = Math.min(aK === SCALAR ? aHi : top, bK === SCALAR && bLo >= 0 ? bHi : top);
      if (m <= MAX) set3(SCALAR, 0, m);
      break;
    }
    case 'or':
      if (scalars && bLo >= 0) set3(SCALAR, Math.max(aLo, bLo), mask(Math.max(aHi, bHi)));
      break;
    case 'xor':
      if (scalars && bLo >= 0) set3(SCALAR, 0, mask(Math.max(aHi, bHi)));
      break;
    case 'lsh':
      if (aK === SCALAR && !x.useReg) {
        const f = 2 ** (bLo & (x.is64 ? 63 : 31));
        set3(SCALAR, aLo * f, aHi * f);
      }
      break;
    case 'rsh':
    case 'arsh':
      // Values below 2^53 (2^31 for 32-bit) have a clear sign bit: arsh is rsh.
      if (aK === SCALAR && !x.useReg && (op === 'rsh' || x.is64 || aHi < 2 ** 31)) {
        const f = 2 ** (bLo & (x.is64 ? 63 : 31));
        set3(SCALAR, Math.floor(aLo / f), Math.floor(aHi / f));
      }
      break;
    case 'mul':
      if (scalars && bLo >= 0) set3(SCALAR, aLo * bLo, aHi * bHi);
      break;
    case 'div':
      if (aK === SCALAR && bK === SCALAR && bLo > 0)
        set3(SCALAR, Math.floor(aLo / bHi), Math.floor(aHi / bLo));
      break;
    case 'mod':
      // Unsigned v % m < m for m > 0 (v % 0 = v, so only positive divisors).
      if (bK === SCALAR && bLo > 0) set3(SCALAR, 0, Math.min(bHi - 1, aK === SCALAR ? aHi : top));
      break;
  }
  if (!x.is64 && !(rKind === SCALAR && rLo >= 0 && rHi <= U32)) set3(SCALAR, 0, U32);
  set(s, d, rKind, rLo, rHi);
}

/** `alu`'s result, in module variables: no array per instruction. */
let rKind = TOP;
let rLo = 0;
let rHi = 0;
function set3(kind: number, lo: number, hi: number): void {
  rKind = kind;
  rLo = lo;
  rHi = hi;
}

/** The compare that holds on a conditional jump's fall-through. */
function opposite(op: JumpInsn['op']): JumpInsn['op'] {
  switch (op) {
    case 'jeq':
      return 'jne';
    case 'jne':
      return 'jeq';
    case 'jgt':
      return 'jle';
    case 'jle':
      return 'jgt';
    case 'jge':
      return 'jlt';
    case 'jlt':
      return 'jge';
    default:
      return op;
  }
}

/**
 * Narrows `s` to the edge of a conditional jump (`taken` or the fall-through); false when that edge
 * cannot be taken.
 */
function narrow(s: State, x: JumpInsn, taken: boolean): boolean {
  let op = x.op;
  if (op === 'may_goto' || op === 'jset') return true;
  const a = x.dst;
  const aK = s[3 * a];
  if (aK === FRAME) return true;
  const b = x.useReg ? x.src : -1;
  let bLo: number;
  let bHi: number;
  if (b >= 0) {
    if (s[3 * b] === FRAME) return true;
    bLo = s[3 * b] === SCALAR ? s[3 * b + 1] : 0;
    bHi = s[3 * b] === SCALAR ? s[3 * b + 2] : Number.POSITIVE_INFINITY;
  } else {
    if (x.imm < 0) return true; // a huge or 32-bit-negative bound: not narrowed
    bLo = x.imm;
    bHi = x.imm;
  }
  let aLo = aK === SCALAR ? s[3 * a + 1] : 0;
  let aHi = aK === SCALAR ? s[3 * a + 2] : Number.POSITIVE_INFINITY;
  const signed = op === 'jsgt' || op === 'jsge' || op === 'jslt' || op === 'jsle';
  // Signed and 32-bit compares agree with the unsigned 64-bit one only when both values are known
  // below 2^31 (32-bit signed), 2^32 (32-bit) or 2^53 (64-bit signed).
  const limit = x.is64 ? (signed ? MAX : Number.POSITIVE_INFINITY) : signed ? 2 ** 31 - 1 : U32;
  if (aHi > limit || bHi > limit) return true;
  if (signed) op = op === 'jsgt' ? 'jgt' : op === 'jsge' ? 'jge' : op === 'jslt' ? 'jlt' : 'jle';
  if (!taken) op = opposite(op);
  let nLo = bLo;
  let nHi = bHi;
  switch (op) {
    case 'jeq':
      aLo = nLo = Math.max(aLo, bLo);
      aHi = nHi = Math.min(aHi, bHi);
      break;
    case 'jne':
      if (bLo === bHi) {
        if (aLo === bLo) aLo++;
        if (aHi === bLo) aHi--;
      }
      if (aLo === aHi) {
        if (nLo === aLo) nLo++;
        if (nHi === aLo) nHi--;
      }
      break;
    case 'jgt': // a > b
      aLo = Math.max(aLo, bLo + 1);
      nHi = Math.min(bHi, aHi - 1);
      break;
    case 'jge':
      aLo = Math.max(aLo, bLo);
      nHi = Math.min(bHi, aHi);
      break;
    case 'jlt': // a < b
      aHi = Math.min(aHi, bHi - 1);
      nLo = Math.max(bLo, aLo + 1);
      break;
    case 'jle':
      aHi = Math.min(aHi, bHi);
      nLo = Math.max(bLo, aLo);
      break;
    default:
      return true;
  }
  if (aLo > aHi || nLo > nHi) return false;
  if (aHi <= MAX) set(s, a, SCALAR, aLo, aHi);
  if (b >= 0 && b !== a && nHi <= MAX) set(s, b, SCALAR, nLo, nHi);
  return true;
}
