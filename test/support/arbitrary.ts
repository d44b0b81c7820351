/**
 * fast-check generators of valid eBPF programs as `RawInsn[]`, built from raw opcode numbers (not
 * from the assembler's own builders) so the tests check the assembler against the encoding itself.
 * Every instruction form the decoder accepts can appear; pc-relative ones get in-range targets.
 */
import fc from 'fast-check';
import type { RawInsn } from '../../src/isa/encoder.js';

const reg = fc.integer({ min: 0, max: 10 });
/** Registers an instruction may write (r10 is read-only). */
const writable = fc.integer({ min: 0, max: 9 });
const imm32 = fc.oneof(
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  fc.constantFrom(0, 1, -1, 16, 0x7fffffff, -0x80000000),
);
const off16 = fc.oneof(fc.integer({ min: -32768, max: 32767 }), fc.constantFrom(0, -1, 8, -32768, 32767));
const bool = fc.boolean();

const raw = (opcode: number, dst: number, src: number, off: number, imm: number, imm2?: number): RawInsn =>
  imm2 === undefined ? { opcode, dst, src, off, imm } : { opcode, dst, src, off, imm, imm2 };

/** An instruction, or one that still needs its pc-relative displacement. */
type Shape = { insn: RawInsn } | { needsTarget: (displacement: number) => RawInsn; target: number };

const ALU_CODES = [0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x90, 0xa0, 0xb0, 0xc0];
const JUMP_CODES = [0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0];
const ATOMIC_IMMS = [0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1];
const fraction = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });

const plain = (a: fc.Arbitrary<RawInsn>): fc.Arbitrary<Shape> => a.map((insn) => ({ insn }));
const branch = (a: fc.Arbitrary<(d: number) => RawInsn>): fc.Arbitrary<Shape> =>
  fc.tuple(a, fraction).map(([needsTarget, target]) => ({ needsTarget, target }));

const shape: fc.Arbitrary<Shape> = fc.oneof(
  // ALU / ALU64, K and X.
  plain(
    fc
      .tuple(fc.constantFrom(...ALU_CODES), bool, bool, writable, reg, imm32)
      .map(([op, is64, x, dst, src, imm]) =>
        raw(op | (is64 ? 0x07 : 0x04) | (x ? 0x08 : 0), dst, x ? src : 0, 0, x ? 0 : imm),
      ),
  ),
  // sdiv / smod.
  plain(
    fc
      .tuple(fc.constantFrom(0x30, 0x90), bool, bool, writable, reg, imm32)
      .map(([op, is64, x, dst, src, imm]) =>
        raw(op | (is64 ? 0x07 : 0x04) | (x ? 0x08 : 0), dst, x ? src : 0, 1, x ? 0 : imm),
      ),
  ),
  plain(fc.tuple(bool, writable).map(([is64, dst]) => raw(is64 ? 0x87 : 0x84, dst, 0, 0, 0))),
  // movsx.
  plain(
    fc
      .tuple(bool, fc.constantFrom(8, 16, 32), writable, reg)
      .map(([is64, width, dst, src]) => raw(is64 || width === 32 ? 0xbf : 0xbc, dst, src, width, 0)),
  ),
  // le / be / bswap.
  plain(
    fc
      .tuple(fc.constantFrom(0xd4, 0xdc, 0xd7), fc.constantFrom(16, 32, 64), writable)
      .map(([op, width, dst]) => raw(op, dst, 0, 0, width)),
  ),
  // Conditional jumps.
  branch(
    fc.tuple(fc.constantFrom(...JUMP_CODES), bool, bool, reg, reg, imm32).map(
      ([op, is64, x, dst, src, imm]) =>
        (d: number) =>
          raw(op | (is64 ? 0x05 : 0x06) | (x ? 0x08 : 0), dst, x ? src : 0, d, x ? 0 : imm),
    ),
  ),
  branch(bool.map((long) => (d: number) => (long ? raw(0x06, 0, 0, 0, d) : raw(0x05, 0, 0, d, 0)))),
  // may_goto (JMP|JCOND, src 0).
  branch(fc.constant((d: number) => raw(0xe5, 0, 0, d, 0))),
  // Calls.
  plain(imm32.map((imm) => raw(0x85, 0, 0, 0, imm))),
  plain(imm32.map((imm) => raw(0x85, 0, 2, 0, imm))),
  plain(reg.map((dst) => raw(0x8d, dst, 0, 0, 0))),
  branch(fc.constant((d: number) => raw(0x85, 0, 1, 0, d))),
  plain(fc.constant(raw(0x95, 0, 0, 0, 0))),
  // lddw, every source; code_addr (src 4) points at an instruction.
  plain(
    fc
      .tuple(writable, fc.constantFrom(0, 1, 2, 3, 5, 6), imm32, imm32)
      .map(([dst, src, imm, imm2]) => raw(0x18, dst, src, 0, imm, imm2)),
  ),
  branch(
    fc.tuple(writable, imm32).map(
      ([dst, imm2]) =>
        (d: number) =>
          raw(0x18, dst, 4, 0, d, imm2),
    ),
  ),
  // Legacy packet loads.
  plain(
    fc
      .tuple(fc.constantFrom(0x20, 0x28, 0x30, 0x40, 0x48, 0x50), reg, imm32)
      .map(([op, src, imm]) => raw(op, 0, op >= 0x40 ? src : 0, 0, imm)),
  ),
  // Loads (zero- and sign-extending), stores.
  plain(
    fc
      .tuple(fc.constantFrom(0x61, 0x69, 0x71, 0x79, 0x81, 0x89, 0x91), writable, reg, off16)
      .map(([op, dst, src, off]) => raw(op, dst, src, off, 0)),
  ),
  plain(
    fc
      .tuple(fc.constantFrom(0x62, 0x6a, 0x72, 0x7a), reg, off16, imm32)
      .map(([op, dst, off, imm]) => raw(op, dst, 0, off, imm)),
  ),
  plain(
    fc
      .tuple(fc.constantFrom(0x63, 0x6b, 0x73, 0x7b), reg, reg, off16)
      .map(([op, dst, src, off]) => raw(op, dst, src, off, 0)),
  ),
  // Atomics: fetching forms write src, which must not be r10 (cmpxchg writes r0 instead).
  plain(
    fc
      .tuple(fc.constantFrom(0xc3, 0xdb), fc.constantFrom(...ATOMIC_IMMS), reg, reg, off16)
      .map(([op, imm, dst, src, off]) =>
        raw(op, dst, (imm & 1) === 1 && imm !== 0xf1 && src === 10 ? 9 : src, off, imm),
      ),
  ),
);

/** A valid program: 1..maxLength instructions followed by exit, every target in range. */
export function programArbitrary(maxLength = 24): fc.Arbitrary<RawInsn[]> {
  return fc.array(shape, { minLength: 1, maxLength }).map((shapes) => {
    const all: Shape[] = [...shapes, { insn: raw(0x95, 0, 0, 0, 0) }];
    // Slot of each instruction (lddw takes two); the displacement does not change an instruction's size.
    const pcs: number[] = [];
    let pc = 0;
    for (const s of all) {
      pcs.push(pc);
      pc += ('insn' in s ? s.insn : s.needsTarget(0)).imm2 === undefined ? 1 : 2;
    }
    return all.map((s, i) => {
      if ('insn' in s) return s.insn;
      const target = pcs[Math.floor(s.target * all.length)];
      return s.needsTarget(target - (pcs[i] + 1));
    });
  });
}
