/**
 * The abstract machine state on one path: call frames (registers and stack slots each), acquired
 * references and the branch decisions taken so far. Register and slot objects are immutable, so a copy
 * of a state copies arrays only. `statesEqual` is the kernel's states_equal: an explored state covers a
 * new one when every value of the new one is a value of the old (range inclusion, consistent ids), so
 * the new path cannot reach anything the old one did not.
 */
import { type PreciseMarks, regMarked, slotMarked } from './precision.js';
import { isConst, scalarEquals, scalarIncludes } from './scalar.js';
import { U64 } from './tnum.js';
import { NOT_INIT, type RegState } from './types.js';

export const STACK_SIZE = 512;
export const SLOT_COUNT = STACK_SIZE / 8;

/** Byte kinds of a stack slot: i = never written, m = unknown data, z = zero, s = part of a spill. */
export type ByteKind = 'i' | 'm' | 'z' | 's';

/** 8 bytes of stack: `bytes[j]` is the byte at slot base + j; a register spill fills all 8. */
export interface Slot {
  readonly bytes: string;
  readonly spill?: RegState;
}

export const EMPTY_SLOT: Slot = { bytes: 'iiiiiiii' };

/** `global`: a global function verified on its own, from its BTF prototype (always frame 0). */
export type FrameKind = 'main' | 'subprog' | 'callback' | 'global';

export interface Frame {
  readonly kind: FrameKind;
  /** pc of the call instruction that made this frame (-1 for the main frame). */
  readonly callsite: number;
  /** First pc of the function. */
  readonly entry: number;
  regs: RegState[];
  /** Index 0 covers fp-8..fp-1, index 63 covers fp-512..fp-505. */
  stack: (Slot | undefined)[];
  /** bpf_loop: the callback context argument, to re-enter the callback with. */
  readonly callbackCtx?: RegState;
  /** bpf_loop: the callers' stacks when this iteration began, to widen what the iteration changed. */
  readonly entryStacks?: readonly (readonly (Slot | undefined)[])[];
  /** bpf_loop: references held when the callback was entered (it must release any it acquires). */
  readonly entryRefs?: readonly number[];
  /** This call of the function (unique per newFrame): may_goto counters belong to one activation. */
  readonly activation: number;
  /** may_goto fall-throughs on this path in this activation (the kernel's may_goto_depth, per frame). */
  readonly mayGotos: number;
  /** pc of the may_goto whose loop widened this frame's values (for explanations). */
  readonly widenedAt?: number;
}

export interface Ref {
  readonly id: number;
  readonly pc: number;
  readonly what: string;
}

/** A branch decision, newest first (a shared linked list: forks share their history). */
export interface PathStep {
  readonly pc: number;
  readonly taken: boolean;
  readonly prev?: PathStep;
}

export interface State {
  frames: Frame[];
  refs: Ref[];
  path?: PathStep;
}

let activations = 0;

export function newFrame(
  kind: FrameKind,
  callsite: number,
  entry: number,
  callbackCtx?: RegState,
  entryStacks?: readonly (readonly (Slot | undefined)[])[],
): Frame {
  return {
    kind,
    callsite,
    entry,
    entryStacks,
    regs: new Array<RegState>(11).fill(NOT_INIT),
    stack: new Array<Slot | undefined>(SLOT_COUNT).fill(undefined),
    callbackCtx,
    activation: ++activations,
    mayGotos: 0,
  };
}

/**
 * A frame with its own registers and stack, every field written in one literal: one hidden class
 * for all clones (a spread copies whichever optional fields a frame happens to have, and V8 then
 * sees many shapes on the verifier's hottest allocation).
 */
function cloneFrame(f: Frame): Frame {
  // `satisfies`: a field added to Frame must be copied here too.
  return {
    kind: f.kind,
    callsite: f.callsite,
    entry: f.entry,
    regs: f.regs.slice(),
    stack: f.stack.slice(),
    callbackCtx: f.callbackCtx,
    entryStacks: f.entryStacks,
    entryRefs: f.entryRefs,
    activation: f.activation,
    mayGotos: f.mayGotos,
    widenedAt: f.widenedAt,
  } satisfies Record<keyof Frame, unknown>;
}

export function cloneState(s: State): State {
  return {
    frames: s.frames.map(cloneFrame),
    refs: s.refs.slice(),
    path: s.path,
  };
}

export function top(s: State): Frame {
  return s.frames[s.frames.length - 1];
}

/** Applies `fn` to every register and spilled register of every frame (for id-based updates). */
export function mapAllRegs(s: State, fn: (r: RegState) => RegState): void {
  for (const f of s.frames) {
    for (let i = 0; i < f.regs.length; i++) {
      const r = f.regs[i];
      const n = fn(r);
      if (n !== r) f.regs[i] = n;
    }
    for (let i = 0; i < f.stack.length; i++) {
      const slot = f.stack[i];
      if (slot?.spill === undefined) continue;
      const n = fn(slot.spill);
      if (n !== slot.spill) f.stack[i] = { ...slot, spill: n };
    }
  }
}

/**
 * Widening for callback loops: a scalar a loop iteration changed in a caller's stack becomes unknown,
 * so re-entering the callback converges instead of counting through every iteration.
 */
export function widenChangedSlots(entry: readonly (readonly (Slot | undefined)[])[], frames: Frame[]): void {
  entry.forEach((before, f) => {
    const stack = frames[f].stack;
    for (let i = 0; i < stack.length; i++) {
      const c = stack[i];
      const p = before[i];
      if (c === p || c?.spill?.kind !== 'scalar') continue;
      const same =
        p?.spill?.kind === 'scalar' && p.bytes === c.bytes && scalarEquals(p.spill.value, c.spill.value);
      if (!same) stack[i] = { bytes: c.bytes.replace(/s/g, 'm') };
    }
  });
}

/** old id → cur id, checked for consistency both ways. */
class IdMap {
  // Allocated on first use: most comparisons fail before any id is looked at.
  private fwd?: Map<number, number>;
  private back?: Map<number, number>;
  check(old: number, cur: number): boolean {
    if (old === 0) return true;
    this.fwd ??= new Map();
    this.back ??= new Map();
    const f = this.fwd.get(old);
    const b = this.back.get(cur);
    if (f === undefined && b === undefined) {
      this.fwd.set(old, cur);
      this.back.set(cur, old);
      return true;
    }
    return f === cur && b === old;
  }
}

function regSafe(old: RegState, cur: RegState, ids: IdMap, exact: boolean, precise = true): boolean {
  if (old.kind === 'not_init') return exact ? cur.kind === 'not_init' : true;
  if (old.kind !== cur.kind) return false;
  const within = exact ? scalarEquals : scalarIncludes;
  switch (old.kind) {
    case 'scalar': {
      // No decision on the old state's paths depended on this value: any number will do.
      if (!precise && !exact) return true;
      const c = cur as typeof old;
      if (!within(old.value, c.value)) return false;
      // A link the old path relied on must hold here too; constants need none.
      return old.id === 0 || isConst(old.value) || ids.check(old.id, c.id);
    }
    case 'ctx':
    case 'stack': {
      const c = cur as typeof old;
      if (old.kind === 'stack' && old.frame !== (c as typeof old).frame) return false;
      return old.off === c.off && within(old.var, c.var);
    }
    case 'map_ptr':
      return old.map === (cur as typeof old).map;
    case 'map_value': {
      const c = cur as typeof old;
      return (
        old.map === c.map &&
        old.off === c.off &&
        old.nullable === c.nullable &&
        within(old.var, c.var) &&
        ids.check(old.id, c.id)
      );
    }
    case 'pkt':
    case 'pkt_meta': {
      const c = cur as typeof old;
      // Negative ranges (beyond/at data_end) decided branches: they must match exactly.
      const rangeOk = exact || old.range < 0 || c.range < 0 ? old.range === c.range : old.range <= c.range;
      return old.off === c.off && rangeOk && within(old.var, c.var) && ids.check(old.id, c.id);
    }
    case 'pkt_end':
      return true;
    case 'mem': {
      const c = cur as typeof old;
      return (
        old.size === c.size &&
        old.off === c.off &&
        old.nullable === c.nullable &&
        within(old.var, c.var) &&
        ids.check(old.id, c.id) &&
        ids.check(-old.ref, -c.ref)
      );
    }
    case 'func':
      return old.target === (cur as typeof old).target;
  }
}

function byteSafe(o: string, c: string): boolean {
  if (o === 'i') return true;
  if (o === 'm') return c === 'm' || c === 'z';
  return o === c;
}

function slotSafe(
  old: Slot | undefined,
  cur: Slot | undefined,
  ids: IdMap,
  exact: boolean,
  precise = true,
): boolean {
  const o = old ?? EMPTY_SLOT;
  const c = cur ?? EMPTY_SLOT;
  if (exact) {
    if (o.bytes !== c.bytes) return false;
    if (o.spill === undefined || c.spill === undefined) return o.spill === c.spill;
    return regSafe(o.spill, c.spill, ids, true);
  }
  if (o.spill !== undefined) {
    if (c.spill !== undefined) {
      if (!regSafe(o.spill, c.spill, ids, false, precise)) return false;
      for (let j = 0; j < 8; j++) {
        const ob = o.bytes[j];
        const cb = c.bytes[j];
        if (ob === 's' ? cb !== 's' : !(byteSafe(ob, cb) || (ob === 'm' && cb === 's'))) return false;
      }
      return true;
    }
    // An unknown (or unmarked) scalar spill covers any initialized bytes in its place.
    if (o.spill.kind !== 'scalar' || (precise && o.spill.value.var.mask !== U64)) return false;
    for (let j = 0; j < 8; j++) {
      const ob = o.bytes[j];
      if (ob === 's' ? c.bytes[j] === 'i' : !byteSafe(ob, c.bytes[j])) return false;
    }
    return true;
  }
  for (let j = 0; j < 8; j++) {
    const ob = o.bytes[j];
    const cb = c.bytes[j];
    if (ob === 'm' && cb === 's' && c.spill?.kind === 'scalar') continue;
    if (!byteSafe(ob, cb)) return false;
  }
  return true;
}

/**
 * True when `old` (fully explored) covers `cur`: same frames and call sites, every live register and
 * stack slot of `cur` within the old one, the same references. `exact` requires equality (loop detection).
 * With `marks` (the old state's precision), only marked scalars are compared; any scalar fits the others.
 */
export function statesEqual(
  old: State,
  cur: State,
  liveTop: number,
  exact: boolean,
  marks?: PreciseMarks,
): boolean {
  if (old.frames.length !== cur.frames.length || old.refs.length !== cur.refs.length) return false;
  const ids = new IdMap();
  for (let i = 0; i < old.refs.length; i++) if (!ids.check(-old.refs[i].id, -cur.refs[i].id)) return false;
  const last = old.frames.length - 1;
  for (let f = 0; f <= last; f++) {
    const of = old.frames[f];
    const cf = cur.frames[f];
    if (of.callsite !== cf.callsite || of.kind !== cf.kind) return false;
    // A cycle that passed a may_goto spent its counter: not a repeat (the kernel's may_goto_depth).
    if (exact && of.mayGotos !== cf.mayGotos) return false;
    // Below the top frame only the callee-saved r6..r9 survive the return.
    const live = f === last ? liveTop : 0b11111000000;
    for (let r = 0; r < 11; r++) {
      if ((live & (1 << r)) === 0) continue;
      if (!regSafe(of.regs[r], cf.regs[r], ids, exact, marks === undefined || regMarked(marks, f, r)))
        return false;
    }
    if (of.callbackCtx !== undefined && cf.callbackCtx !== undefined) {
      if (!regSafe(of.callbackCtx, cf.callbackCtx, ids, exact)) return false;
    }
    for (let i = 0; i < of.stack.length; i++) {
      if (of.stack[i] === cf.stack[i]) continue;
      if (!slotSafe(of.stack[i], cf.stack[i], ids, exact, marks === undefined || slotMarked(marks, f, i)))
        return false;
    }
  }
  return true;
}
