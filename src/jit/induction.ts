/**
 * Which memory checks of a loop one check at its entry can replace (see codegen's `hoistedLoop`).
 *
 * Only the simplest shape, clang's usual array walk: a loop that is one basic block — no call, exit,
 * atomic, packet load or other jump, one entry at its header — ending in a 64-bit conditional jump back
 * to the header (or one out of the loop followed by `goto header`) that compares an *induction
 * register* v with a bound (an immediate or a register the loop never writes): it continues while
 * v ≠ B, v <u B or v ≤u B. The loop writes v exactly once, with
 * `v += K` (K an immediate ≥ 0, > 0 for ≠, or a register the loop never writes). An access whose base
 * register is, when it runs before that write, `c + v` for a compile-time constant c (lddw or mov of a
 * constant, plus the iteration's v, plus constants) then touches c + off + v for every v the loop
 * runs with. At the loop's entry, with v0 = v there, the code generator checks (all as unsigned 64-bit
 * values, so nothing is assumed about the registers):
 *  - the exit: v0 <u B (≤u for ≤), B ≤u 2^32 and, for ≠, K divides B − v0, so v runs through
 *    v0, v0 + K, … without wrapping and every iteration's v lies in [lo, hi] = [v0, v0 + q·K] with
 *    q = ⌊(B − v0 − 1) / K⌋ (<u, ≠) or ⌊(B − v0) / K⌋ (≤u) steps to the last one (q = 0 for K = 0,
 *    where v stays v0); a register step is also checked to be below 2^32;
 *  - per access, c + off + lo and c + off + hi are both allowed starts of an access of its size and
 *    kind in the window of the first one's slot. The window lies below 2^32 and hi − lo < 2^32, so
 *    the addresses in between do not wrap and are allowed too.
 * When all hold, every access of every iteration would pass the interpreter's check: the loop runs a
 * copy without those checks. Otherwise (or after a poll re-enters it) it runs with all checks. Loops
 * with any other access (except r10-relative ones, which are cheap) keep their checks altogether.
 * The loop runs q + 1 iterations, which lets the copy charge them at its entry (codegen's
 * `prechargedLoop`): a plan may thus have no access at all.
 */
import type { Insn, JumpInsn, Program } from '../isa/instruction.js';
import { lddwValue } from '../vm/interpreter/interpreter.js';
import type { ProgramLayout, Region } from './control-flow.js';

/** At most this many accesses per loop lose their check (each keeps a host delta in a local). */
export const MAX_HOISTED = 4;

export interface HoistedAccess {
  readonly pc: number;
  /** c + off as a 64-bit value: the access touches disp + v. */
  readonly disp: bigint;
  readonly size: number;
  readonly write: boolean;
}

export interface HoistPlan {
  /** The induction register. */
  readonly iv: number;
  /** Register holding the step, or -1 for the immediate `step`. */
  readonly stepReg: number;
  readonly step: number;
  /** Register holding the bound, or -1 for the immediate `bound` (sign-extended to 64 bits). */
  readonly boundReg: number;
  readonly bound: number;
  /** The loop continues while v ≠ B, v <u B or v ≤u B. */
  readonly exit: 'ne' | 'lt' | 'le';
  readonly accesses: readonly HoistedAccess[];
}

const UNKNOWN = 0;
/** The same value in every iteration (the loop never writes the register). */
const INVARIANT = 1;
const CONST = 2;
/** The iteration's v (before its write) plus a constant. */
const INDUCTION = 3;

const U64 = (x: bigint): bigint => BigInt.asUintN(64, x);

/**
 * The plan for loop `R` of `program` (a region of the code generator's layout), or undefined when
 * the loop does not have the shape above or has an access that does not qualify.
 */
export function planHoist(
  program: Program,
  layout: ProgramLayout,
  R: Region,
  resolveLddw: ((insn: Insn & { kind: 'lddw' }) => bigint) | undefined,
): HoistPlan | undefined {
  if (!R.isLoop || R.dispatch || R.mid >= 0 || R.labels.length > 0) return undefined;
  const { insns } = program;
  const header = insns[R.first].pc;
  // The test: the back edge itself, or (clang's other layout) `if v == B goto out; goto header`.
  const back = insns[R.last];
  if (back.kind !== 'jump' || back.target !== header || back.op === 'may_goto') return undefined;
  const leaves = back.op === 'ja';
  const end = leaves ? R.last - 1 : R.last;
  const test = insns[end];
  if (end <= R.first || test.kind !== 'jump' || test.op === 'ja' || test.op === 'may_goto' || !test.is64) {
    return undefined;
  }
  if (leaves ? test.target <= back.pc : test.target !== header) return undefined;
  // One basic block up to the test (checked in O(1), so nested loops cost no rescans).
  if (layout.blockInsns[header] !== end - R.first + 1) return undefined;
  // Registers the body writes; every other one is invariant.
  const written = new Uint8Array(11);
  for (let i = R.first; i < end; i++) {
    const insn = insns[i];
    switch (insn.kind) {
      case 'alu':
      case 'lddw':
      case 'load':
        written[insn.dst] = 1;
        break;
      case 'store':
        break;
      default:
        return undefined; // calls, exits, jumps, atomics, packet loads
    }
  }
  const roles = exitRoles(test, leaves, written);
  if (roles === undefined) return undefined;
  const { iv } = roles;
  const kind = new Uint8Array(11);
  const value: bigint[] = new Array(11).fill(0n);
  for (let r = 0; r <= 10; r++) kind[r] = written[r] ? UNKNOWN : INVARIANT;
  kind[iv] = INDUCTION;
  let stepReg = -2; // not seen yet
  let step = 0;
  const accesses: HoistedAccess[] = [];
  for (let i = R.first; i < end; i++) {
    const insn = insns[i];
    if (insn.kind === 'load' || insn.kind === 'store') {
      const base = insn.kind === 'load' ? insn.src : insn.dst;
      if (kind[base] === INDUCTION && accesses.length < MAX_HOISTED) {
        accesses.push({
          pc: insn.pc,
          disp: U64(value[base] + BigInt(insn.off)),
          size: insn.size,
          write: insn.kind === 'store',
        });
      } else if (base !== 10) {
        // A copy that still checks an access measured slower (crc32's table lookup): two copies of
        // the loop cost V8 registers, which only a check-free copy pays back.
        return undefined;
      }
      if (insn.kind === 'load') {
        if (insn.dst === iv) return undefined;
        kind[insn.dst] = UNKNOWN;
      }
      continue;
    }
    if (insn.dst === iv) {
      // The one write of v: v += K, after which no register holds this iteration's v + c.
      if (stepReg !== -2 || insn.kind !== 'alu' || insn.op !== 'add' || !insn.is64) return undefined;
      if (insn.useReg) {
        // Not written in the loop: the entry check reads the step the loop uses.
        if (insn.src === iv || insn.src === 10 || written[insn.src] === 1) return undefined;
        stepReg = insn.src;
      } else {
        if (insn.imm < 0 || (roles.exit === 'ne' && insn.imm === 0)) return undefined;
        stepReg = -1;
        step = insn.imm;
      }
      for (let r = 0; r <= 10; r++) if (kind[r] === INDUCTION) kind[r] = UNKNOWN;
      continue;
    }
    if (insn.kind === 'lddw') {
      try {
        value[insn.dst] = lddwValue(insn, resolveLddw);
        kind[insn.dst] = CONST;
      } catch {
        kind[insn.dst] = UNKNOWN; // the code generator reports it
      }
      continue;
    }
    if (insn.kind === 'alu') alu(insn, kind, value);
  }
  if (stepReg === -2 || (roles.exit === 'ne' && stepReg >= 0)) return undefined;
  return { iv, stepReg, step, boundReg: roles.boundReg, bound: roles.bound, exit: roles.exit, accesses };
}

type Continues = Partial<Record<JumpInsn['op'], HoistPlan['exit']>>;
/** The loop goes on while v OP B, for a test `v op B` that jumps back to the header. */
const BACK_DIRECT: Continues = { jne: 'ne', jlt: 'lt', jle: 'le' };
/** … for a test `B op v` that jumps back. */
const BACK_SWAPPED: Continues = { jne: 'ne', jgt: 'lt', jge: 'le' };
/** … for a test `v op B` that jumps out of the loop: it goes on while the test fails. */
const EXIT_DIRECT: Continues = { jeq: 'ne', jge: 'lt', jgt: 'le' };
/** … for a test `B op v` that jumps out. */
const EXIT_SWAPPED: Continues = { jeq: 'ne', jle: 'lt', jlt: 'le' };

/**
 * The induction register and bound of the loop's test, normalised to "continues while v OP B"; the
 * test jumps back to the header while it holds, or (`leaves`) jumps out of the loop once it fails.
 */
function exitRoles(
  test: JumpInsn,
  leaves: boolean,
  written: Uint8Array,
): { iv: number; boundReg: number; bound: number; exit: HoistPlan['exit'] } | undefined {
  const boundFree = (r: number) => r !== 10 && written[r] === 0;
  // v OP B with v = dst.
  const direct = leaves ? EXIT_DIRECT[test.op] : BACK_DIRECT[test.op];
  if (direct !== undefined && test.dst !== 10 && written[test.dst] === 1) {
    if (!test.useReg) return { iv: test.dst, boundReg: -1, bound: test.imm, exit: direct };
    if (test.src !== test.dst && boundFree(test.src)) {
      return { iv: test.dst, boundReg: test.src, bound: 0, exit: direct };
    }
  }
  // B OP' v with v = src: B ≠ v, B >u v (v <u B), B ≥u v (v ≤u B).
  const swapped = leaves ? EXIT_SWAPPED[test.op] : BACK_SWAPPED[test.op];
  if (swapped !== undefined && test.useReg && test.src !== test.dst && written[test.src] === 1) {
    if (boundFree(test.dst)) return { iv: test.src, boundReg: test.dst, bound: 0, exit: swapped };
  }
  return undefined;
}

/** Constants and "v + constant" through 64-bit mov, add and sub; anything else is unknown. */
function alu(insn: Insn & { kind: 'alu' }, kind: Uint8Array, value: bigint[]): void {
  const d = insn.dst;
  if (!insn.is64) {
    kind[d] = UNKNOWN;
    return;
  }
  const imm = BigInt(insn.imm);
  if (insn.op === 'mov') {
    if (insn.useReg) {
      kind[d] = kind[insn.src];
      value[d] = value[insn.src];
    } else {
      kind[d] = CONST;
      value[d] = U64(imm);
    }
    return;
  }
  if (insn.op === 'add' || insn.op === 'sub') {
    const sign = insn.op === 'add' ? 1n : -1n;
    if (!insn.useReg) {
      if (kind[d] === CONST || kind[d] === INDUCTION) value[d] = U64(value[d] + sign * imm);
      else kind[d] = UNKNOWN;
      return;
    }
    const s = insn.src;
    if (kind[s] === CONST && (kind[d] === CONST || kind[d] === INDUCTION)) {
      value[d] = U64(value[d] + sign * value[s]);
      return;
    }
    if (insn.op === 'add' && kind[d] === CONST && kind[s] === INDUCTION) {
      kind[d] = INDUCTION;
      value[d] = U64(value[d] + value[s]);
      return;
    }
  }
  kind[d] = UNKNOWN;
}
