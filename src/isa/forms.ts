/**
 * Instruction forms: what a decoded instruction does, without its operands — every derived field of
 * `Insn` but `width`, `target` and `imm2` (kind, op, is64, useReg, size, signExtend, indirect, fetch,
 * source). There are 186 of them, numbered densely, so a form fits a byte: the decoder records each
 * instruction's form in `Program.columns`, and passes over every instruction of a big program (the
 * JIT's analysis) look facts up per form instead of reading the ~176-byte objects.
 */
import type { AluOp, AtomicOp, CallOp, Insn, JumpOp, LddwSource } from './instruction.js';
import { ALU_OP_CODE, ATOMIC_OP_CODE, JUMP_OP_CODE, LDDW_SOURCE_CODE } from './operations.js';

type WithoutOperands<T> = T extends Insn
  ? Omit<T, 'pc' | 'opcode' | 'dst' | 'src' | 'off' | 'imm' | 'slots' | 'width' | 'target' | 'imm2'>
  : never;

/** A decoded instruction's form (every `Insn` is one). */
export type Form = WithoutOperands<Insn>;

const ALU_OPS = Object.keys(ALU_OP_CODE) as AluOp[];
const JUMP_OPS = Object.keys(JUMP_OP_CODE) as JumpOp[];
const CALL_OPS: readonly CallOp[] = ['helper', 'local', 'kfunc', 'callx'];
const ATOMIC_OPS = Object.keys(ATOMIC_OP_CODE) as AtomicOp[];
const LDDW_SOURCES = Object.keys(LDDW_SOURCE_CODE) as LddwSource[];
const SIZES = [1, 2, 4, 8] as const;

/** Index of each name in its list. */
function indexOf<K extends string>(names: readonly K[]): Map<K, number> {
  return new Map(names.map((name, i) => [name, i]));
}
const ALU_INDEX = indexOf(ALU_OPS);
const JUMP_INDEX = indexOf(JUMP_OPS);
const CALL_INDEX = indexOf(CALL_OPS);
const ATOMIC_INDEX = indexOf(ATOMIC_OPS);
const LDDW_INDEX = indexOf(LDDW_SOURCES);

// First form of each kind; each kind's forms follow in the order `formOf` numbers them.
const ALU_BASE = 0;
const JUMP_BASE = ALU_BASE + 4 * ALU_OPS.length;
const CALL_BASE = JUMP_BASE + 4 * JUMP_OPS.length;
const EXIT_BASE = CALL_BASE + CALL_OPS.length;
const LDDW_BASE = EXIT_BASE + 1;
const PACKET_BASE = LDDW_BASE + LDDW_SOURCES.length;
const LOAD_BASE = PACKET_BASE + 2 * 3;
const STORE_BASE = LOAD_BASE + 2 * SIZES.length;
const ATOMIC_BASE = STORE_BASE + 2 * SIZES.length;

/** Number of forms. */
export const FORM_COUNT = ATOMIC_BASE + 4 * ATOMIC_OPS.length;

/** 0..3 for sizes 1, 2, 4, 8. */
const sizeIndex = (size: number): number => 31 - Math.clz32(size);
const bit = (flag: boolean): number => (flag ? 1 : 0);

/** The form number of an instruction (or of a `Form`), 0 ≤ n < FORM_COUNT. */
export function formOf(f: Form): number {
  switch (f.kind) {
    case 'alu':
      return ALU_BASE + 4 * (ALU_INDEX.get(f.op) as number) + 2 * bit(f.is64) + bit(f.useReg);
    case 'jump':
      return JUMP_BASE + 4 * (JUMP_INDEX.get(f.op) as number) + 2 * bit(f.is64) + bit(f.useReg);
    case 'call':
      return CALL_BASE + (CALL_INDEX.get(f.op) as number);
    case 'exit':
      return EXIT_BASE;
    case 'lddw':
      return LDDW_BASE + (LDDW_INDEX.get(f.source) as number);
    case 'packet_load':
      return PACKET_BASE + 3 * bit(f.indirect) + sizeIndex(f.size);
    case 'load':
      return LOAD_BASE + 4 * bit(f.signExtend) + sizeIndex(f.size);
    case 'store':
      return STORE_BASE + 4 * bit(f.useReg) + sizeIndex(f.size);
    case 'atomic':
      return ATOMIC_BASE + 4 * (ATOMIC_INDEX.get(f.op) as number) + 2 * bit(f.fetch) + (f.size === 8 ? 1 : 0);
  }
}

/** Every form, enumerated in all its field combinations and placed at its number. */
function enumerateForms(): readonly Form[] {
  const all: Form[] = [];
  const flags = [false, true];
  for (const op of ALU_OPS)
    for (const is64 of flags) for (const useReg of flags) all.push({ kind: 'alu', op, is64, useReg });
  for (const op of JUMP_OPS)
    for (const is64 of flags) for (const useReg of flags) all.push({ kind: 'jump', op, is64, useReg });
  for (const op of CALL_OPS) all.push({ kind: 'call', op });
  all.push({ kind: 'exit' });
  for (const source of LDDW_SOURCES) all.push({ kind: 'lddw', source });
  for (const indirect of flags)
    for (const size of [1, 2, 4] as const) all.push({ kind: 'packet_load', indirect, size });
  for (const signExtend of flags) for (const size of SIZES) all.push({ kind: 'load', size, signExtend });
  for (const useReg of flags) for (const size of SIZES) all.push({ kind: 'store', size, useReg });
  for (const op of ATOMIC_OPS)
    for (const fetch of flags)
      for (const size of [4, 8] as const) all.push({ kind: 'atomic', op, size, fetch });
  const forms: Form[] = new Array(FORM_COUNT);
  for (const f of all) forms[formOf(f)] = Object.freeze(f);
  return Object.freeze(forms);
}

/** Form number → form. */
export const FORMS: readonly Form[] = enumerateForms();
