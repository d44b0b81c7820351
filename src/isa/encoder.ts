/** Raw fields → bytes. The assembler produces `RawInsn`s; validation is left to the decoder. */
import { INSN_SIZE, LDDW_OPCODE } from './opcodes.js';

export interface RawInsn {
  opcode: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
  /** Present only for lddw: the second slot's imm (high 32 bits of the 64-bit immediate). */
  imm2?: number;
}

export function slotsOf(insn: RawInsn): 1 | 2 {
  return insn.imm2 === undefined ? 1 : 2;
}

/** Writes one instruction (one or two slots) at byte offset `at`. */
export function encodeInsn(view: DataView, at: number, insn: RawInsn): void {
  view.setUint8(at, insn.opcode & 0xff);
  view.setUint8(at + 1, ((insn.src & 0xf) << 4) | (insn.dst & 0xf));
  view.setInt16(at + 2, (insn.off << 16) >> 16, true);
  view.setInt32(at + 4, insn.imm | 0, true);
  if (insn.imm2 !== undefined) {
    view.setBigUint64(at + INSN_SIZE, 0n, true);
    view.setInt32(at + INSN_SIZE + 4, insn.imm2 | 0, true);
  }
}

export function encodeProgram(insns: readonly RawInsn[]): Uint8Array {
  const slots = insns.reduce((n, i) => n + slotsOf(i), 0);
  const bytes = new Uint8Array(slots * INSN_SIZE);
  const view = new DataView(bytes.buffer);
  let at = 0;
  for (const insn of insns) {
    encodeInsn(view, at, insn);
    at += slotsOf(insn) * INSN_SIZE;
  }
  return bytes;
}

/**
 * Bytes → raw fields of the instruction at byte offset `at`, the inverse of `encodeInsn`, without any
 * validation (that is the decoder's job). An lddw opcode also reads the second slot's imm when present.
 */
export function readRawInsn(view: DataView, at: number): RawInsn {
  const regs = view.getUint8(at + 1);
  const insn: RawInsn = {
    opcode: view.getUint8(at),
    dst: regs & 0xf,
    src: regs >> 4,
    off: view.getInt16(at + 2, true),
    imm: view.getInt32(at + 4, true),
  };
  if (insn.opcode === LDDW_OPCODE && at + 2 * INSN_SIZE <= view.byteLength) {
    insn.imm2 = view.getInt32(at + INSN_SIZE + 4, true);
  }
  return insn;
}
