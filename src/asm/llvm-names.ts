/**
 * Operators and function names of the LLVM BPF syntax, shared by the LLVM printer and parser, plus the
 * number formats llvm-objdump uses (signed hex: `0x5`, `-0x1`; jump offsets `+0x3`).
 */
import type { AluOp, AtomicOp, JumpOp } from '../isa/instruction.js';

/** `r1 += r2` etc. Only the two-operand operations; neg, movsx and the swaps have their own forms. */
export const ALU_OPERATOR: Partial<Record<AluOp, string>> = {
  add: '+=',
  sub: '-=',
  mul: '*=',
  div: '/=',
  sdiv: 's/=',
  or: '|=',
  and: '&=',
  lsh: '<<=',
  rsh: '>>=',
  mod: '%=',
  smod: 's%=',
  xor: '^=',
  arsh: 's>>=',
  mov: '=',
};

/** `if r1 s> r2 goto …`. */
export const JUMP_OPERATOR: Partial<Record<JumpOp, string>> = {
  jeq: '==',
  jgt: '>',
  jge: '>=',
  jset: '&',
  jne: '!=',
  jsgt: 's>',
  jsge: 's>=',
  jlt: '<',
  jle: '<=',
  jslt: 's<',
  jsle: 's<=',
};

/** `lock *(u64 *)(r1 + 0x0) += r2`: the non-fetching atomics. */
export const ATOMIC_OPERATOR: Partial<Record<AtomicOp, string>> = {
  add: '+=',
  or: '|=',
  and: '&=',
  xor: '^=',
};

/** `r2 = atomic_fetch_add((u64 *)(r1 + 0x0), r2)`. */
export function atomicFetchName(op: AtomicOp): string {
  return `atomic_fetch_${op}`;
}

/** `xchg_64` / `xchg32_32`, `cmpxchg_64` / `cmpxchg32_32`. */
export function exchangeName(op: 'xchg' | 'cmpxchg', size: 4 | 8): string {
  return size === 8 ? `${op}_64` : `${op}32_32`;
}

/** Annotation that marks a call as a kfunc call (src 2), which llvm-objdump does not distinguish. */
export const KFUNC_ANNOTATION = 'kfunc';

/** Signed hex as llvm-objdump prints immediates: `0x5`, `-0x1`. */
export function hex(n: number | bigint): string {
  return n < 0 ? `-0x${(-BigInt(n)).toString(16)}` : `0x${n.toString(16)}`;
}

/** Jump displacement as llvm-objdump prints it: `+0x3`, `-0x3`, `+0x0`. */
export function relativeHex(n: number): string {
  return n < 0 ? hex(n) : `+${hex(n)}`;
}
