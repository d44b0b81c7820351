/**
 * Verifier corpus in assembly (LLVM syntax), for rules C cannot express directly. All are socket
 * filters so the kernel check can load them as raw programs (test/verifier/kernel-raw.c).
 */
import type { CorpusCase } from './corpus.js';

export interface AsmCase extends Omit<CorpusCase, 'source'> {
  readonly asm: string;
}

/** r0 = a 64-bit value with no known bits (two context words). */
const UNKNOWN64 = ['r0 = *(u32 *)(r1 + 0)', 'r2 = *(u32 *)(r1 + 4)', 'r2 <<= 32', 'r0 |= r2'];
/** r0 = a sign-extended 32-bit value: [-2^31, 2^31 - 1]. */
const SIGNED32 = ['r0 = *(u32 *)(r1 + 0)', 'r0 <<= 32', 'r0 s>>= 32'];
/** 16 zeroed bytes at fp-16 and r3 pointing at them (5 instructions). */
const STACK16 = ['r2 = 0', '*(u64 *)(r10 - 8) = r2', '*(u64 *)(r10 - 16) = r2', 'r3 = r10', 'r3 += -16'];

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
  // ---- 32-bit subregister bounds (JMP32) ----
  {
    name: 'jmp32 bounds only the low half of a 64-bit unknown value',
    expect: 'POINTER_ARITH',
    asm: [
      ...UNKNOWN64,
      'if w0 > 15 goto +7',
      ...STACK16,
      'r3 += r0',
      'r0 = *(u8 *)(r3 + 0)',
      'r0 = 0',
      'exit',
    ].join('\n'),
  },
  {
    name: 'jmp32 bound, then w0 = w0 clears the high half',
    expect: 'ok',
    asm: [
      ...UNKNOWN64,
      'if w0 > 15 goto +8',
      'w0 = w0',
      ...STACK16,
      'r3 += r0',
      'r0 = *(u8 *)(r3 + 0)',
      'r0 = 0',
      'exit',
    ].join('\n'),
  },
  {
    name: 'jmp32 countdown loop',
    expect: 'ok',
    asm: 'r0 = 0\nw1 = 10\nw1 += -1\nr0 += 1\nif w1 != 0 goto -3\nexit',
  },
  // ---- signed against unsigned comparisons ----
  {
    name: 'signed upper bound only: the index may be negative',
    expect: 'POINTER_ARITH',
    asm: [
      ...SIGNED32,
      'if r0 s> 15 goto +7',
      ...STACK16,
      'r3 += r0',
      'r0 = *(u8 *)(r3 + 0)',
      'r0 = 0',
      'exit',
    ].join('\n'),
  },
  {
    name: 'signed upper and lower bounds',
    expect: 'ok',
    asm: [
      ...SIGNED32,
      'if r0 s> 15 goto +8',
      'if r0 s< 0 goto +7',
      ...STACK16,
      'r3 += r0',
      'r0 = *(u8 *)(r3 + 0)',
      'r0 = 0',
      'exit',
    ].join('\n'),
  },
  {
    name: 'one unsigned bound covers the negative values of a sign-extended index',
    expect: 'ok',
    asm: [
      ...SIGNED32,
      'if r0 > 15 goto +7',
      ...STACK16,
      'r3 += r0',
      'r0 = *(u8 *)(r3 + 0)',
      'r0 = 0',
      'exit',
    ].join('\n'),
  },
  {
    name: 'counted loop with a signed comparison from a negative start',
    expect: 'ok',
    asm: 'r0 = 0\nr1 = -20\nr1 += 1\nr0 += 1\nif r1 s< 100 goto -3\nexit',
  },
  // ---- pointer arithmetic with masks ----
  {
    name: 'variable stack offset clamped by a mask',
    expect: 'ok',
    asm: [...UNKNOWN64, 'r0 &= 15', ...STACK16, 'r3 += r0', 'r0 = *(u8 *)(r3 + 0)', 'r0 = 0', 'exit'].join(
      '\n',
    ),
  },
  {
    name: 'variable stack offset with a mask wider than the buffer',
    expect: 'STACK_OOB',
    asm: [...UNKNOWN64, 'r0 &= 31', ...STACK16, 'r3 += r0', 'r0 = *(u8 *)(r3 + 0)', 'r0 = 0', 'exit'].join(
      '\n',
    ),
  },
  {
    name: 'variable offset that reaches above the frame pointer',
    expect: 'STACK_OOB',
    asm: [
      ...UNKNOWN64,
      'r0 &= 7',
      'r3 = r10',
      'r3 += -4',
      'r3 += r0',
      'r0 = *(u8 *)(r3 + 0)',
      'r0 = 0',
      'exit',
    ].join('\n'),
  },
  { name: 'multiplying the context pointer', expect: 'POINTER_ARITH', asm: 'r1 *= 2\nr0 = 0\nexit' },
  { name: 'adding two pointers', expect: 'POINTER_ARITH', asm: 'r2 = r10\nr2 += r1\nr0 = 0\nexit' },
  {
    name: 'difference of two stack pointers is a scalar',
    expect: 'ok',
    asm: 'r2 = r10\nr3 = r10\nr3 += -8\nr2 -= r3\nr0 = r2\nexit',
  },
  // ---- spills and fills ----
  {
    name: 'bounded scalar spilled and filled keeps its bound',
    expect: 'ok',
    asm: [
      ...UNKNOWN64,
      'r0 &= 7',
      '*(u64 *)(r10 - 24) = r0',
      'r2 = *(u64 *)(r10 - 24)',
      ...STACK16,
      'r3 += r2',
      'r0 = *(u8 *)(r3 + 0)',
      'r0 = 0',
      'exit',
    ].join('\n'),
  },
  {
    name: 'spilled context pointer partly overwritten, then dereferenced',
    expect: 'INVALID_MEM_ACCESS',
    asm: '*(u64 *)(r10 - 8) = r1\nr2 = 0\n*(u32 *)(r10 - 8) = r2\nr1 = *(u64 *)(r10 - 8)\nr0 = *(u32 *)(r1 + 0)\nexit',
  },
  {
    name: 'atomic add on an initialized stack slot',
    expect: 'ok',
    asm: 'r2 = 1\n*(u64 *)(r10 - 8) = r2\nlock *(u64 *)(r10 - 8) += r2\nr0 = *(u64 *)(r10 - 8)\nexit',
  },
  {
    name: 'atomic add into the context',
    expect: 'INVALID_MEM_ACCESS',
    asm: 'r2 = 1\nlock *(u32 *)(r1 + 48) += r2\nr0 = 0\nexit',
  },
  // ---- division, shifts, alignment, structure ----
  { name: 'modulo by the constant 0 (32-bit)', expect: 'DIV_BY_ZERO', asm: 'w0 = 7\nw0 %= 0\nexit' },
  { name: 'modulo by a constant', expect: 'ok', asm: 'r0 = *(u32 *)(r1 + 0)\nr0 %= 3\nexit' },
  { name: '32-bit shift by 32', expect: 'INVALID_SHIFT', asm: 'w0 = 1\nw0 <<= 32\nexit' },
  { name: 'arithmetic shift right by 64', expect: 'INVALID_SHIFT', asm: 'r0 = -1\nr0 s>>= 64\nexit' },
  {
    name: 'shift by an unknown register',
    expect: 'ok',
    asm: 'r0 = 1\nr2 = *(u32 *)(r1 + 0)\nr0 <<= r2\nexit',
  },
  {
    name: 'misaligned 8-byte stack store',
    expect: 'MISALIGNED_ACCESS',
    asm: 'r1 = 0\n*(u64 *)(r10 - 12) = r1\nr0 = 0\nexit',
  },
  {
    name: 'store at the bottom of the 512-byte frame',
    expect: 'ok',
    asm: 'r2 = r10\nr2 += -512\nr1 = 0\n*(u8 *)(r2 + 0) = r1\nr0 = 0\nexit',
  },
  {
    name: 'code skipped by an unconditional jump',
    expect: 'UNREACHABLE_INSN',
    asm: 'r0 = 0\ngoto +1\nr0 = 1\nexit',
  },
  {
    name: 'both sides of a conditional jump reachable',
    expect: 'ok',
    asm: 'r0 = *(u32 *)(r1 + 0)\nif r0 == 0 goto +1\nr0 = 1\nexit',
  },
  { name: 'program that does not end with exit', expect: 'UNSUPPORTED', asm: 'r0 = 0\nr0 += 1' },
  {
    name: 'helper call with a scalar as the map',
    expect: 'HELPER_ARG',
    asm: 'r1 = 0\nr2 = r10\nr2 += -8\ncall 1\nr0 = 0\nexit',
  },
  {
    name: 'bpf_skb_store_bytes from a socket filter',
    expect: 'HELPER_UNAVAILABLE',
    asm: 'r2 = 0\n*(u64 *)(r10 - 8) = r2\nr3 = r10\nr3 += -8\nr4 = 1\nr5 = 0\ncall 9\nr0 = 0\nexit',
  },
  // ---- more instruction forms, and where bpfbox is stricter than the kernel run as root ----
  {
    name: 'negating the context pointer',
    expect: 'POINTER_ARITH',
    kernel: {
      verdict: 'accepted',
      why: 'deliberately stricter: as root (allow_ptr_leaks) the kernel turns the negated pointer into an unknown scalar; bpfbox rejects it like an unprivileged load, since a negated pointer is never useful',
    },
    asm: 'r1 = -r1\nr0 = 0\nexit',
  },
  {
    name: 'atomic add on a never-written stack slot',
    expect: 'UNINIT_READ',
    kernel: {
      verdict: 'accepted',
      why: 'deliberately stricter: the kernel lets root read uninitialized stack',
    },
    asm: 'r2 = 1\nlock *(u64 *)(r10 - 8) += r2\nr0 = 0\nexit',
  },
  {
    name: '32-bit store into a slot, then a 64-bit read of it and the uninitialized half',
    expect: 'UNINIT_READ',
    kernel: {
      verdict: 'accepted',
      why: 'deliberately stricter: the kernel lets root read uninitialized stack',
    },
    asm: 'r0 = *(u32 *)(r1 + 0)\n*(u32 *)(r10 - 8) = r0\nr2 = *(u64 *)(r10 - 8)\nr0 = 0\nexit',
  },
  {
    name: 'two 32-bit immediate stores fill a slot read as 64 bits',
    expect: 'ok',
    asm: '*(u32 *)(r10 - 8) = 1\n*(u32 *)(r10 - 4) = 2\nr0 = *(u64 *)(r10 - 8)\nexit',
  },
  {
    name: 'bounded scalar spilled with 4 bytes and filled with 4 keeps its bound',
    expect: 'ok',
    asm: [
      'r0 = *(u32 *)(r1 + 0)',
      'r0 &= 7',
      '*(u32 *)(r10 - 24) = r0',
      'r2 = *(u32 *)(r10 - 24)',
      'r3 = 0',
      '*(u64 *)(r10 - 8) = r3',
      'r3 = r10',
      'r3 += -8',
      'r3 += r2',
      'r0 = *(u8 *)(r3 + 0)',
      'exit',
    ].join('\n'),
  },
  { name: 'legacy packet load (ld_abs)', expect: 'ok', asm: 'r6 = r1\nr0 = *(u8 *)skb[12]\nexit' },
  {
    name: 'legacy indirect packet load (ld_ind)',
    expect: 'ok',
    asm: 'r6 = r1\nr2 = 3\nr0 = *(u16 *)skb[r2 + 12]\nexit',
  },
  { name: 'sign-extending move (movsx)', expect: 'ok', asm: 'r0 = *(u32 *)(r1 + 0)\nr0 = (s8)r0\nexit' },
  { name: 'sign-extending load from the context', expect: 'ok', asm: 'r0 = *(s8 *)(r1 + 0)\nexit' },
  { name: 'signed division by the constant 0', expect: 'DIV_BY_ZERO', asm: 'r0 = 5\nr0 s/= 0\nexit' },
  { name: 'byte swap of a context word', expect: 'ok', asm: 'r0 = *(u32 *)(r1 + 0)\nr0 = bswap16 r0\nexit' },
  { name: 'long jump (gotol) by zero', expect: 'ok', asm: 'r0 = 0\ngotol +0\nexit' },
  {
    name: 'comparing the stack pointer with the context pointer',
    expect: 'ok',
    asm: 'r2 = r10\nif r2 > r1 goto +1\nr0 = 0\nr0 = 0\nexit',
  },
];
