/**
 * The operation ↔ encoding tables, shared by the decoder (code → operation) and the assembler's
 * builders (operation → code), so both directions come from one definition.
 */
import type { AluOp, AtomicOp, JumpOp, LddwSource } from './instruction.js';
import {
  ATOMIC_ADD,
  ATOMIC_AND,
  ATOMIC_CMPXCHG,
  ATOMIC_OR,
  ATOMIC_XCHG,
  ATOMIC_XOR,
  LDDW_CODE_ADDR,
  LDDW_IMM64,
  LDDW_MAP_FD,
  LDDW_MAP_IDX,
  LDDW_MAP_IDX_VALUE,
  LDDW_MAP_VALUE,
  LDDW_VAR_ADDR,
} from './opcodes.js';

/**
 * Operation bits (high nibble of the opcode) of each ALU operation. sdiv/smod share div/mod's code
 * (off = 1), movsx shares mov's (off = width), le/be/bswap share END (0xd0).
 */
export const ALU_OP_CODE: Readonly<Record<AluOp, number>> = {
  add: 0x00,
  sub: 0x10,
  mul: 0x20,
  div: 0x30,
  sdiv: 0x30,
  or: 0x40,
  and: 0x50,
  lsh: 0x60,
  rsh: 0x70,
  neg: 0x80,
  mod: 0x90,
  smod: 0x90,
  xor: 0xa0,
  mov: 0xb0,
  movsx: 0xb0,
  arsh: 0xc0,
  le: 0xd0,
  be: 0xd0,
  bswap: 0xd0,
};

/** Operation bits of each jump; 0x80 is call and 0x90 exit. */
export const JUMP_OP_CODE: Readonly<Record<JumpOp, number>> = {
  ja: 0x00,
  jeq: 0x10,
  jgt: 0x20,
  jge: 0x30,
  jset: 0x40,
  jne: 0x50,
  jsgt: 0x60,
  jsge: 0x70,
  jlt: 0xa0,
  jle: 0xb0,
  jslt: 0xc0,
  jsle: 0xd0,
  may_goto: 0xe0, // BPF_JCOND
};
export const CALL_OP_CODE = 0x80;
export const EXIT_OP_CODE = 0x90;
export const END_OP_CODE = 0xd0;

/** imm of each atomic operation (without the FETCH bit for add/or/and/xor). */
export const ATOMIC_OP_CODE: Readonly<Record<AtomicOp, number>> = {
  add: ATOMIC_ADD,
  or: ATOMIC_OR,
  and: ATOMIC_AND,
  xor: ATOMIC_XOR,
  xchg: ATOMIC_XCHG,
  cmpxchg: ATOMIC_CMPXCHG,
};

export const LDDW_SOURCE_CODE: Readonly<Record<LddwSource, number>> = {
  imm64: LDDW_IMM64,
  map_fd: LDDW_MAP_FD,
  map_value: LDDW_MAP_VALUE,
  var_addr: LDDW_VAR_ADDR,
  code_addr: LDDW_CODE_ADDR,
  map_idx: LDDW_MAP_IDX,
  map_idx_value: LDDW_MAP_IDX_VALUE,
};

function invert<K extends string>(
  table: Readonly<Record<K, number>>,
  skip: readonly NoInfer<K>[] = [],
): Map<number, K> {
  const out = new Map<number, K>();
  for (const [op, code] of Object.entries(table) as [K, number][]) if (!skip.includes(op)) out.set(code, op);
  return out;
}

/** Base ALU operation per operation bits; the variants that share a code are told apart by off/imm. */
export const ALU_OP_BY_CODE = invert(ALU_OP_CODE, ['sdiv', 'smod', 'movsx', 'le', 'be', 'bswap']);
export const JUMP_OP_BY_CODE = invert(JUMP_OP_CODE);
export const ATOMIC_OP_BY_CODE = invert(ATOMIC_OP_CODE);
export const LDDW_SOURCE_BY_CODE = invert(LDDW_SOURCE_CODE);
