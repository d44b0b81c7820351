/**
 * Precision tracking, the kernel's mark_chain_precision: a stored state compares only the scalars
 * (registers and spilled stack slots) whose value some later safety decision depended on. Every
 * instruction a path runs is recorded (pc plus, for stack loads/stores at a known slot, which slot);
 * when a decision uses a scalar (a conditional jump, pointer arithmetic, a helper's size/flag/constant
 * argument, a constant map key on the stack, a checked return value), the recorded instructions are
 * walked backwards to find every register and slot the value came from, and those are marked in each
 * stored state of the path. A path pruned by a stored state inherits that state's marks the same way.
 * A mark set is final once its state is fully explored, which is the only time it is compared.
 * What the walk cannot follow (bpf_loop callbacks) marks everything on the path: today's exact rule.
 */
import type { Insn } from '../isa/instruction.js';
import type { Env } from './env.js';
import { BPF_LOOP_ID, helperProto } from './helpers.js';
import { isConst } from './scalar.js';
import { SLOT_COUNT, STACK_SIZE, type State, top } from './state.js';
import type { RegState } from './types.js';

/** Words per frame in a mark set: registers (bit r), slots 0..31, slots 32..63 (slot i: fp-8(i+1)). */
const W = 3;
const MAX_FRAMES = 8;
const ARGS = 0b111110;
const CALLER_SAVED = 0b111111;

/** Marks of one stored state, per frame (absolute index); `all` when every scalar counts. */
export interface PreciseMarks {
  readonly words: Int32Array;
  all: boolean;
}

export function newMarks(frames: number): PreciseMarks {
  return { words: new Int32Array(frames * W), all: false };
}

export function regMarked(m: PreciseMarks, frame: number, r: number): boolean {
  return m.all || (m.words[frame * W] & (1 << r)) !== 0;
}

export function slotMarked(m: PreciseMarks, frame: number, slot: number): boolean {
  return m.all || (m.words[frame * W + 1 + (slot >> 5)] & (1 << (slot & 31))) !== 0;
}

/** One history entry per instruction run: `pc * TAG_SPAN + tag`. */
const TAG_SPAN = 1024;
const TAG_PLAIN = 0;
/** Something the backward walk cannot see through (a bpf_loop call, a callback's return). */
const TAG_OPAQUE = 1;
/** A conditional jump whose scalar operand has copies (narrowed along with it). */
const TAG_LINKED = 2;
/** A call of a global function: verified on its own, so like a helper it pushes no frame here. */
const TAG_GLOBAL_CALL = 3;
/** 4 + frame * 64 + slot: a load or store of a known stack slot. */
const TAG_SLOT = 4;

/** The stack slot (frame * 64 + slot) a load or store with constant offset touches, or -1. */
function stackSlot(state: State, regno: number, off: number): number {
  const reg = top(state).regs[regno];
  if (reg.kind !== 'stack' || !isConst(reg.var)) return -1;
  const v = reg.var.umin;
  const lo = reg.off + off + (v === 0n ? 0 : Number(BigInt.asIntN(64, v)));
  if (lo < -STACK_SIZE || lo >= 0) return -1;
  return reg.frame * SLOT_COUNT + Math.floor((-lo - 1) / 8);
}

function scalarBit(regs: readonly RegState[], r: number): number {
  return regs[r].kind === 'scalar' ? 1 << r : 0;
}

/** The history entry for `insn` about to run in `state`; `globalCall`: it calls a global function. */
export function historyEntry(state: State, insn: Insn, globalCall = false): number {
  let tag = TAG_PLAIN;
  switch (insn.kind) {
    case 'load': {
      const s = stackSlot(state, insn.src, insn.off);
      if (s >= 0) tag = TAG_SLOT + s;
      break;
    }
    case 'store': {
      const s = stackSlot(state, insn.dst, insn.off);
      if (s >= 0) tag = TAG_SLOT + s;
      break;
    }
    case 'call':
      if (insn.op === 'helper' && insn.imm === BPF_LOOP_ID) tag = TAG_OPAQUE;
      else if (globalCall) tag = TAG_GLOBAL_CALL;
      break;
    case 'exit':
      if (top(state).kind === 'callback') tag = TAG_OPAQUE;
      break;
    case 'jump': {
      if (insn.op === 'ja') break;
      const regs = top(state).regs;
      const d = regs[insn.dst];
      const s = insn.useReg ? regs[insn.src] : undefined;
      if ((d.kind === 'scalar' && d.id !== 0) || (s?.kind === 'scalar' && s.id !== 0)) tag = TAG_LINKED;
      break;
    }
  }
  return insn.pc * TAG_SPAN + tag;
}

/** A stored state as the walk sees it: its marks, its parent and the instructions from the parent. */
export interface MarkedCheckpoint {
  readonly state: State;
  readonly parent: MarkedCheckpoint | undefined;
  readonly marks: PreciseMarks;
  /** History entries from the parent's pc up to (not including) this state's pc. */
  hist: number[];
}

/** Walks histories backwards; one instance per verification (its work arrays are reused). */
export class Precision {
  private readonly set = new Int32Array(MAX_FRAMES * W);

  constructor(private readonly env: Env) {}

  /**
   * The scalars `insn` (about to run in `state`) uses for a safety decision, marked through `hist`
   * (the path since `parent`) and the stored states above it.
   */
  useBy(state: State, insn: Insn, hist: readonly number[], parent: MarkedCheckpoint | undefined): void {
    const d = state.frames.length - 1;
    const f = top(state);
    let mask = 0;
    let slot = -1;
    switch (insn.kind) {
      case 'alu': {
        if (insn.op === 'mov' || insn.op === 'movsx' || !insn.useReg) break;
        // pointer ± scalar: the scalar becomes part of the pointer, which is always compared.
        const dk = f.regs[insn.dst].kind;
        const sk = f.regs[insn.src].kind;
        if (dk === 'scalar' && sk !== 'scalar' && sk !== 'not_init') mask = 1 << insn.dst;
        if (sk === 'scalar' && dk !== 'scalar' && dk !== 'not_init') mask = 1 << insn.src;
        break;
      }
      case 'jump': {
        // A comparison with a pointer may be decided by the scalar (NULL checks): always counts.
        // Scalar comparisons count when decided (see decided()).
        if (insn.op === 'ja') break;
        const sk = insn.useReg ? f.regs[insn.src].kind : 'scalar';
        if (f.regs[insn.dst].kind === 'scalar' && sk === 'scalar') break;
        mask = scalarBit(f.regs, insn.dst) | (insn.useReg ? scalarBit(f.regs, insn.src) : 0);
        break;
      }
      case 'call': {
        if (insn.op !== 'helper') break;
        const args = helperProto(insn.imm)?.args ?? [];
        for (let i = 0; i < args.length; i++) {
          if (args[i] !== 'anything') mask |= scalarBit(f.regs, i + 1);
          // A constant key on the stack can make an array lookup non-NULL.
          if (args[i] === 'map_key') slot = stackSlot(state, i + 1, 0);
        }
        break;
      }
      case 'exit':
        if (f.kind === 'callback' || (f.kind === 'main' && this.env.ctx.returnRange !== undefined))
          mask = scalarBit(f.regs, 0);
        break;
      default:
        break;
    }
    if (mask === 0 && slot < 0) return;
    const set = this.set;
    set.fill(0);
    set[d * W] = mask;
    if (slot >= 0) set[(slot >> 6) * W + 1 + ((slot & 63) >> 5)] |= 1 << (slot & 31);
    this.walk(d, hist, parent);
  }

  /**
   * A conditional jump between scalars in `state` (before it) went one way only: the operands
   * decided it, so they count (a state whose values allow both ways explores both).
   */
  decided(state: State, insn: Insn, hist: readonly number[], parent: MarkedCheckpoint | undefined): void {
    if (insn.kind !== 'jump' || insn.op === 'ja') return;
    const d = state.frames.length - 1;
    const regs = top(state).regs;
    const mask = scalarBit(regs, insn.dst) | (insn.useReg ? scalarBit(regs, insn.src) : 0);
    if (mask === 0) return;
    this.set.fill(0);
    this.set[d * W] = mask;
    this.walk(d, hist, parent);
  }

  /** A path pruned at a state covered by `by`: what `by` compared, the pruned path relies on. */
  inherit(
    state: State,
    by: PreciseMarks,
    hist: readonly number[],
    parent: MarkedCheckpoint | undefined,
  ): void {
    if (by.all) {
      this.markAll(parent);
      return;
    }
    this.set.fill(0);
    this.set.set(by.words);
    if (this.empty()) return;
    this.walk(state.frames.length - 1, hist, parent);
  }

  /** Every scalar of every stored state on the path counts (what the walk cannot follow). */
  markAll(from: MarkedCheckpoint | undefined): void {
    for (let c = from; c !== undefined && !c.marks.all; c = c.parent) c.marks.all = true;
  }

  private empty(): boolean {
    const s = this.set;
    for (let i = 0; i < s.length; i++) if (s[i] !== 0) return false;
    return true;
  }

  private walk(depth: number, hist: readonly number[], parent: MarkedCheckpoint | undefined): void {
    let d = depth;
    let h = hist;
    let cp = parent;
    for (;;) {
      for (let i = h.length - 1; i >= 0; i--) {
        const e = h[i];
        const r = this.back(e, d);
        if (r === -1) {
          this.markAll(cp);
          return;
        }
        d = r;
      }
      if (cp === undefined) return;
      // Keep walking with what is new to this state: the rest was propagated when it was marked.
      if (cp.marks.all || cp.state.frames.length - 1 !== d) {
        if (!cp.marks.all) this.markAll(cp);
        return;
      }
      const m = cp.marks.words;
      const s = this.set;
      let any = false;
      for (let i = 0; i < m.length; i++) {
        const fresh = s[i] & ~m[i];
        m[i] |= fresh;
        s[i] = fresh;
        if (fresh !== 0) any = true;
      }
      for (let i = m.length; i < s.length; i++) s[i] = 0;
      if (!any) return;
      h = cp.hist;
      cp = cp.parent;
    }
  }

  /** One instruction backwards at frame `d`: the frame before it, or -1 when everything must count. */
  private back(entry: number, d: number): number {
    const s = this.set;
    const pc = Math.floor(entry / TAG_SPAN);
    const tag = entry - pc * TAG_SPAN;
    const insn = this.env.program.insns[this.env.program.insnAt[pc]];
    const R = d * W;
    const regs = s[R];
    switch (insn.kind) {
      case 'alu':
        if ((regs & (1 << insn.dst)) === 0) return d;
        if (insn.op === 'mov' || insn.op === 'movsx') s[R] &= ~(1 << insn.dst);
        if (insn.useReg && insn.op !== 'neg' && insn.op !== 'le' && insn.op !== 'be' && insn.op !== 'bswap')
          s[R] |= 1 << insn.src;
        return d;
      case 'lddw':
        s[R] &= ~(1 << insn.dst);
        return d;
      case 'load':
        if ((regs & (1 << insn.dst)) === 0) return d;
        s[R] &= ~(1 << insn.dst);
        if (tag >= TAG_SLOT) {
          const k = tag - TAG_SLOT;
          s[(k >> 6) * W + 1 + ((k & 63) >> 5)] |= 1 << (k & 31);
        }
        return d;
      case 'store': {
        if (tag < TAG_SLOT) return d;
        const k = tag - TAG_SLOT;
        const w = (k >> 6) * W + 1 + ((k & 63) >> 5);
        const bit = 1 << (k & 31);
        if ((s[w] & bit) === 0) return d;
        // A whole-slot store replaces the slot; a narrower one leaves the other bytes as they were.
        if (insn.size === 8) s[w] &= ~bit;
        if (insn.useReg) s[R] |= 1 << insn.src;
        return d;
      }
      case 'atomic':
        // The verifier gives fetched values no known bounds: they depend on nothing.
        if (insn.op === 'cmpxchg') s[R] &= ~1;
        else if (insn.fetch) s[R] &= ~(1 << insn.src);
        return d;
      case 'jump':
        // `a < b` narrows each by the other, so either marked needs both; copies of an operand were
        // narrowed with it, so anything marked may rely on the operands.
        if (
          (insn.useReg && (regs & ((1 << insn.dst) | (1 << insn.src))) !== 0) ||
          (tag === TAG_LINKED && !this.empty())
        ) {
          s[R] |= 1 << insn.dst;
          if (insn.useReg) s[R] |= 1 << insn.src;
        }
        return d;
      case 'packet_load':
        s[R] &= ~CALLER_SAVED;
        return d;
      case 'call':
        if (tag === TAG_OPAQUE) return this.empty() ? d : -1;
        if (insn.op === 'local' && tag !== TAG_GLOBAL_CALL) {
          // Into the caller: the callee's arguments are the caller's r1-r5.
          if (d === 0) return -1;
          s[R - W] |= s[R] & ARGS;
          s[R] = 0;
          s[R + 1] = 0;
          s[R + 2] = 0;
          return d - 1;
        }
        // A helper's (or global function's) r0 gets no bounds from its arguments (a constant map key is
        // marked when used).
        s[R] &= ~CALLER_SAVED;
        return d;
      case 'exit': {
        if (tag === TAG_OPAQUE) return this.empty() ? d : -1;
        // Into the callee that returned: the caller's r0 is its r0.
        if (d + 1 >= MAX_FRAMES) return -1;
        const r0 = s[R] & 1;
        s[R] &= ~CALLER_SAVED;
        s[R + W] = r0;
        s[R + W + 1] = 0;
        s[R + W + 2] = 0;
        return d + 1;
      }
    }
  }
}
