/**
 * Compact per-instruction facts for the JIT's analyses, one int32 each. The analysis (control-flow.ts)
 * computes them in its first pass, from the program's columns and a table per instruction form; the
 * later analyses (call-registers.ts, slot-prediction.ts, codegen's window-free functions) read them
 * instead of the objects: at 1M instructions the objects are ~176 MB, so every pass over them is a
 * pass through main memory.
 *
 * Layout: bits 0..9 the registers the instruction may read (a local call: none, its callee's live-in
 * is added by call-registers.ts), bits 10..19 those it may write, then the flags below.
 */
import { FORM_COUNT, FORMS, type Form } from '../isa/forms.js';
import type { ProgramColumns } from '../isa/instruction.js';
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

/** What a form reads and writes of dst and src (the rest of its facts do not depend on them). */
const READS_DST = 1;
const READS_SRC = 2;
const WRITES_DST = 4;
const WRITES_SRC = 8;

/**
 * A form's facts: the bits that hold for every instruction of the form, which of its dst and src it
 * reads and writes (READS_*, WRITES_*), and how it moves addresses (MOVE_*). The one definition of the facts.
 */
function formFacts(f: Form): { facts: number; uses: number; move: number } {
  switch (f.kind) {
    case 'alu': {
      const op = f.op;
      // mov/movsx do not read dst; the others do. movsx always reads a register.
      const reads =
        (f.useReg || op === 'movsx' ? READS_SRC : 0) | (op === 'mov' || op === 'movsx' ? 0 : READS_DST);
      let move = MOVE_CLOBBER;
      if (f.is64 && op === 'mov') move = f.useReg ? MOVE_COPY : MOVE_CONST;
      else if (f.is64 && op === 'add' && f.useReg) move = MOVE_ADD_REG;
      else if (f.is64 && (op === 'add' || op === 'sub')) move = MOVE_OFFSET;
      return { facts: F_DEFS, uses: reads | WRITES_DST, move };
    }
    case 'jump': {
      const flags = F_JUMP | F_ENDS_BLOCK;
      if (f.op === 'ja') return { facts: F_JA | flags, uses: 0, move: MOVE_NONE };
      if (f.op === 'may_goto') return { facts: F_MAY_GOTO | flags, uses: 0, move: MOVE_NONE };
      return { facts: flags, uses: READS_DST | (f.useReg ? READS_SRC : 0), move: MOVE_NONE };
    }
    case 'load':
      return { facts: F_DEFS, uses: READS_SRC | WRITES_DST, move: MOVE_LOAD };
    case 'store':
      return { facts: 0, uses: READS_DST | (f.useReg ? READS_SRC : 0), move: MOVE_STORE };
    case 'atomic':
      // Reads r0 (cmpxchg's comparand) and may write it and src: never certainly.
      return {
        facts: 1 | (1 << WRITES_SHIFT),
        uses: READS_DST | READS_SRC | WRITES_SRC,
        move: f.fetch ? MOVE_ATOMIC_FETCH : MOVE_ATOMIC,
      };
    case 'packet_load':
      return {
        facts: (1 << WRITES_SHIFT) | F_HOST | F_ENDS_BLOCK,
        uses: f.indirect ? READS_SRC : 0,
        move: MOVE_CALL,
      };
    case 'call': {
      // Helper calls and callx read every register (callbacks, tail calls); a local call's reads are
      // its callee's live-in registers (call-registers.ts).
      if (f.op === 'local') return { facts: F_LOCAL_CALL | F_ENDS_BLOCK, uses: 0, move: MOVE_CALL };
      const host = ALL_REGS | F_HOST | F_ENDS_BLOCK;
      if (f.op === 'helper') return { facts: host | (1 << WRITES_SHIFT), uses: 0, move: MOVE_CALL };
      const callx = f.op === 'callx' ? F_CALLX : 0;
      return { facts: host | (R0_TO_R5 << WRITES_SHIFT) | callx, uses: 0, move: MOVE_CALL };
    }
    case 'exit':
      return { facts: F_EXIT | F_ENDS_BLOCK, uses: 0, move: MOVE_NONE };
    case 'lddw':
      return { facts: F_DEFS, uses: WRITES_DST, move: MOVE_LDDW };
  }
}

// formFacts per form number, as flat tables for the per-instruction pass.
const FORM_FACTS = new Int32Array(FORM_COUNT);
const FORM_USES = new Uint8Array(FORM_COUNT);
const FORM_MOVES = new Uint8Array(FORM_COUNT);
for (let n = 0; n < FORM_COUNT; n++) {
  const { facts, uses, move } = formFacts(FORMS[n]);
  FORM_FACTS[n] = facts;
  FORM_USES[n] = uses;
  FORM_MOVES[n] = move;
}

/** Register number (0..15) → its bit; r10 and the invalid ones are not tracked. */
const REG_BIT = Int32Array.from({ length: 16 }, (_, r) => (r < 10 ? 1 << r : 0));

/**
 * The facts of instruction `i` (see the layout above), returned, and its operand facts (see
 * below), written to operands[i] — from the program's columns, without branches on the form:
 * this runs once per instruction of every compiled program.
 */
export function insnFacts(columns: ProgramColumns, i: number, operands: Int32Array): number {
  const form = columns.form[i];
  const regs = columns.regs[i];
  const uses = FORM_USES[form];
  const move = FORM_MOVES[form];
  const d = REG_BIT[regs & 15];
  const s = REG_BIT[regs >>> 4];
  // A 64-bit mov of a constant: the 256 MiB slot of its immediate (see MOVE_CONST).
  const imm = columns.imm[i];
  const slot = (imm < 0 ? CONST_NEGATIVE : imm >>> SLOT_SHIFT) & -(move === MOVE_CONST ? 1 : 0);
  operands[i] = regs | (move << MOVE_SHIFT) | (slot << CONST_SHIFT);
  const reads = (d & -(uses & READS_DST)) | (s & -((uses & READS_SRC) >>> 1));
  const writes = (d & -((uses & WRITES_DST) >>> 2)) | (s & -((uses & WRITES_SRC) >>> 3));
  return FORM_FACTS[form] | reads | (writes << WRITES_SHIFT);
}
