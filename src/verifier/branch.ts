/**
 * Conditional jumps: which branches are feasible and what each one learns. Scalars are narrowed on
 * both branches (with every register linked to them by id); `ptr == 0` splits a maybe-NULL pointer
 * into NULL and non-NULL (releasing the reference on the NULL side); comparing a packet pointer with
 * data_end (or data_meta with data) establishes how many bytes are in the packet.
 */
import type { JumpInsn, JumpOp } from '../isa/instruction.js';
import { type Env, reject } from './env.js';
import { type CompareOp, isConst, NEGATED, type Scalar, scalarCompare, scalarConst } from './scalar.js';
import { cloneState, mapAllRegs, type State, top } from './state.js';
import { isNullable, isPointer, type RegState, regId, scalar, ZERO } from './types.js';

const CMP: Readonly<Record<Exclude<JumpOp, 'ja' | 'may_goto'>, CompareOp>> = {
  jeq: 'eq',
  jne: 'ne',
  jgt: 'gt',
  jge: 'ge',
  jlt: 'lt',
  jle: 'le',
  jsgt: 'sgt',
  jsge: 'sge',
  jslt: 'slt',
  jsle: 'sle',
  jset: 'set',
};

/** pkt OP end ⇔ end SWAP(OP) pkt. */
const SWAP: Partial<Record<CompareOp, CompareOp>> = { gt: 'lt', ge: 'le', lt: 'gt', le: 'ge' };

/** Packet pointer ranges meaning "beyond data_end" and "at data_end" (the kernel's values). */
export const BEYOND_PKT_END = -1;
export const AT_PKT_END = -2;

export interface BranchResult {
  readonly taken?: State;
  readonly fall?: State;
}

function operand(state: State, insn: JumpInsn, which: 'dst' | 'src'): RegState {
  const frame = top(state);
  if (which === 'src' && !insn.useReg) {
    return scalar(scalarConst(insn.is64 ? BigInt(insn.imm) : BigInt(insn.imm >>> 0)));
  }
  const r = which === 'dst' ? insn.dst : insn.src;
  const v = frame.regs[r];
  if (v.kind === 'not_init') {
    reject('UNINIT_READ', `r${r} is compared before anything was stored in it`, {
      hint:
        r >= 1 && r <= 5
          ? 'r1-r5 are clobbered by calls; keep values across calls in r6-r9'
          : `assign r${r} on every path before this comparison`,
    });
  }
  return v;
}

function isZero(r: RegState): boolean {
  return r.kind === 'scalar' && isConst(r.value) && r.value.umin === 0n;
}

/** Narrows scalar operands assuming `op` holds; undefined when it cannot. */
function narrowScalars(state: State, insn: JumpInsn, op: CompareOp, a: Scalar, b: Scalar): State | undefined {
  const r = scalarCompare(op, a, b, insn.is64 ? 64 : 32);
  if (r === undefined) return undefined;
  const next = cloneState(state);
  const frame = top(next);
  const set = (regno: number, v: Scalar): void => {
    const old = frame.regs[regno];
    if (old.kind !== 'scalar') return;
    const id = old.id;
    if (id !== 0) mapAllRegs(next, (x) => (x.kind === 'scalar' && x.id === id ? scalar(v, id) : x));
    frame.regs[regno] = scalar(v, id);
  };
  set(insn.dst, r[0]);
  if (insn.useReg) set(insn.src, r[1]);
  return next;
}

/** The NULL (`isNull`) or non-NULL side of a check on a maybe-NULL pointer. */
function nullSide(state: State, ptr: RegState, isNull: boolean): State {
  const next = cloneState(state);
  const id = regId(ptr);
  mapAllRegs(next, (x) => {
    if ((x.kind !== 'map_value' && x.kind !== 'mem') || x.id !== id || !x.nullable) return x;
    return isNull ? ZERO : { ...x, nullable: false };
  });
  if (isNull && ptr.kind === 'mem' && ptr.ref !== 0) next.refs = next.refs.filter((r) => r.id !== ptr.ref);
  return next;
}

/** Marks every packet pointer with `ptr`'s id as having at least `range` bytes. */
function withRange(state: State, ptr: Extract<RegState, { kind: 'pkt' | 'pkt_meta' }>, range: number): State {
  const next = cloneState(state);
  mapAllRegs(next, (x) => (x.kind === ptr.kind && x.id === ptr.id && x.range < range ? { ...x, range } : x));
  return next;
}

/** `pkt OP end` on the taken side: the range it establishes on each side, or undefined. */
function packetRanges(op: CompareOp, off: number): { taken?: number; fall?: number } {
  const closed = off >= 0 ? off : undefined;
  const open = off > 0 ? off + 1 : undefined;
  switch (op) {
    case 'gt': // pkt > end: the fall-through knows pkt <= end
      return { fall: closed };
    case 'ge':
      return { fall: open };
    case 'lt':
      return { taken: open };
    case 'le':
      return { taken: closed };
    default:
      return {};
  }
}

export function branch(env: Env, state: State, insn: JumpInsn): BranchResult {
  void env;
  const op = CMP[insn.op as Exclude<JumpOp, 'ja' | 'may_goto'>];
  const dst = operand(state, insn, 'dst');
  const src = operand(state, insn, 'src');
  if (dst.kind === 'scalar' && src.kind === 'scalar') {
    return {
      taken: narrowScalars(state, insn, op, dst.value, src.value),
      fall: narrowScalars(state, insn, NEGATED[op], dst.value, src.value),
    };
  }
  if (insn.is64 && (op === 'eq' || op === 'ne') && (isZero(src) || isZero(dst))) {
    const ptr = isZero(src) ? dst : src;
    if (isPointer(ptr)) {
      if (!isNullable(ptr)) {
        // A valid pointer is never NULL: only one side is feasible.
        return op === 'eq' ? { fall: state } : { taken: state };
      }
      const nullIsTaken = op === 'eq';
      return {
        taken: nullSide(state, ptr, nullIsTaken),
        fall: nullSide(state, ptr, !nullIsTaken),
      };
    }
  }
  if (insn.is64 && SWAP[op] !== undefined) {
    let pkt: RegState | undefined;
    let rel: CompareOp = op;
    const isEnd = (p: RegState, e: RegState): boolean =>
      (p.kind === 'pkt' && e.kind === 'pkt_end') || (p.kind === 'pkt_meta' && e.kind === 'pkt');
    if (isEnd(dst, src)) pkt = dst;
    else if (isEnd(src, dst)) {
      pkt = src;
      rel = SWAP[op] ?? op;
    }
    if (pkt !== undefined && (pkt.kind === 'pkt' || pkt.kind === 'pkt_meta')) {
      // A pointer already known to be past (or at) data_end decides the comparison.
      if (pkt.range === BEYOND_PKT_END && (rel === 'gt' || rel === 'le')) {
        return rel === 'gt' ? { taken: state } : { fall: state };
      }
      if (pkt.range < 0 && (rel === 'ge' || rel === 'lt'))
        return rel === 'ge' ? { taken: state } : { fall: state };
      const r = packetRanges(rel, pkt.off);
      const taken = r.taken === undefined ? cloneState(state) : withRange(state, pkt, r.taken);
      const fall = r.fall === undefined ? cloneState(state) : withRange(state, pkt, r.fall);
      // The side where the pointer lies beyond (or at) data_end remembers it (the kernel's mark_pkt_end).
      const regno = pkt === dst ? insn.dst : insn.src;
      const past = (side: State, range: number): void => {
        const f = top(side);
        const x = f.regs[regno];
        if (x.kind === 'pkt') f.regs[regno] = { ...x, range };
      };
      if (rel === 'gt') past(taken, BEYOND_PKT_END);
      else if (rel === 'ge') past(taken, AT_PKT_END);
      else if (rel === 'lt') past(fall, AT_PKT_END);
      else if (rel === 'le') past(fall, BEYOND_PKT_END);
      return { taken, fall };
    }
  }
  // Other pointer comparisons teach nothing; both sides stay possible.
  return { taken: cloneState(state), fall: state };
}
