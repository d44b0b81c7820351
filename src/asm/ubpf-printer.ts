/**
 * Printer for the uBPF / bpf_conformance syntax. Canonical choices (the parser accepts more):
 * ALU64/JMP without suffix, 32-bit forms with `32`; immediates and offsets in signed decimal; lddw
 * immediates as 64-bit hex; `bswapN` (not `swapN`); jump targets as labels when a label map is given
 * (`disassemble` passes one), otherwise as `+N`/`-N`.
 */
import type { Insn } from '../isa/instruction.js';
import { joinImm64 } from './numbers.js';
import {
  aluMnemonic,
  atomicOpName,
  jumpMnemonic,
  loadMnemonic,
  movsxMnemonic,
  packetMnemonic,
  storeMnemonic,
  swapMnemonic,
} from './ubpf-names.js';

const reg = (n: number): string => `%r${n}`;

function mem(base: number, off: number): string {
  if (off === 0) return `[${reg(base)}]`;
  return `[${reg(base)}${off < 0 ? '' : '+'}${off}]`;
}

function relative(displacement: number): string {
  return displacement < 0 ? `${displacement}` : `+${displacement}`;
}

/** Formats one decoded instruction; `labels` maps target pcs to label names. */
export function formatUbpf(insn: Insn, labels?: ReadonlyMap<number, string>): string {
  const target = (pc: number, displacement: number): string => labels?.get(pc) ?? relative(displacement);
  switch (insn.kind) {
    case 'alu':
      switch (insn.op) {
        case 'neg':
          return `${aluMnemonic('neg', insn.is64)} ${reg(insn.dst)}`;
        case 'le':
        case 'be':
        case 'bswap':
          return `${swapMnemonic(insn.op, insn.width)} ${reg(insn.dst)}`;
        case 'movsx':
          return `${movsxMnemonic(insn.width, insn.is64)} ${reg(insn.dst)}, ${reg(insn.src)}`;
        default:
          return `${aluMnemonic(insn.op, insn.is64)} ${reg(insn.dst)}, ${insn.useReg ? reg(insn.src) : insn.imm}`;
      }
    case 'jump':
      if (insn.op === 'ja') {
        const displacement = insn.is64 ? insn.off : insn.imm;
        return `${insn.is64 ? 'ja' : 'ja32'} ${target(insn.target, displacement)}`;
      }
      if (insn.op === 'may_goto') return `may_goto ${target(insn.target, insn.off)}`;
      return `${jumpMnemonic(insn.op, insn.is64)} ${reg(insn.dst)}, ${insn.useReg ? reg(insn.src) : insn.imm}, ${target(insn.target, insn.off)}`;
    case 'call':
      switch (insn.op) {
        case 'helper':
          return `call ${insn.imm}`;
        case 'local':
          return `call local ${target(insn.target, insn.imm)}`;
        case 'kfunc':
          return `call runtime ${insn.imm}`;
        case 'callx':
          return `call ${reg(insn.dst)}`;
      }
      break;
    case 'exit':
      return 'exit';
    case 'lddw': {
      if (insn.source === 'imm64')
        return `lddw ${reg(insn.dst)}, 0x${joinImm64(insn.imm, insn.imm2).toString(16)}`;
      const value = insn.source === 'code_addr' ? target(insn.pc + 1 + insn.imm, insn.imm) : `${insn.imm}`;
      return `lddw ${insn.source} ${reg(insn.dst)}, ${value}${insn.imm2 === 0 ? '' : `, ${insn.imm2}`}`;
    }
    case 'packet_load':
      return insn.indirect
        ? `${packetMnemonic(true, insn.size)} ${reg(insn.src)}, ${insn.imm}`
        : `${packetMnemonic(false, insn.size)} ${insn.imm}`;
    case 'load':
      return `${loadMnemonic(insn.size, insn.signExtend)} ${reg(insn.dst)}, ${mem(insn.src, insn.off)}`;
    case 'store':
      return `${storeMnemonic(insn.size, insn.useReg)} ${mem(insn.dst, insn.off)}, ${insn.useReg ? reg(insn.src) : insn.imm}`;
    case 'atomic': {
      // xchg and cmpxchg always carry the fetch bit; the mnemonic implies it.
      const fetch = insn.fetch && insn.op !== 'xchg' && insn.op !== 'cmpxchg' ? 'fetch ' : '';
      return `lock ${fetch}${atomicOpName(insn.op, insn.size)} ${mem(insn.dst, insn.off)}, ${reg(insn.src)}`;
    }
  }
  throw new Error(`unreachable: instruction kind ${(insn as Insn).kind}`);
}
