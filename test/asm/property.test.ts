/**
 * Property: any valid program survives encode → decode → print → assemble unchanged, in both
 * syntaxes, both as a full disassembly (with label lines) and as bare per-instruction lines.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assemble, disassemble, formatInsn } from '../../src/asm/index.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { encodeProgram } from '../../src/isa/encoder.js';
import { programArbitrary } from '../support/arbitrary.js';
import { hexBytes } from './data.js';

/**
 * The generated programs are valid encodings but call and jump at random, so they need not have the
 * kernel's subprogram structure; the assembler does not require it either.
 */
const LOOSE = { checkStructure: false };

describe('print → assemble round trip', () => {
  for (const syntax of ['ubpf', 'llvm'] as const) {
    it(`${syntax}: disassemble then assemble gives the same bytes`, () => {
      fc.assert(
        fc.property(programArbitrary(), (insns) => {
          const bytes = encodeProgram(insns);
          const program = decodeProgram(bytes, LOOSE);
          const text = disassemble(program, { syntax });
          expect(hexBytes(assemble(text, { syntax }))).toBe(hexBytes(bytes));
          // Syntax detection must agree with what the printer produced.
          expect(hexBytes(assemble(text))).toBe(hexBytes(bytes));
          // Printing is deterministic: the re-assembled program prints the same text.
          expect(disassemble(decodeProgram(assemble(text, { syntax }), LOOSE), { syntax })).toBe(text);
        }),
        { numRuns: 400 },
      );
    });

    it(`${syntax}: formatInsn lines without labels assemble to the same bytes`, () => {
      fc.assert(
        fc.property(programArbitrary(), (insns) => {
          const bytes = encodeProgram(insns);
          const text = decodeProgram(bytes, LOOSE)
            .insns.map((i) => formatInsn(i, syntax))
            .join('\n');
          expect(hexBytes(assemble(text, { syntax }))).toBe(hexBytes(bytes));
        }),
        { numRuns: 200 },
      );
    });
  }

  it('listings with the objdump slot column assemble to the same bytes', () => {
    fc.assert(
      fc.property(programArbitrary(), fc.constantFrom('ubpf' as const, 'llvm' as const), (insns, syntax) => {
        const bytes = encodeProgram(insns);
        const text = disassemble(decodeProgram(bytes, LOOSE), { syntax, addresses: true });
        expect(hexBytes(assemble(text))).toBe(hexBytes(bytes));
      }),
      { numRuns: 200 },
    );
  });
});
