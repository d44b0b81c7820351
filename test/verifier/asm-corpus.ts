/**
 * Verifier corpus in assembly (LLVM syntax), for rules C cannot express directly. All are socket
 * filters so the kernel check can load them as raw programs (test/kernel/bpf-test-run.c).
 */
import type { CorpusCase } from './corpus.js';

export interface AsmCase extends Omit<CorpusCase, 'source'> {
  readonly asm: string;
}

export const ASM_CORPUS: readonly AsmCase[] = [
  {
    name: 'store and load on the stack',
    expect: 'ok',
    asm: 'r1 = 7\n*(u64 *)(r10 - 8) = r1\nr0 = *(u64 *)(r10 - 8)\nexit',
  },
  {
    name: 'store at fp+0, above the stack',
    expect: 'STACK_OOB',
    asm: 'r1 = 7\n*(u64 *)(r10 + 0) = r1\nr0 = 0\nexit',
  },
  {
    name: 'store below the 512-byte frame',
    expect: 'STACK_OOB',
    asm: 'r1 = 7\n*(u64 *)(r10 - 520) = r1\nr0 = 0\nexit',
  },
  { name: 'division by the constant 0', expect: 'DIV_BY_ZERO', asm: 'r0 = 1\nr0 /= 0\nexit' },
  { name: 'division by a register', expect: 'ok', asm: 'r0 = 10\nr1 = *(u32 *)(r1 + 0)\nr0 /= r1\nexit' },
  { name: 'shift by 64', expect: 'INVALID_SHIFT', asm: 'r0 = 1\nr0 <<= 64\nexit' },
  { name: 'shift by 63', expect: 'ok', asm: 'r0 = 1\nr0 <<= 63\nexit' },
  { name: 'read of a never-written register', expect: 'UNINIT_READ', asm: 'r0 = r2\nexit' },
  { name: 'exit without setting r0', expect: 'UNINIT_READ', asm: 'r1 = 0\nexit' },
  { name: 'r1 read after a helper call clobbered it', expect: 'UNINIT_READ', asm: 'call 7\nr0 = r1\nexit' },
  {
    name: 'stack pointer kept in r6 across a helper call',
    expect: 'ok',
    asm: 'r6 = r10\nr6 += -8\nr1 = 0\n*(u64 *)(r6 + 0) = r1\ncall 7\nr0 = *(u64 *)(r6 + 0)\nexit',
  },
  { name: 'bitwise and on the context pointer', expect: 'POINTER_ARITH', asm: 'r1 &= 7\nr0 = 0\nexit' },
  { name: '32-bit add to the context pointer', expect: 'POINTER_ARITH', asm: 'w1 += 4\nr0 = 0\nexit' },
  {
    name: 'instructions after the exit that nothing reaches',
    expect: 'UNREACHABLE_INSN',
    asm: 'r0 = 0\nexit\nr0 = 1\nexit',
  },
  { name: 'jump to itself', expect: 'UNBOUNDED_LOOP', asm: 'r0 = 0\nif r0 == 0 goto -1\nexit' },
  { name: 'counted loop to 100', expect: 'ok', asm: 'r0 = 0\nr1 = 0\nr1 += 1\nif r1 < 100 goto -2\nexit' },
  {
    name: 'counted loop whose counter goes the wrong way',
    expect: 'UNBOUNDED_LOOP',
    kernel: { verdict: 'rejected', why: 'the kernel runs out of its 1M-instruction budget' },
    maxInsns: 50_000,
    asm: 'r0 = 0\nr1 = 10\nr1 += -1\nif r1 != 0 goto -2\nr1 += -1\nif r1 s< 100 goto -4\nexit',
  },
  {
    name: 'pointer spill read back with 4 bytes',
    expect: 'INVALID_MEM_ACCESS',
    asm: '*(u64 *)(r10 - 8) = r1\nr0 = *(u32 *)(r10 - 8)\nexit',
  },
  {
    name: 'pointer spill read back whole',
    expect: 'ok',
    asm: '*(u64 *)(r10 - 8) = r1\nr1 = *(u64 *)(r10 - 8)\nr0 = *(u32 *)(r1 + 0)\nexit',
  },
  {
    name: 'socket filter writes skb->cb[0], then reads it',
    expect: 'ok',
    asm: 'r2 = 1\n*(u32 *)(r1 + 48) = r2\nr0 = *(u32 *)(r1 + 48)\nexit',
  },
  {
    name: 'socket filter writes skb->mark',
    expect: 'CTX_WRITE',
    asm: 'r2 = 1\n*(u32 *)(r1 + 8) = r2\nr0 = 0\nexit',
  },
  {
    name: 'misaligned context read',
    expect: 'CTX_ACCESS',
    asm: 'r0 = *(u32 *)(r1 + 2)\nexit',
  },
  {
    name: 'context read through a moved pointer',
    expect: 'CTX_ACCESS',
    asm: 'r1 += 4\nr0 = *(u32 *)(r1 + 0)\nexit',
  },
  {
    name: '32-bit bound learned by jmp32 keeps a stack index in range',
    expect: 'ok',
    asm: [
      'r2 = 0',
      '*(u64 *)(r10 - 8) = r2',
      '*(u64 *)(r10 - 16) = r2',
      'r0 = *(u32 *)(r1 + 0)',
      'if w0 > 15 goto +4',
      'r3 = r10',
      'r3 += -16',
      'r3 += r0',
      'r0 = *(u8 *)(r3 + 0)',
      'r0 = 0',
      'exit',
    ].join('\n'),
  },
  {
    name: 'variable stack index without a bound',
    expect: 'STACK_OOB',
    asm: [
      'r2 = 0',
      '*(u64 *)(r10 - 8) = r2',
      'r0 = *(u32 *)(r1 + 0)',
      'r3 = r10',
      'r3 += -8',
      'r3 += r0',
      'r0 = *(u8 *)(r3 + 0)',
      'exit',
    ].join('\n'),
  },
  {
    name: 'misaligned 4-byte stack store',
    expect: 'MISALIGNED_ACCESS',
    asm: 'r1 = 0\n*(u32 *)(r10 - 6) = r1\nr0 = 0\nexit',
  },
  {
    name: 'aligned 4-byte stack store and narrower fill',
    expect: 'ok',
    asm: 'r1 = 0x1234\n*(u32 *)(r10 - 8) = r1\nr0 = *(u16 *)(r10 - 8)\nexit',
  },
];
