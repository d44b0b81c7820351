/**
 * The two syntaxes side by side: each LLVM line and its uBPF twin assemble to the same bytes, and the
 * printers give back exactly these (canonical) texts. Then the spellings the parsers accept beyond the
 * canonical form.
 */
import { describe, expect, it } from 'vitest';
import { assemble, detectSyntax, disassemble, formatInsn } from '../../src/asm/index.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { hexBytes } from './data.js';

/** Padding so jump targets exist. */
const TAIL = '\nexit\nexit\nexit\nexit\n';

/** [llvm-objdump text, uBPF text] of the same first instruction. */
const PAIRS: readonly (readonly [string, string])[] = [
  ['r0 = *(u64 *)(r1 + 0x2)', 'ldxdw %r0, [%r1+2]'],
  ['r0 = *(u64 *)(r10 - 0x8)', 'ldxdw %r0, [%r10-8]'],
  ['r0 = *(s32 *)(r1 + 0x4)', 'ldxsw %r0, [%r1+4]'],
  ['r3 = *(s8 *)(r2 - 0x8000)', 'ldxsb %r3, [%r2-32768]'],
  ['r3 = *(u16 *)(r2 + 0x7fff)', 'ldxh %r3, [%r2+32767]'],
  ['*(u32 *)(r10 - 0x8) = -0x1', 'stw [%r10-8], -1'],
  ['*(u8 *)(r1 + 0x0) = 0x7fffffff', 'stb [%r1], 2147483647'],
  ['*(u64 *)(r1 + 0x10) = r9', 'stxdw [%r1+16], %r9'],
  ['w0 += w1', 'add32 %r0, %r1'],
  ['w0 += -0x5', 'add32 %r0, -5'],
  ['r1 = -0x80000000', 'mov %r1, -2147483648'],
  ['r1 = r10', 'mov %r1, %r10'],
  ['w3 = w2', 'mov32 %r3, %r2'],
  ['r1 s>>= 0x3f', 'arsh %r1, 63'],
  ['w1 <<= w2', 'lsh32 %r1, %r2'],
  ['r1 >>= r2', 'rsh %r1, %r2'],
  ['r1 %= 0x7', 'mod %r1, 7'],
  ['r1 ^= r2', 'xor %r1, %r2'],
  ['r1 |= 0x3', 'or %r1, 3'],
  ['r1 &= 0x3', 'and %r1, 3'],
  ['r1 *= r2', 'mul %r1, %r2'],
  ['r1 /= r2', 'div %r1, %r2'],
  ['r1 -= r2', 'sub %r1, %r2'],
  ['r0 s/= r1', 'sdiv %r0, %r1'],
  ['w0 s/= 0x3', 'sdiv32 %r0, 3'],
  ['r1 s%= 0x7', 'smod %r1, 7'],
  ['w1 s%= w2', 'smod32 %r1, %r2'],
  ['w0 = -w0', 'neg32 %r0'],
  ['r0 = -r0', 'neg %r0'],
  ['r1 = (s8)r2', 'movsx864 %r1, %r2'],
  ['r1 = (s16)r2', 'movsx1664 %r1, %r2'],
  ['r1 = (s32)r2', 'movsx3264 %r1, %r2'],
  ['w1 = (s8)w2', 'movsx832 %r1, %r2'],
  ['w1 = (s16)w2', 'movsx1632 %r1, %r2'],
  ['r0 = bswap16 r0', 'bswap16 %r0'],
  ['r0 = bswap64 r0', 'bswap64 %r0'],
  ['r0 = be16 r0', 'be16 %r0'],
  ['r0 = le32 r0', 'le32 %r0'],
  ['r0 = 0x1122334455667788 ll', 'lddw %r0, 0x1122334455667788'],
  ['r0 = -0x1 ll', 'lddw %r0, 0xffffffffffffffff'],
  ['r0 = -0x8000000000000000 ll', 'lddw %r0, 0x8000000000000000'],
  ['ld_pseudo\tr1, 0x1, 0x5', 'lddw map_fd %r1, 5'],
  ['ld_pseudo\tr1, 0x5, 0xffffffff, 0x80000000', 'lddw map_idx %r1, -1, -2147483648'],
  ['ld_pseudo\tr1, 0x2, 0x5, 0x9', 'lddw map_value %r1, 5, 9'],
  ['ld_pseudo\tr1, 0x4, 0x2 <L3>', 'lddw code_addr %r1, +2'],
  ['lock *(u64 *)(r1 + 0x0) += r2', 'lock add [%r1], %r2'],
  ['lock *(u64 *)(r1 - 0x8) |= r2', 'lock or [%r1-8], %r2'],
  ['lock *(u32 *)(r1 + 0x4) &= w2', 'lock and32 [%r1+4], %r2'],
  ['lock *(u32 *)(r1 + 0x4) ^= w2', 'lock xor32 [%r1+4], %r2'],
  ['r0 = atomic_fetch_add((u64 *)(r1 + 0x0), r0)', 'lock fetch add [%r1], %r0'],
  ['w2 = atomic_fetch_or((u32 *)(r1 + 0x4), w2)', 'lock fetch or32 [%r1+4], %r2'],
  ['r2 = xchg_64(r1 + 0x4, r2)', 'lock xchg [%r1+4], %r2'],
  ['w2 = xchg32_32(r1 - 0x4, w2)', 'lock xchg32 [%r1-4], %r2'],
  ['r0 = cmpxchg_64(r1 + 0x0, r0, r2)', 'lock cmpxchg [%r1], %r2'],
  ['w0 = cmpxchg32_32(r1 + 0x4, w0, w2)', 'lock cmpxchg32 [%r1+4], %r2'],
  ['r0 = *(u32 *)skb[0x4]', 'ldabsw 4'],
  ['r0 = *(u8 *)skb[-0x4]', 'ldabsb -4'],
  ['r0 = *(u16 *)skb[r2]', 'ldindh %r2, 0'],
  ['r0 = *(u32 *)skb[r2 + 0x10]', 'ldindw %r2, 16'],
  ['if r1 > 0x5 goto +0x3 <L4>', 'jgt %r1, 5, +3'],
  ['if r1 == -0x1 goto +0x0 <L1>', 'jeq %r1, -1, +0'],
  ['if w1 s> w2 goto +0x1 <L2>', 'jsgt32 %r1, %r2, +1'],
  ['if r1 & 0x40 goto +0x1 <L2>', 'jset %r1, 64, +1'],
  ['if w1 <= 0x0 goto +0x1 <L2>', 'jle32 %r1, 0, +1'],
  ['if r1 s<= r2 goto +0x1 <L2>', 'jsle %r1, %r2, +1'],
  ['if r10 != r2 goto +0x1 <L2>', 'jne %r10, %r2, +1'],
  ['goto +0x1 <L2>', 'ja +1'],
  ['gotol +0x1 <L2>', 'ja32 +1'],
  ['may_goto +0x1 <L2>', 'may_goto +1'],
  ['may_goto +0x0 <L1>', 'may_goto +0'],
  ['call 0x5', 'call 5'],
  ['call -0x1', 'call -1'],
  ['call 0x2 <L3>', 'call local +2'],
  ['call 0x7 <kfunc>', 'call runtime 7'],
  ['callx r1', 'call %r1'],
  ['exit', 'exit'],
];

describe('LLVM and uBPF spellings of every instruction form', () => {
  it.each(PAIRS)('%s  ≡  %s', (llvm, ubpf) => {
    const fromLlvm = assemble(llvm + TAIL, { syntax: 'llvm' });
    const fromUbpf = assemble(ubpf + TAIL, { syntax: 'ubpf' });
    expect(hexBytes(fromLlvm)).toBe(hexBytes(fromUbpf));
    const first = decodeProgram(fromLlvm).insns[0];
    expect(formatInsn(first, 'llvm')).toBe(llvm);
    expect(formatInsn(first, 'ubpf')).toBe(ubpf);
    // Syntax detection: whatever it picks must read the text the same way.
    expect(hexBytes(assemble(llvm + TAIL))).toBe(hexBytes(fromLlvm));
    expect(detectSyntax(ubpf)).toBe('ubpf');
  });
});

describe('accepted spellings beyond the canonical form', () => {
  const same = (a: string, b: string, syntax?: 'llvm' | 'ubpf') =>
    expect(hexBytes(assemble(a, { syntax }))).toBe(hexBytes(assemble(b, { syntax })));

  it('uBPF: suffix 64, swapN, call helper, optional commas, labels on instruction lines, hex offsets', () => {
    same('add64 %r1, 2\nexit', 'add %r1, 2\nexit');
    same('jeq64 %r1, 2, +0\nexit', 'jeq %r1, 2, +0\nexit');
    same('neg64 %r1\nexit', 'neg %r1\nexit');
    same('swap32 %r1\nexit', 'bswap32 %r1\nexit');
    same('call helper 5\ncall helper %r2\nexit', 'call 5\ncall %r2\nexit');
    same('mov %r0 1\nexit', 'mov %r0, 1\nexit');
    same('start: mov %r0, 1\nja start', 'start:\nmov %r0, 1\nja start');
    same('ldxh %r0, [%r1+0xffff]\nexit', 'ldxh %r0, [%r1-1]\nexit');
    same('mov32 %r0, 0xffffffff\nexit', 'mov32 %r0, -1\nexit');
    same('lddw %r0, -1\nexit', 'lddw %r0, 0xffffffffffffffff\nexit');
    same('lddw %r0, 18446744073709551615\nexit', 'lddw %r0, 0xffffffffffffffff\nexit');
    same('lddw imm64 %r0, 5\nexit', 'lddw %r0, 5\nexit');
    same('exit; # comment\n// other comment', 'exit');
  });

  it('uBPF: the first exit defines the label exit, an explicit exit: label wins', () => {
    same('jeq %r1, 0, exit\nmov %r0, 1\nexit\nexit', 'jeq %r1, 0, +1\nmov %r0, 1\nexit\nexit');
    same('ja exit\nexit\nexit:\nexit', 'ja +1\nexit\nexit');
  });

  it('LLVM: decimal numbers and named labels as clang -S prints them', () => {
    same(
      'r2 = *(u64 *)(r1 + 8)\nr6 = 1234605616436508552 ll\nif r2 < 6 goto LBB0_2\nr0 = *(u64 *)(r0 - 16)\nLBB0_2:\nexit',
      'r2 = *(u64 *)(r1 + 0x8)\nr6 = 0x1122334455667788 ll\nif r2 < 0x6 goto +0x1\nr0 = *(u64 *)(r0 - 0x10)\nexit',
      'llvm',
    );
    same('call fn\nexit\nfn:\nexit', 'call 0x1 <fn>\nexit\nexit', 'llvm');
    same('goto -1', 'goto -0x1', 'llvm');
  });

  it('LLVM: objdump listings with slot numbers and <sym+off> annotations', () => {
    same(
      '       0:\tr0 = 0x0\n       1:\tif r1 > 0x5 goto +0x1 <f+0x18>\n       2:\tr0 = 0x1\n       3:\texit',
      'r0 = 0\nif r1 > 5 goto +1\nr0 = 1\nexit',
      'llvm',
    );
  });

  it('LLVM: alu32-mode (wN) loads, stores and 32-bit atomics', () => {
    same('w1 = *(u8 *)(r2 + 0x4)\nexit', 'r1 = *(u8 *)(r2 + 0x4)\nexit', 'llvm');
    same('*(u32 *)(r1 + 0x4) = w2\nexit', '*(u32 *)(r1 + 0x4) = r2\nexit', 'llvm');
    same('lock *(u32 *)(r1 + 0x4) += r2\nexit', 'lock *(u32 *)(r1 + 0x4) += w2\nexit', 'llvm');
  });

  it('labels print as L<pc> lines and as annotations; addresses on request', () => {
    const bytes = assemble('mov %r0, 0\nlddw %r1, 1\njeq %r1, 1, out\ncall local fn\nout:\nexit\nfn:\nexit');
    const program = decodeProgram(bytes);
    expect(disassemble(program, { syntax: 'ubpf' })).toBe(
      'mov %r0, 0\nlddw %r1, 0x1\njeq %r1, 1, L5\ncall local L6\nL5:\nexit\nL6:\nexit\n',
    );
    expect(disassemble(program)).toBe(
      'r0 = 0x0\nr1 = 0x1 ll\nif r1 == 0x1 goto +0x1 <L5>\ncall 0x1 <L6>\nL5:\nexit\nL6:\nexit\n',
    );
    expect(disassemble(program, { syntax: 'llvm', addresses: true })).toBe(
      '       0:\tr0 = 0x0\n       1:\tr1 = 0x1 ll\n       3:\tif r1 == 0x1 goto +0x1 <L5>\n       4:\tcall 0x1 <L6>\nL5:\n       5:\texit\nL6:\n       6:\texit\n',
    );
    const listing = disassemble(program, { syntax: 'llvm', addresses: true });
    expect(hexBytes(assemble(listing))).toBe(hexBytes(bytes));
  });
});
