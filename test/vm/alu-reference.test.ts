/**
 * Property test: every ALU/ALU64 operation and every conditional jump of the interpreter agrees with a
 * straightforward BigInt model of RFC 9669 on random operands biased towards edge values.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeProgram } from '../../src/isa/decoder.js';
import { encodeProgram, type RawInsn } from '../../src/isa/encoder.js';
import { Interpreter } from '../../src/vm/interpreter/interpreter.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';

/** One memory for all runs: these programs only use registers. */
const memory = new GuestMemory();
memory.mapStack();

const M64 = (1n << 64n) - 1n;
const M32 = (1n << 32n) - 1n;
const u64 = (v: bigint) => v & M64;
const u32 = (v: bigint) => v & M32;
const s64 = (v: bigint) => BigInt.asIntN(64, v);
const s32 = (v: bigint) => BigInt.asIntN(32, v);

const edge = [
  0n,
  1n,
  2n,
  7n,
  31n,
  32n,
  63n,
  64n,
  0x7fffffffn,
  0x80000000n,
  0xffffffffn,
  0x100000000n,
  0x7fffffffffffffffn,
  0x8000000000000000n,
  M64,
  M64 - 1n,
  0x1fffffffffffffn,
  0x20000000000000n,
];
const arb64 = fc.oneof(
  fc.constantFrom(...edge),
  fc.bigInt({ min: 0n, max: M64 }),
  fc.bigInt({ min: 0n, max: 0xffffn }),
  fc.bigInt({ min: 0n, max: M32 }),
  fc.bigInt({ min: -1000n, max: 1000n }).map(u64),
);
const arbImm = fc.oneof(
  fc.constantFrom(0, 1, -1, 31, 32, 63, 0x7fffffff, -0x80000000),
  fc.integer({ min: -0x80000000, max: 0x7fffffff }),
);

type Alu = { name: string; code: number; off?: number; f: (a: bigint, b: bigint) => bigint };
const truncDiv = (a: bigint, b: bigint) => a / b; // BigInt division truncates toward zero like C
const ops64: Alu[] = [
  { name: 'add', code: 0x00, f: (a, b) => u64(a + b) },
  { name: 'sub', code: 0x10, f: (a, b) => u64(a - b) },
  { name: 'mul', code: 0x20, f: (a, b) => u64(a * b) },
  { name: 'div', code: 0x30, f: (a, b) => (b === 0n ? 0n : a / b) },
  { name: 'sdiv', code: 0x30, off: 1, f: (a, b) => (b === 0n ? 0n : u64(truncDiv(s64(a), s64(b)))) },
  { name: 'or', code: 0x40, f: (a, b) => a | b },
  { name: 'and', code: 0x50, f: (a, b) => a & b },
  { name: 'lsh', code: 0x60, f: (a, b) => u64(a << (b & 63n)) },
  { name: 'rsh', code: 0x70, f: (a, b) => a >> (b & 63n) },
  { name: 'mod', code: 0x90, f: (a, b) => (b === 0n ? a : a % b) },
  { name: 'smod', code: 0x90, off: 1, f: (a, b) => (b === 0n ? a : u64(s64(a) % s64(b))) },
  { name: 'xor', code: 0xa0, f: (a, b) => a ^ b },
  { name: 'mov', code: 0xb0, f: (_a, b) => b },
  { name: 'arsh', code: 0xc0, f: (a, b) => u64(s64(a) >> (b & 63n)) },
];
const ops32: Alu[] = [
  { name: 'add32', code: 0x00, f: (a, b) => u32(a + b) },
  { name: 'sub32', code: 0x10, f: (a, b) => u32(a - b) },
  { name: 'mul32', code: 0x20, f: (a, b) => u32(a * b) },
  { name: 'div32', code: 0x30, f: (a, b) => (u32(b) === 0n ? 0n : u32(a) / u32(b)) },
  { name: 'sdiv32', code: 0x30, off: 1, f: (a, b) => (u32(b) === 0n ? 0n : u32(truncDiv(s32(a), s32(b)))) },
  { name: 'or32', code: 0x40, f: (a, b) => u32(a | b) },
  { name: 'and32', code: 0x50, f: (a, b) => u32(a & b) },
  { name: 'lsh32', code: 0x60, f: (a, b) => u32(u32(a) << (b & 31n)) },
  { name: 'rsh32', code: 0x70, f: (a, b) => u32(a) >> (b & 31n) },
  { name: 'mod32', code: 0x90, f: (a, b) => (u32(b) === 0n ? u32(a) : u32(a) % u32(b)) },
  { name: 'smod32', code: 0x90, off: 1, f: (a, b) => (u32(b) === 0n ? u32(a) : u32(s32(a) % s32(b))) },
  { name: 'xor32', code: 0xa0, f: (a, b) => u32(a ^ b) },
  { name: 'mov32', code: 0xb0, f: (_a, b) => u32(b) },
  { name: 'arsh32', code: 0xc0, f: (a, b) => u32(s32(a) >> (b & 31n)) },
];

function lddw(dst: number, v: bigint): RawInsn {
  return { opcode: 0x18, dst, src: 0, off: 0, imm: Number(v & M32) | 0, imm2: Number(v >> 32n) | 0 };
}
const EXIT: RawInsn = { opcode: 0x95, dst: 0, src: 0, off: 0, imm: 0 };

function run(insns: RawInsn[]): bigint {
  return new Interpreter(decodeProgram(encodeProgram(insns)), { memory }).run().r0;
}

describe('ALU semantics match a BigInt model of RFC 9669', () => {
  for (const [cls, ops] of [
    [0x07, ops64],
    [0x04, ops32],
  ] as const) {
    for (const op of ops) {
      it(`${op.name} reg`, () => {
        fc.assert(
          fc.property(arb64, arb64, (a, b) => {
            const r = run([
              lddw(0, a),
              lddw(1, b),
              { opcode: cls | op.code | 0x08, dst: 0, src: 1, off: op.off ?? 0, imm: 0 },
              EXIT,
            ]);
            expect(r).toBe(op.f(a, b));
          }),
          { numRuns: 300 },
        );
      });
      it(`${op.name} imm`, () => {
        fc.assert(
          fc.property(arb64, arbImm, (a, imm) => {
            const b = u64(BigInt(imm)); // imm is sign-extended to 64 bits
            const r = run([
              lddw(0, a),
              { opcode: cls | op.code, dst: 0, src: 0, off: op.off ?? 0, imm },
              EXIT,
            ]);
            expect(r).toBe(op.f(a, b));
          }),
          { numRuns: 300 },
        );
      });
    }
  }

  it('neg, movsx and byte swaps', () => {
    fc.assert(
      fc.property(arb64, (a) => {
        const one = (insn: RawInsn) => run([lddw(0, a), insn, EXIT]);
        expect(one({ opcode: 0x87, dst: 0, src: 0, off: 0, imm: 0 })).toBe(u64(-a));
        expect(one({ opcode: 0x84, dst: 0, src: 0, off: 0, imm: 0 })).toBe(u32(-a));
        for (const w of [8, 16, 32]) {
          expect(one({ opcode: 0xbf, dst: 0, src: 0, off: w, imm: 0 })).toBe(u64(BigInt.asIntN(w, a)));
          if (w < 32)
            expect(one({ opcode: 0xbc, dst: 0, src: 0, off: w, imm: 0 })).toBe(u32(BigInt.asIntN(w, a)));
        }
        const swap = (v: bigint, bytes: number) => {
          let r = 0n;
          for (let k = 0; k < bytes; k++) r = (r << 8n) | ((v >> BigInt(8 * k)) & 0xffn);
          return r;
        };
        for (const w of [16, 32, 64]) {
          const mask = (1n << BigInt(w)) - 1n;
          expect(one({ opcode: 0xd4, dst: 0, src: 0, off: 0, imm: w })).toBe(a & mask);
          expect(one({ opcode: 0xdc, dst: 0, src: 0, off: 0, imm: w })).toBe(swap(a, w / 8));
          expect(one({ opcode: 0xd7, dst: 0, src: 0, off: 0, imm: w })).toBe(swap(a, w / 8));
        }
      }),
      { numRuns: 300 },
    );
  });
});

type Cond = { name: string; code: number; f: (a: bigint, b: bigint) => boolean };
const conds: Cond[] = [
  { name: 'jeq', code: 0x10, f: (a, b) => a === b },
  { name: 'jgt', code: 0x20, f: (a, b) => a > b },
  { name: 'jge', code: 0x30, f: (a, b) => a >= b },
  { name: 'jset', code: 0x40, f: (a, b) => (a & b) !== 0n },
  { name: 'jne', code: 0x50, f: (a, b) => a !== b },
  { name: 'jsgt', code: 0x60, f: (a, b) => a > b, signed: true } as Cond,
  { name: 'jsge', code: 0x70, f: (a, b) => a >= b, signed: true } as Cond,
  { name: 'jlt', code: 0xa0, f: (a, b) => a < b },
  { name: 'jle', code: 0xb0, f: (a, b) => a <= b },
  { name: 'jslt', code: 0xc0, f: (a, b) => a < b, signed: true } as Cond,
  { name: 'jsle', code: 0xd0, f: (a, b) => a <= b, signed: true } as Cond,
];

describe('conditional jumps match a BigInt model', () => {
  for (const c of conds) {
    const signed = (c as Cond & { signed?: boolean }).signed === true;
    for (const [cls, bits] of [
      [0x05, 64],
      [0x06, 32],
    ] as const) {
      const norm = (v: bigint) => (signed ? BigInt.asIntN(bits, v) : BigInt.asUintN(bits, v));
      const program = (b: RawInsn[], jump: RawInsn) =>
        run([
          ...b,
          jump,
          { opcode: 0xb7, dst: 0, src: 0, off: 0, imm: 0 },
          EXIT,
          { opcode: 0xb7, dst: 0, src: 0, off: 0, imm: 1 },
          EXIT,
        ]);
      it(`${c.name}${bits === 32 ? '32' : ''} reg and imm`, () => {
        fc.assert(
          fc.property(arb64, arb64, arbImm, (a, b, imm) => {
            const viaReg = program([lddw(1, a), lddw(2, b)], {
              opcode: cls | c.code | 0x08,
              dst: 1,
              src: 2,
              off: 2,
              imm: 0,
            });
            expect(viaReg).toBe(c.f(norm(a), norm(b)) ? 1n : 0n);
            const viaImm = program([lddw(1, a)], { opcode: cls | c.code, dst: 1, src: 0, off: 2, imm });
            expect(viaImm).toBe(c.f(norm(a), norm(u64(BigInt(imm)))) ? 1n : 0n);
          }),
          { numRuns: 300 },
        );
      });
    }
  }
});
