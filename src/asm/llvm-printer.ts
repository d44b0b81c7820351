/**
 * Printer for the LLVM BPF syntax. The text of every instruction is exactly what
 * `llvm-objdump-19 -d --no-show-raw-insn` prints, with these documented differences, all of them
 * places where objdump's text loses information and would not re-assemble to the same bytes:
 *
 * - pc-relative instructions end with a target annotation ` <L12>` (objdump prints ` <sym+0x60>` for
 *   jumps and nothing for calls); a call with an annotation is a bpf-to-bpf call (src 1), `<kfunc>`
 *   marks a kfunc call (src 2), while objdump prints all three as `call 0x2`;
 * - 32-bit atomics use the alu32 spelling objdump prints with `--mattr=+alu32`
 *   (`w2 = atomic_fetch_add((u32 *)(r1 + 0x4), w2)`); objdump's default mode drops their fetch bit or
 *   prints `<unknown>`;
 * - `ld_pseudo` (lddw with src ≠ 0) gets a fourth operand when the second slot's imm is not zero, and
 *   an indirect packet load with a non-zero imm prints it (`skb[r2 + 0x4]`); objdump omits both.
 */
import type { Insn } from '../isa/instruction.js';
import { LDDW_SOURCE_CODE } from '../isa/operations.js';
import { pcRelativeTarget } from './labels.js';
import {
  ALU_OPERATOR,
  ATOMIC_OPERATOR,
  atomicFetchName,
  exchangeName,
  hex,
  JUMP_OPERATOR,
  KFUNC_ANNOTATION,
  relativeHex,
} from './llvm-names.js';
import { joinImm64 } from './numbers.js';

/** `(r1 + 0x8)` / `(r10 - 0x8)` without the parentheses. */
function baseOffset(base: number, off: number): string {
  return `r${base} ${off < 0 ? '-' : '+'} ${hex(Math.abs(off))}`;
}

/**
 * Formats one decoded instruction. Annotations name targets `L<pc>` unless `labels` gives another
 * name, so the text is the same inside and outside `disassemble`.
 */
export function formatLlvm(insn: Insn, labels?: ReadonlyMap<number, string>): string {
  const text = formatBody(insn);
  const target = pcRelativeTarget(insn);
  if (target !== undefined) return `${text} <${labels?.get(target) ?? `L${target}`}>`;
  if (insn.kind === 'call' && insn.op === 'kfunc') return `${text} <${KFUNC_ANNOTATION}>`;
  return text;
}

function formatBody(insn: Insn): string {
  switch (insn.kind) {
    case 'alu': {
      const w = insn.is64 ? 'r' : 'w';
      const dst = `${w}${insn.dst}`;
      switch (insn.op) {
        case 'neg':
          return `${dst} = -${dst}`;
        case 'le':
        case 'be':
        case 'bswap':
          // objdump prints 64-bit register names for all byte swaps, including the ALU-class le/be.
          return `r${insn.dst} = ${insn.op}${insn.width} r${insn.dst}`;
        case 'movsx':
          return `${dst} = (s${insn.width})${w}${insn.src}`;
        default:
          return `${dst} ${ALU_OPERATOR[insn.op]} ${insn.useReg ? `${w}${insn.src}` : hex(insn.imm)}`;
      }
    }
    case 'jump': {
      if (insn.op === 'ja')
        return insn.is64 ? `goto ${relativeHex(insn.off)}` : `gotol ${relativeHex(insn.imm)}`;
      if (insn.op === 'may_goto') return `may_goto ${relativeHex(insn.off)}`;
      const w = insn.is64 ? 'r' : 'w';
      const rhs = insn.useReg ? `${w}${insn.src}` : hex(insn.imm);
      return `if ${w}${insn.dst} ${JUMP_OPERATOR[insn.op]} ${rhs} goto ${relativeHex(insn.off)}`;
    }
    case 'call':
      return insn.op === 'callx' ? `callx r${insn.dst}` : `call ${hex(insn.imm)}`;
    case 'exit':
      return 'exit';
    case 'lddw': {
      if (insn.source === 'imm64')
        return `r${insn.dst} = ${hex(BigInt.asIntN(64, joinImm64(insn.imm, insn.imm2)))} ll`;
      // objdump prints ld_pseudo's imm as an unsigned 32-bit value; the extra imm2 follows suit.
      const extra = insn.imm2 === 0 ? '' : `, ${hex(insn.imm2 >>> 0)}`;
      return `ld_pseudo\tr${insn.dst}, ${hex(LDDW_SOURCE_CODE[insn.source])}, ${hex(insn.imm >>> 0)}${extra}`;
    }
    case 'packet_load': {
      let index = hex(insn.imm);
      if (insn.indirect) index = insn.imm === 0 ? `r${insn.src}` : baseOffset(insn.src, insn.imm);
      return `r0 = *(u${insn.size * 8} *)skb[${index}]`;
    }
    case 'load':
      return `r${insn.dst} = *(${insn.signExtend ? 's' : 'u'}${insn.size * 8} *)(${baseOffset(insn.src, insn.off)})`;
    case 'store':
      return `*(u${insn.size * 8} *)(${baseOffset(insn.dst, insn.off)}) = ${insn.useReg ? `r${insn.src}` : hex(insn.imm)}`;
    case 'atomic': {
      const w = insn.size === 8 ? 'r' : 'w';
      const type = `u${insn.size * 8}`;
      const src = `${w}${insn.src}`;
      const at = baseOffset(insn.dst, insn.off);
      if (insn.op === 'xchg') return `${src} = ${exchangeName('xchg', insn.size)}(${at}, ${src})`;
      if (insn.op === 'cmpxchg') return `${w}0 = ${exchangeName('cmpxchg', insn.size)}(${at}, ${w}0, ${src})`;
      if (insn.fetch) return `${src} = ${atomicFetchName(insn.op)}((${type} *)(${at}), ${src})`;
      return `lock *(${type} *)(${at}) ${ATOMIC_OPERATOR[insn.op]} ${src}`;
    }
  }
}
