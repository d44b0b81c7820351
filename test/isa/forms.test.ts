/**
 * Instruction forms (src/isa/forms.ts) and the decoder's columns (Program.columns): every encoding the
 * decoder accepts gets the form whose fields are the object's, and the columns say what the objects
 * say — for every opcode byte, and for generated programs.
 */
import { describe, expect, it } from 'vitest';
import { decodeProgram } from '../../src/isa/decoder.js';
import { encodeProgram, type RawInsn } from '../../src/isa/encoder.js';
import { FORM_COUNT, FORMS, type Form, formOf } from '../../src/isa/forms.js';
import type { Insn, Program } from '../../src/isa/instruction.js';
import { generateProgram } from '../jit/program-generator.js';
import { SHAPES, type ShapeName, shapedProgram } from '../jit/program-shapes.js';

const FORM_FIELDS = [
  'kind',
  'op',
  'is64',
  'useReg',
  'size',
  'signExtend',
  'indirect',
  'fetch',
  'source',
] as const;

/** The form fields an instruction object has (undefined ones left out). */
function fieldsOf(x: Insn | Form): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of FORM_FIELDS) {
    const v = (x as unknown as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** Fails unless the columns hold each instruction's form, pc, registers, imm and target. */
function expectColumnsAgree(program: Program): void {
  const { form, pc, regs, imm, target } = program.columns;
  expect(form.length).toBe(program.insns.length);
  program.insns.forEach((insn, i) => {
    const at = `instruction ${i} (pc ${insn.pc})`;
    expect(fieldsOf(FORMS[form[i]]), at).toEqual(fieldsOf(insn));
    expect([pc[i], regs[i] & 15, regs[i] >> 4, imm[i]], at).toEqual([insn.pc, insn.dst, insn.src, insn.imm]);
    const t = insn.kind === 'jump' || insn.kind === 'call' ? insn.target : -1;
    expect(target[i], at).toBe(t);
  });
}

describe('instruction forms', () => {
  it('number every form once, densely', () => {
    expect(FORMS.length).toBe(FORM_COUNT);
    expect(FORM_COUNT).toBeLessThanOrEqual(256); // a form fits the byte of its column
    const seen = new Set<string>();
    FORMS.forEach((f, n) => {
      expect(f, `form ${n}`).toBeDefined();
      expect(formOf(f)).toBe(n);
      seen.add(JSON.stringify(fieldsOf(f)));
    });
    expect(seen.size).toBe(FORM_COUNT);
  });

  it('give every encoding the decoder accepts the form of its object, in the columns', () => {
    // Every opcode byte with operands that reach the variants told apart by src, off and imm
    // (call kinds, sdiv/smod and movsx, byte-swap widths, atomic operations, lddw sources).
    const srcs = [0, 1, 2, 3, 4, 5, 6];
    const offs = [0, 1, 8]; // plain, sdiv/smod, movsx
    const imms = [0, 1, 16, 32, 64, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1];
    const reached = new Set<number>();
    for (let opcode = 0; opcode < 256; opcode++) {
      for (let at = 0; at < 2 * srcs.length; at++) {
        const dst = at & 1; // 0 for the encodings that need it, 1 for the others
        const src = srcs[at >> 1];
        for (const off of offs) {
          for (const imm of imms) {
            const insn: RawInsn =
              opcode === 0x18 ? { opcode, dst, src, off, imm, imm2: 7 } : { opcode, dst, src, off, imm };
            let program: Program;
            try {
              program = decodeProgram(
                encodeProgram([insn, { opcode: 0x95, dst: 0, src: 0, off: 0, imm: 0 }]),
                {
                  checkStructure: false,
                },
              );
            } catch {
              continue; // not an encoding the decoder accepts
            }
            expectColumnsAgree(program);
            reached.add(program.columns.form[0]);
          }
        }
      }
    }
    // All forms but the 23 combinations no encoding has: neg, ja and may_goto with a register
    // operand, movsx with an immediate, 32-bit may_goto, the byte-swap variants the decoder never
    // builds, 64-bit ldxsx, and xchg/cmpxchg without the fetch bit.
    expect(reached.size).toBe(FORM_COUNT - 23);
  });

  it('agree with the objects on generated programs and every program shape', () => {
    for (let seed = 1; seed <= 40; seed++)
      expectColumnsAgree(decodeProgram(encodeProgram(generateProgram(seed).insns)));
    for (const shape of Object.keys(SHAPES) as ShapeName[]) {
      expectColumnsAgree(decodeProgram(shapedProgram(shape, 3000)));
    }
  });
});
