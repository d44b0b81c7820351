/**
 * Assembler diagnostics: every rejection is an AsmError whose message starts with
 * `line L, column C:`, whose line/column point at the offending token, and which says what was
 * expected.
 */
import { describe, expect, it } from 'vitest';
import { type AssembleOptions, assemble, assembleUnchecked } from '../../src/asm/index.js';
import { AsmError, LoadError } from '../../src/errors.js';
import { hexBytes } from './data.js';

/** Syntax errors are AsmErrors; encoding rules keep the decoder's LoadError code. Both carry line/column. */
function asmError(text: string, options: AssembleOptions = {}): AsmError | LoadError {
  try {
    assemble(text, options);
  } catch (e) {
    if (e instanceof AsmError || e instanceof LoadError) return e;
    throw e;
  }
  throw new Error(`assembled without error: ${text}`);
}

interface Case {
  text: string;
  syntax: 'ubpf' | 'llvm';
  line: number;
  column: number;
  message: string | RegExp;
  expected?: string | RegExp;
  /** The decoder's code for encoding rules; ASM_SYNTAX when absent. */
  code?: string;
}

const CASES: readonly Case[] = [
  // uBPF: registers, operands, mnemonics.
  {
    text: 'mov %r0, 0\nexit\nbswap16 %x1',
    syntax: 'ubpf',
    line: 3,
    column: 9,
    message: 'line 3, column 9: expected a register like %r1, found "%x1"',
    expected: 'a register like %r1',
  },
  { text: 'or %r0, %r50', syntax: 'ubpf', line: 1, column: 9, message: /register %r50 does not exist/ },
  {
    text: 'mov r0, 1',
    syntax: 'ubpf',
    line: 1,
    column: 5,
    message: /expected a register like %r1 as operand 1 of mov, found "r0"/,
  },
  {
    text: 'ldxq %r0, [%r1]',
    syntax: 'ubpf',
    line: 1,
    column: 1,
    message: /unknown mnemonic "ldxq"/,
    expected: /mnemonic/,
  },
  {
    text: 'ldxb %r0, %r1',
    syntax: 'ubpf',
    line: 1,
    column: 11,
    message: /expected a memory operand like \[%r1\+8\]/,
  },
  {
    text: 'stxw [%r1+2], 5',
    syntax: 'ubpf',
    line: 1,
    column: 15,
    message: /expected a register like %r1 as operand 2 of stxw, found "5"/,
  },
  {
    text: 'lddw %r0',
    syntax: 'ubpf',
    line: 1,
    column: 9,
    message: /wrong number of operands for lddw: expected 2 operands \(lddw %rD, imm64\), found 1/,
    expected: 'lddw %rD, imm64',
  },
  {
    text: 'add %r1, 2, 3',
    syntax: 'ubpf',
    line: 1,
    column: 13,
    message: /wrong number of operands for add: expected 2/,
  },
  {
    text: 'exit now',
    syntax: 'ubpf',
    line: 1,
    column: 6,
    message: /wrong number of operands for exit: expected 0/,
  },
  {
    text: 'lock or [%r10-8]',
    syntax: 'ubpf',
    line: 1,
    column: 17,
    message: /wrong number of operands for lock/,
  },
  {
    text: 'lock nand [%r1], %r2',
    syntax: 'ubpf',
    line: 1,
    column: 6,
    message: /unknown atomic operation "nand"/,
  },
  {
    text: 'call local',
    syntax: 'ubpf',
    line: 1,
    column: 6,
    message: /expected a helper number, a register, or "local"/,
  },
  { text: 'call remote 5', syntax: 'ubpf', line: 1, column: 6, message: /unknown call mode "remote"/ },
  {
    text: 'lddw map_thing %r1, 5',
    syntax: 'ubpf',
    line: 1,
    column: 6,
    message: /unknown lddw variant "map_thing"/,
  },
  // Numbers and ranges.
  {
    text: 'mov32 %r0, 2147483648',
    syntax: 'ubpf',
    line: 1,
    column: 12,
    message: /immediate 2147483648 is out of range/,
    expected: /32-bit immediate/,
  },
  {
    text: 'mov32 %r0, -2147483649',
    syntax: 'ubpf',
    line: 1,
    column: 12,
    message: /immediate -2147483649 is out of range/,
  },
  {
    text: 'mov32 %r0, 0x100000000',
    syntax: 'ubpf',
    line: 1,
    column: 12,
    message: /immediate 0x100000000 is out of range/,
  },
  {
    text: 'ldxb %r0, [%r1+0x10000]',
    syntax: 'ubpf',
    line: 1,
    column: 15,
    message: /offset \+0x10000 is out of range/,
    expected: /16-bit offset/,
  },
  {
    text: 'ldxb %r0, [%r1+32768]',
    syntax: 'ubpf',
    line: 1,
    column: 15,
    message: /offset \+32768 is out of range/,
  },
  {
    text: 'lddw %r0, 0x10000000000000000',
    syntax: 'ubpf',
    line: 1,
    column: 11,
    message: /out of range; expected a 64-bit immediate/,
  },
  { text: 'mov %r1, 0x1g', syntax: 'ubpf', line: 1, column: 10, message: /malformed number "0x1g"/ },
  { text: 'mov %r1, @', syntax: 'ubpf', line: 1, column: 10, message: /unexpected character "@"/ },
  // Labels.
  {
    text: 'ja NOT_A_LABEL\nexit',
    syntax: 'ubpf',
    line: 1,
    column: 4,
    message: /undefined label "NOT_A_LABEL"/,
    expected: /label/,
  },
  {
    text: 'a:\nexit\na:\nexit',
    syntax: 'ubpf',
    line: 3,
    column: 1,
    message: /duplicate label "a" \(first defined at line 1\)/,
  },
  {
    text: 'ja 3\nexit',
    syntax: 'ubpf',
    line: 1,
    column: 4,
    message: /expected a label or a \+N\/-N slot offset as operand 1 of ja, found "3"/,
  },
  // Decoder rules, reported at the instruction's line.
  {
    text: 'exit\nmov %r11, 1',
    syntax: 'ubpf',
    line: 2,
    column: 1,
    message: /line 2, column 1: invalid destination register r11 at pc 1/,
    code: 'INVALID_REGISTER',
  },
  {
    text: 'mov %r10, 1',
    syntax: 'ubpf',
    line: 1,
    column: 1,
    message: /r10 \(the frame pointer\) is read-only/,
    code: 'WRITE_TO_R10',
  },
  {
    text: 'ja +2\nexit',
    syntax: 'ubpf',
    line: 1,
    column: 1,
    message: /jump target 3 is outside the program/,
    code: 'JUMP_OUT_OF_RANGE',
  },
  {
    text: 'mov %r0, 0\nja +1\nlddw %r0, 1\nexit',
    syntax: 'ubpf',
    line: 2,
    column: 1,
    message: /second half of an lddw/,
    code: 'JUMP_INTO_LDDW',
  },
  {
    text: 'lock fetch add [%r1], %r10',
    syntax: 'ubpf',
    line: 1,
    column: 1,
    message: /fetching atomic writes it/,
    code: 'WRITE_TO_R10',
  },
  {
    text: '# nothing here\n',
    syntax: 'ubpf',
    line: 1,
    column: 1,
    message: /the program has no instructions/,
  },
  // LLVM syntax.
  {
    text: 'r0 = *(u128 *)(r1 + 0x0)',
    syntax: 'llvm',
    line: 1,
    column: 8,
    message: /expected one of u8, u16, u32, u64, s8, s16, s32, found "u128"/,
  },
  {
    text: 'if r1 > w2 goto +1\nexit\nexit',
    syntax: 'llvm',
    line: 1,
    column: 9,
    message: /expected a 64-bit register like r1, found "w2"/,
  },
  {
    text: 'w1 += r2',
    syntax: 'llvm',
    line: 1,
    column: 7,
    message: /expected a 32-bit register like w1, found "r2"/,
  },
  { text: 'if r1 =< 0x1 goto +0', syntax: 'llvm', line: 1, column: 7, message: /expected a comparison/ },
  {
    text: 'goto',
    syntax: 'llvm',
    line: 1,
    column: 5,
    message: /expected a label or a slot offset like \+0x3, found end of line/,
  },
  {
    text: 'r1 += 0x100000000',
    syntax: 'llvm',
    line: 1,
    column: 7,
    message: /immediate 0x100000000 is out of range/,
  },
  {
    text: 'r1 = *(u64 *)(r1 + 0x10000)',
    syntax: 'llvm',
    line: 1,
    column: 18,
    message: /offset \+0x10000 is out of range/,
  },
  {
    text: 'r2 = atomic_fetch_add((u64 *)(r1 + 0x0), r3)',
    syntax: 'llvm',
    line: 1,
    column: 42,
    message: /expected r2 \(the same register as the destination\), found "r3"/,
  },
  {
    text: 'r1 = cmpxchg_64(r1 + 0x0, r1, r2)',
    syntax: 'llvm',
    line: 1,
    column: 1,
    message: /cmpxchg always writes r0/,
  },
  { text: 'r1 = be16 r2', syntax: 'llvm', line: 1, column: 11, message: /expected r1 \(the same register/ },
  {
    text: 'w0 = 1 ll',
    syntax: 'llvm',
    line: 1,
    column: 1,
    message: /expected a 64-bit register like r1 for an lddw/,
  },
  {
    text: 'r1 = *(u32 *)skb[0x4]',
    syntax: 'llvm',
    line: 1,
    column: 1,
    message: /r0 \(packet loads always write r0\)/,
  },
  { text: 'frobnicate r1', syntax: 'llvm', line: 1, column: 1, message: /expected an instruction such as/ },
  { text: 'exit now', syntax: 'llvm', line: 1, column: 6, message: /expected end of line, found "now"/ },
  {
    text: 'r12 = 1',
    syntax: 'llvm',
    line: 1,
    column: 1,
    message: /invalid destination register r12/,
    code: 'INVALID_REGISTER',
  },
  { text: 'r16 = 1', syntax: 'llvm', line: 1, column: 1, message: /register r16 does not exist/ },
  { text: 'goto LBB0_9\nexit', syntax: 'llvm', line: 1, column: 6, message: /undefined label "LBB0_9"/ },
  {
    text: 'ld_pseudo r1, 0x9, 0x5',
    syntax: 'llvm',
    line: 1,
    column: 15,
    message: /lddw source 0x9 is not one of 0..6/,
  },
];

describe('AsmError line, column and expectation', () => {
  it.each(CASES)('$syntax: $text', (c) => {
    const e = asmError(c.text, { syntax: c.syntax });
    expect(e.code).toBe(c.code ?? 'ASM_SYNTAX');
    expect({ line: e.line, column: e.column }).toEqual({ line: c.line, column: c.column });
    expect(e.message.startsWith(`line ${c.line}, column ${c.column}: `)).toBe(true);
    if (typeof c.message === 'string') expect(e.message).toBe(c.message);
    else expect(e.message).toMatch(c.message);
    if (c.expected !== undefined) {
      if (!(e instanceof AsmError)) throw new Error('expected an AsmError');
      expect(e.expected).toBeDefined();
      expect(e.expected).toMatch(c.expected);
      expect(e.toJSON().expected).toBe(e.expected);
    }
  });

  it('names the file when one is given', () => {
    const e = asmError('mov %r0, %x', { file: 'prog.s' });
    expect(e.message).toBe('prog.s: line 1, column 10: expected a register like %r1, found "%x"');
    expect(e.toJSON()).toMatchObject({ code: 'ASM_SYNTAX', file: 'prog.s', line: 1, column: 10 });
  });

  it('rejects a label further than a 16-bit jump can reach, and accepts it with ja32', () => {
    const body = 'mov %r0, 0\n'.repeat(40_000);
    const e = asmError(`ja far\n${body}far:\nexit`, { syntax: 'ubpf' });
    expect(e.message).toMatch(/label "far" is 40000 slots away, beyond the 16-bit jump offset/);
    expect(e).toBeInstanceOf(AsmError);
    expect((e as AsmError).expected).toMatch(/ja32/);
    expect(assemble(`ja32 far\n${body}far:\nexit`).length).toBe(40_002 * 8);
  });

  it('assembleUnchecked encodes what assemble rejects', () => {
    expect(hexBytes(assembleUnchecked('mov %r11, 1\nja +5'))).toBe('b70b00000100000005000500' + '00000000');
    expect(hexBytes(assembleUnchecked('r15 = 1'))).toBe('b70f000001000000');
  });
});
