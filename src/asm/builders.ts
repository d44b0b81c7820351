/**
 * Semantic instruction → `RawInsn`. Both parsers describe what they read in the decoder's vocabulary
 * (`AluOp`, `JumpOp`, sizes, `LddwSource`) and these constructors do the opcode arithmetic, so the
 * encoding rules live in one place on the assembling side (and are checked by the decoder afterwards).
 */
import type { RawInsn } from '../isa/encoder.js';
import type { AluOp, AtomicOp, JumpOp, LddwSource } from '../isa/instruction.js';
import {
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
} from '../isa/opcodes.js';
import {
  ALU_OP_CODE,
  ATOMIC_OP_CODE,
  CALL_OP_CODE,
  EXIT_OP_CODE,
  JUMP_OP_CODE,
  LDDW_SOURCE_BY_CODE,
  LDDW_SOURCE_CODE,
} from '../isa/operations.js';

/** Second operand of ALU and conditional-jump instructions. */
export type Source = { readonly reg: number } | { readonly imm: number };

export type MemSize = 1 | 2 | 4 | 8;

const SIZE_CODE: Record<MemSize, number> = { 1: BPF_B, 2: BPF_H, 4: BPF_W, 8: BPF_DW };

/** lddw sources in src-field order (`LDDW_SOURCES[src]`). */
export const LDDW_SOURCES: readonly LddwSource[] = [...LDDW_SOURCE_BY_CODE.entries()]
  .sort(([a], [b]) => a - b)
  .map(([, source]) => source);

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
    return insn(BPF_ALU | ALU_OP_CODE[op] | (op === 'be' ? BPF_X : BPF_K), dst, 0, 0, width);
  if (op === 'bswap') return insn(BPF_ALU64 | ALU_OP_CODE[op], dst, 0, 0, width);
  const cls = is64 ? BPF_ALU64 : BPF_ALU;
  const off = op === 'sdiv' || op === 'smod' ? 1 : op === 'movsx' ? width : 0;
  if (source === undefined || op === 'neg') return insn(cls | ALU_OP_CODE[op], dst, 0, off, 0);
  if ('reg' in source) return insn(cls | ALU_OP_CODE[op] | BPF_X, dst, source.reg, off, 0);
  return insn(cls | ALU_OP_CODE[op] | BPF_K, dst, 0, off, source.imm);
}

/** Conditional jump; `off` is the slot displacement (0 when a label fixup fills it in). */
export function jump(op: JumpOp, is64: boolean, dst: number, source: Source, off: number): RawInsn {
  const cls = is64 ? BPF_JMP : BPF_JMP32;
  if ('reg' in source) return insn(cls | JUMP_OP_CODE[op] | BPF_X, dst, source.reg, off, 0);
  return insn(cls | JUMP_OP_CODE[op] | BPF_K, dst, 0, off, source.imm);
}

/** Unconditional jump: `ja` (16-bit displacement in off) or `ja32`/`gotol` (32-bit displacement in imm). */
export function ja(long: boolean, displacement: number): RawInsn {
  return long
    ? insn(BPF_JMP32 | JUMP_OP_CODE.ja, 0, 0, 0, displacement)
    : insn(BPF_JMP | JUMP_OP_CODE.ja, 0, 0, displacement, 0);
}

/** `may_goto` (JMP|JCOND, src BPF_MAY_GOTO): 16-bit displacement in off. */
export function mayGoto(displacement: number): RawInsn {
  return insn(BPF_JMP | JUMP_OP_CODE.may_goto, 0, 0, displacement, 0);
}

/** Helper call by id. */
export function callHelper(id: number): RawInsn {
  return insn(BPF_JMP | CALL_OP_CODE, 0, CALL_HELPER, 0, id);
}

/** bpf-to-bpf call; the displacement (slots after the next instruction) goes into imm. */
export function callLocal(displacement: number): RawInsn {
  return insn(BPF_JMP | CALL_OP_CODE, 0, CALL_LOCAL, 0, displacement);
}

/** Call of a kernel function by BTF id. */
export function callKfunc(id: number): RawInsn {
  return insn(BPF_JMP | CALL_OP_CODE, 0, CALL_KFUNC, 0, id);
}

/** Indirect call through a register (held in dst, as LLVM and bpf_conformance encode it). */
export function callx(reg: number): RawInsn {
  return insn(BPF_JMP | CALL_OP_CODE | BPF_X, reg, 0, 0, 0);
}

export function exit(): RawInsn {
  return insn(BPF_JMP | EXIT_OP_CODE, 0, 0, 0, 0);
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
  const imm = ATOMIC_OP_CODE[op] | (fetch ? BPF_FETCH : 0);
  return insn(BPF_STX | BPF_ATOMIC | SIZE_CODE[size], dst, src, off, imm);
}

/** Legacy packet load: r0 = *(size *)skb[imm] (absolute) or skb[src + imm] (indirect). */
export function packetLoad(indirect: boolean, size: 1 | 2 | 4, src: number, imm: number): RawInsn {
  return insn(BPF_LD | (indirect ? BPF_IND : BPF_ABS) | SIZE_CODE[size], 0, indirect ? src : 0, 0, imm);
}
