/**
 * Compact per-instruction facts for the JIT's analyses, one int32 each. The analysis (control-flow.ts)
 * computes them in its one pass over the decoded objects; the later analyses (call-registers.ts,
 * slot-prediction.ts, codegen's window-free functions) read them instead of the objects: at 1M
 * instructions the objects are ~176 MB, so every further pass over them is a pass through main memory.
 *
 * Layout: bits 0..9 the registers the instruction may read (a local call: none, its callee's live-in
 * is added by call-registers.ts), bits 10..19 those it may write, then the flags below.
 */
import type { Insn } from '../isa/instruction.js';
import { SLOT_SHIFT } from '../vm/memory/layout.js';

/** Registers r0..r9 as bits. */
export const ALL_REGS = 0x3ff;
const R0_TO_R5 = 0x3f;
export const WRITES_SHIFT = 10;
/** The written registers are certainly written (alu, lddw, load): liveness may kill them. */
export const DEFS_BIT = 20;
export const F_DEFS = 1 << DEFS_BIT;
export const F_EXIT = 1 << 21;
/** An unconditional jump (`ja`): never falls through. */
export const F_JA = 1 << 22;
export const F_CALLX = 1 << 23;
/** May run host code, which may remap any window: helper, kfunc and callx calls, packet loads. */
export const F_HOST = 1 << 24;
export const LOCAL_CALL_BIT = 25;
export const F_LOCAL_CALL = 1 << LOCAL_CALL_BIT;
/** A jump (`target` is its destination pc). */
export const F_JUMP = 1 << 28;
/** Ends a basic block: jumps, calls, exit and packet loads (control-flow.ts `endsBlock`). */
export const F_ENDS_BLOCK = 1 << 29;
export const F_MAY_GOTO = 1 << 30;

const bit = (r: number): number => (r < 10 ? 1 << r : 0);

/*
 * Operand facts, a second int32 per instruction: dst (bits 0..3), src (4..7) and how the instruction
 * moves guest addresses between registers (MOVE_*, bits 8..11), what slot-prediction.ts follows; for
 * MOVE_CONST bits 12..15 hold the 256 MiB slot of its non-negative immediate (CONST_NEGATIVE if not).
 */
export const SRC_SHIFT = 4;
export const MOVE_SHIFT = 8;
export const CONST_SHIFT = 12;
export const CONST_NEGATIVE = 15;
/** No register gets a new value (jumps, exit, stores). */
export const MOVE_NONE = 0;
/** dst = a 64-bit constant (its value: from the object, lddw are few). */
export const MOVE_LDDW = 1;
/** dst = a value derived from no address (32-bit ALU, 64-bit ALU other than mov/add/sub). */
export const MOVE_CLOBBER = 2;
/** dst = src (64-bit mov). */
export const MOVE_COPY = 3;
/** dst = imm (64-bit mov). */
export const MOVE_CONST = 4;
/** dst += src (64-bit add). */
export const MOVE_ADD_REG = 5;
/** dst ± imm, dst − src: an offset from what dst held. */
export const MOVE_OFFSET = 6;
/** A load from src + off into dst. */
export const MOVE_LOAD = 7;
/** A store to dst + off. */
export const MOVE_STORE = 8;
/** An atomic at dst + off: writes r0, and src when fetching (MOVE_ATOMIC_FETCH). */
export const MOVE_ATOMIC = 9;
export const MOVE_ATOMIC_FETCH = 10;
/** Calls and packet loads: r0..r5 get new values. */
export const MOVE_CALL = 11;

/**
 * The facts of one instruction (see the layout above), returned, and its operand facts (see below),
 * written to operands[i]. One switch and one read of each field: this runs once per instruction of
 * every compiled program, on the object the analysis has just read.
 */
export function insnFacts(insn: Insn, operands: Int32Array, i: number): number {
  const dst = insn.dst;
  const src = insn.src;
  const regs = dst | (src << SRC_SHIFT);
  switch (insn.kind) {
    case 'alu': {
      const op = insn.op;
      const useReg = insn.useReg;
      if (!insn.is64) operands[i] = regs | (MOVE_CLOBBER << MOVE_SHIFT);
      else if (op === 'mov') {
        const slot = useReg ? 0 : insn.imm < 0 ? CONST_NEGATIVE : insn.imm >>> SLOT_SHIFT;
        operands[i] = regs | ((useReg ? MOVE_COPY : MOVE_CONST) << MOVE_SHIFT) | (slot << CONST_SHIFT);
      } else if (op === 'add' && useReg) operands[i] = regs | (MOVE_ADD_REG << MOVE_SHIFT);
      else if (op === 'add' || op === 'sub') operands[i] = regs | (MOVE_OFFSET << MOVE_SHIFT);
      else operands[i] = regs | (MOVE_CLOBBER << MOVE_SHIFT);
      const read = useReg || op === 'movsx' ? bit(src) : 0;
      const d = bit(dst);
      return (op === 'mov' || op === 'movsx' ? read : read | d) | (d << WRITES_SHIFT) | F_DEFS;
    }
    case 'jump': {
      operands[i] = regs | (MOVE_NONE << MOVE_SHIFT);
      const op = insn.op;
      if (op === 'ja') return F_JA | F_JUMP | F_ENDS_BLOCK;
      if (op === 'may_goto') return F_MAY_GOTO | F_JUMP | F_ENDS_BLOCK;
      return bit(dst) | (insn.useReg ? bit(src) : 0) | F_JUMP | F_ENDS_BLOCK;
    }
    case 'load':
      operands[i] = regs | (MOVE_LOAD << MOVE_SHIFT);
      return bit(src) | (bit(dst) << WRITES_SHIFT) | F_DEFS;
    case 'store':
      operands[i] = regs | (MOVE_STORE << MOVE_SHIFT);
      return bit(dst) | (insn.useReg ? bit(src) : 0);
    case 'atomic':
      operands[i] = regs | ((insn.fetch ? MOVE_ATOMIC_FETCH : MOVE_ATOMIC) << MOVE_SHIFT);
      return bit(dst) | bit(src) | 1 | ((1 | bit(src)) << WRITES_SHIFT);
    case 'packet_load':
      operands[i] = regs | (MOVE_CALL << MOVE_SHIFT);
      return (insn.indirect ? bit(src) : 0) | (1 << WRITES_SHIFT) | F_HOST | F_ENDS_BLOCK;
    case 'call': {
      operands[i] = regs | (MOVE_CALL << MOVE_SHIFT);
      // Helper calls and callx read every register (callbacks, tail calls); a local call's reads are
      // its callee's live-in registers (call-registers.ts).
      const op = insn.op;
      if (op === 'local') return F_LOCAL_CALL | F_ENDS_BLOCK;
      if (op === 'helper') return ALL_REGS | (1 << WRITES_SHIFT) | F_HOST | F_ENDS_BLOCK;
      return ALL_REGS | (R0_TO_R5 << WRITES_SHIFT) | F_HOST | F_ENDS_BLOCK | (op === 'callx' ? F_CALLX : 0);
    }
    case 'exit':
      operands[i] = regs | (MOVE_NONE << MOVE_SHIFT);
      return F_EXIT | F_ENDS_BLOCK;
    case 'lddw':
      operands[i] = regs | (MOVE_LDDW << MOVE_SHIFT);
      return (bit(dst) << WRITES_SHIFT) | F_DEFS;
  }
}
