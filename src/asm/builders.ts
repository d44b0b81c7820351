/**
 * Semantic instruction → `RawInsn`. Both parsers describe what they read in the decoder's vocabulary
 * (`AluOp`, `JumpOp`, sizes, `LddwSource`) and these constructors do the opcode arithmetic, so the
 * encoding rules live in one place on the assembling side (and are checked by the decoder afterwards).
 */
import type { RawInsn } from '../isa/encoder.js';
import type { AluOp, AtomicOp, JumpOp, LddwSource } from '../isa/instruction.js';
import {
  ATOMIC_ADD,
  ATOMIC_AND,
  ATOMIC_CMPXCHG,
  ATOMIC_OR,
  ATOMIC_XCHG,
  ATOMIC_XOR,
  BPF_ABS,
  BPF_ALU,
  BPF_ALU64,
  BPF_ATOMIC,
  BPF_B,
  BPF_DW,
  BPF_FETCH,
  BPF_H,
  BPF_IMM,
  BPF_IND,
  BPF_JMP,
  BPF_JMP32,
  BPF_K,
  BPF_LD,
  BPF_LDX,
  BPF_MEM,
  BPF_MEMSX,
  BPF_ST,
  BPF_STX,
  BPF_W,
  BPF_X,
  CALL_HELPER,
  CALL_KFUNC,
  CALL_LOCAL,
  LDDW_CODE_ADDR,
  LDDW_IMM64,
  LDDW_MAP_FD,
  LDDW_MAP_IDX,
  LDDW_MAP_IDX_VALUE,
  LDDW_MAP_VALUE,
  LDDW_VAR_ADDR,
} from '../isa/opcodes.js';

/** Second operand of ALU and conditional-jump instructions. */
export type Source = { readonly reg: number } | { readonly imm: number };

export type MemSize = 1 | 2 | 4 | 8;

/** Operation bits (high nibble) of each ALU operation; signed and sign-extending forms add `off`. */
const ALU_CODE: Record<AluOp, number> = {
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

const JUMP_CODE: Record<JumpOp, number> = {
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
};
const CALL_CODE = 0x80;
const EXIT_CODE = 0x90;

const SIZE_CODE: Record<MemSize, number> = { 1: BPF_B, 2: BPF_H, 4: BPF_W, 8: BPF_DW };

const ATOMIC_CODE: Record<AtomicOp, number> = {
  add: ATOMIC_ADD,
  or: ATOMIC_OR,
  and: ATOMIC_AND,
  xor: ATOMIC_XOR,
  xchg: ATOMIC_XCHG,
  cmpxchg: ATOMIC_CMPXCHG,
};

export const LDDW_SOURCE_CODE: Record<LddwSource, number> = {
  imm64: LDDW_IMM64,
  map_fd: LDDW_MAP_FD,
  map_value: LDDW_MAP_VALUE,
  var_addr: LDDW_VAR_ADDR,
  code_addr: LDDW_CODE_ADDR,
  map_idx: LDDW_MAP_IDX,
  map_idx_value: LDDW_MAP_IDX_VALUE,
};

/** lddw sources in src-field order (`LDDW_SOURCES[src]`). */
export const LDDW_SOURCES: readonly LddwSource[] = (Object.keys(LDDW_SOURCE_CODE) as LddwSource[]).sort(
  (a, b) => LDDW_SOURCE_CODE[a] - LDDW_SOURCE_CODE[b],
);

/**
 * Highest register number the parsers accept: the 4-bit field's range rather than r10, so that
 * `assembleUnchecked` can write invalid programs (the decoder rejects r11..r15 in `assemble`).
 */
export const MAX_ENCODABLE_REGISTER = 15;

function insn(opcode: number, dst: number, src: number, off: number, imm: number): RawInsn {
  return { opcode, dst, src, off, imm };
}

/**
 * Any ALU/ALU64 instruction. `width` is the source width of movsx (8/16/32) or the swap width of
 * le/be/bswap (16/32/64); neg and the swaps take no source. le/be are ALU-class (`is64` is ignored),
 * bswap is ALU64-class, as RFC 9669 encodes them.
 */
export function alu(op: AluOp, is64: boolean, dst: number, source?: Source, width = 0): RawInsn {
  if (op === 'le' || op === 'be')
    return insn(BPF_ALU | ALU_CODE[op] | (op === 'be' ? BPF_X : BPF_K), dst, 0, 0, width);
  if (op === 'bswap') return insn(BPF_ALU64 | ALU_CODE[op], dst, 0, 0, width);
  const cls = is64 ? BPF_ALU64 : BPF_ALU;
  const off = op === 'sdiv' || op === 'smod' ? 1 : op === 'movsx' ? width : 0;
  if (source === undefined || op === 'neg') return insn(cls | ALU_CODE[op], dst, 0, off, 0);
  if ('reg' in source) return insn(cls | ALU_CODE[op] | BPF_X, dst, source.reg, off, 0);
  return insn(cls | ALU_CODE[op] | BPF_K, dst, 0, off, source.imm);
}

/** Conditional jump; `off` is the slot displacement (0 when a label fixup fills it in). */
export function jump(op: JumpOp, is64: boolean, dst: number, source: Source, off: number): RawInsn {
  const cls = is64 ? BPF_JMP : BPF_JMP32;
  if ('reg' in source) return insn(cls | JUMP_CODE[op] | BPF_X, dst, source.reg, off, 0);
  return insn(cls | JUMP_CODE[op] | BPF_K, dst, 0, off, source.imm);
}

/** Unconditional jump: `ja` (16-bit displacement in off) or `ja32`/`gotol` (32-bit displacement in imm). */
export function ja(long: boolean, displacement: number): RawInsn {
  return long
    ? insn(BPF_JMP32 | JUMP_CODE.ja, 0, 0, 0, displacement)
    : insn(BPF_JMP | JUMP_CODE.ja, 0, 0, displacement, 0);
}

/** Helper call by id. */
export function callHelper(id: number): RawInsn {
  return insn(BPF_JMP | CALL_CODE, 0, CALL_HELPER, 0, id);
}

/** bpf-to-bpf call; the displacement (slots after the next instruction) goes into imm. */
export function callLocal(displacement: number): RawInsn {
  return insn(BPF_JMP | CALL_CODE, 0, CALL_LOCAL, 0, displacement);
}

/** Call of a kernel function by BTF id. */
export function callKfunc(id: number): RawInsn {
  return insn(BPF_JMP | CALL_CODE, 0, CALL_KFUNC, 0, id);
}

/** Indirect call through a register (held in dst, as LLVM and bpf_conformance encode it). */
export function callx(reg: number): RawInsn {
  return insn(BPF_JMP | CALL_CODE | BPF_X, reg, 0, 0, 0);
}

export function exit(): RawInsn {
  return insn(BPF_JMP | EXIT_CODE, 0, 0, 0, 0);
}

/** 64-bit immediate load: `imm`/`imm2` are the two halves (for imm64: low and high 32 bits). */
export function lddw(source: LddwSource, dst: number, imm: number, imm2: number): RawInsn {
  return { opcode: BPF_LD | BPF_IMM | BPF_DW, dst, src: LDDW_SOURCE_CODE[source], off: 0, imm, imm2 };
}

/** LDX: dst = *(size *)(src + off), zero- or sign-extended. */
export function load(size: MemSize, signExtend: boolean, dst: number, src: number, off: number): RawInsn {
  return insn(BPF_LDX | (signExtend ? BPF_MEMSX : BPF_MEM) | SIZE_CODE[size], dst, src, off, 0);
}

/** ST / STX: *(size *)(dst + off) = imm | src. */
export function store(size: MemSize, dst: number, off: number, source: Source): RawInsn {
  if ('reg' in source) return insn(BPF_STX | BPF_MEM | SIZE_CODE[size], dst, source.reg, off, 0);
  return insn(BPF_ST | BPF_MEM | SIZE_CODE[size], dst, 0, off, source.imm);
}

/** Atomic read-modify-write; xchg and cmpxchg always fetch, so `fetch` only matters for the others. */
export function atomic(
  op: AtomicOp,
  size: 4 | 8,
  fetch: boolean,
  dst: number,
  src: number,
  off: number,
): RawInsn {
  const imm = ATOMIC_CODE[op] | (fetch ? BPF_FETCH : 0);
  return insn(BPF_STX | BPF_ATOMIC | SIZE_CODE[size], dst, src, off, imm);
}

/** Legacy packet load: r0 = *(size *)skb[imm] (absolute) or skb[src + imm] (indirect). */
export function packetLoad(indirect: boolean, size: 1 | 2 | 4, src: number, imm: number): RawInsn {
  return insn(BPF_LD | (indirect ? BPF_IND : BPF_ABS) | SIZE_CODE[size], 0, indirect ? src : 0, 0, imm);
}
