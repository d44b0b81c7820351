/** Raw field values of the eBPF encoding (RFC 9669 §3–§5). Only the decoder and encoder need these. */

export const INSN_SIZE = 8;
/** Number of general registers r0..r10. */
export const REG_COUNT = 11;
export const FRAME_POINTER = 10;

// Instruction classes (low 3 bits of the opcode).
export const BPF_LD = 0x00;
export const BPF_LDX = 0x01;
export const BPF_ST = 0x02;
export const BPF_STX = 0x03;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_JMP32 = 0x06;
export const BPF_ALU64 = 0x07;

// Source bit of ALU/JMP opcodes.
export const BPF_K = 0x00;
export const BPF_X = 0x08;

// Memory modes (bits 5–7) and sizes (bits 3–4).
export const BPF_IMM = 0x00;
export const BPF_ABS = 0x20;
export const BPF_IND = 0x40;
export const BPF_MEM = 0x60;
export const BPF_MEMSX = 0x80;
export const BPF_ATOMIC = 0xc0;
export const BPF_W = 0x00;
export const BPF_H = 0x08;
export const BPF_B = 0x10;
export const BPF_DW = 0x18;

// Atomic operation codes carried in imm.
export const BPF_FETCH = 0x01;
export const ATOMIC_ADD = 0x00;
export const ATOMIC_OR = 0x40;
export const ATOMIC_AND = 0x50;
export const ATOMIC_XOR = 0xa0;
export const ATOMIC_XCHG = 0xe0 | BPF_FETCH;
export const ATOMIC_CMPXCHG = 0xf0 | BPF_FETCH;

/** The lddw (64-bit immediate load) opcode, the only two-slot instruction. */
export const LDDW_OPCODE = BPF_LD | BPF_IMM | BPF_DW;

// lddw src variants (RFC 9669 §5.4).
export const LDDW_IMM64 = 0;
export const LDDW_MAP_FD = 1;
export const LDDW_MAP_VALUE = 2;
export const LDDW_VAR_ADDR = 3;
export const LDDW_CODE_ADDR = 4;
export const LDDW_MAP_IDX = 5;
export const LDDW_MAP_IDX_VALUE = 6;

/** JMP|JCOND (0xe5): `may_goto`, the only conditional pseudo-jump (src = BPF_MAY_GOTO, RFC 9669 §4.3). */
export const BPF_JCOND = 0xe0;
export const BPF_MAY_GOTO = 0;
/**
 * Iterations a `may_goto` allows per subprogram frame (the kernel's BPF_MAX_LOOPS): the counter
 * starts here when the frame is entered, and may_goto jumps once it reaches 0.
 */
export const BPF_MAX_LOOPS = 8 * 1024 * 1024;

// call src variants.
export const CALL_HELPER = 0;
export const CALL_LOCAL = 1;
export const CALL_KFUNC = 2;

/** Size in bytes for the two size bits of a memory opcode. */
export function sizeOfMemOpcode(opcode: number): 1 | 2 | 4 | 8 {
  switch (opcode & 0x18) {
    case BPF_B:
      return 1;
    case BPF_H:
      return 2;
    case BPF_W:
      return 4;
    default:
      return 8;
  }
}
