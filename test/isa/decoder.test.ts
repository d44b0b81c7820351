/** The decoder: every instruction class decodes to the right typed form; every malformed encoding is a
 * LoadError with a stable code, the pc and the opcode byte. */
import { describe, expect, it } from 'vitest';
import { LoadError } from '../../src/errors.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { encodeProgram, type RawInsn } from '../../src/isa/encoder.js';

const I = (opcode: number, dst = 0, src = 0, off = 0, imm = 0): RawInsn => ({ opcode, dst, src, off, imm });
const EXIT = I(0x95);
const decode = (...insns: RawInsn[]) => decodeProgram(encodeProgram(insns));

function loadError(f: () => unknown): LoadError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(LoadError);
    return e as LoadError;
  }
  throw new Error('expected a LoadError');
}

describe('decodeProgram: typed representation', () => {
  it('decodes ALU, jumps, calls, memory, atomics and lddw', () => {
    const p = decode(
      I(0x07, 1, 0, 0, 5), // add64 r1, 5
      I(0x3c, 1, 2, 1, 0), // sdiv32 r1, r2
      I(0xbf, 1, 2, 16, 0), // movsx1664
      I(0xd7, 1, 0, 0, 32), // bswap32
      I(0x2d, 1, 2, 1, 0), // jgt r1, r2, +1
      I(0x85, 0, 1, 0, 7), // call local +7 (the function at pc 13)
      I(0x79, 0, 1, -8, 0), // ldxdw
      I(0x91, 0, 1, 2, 0), // ldxsb
      I(0xdb, 1, 2, 0, 0xf1), // cmpxchg64
      { opcode: 0x18, dst: 3, src: 0, off: 0, imm: 1, imm2: 2 },
      I(0x06, 0, 0, 0, 0), // gotol +0
      EXIT,
      EXIT, // pc 13: a one-instruction function
    );
    // Every instruction has every field (one hidden class), those of other kinds undefined.
    const kinds = p.insns.map((i) => `${i.kind}:${('op' in i ? i.op : undefined) ?? ''}`);
    expect(kinds).toEqual([
      'alu:add',
      'alu:sdiv',
      'alu:movsx',
      'alu:bswap',
      'jump:jgt',
      'call:local',
      'load:',
      'load:',
      'atomic:cmpxchg',
      'lddw:',
      'jump:ja',
      'exit:',
      'exit:',
    ]);
    expect(p.slotCount).toBe(14);
    expect(p.subprograms).toEqual([0, 13]);
    expect(p.insnAt[10]).toBe(-1); // second half of lddw
    const jump = p.insns[4];
    expect(jump.kind === 'jump' && jump.target).toBe(6);
    const call = p.insns[5];
    expect(call.kind === 'call' && call.target).toBe(13);
  });

  it('gives every kind the same fields in the same order, undefined where a kind has none', () => {
    // One hidden class for all instructions keeps the consumers' property reads monomorphic.
    const p = decode(
      I(0x07, 1, 0, 0, 5), // add64
      I(0x2d, 1, 2, 1, 0), // jgt
      I(0x85, 0, 0, 0, 1), // call helper 1
      I(0x79, 0, 1, -8, 0), // ldxdw
      I(0x7b, 1, 2, -8, 0), // stxdw
      I(0x62, 1, 0, -8, 7), // stw imm
      I(0xdb, 1, 2, 0, 0xf1), // cmpxchg64
      I(0x30, 0, 0, 0, 4), // ldabsb
      { opcode: 0x18, dst: 3, src: 0, off: 0, imm: 1, imm2: 2 },
      EXIT,
    );
    const keys = p.insns.map((i) => Object.keys(i).join());
    expect(new Set(keys).size).toBe(1);
    const load = p.insns[3];
    expect(load).toMatchObject({ kind: 'load', size: 8, signExtend: false, pc: 3, off: -8 });
    expect(load).toHaveProperty('target', undefined);
    expect(p.insns[8]).toMatchObject({ kind: 'lddw', source: 'imm64', imm2: 2, slots: 2 });
  });
});

describe('decodeProgram: may_goto (JMP|JCOND)', () => {
  it('decodes 0xe5 as a jump with the target of its 16-bit offset', () => {
    const p = decode(I(0xb7), I(0xe5, 0, 0, 1), I(0x05, 0, 0, -2), EXIT);
    const insn = p.insns[1];
    expect(insn.kind === 'jump' && insn.op).toBe('may_goto');
    expect(insn.kind === 'jump' && insn.target).toBe(3);
    expect(insn.kind === 'jump' && insn.is64).toBe(true);
  });
});

describe('decodeProgram: malformed input', () => {
  const cases: [string, () => unknown, string, number | undefined][] = [
    ['empty', () => decodeProgram(new Uint8Array()), 'EMPTY_PROGRAM', undefined],
    ['not a multiple of 8', () => decodeProgram(new Uint8Array(12)), 'TRUNCATED_PROGRAM', 1],
    ['truncated lddw', () => decodeProgram(encodeProgram([EXIT, I(0x18, 0, 0, 0, 1)])), 'TRUNCATED_LDDW', 1],
    ['unknown opcode', () => decode(I(0xff), EXIT), 'UNKNOWN_OPCODE', 0],
    ['unknown ALU op', () => decode(I(0xe7), EXIT), 'UNKNOWN_OPCODE', 0],
    ['jump out of range', () => decode(I(0x05, 0, 0, 5), EXIT), 'JUMP_OUT_OF_RANGE', 0],
    ['backward jump out of range', () => decode(EXIT, I(0x05, 0, 0, -3)), 'JUMP_OUT_OF_RANGE', 1],
    [
      'jump into lddw',
      () => decode(I(0x05, 0, 0, 1), { opcode: 0x18, dst: 0, src: 0, off: 0, imm: 0, imm2: 0 }, EXIT),
      'JUMP_INTO_LDDW',
      0,
    ],
    ['call local out of range', () => decode(I(0x85, 0, 1, 0, 100), EXIT), 'JUMP_OUT_OF_RANGE', 0],
    ['register 11', () => decode(I(0xb7, 11), EXIT), 'INVALID_REGISTER', 0],
    ['source register 12', () => decode(I(0xbf, 1, 12), EXIT), 'INVALID_REGISTER', 0],
    ['write to r10', () => decode(I(0xb7, 10), EXIT), 'WRITE_TO_R10', 0],
    ['reserved off on add', () => decode(I(0x07, 1, 0, 1, 0), EXIT), 'INVALID_FIELD', 0],
    ['reserved imm on exit', () => decode(I(0x95, 0, 0, 0, 1)), 'INVALID_FIELD', 0],
    ['bad byte swap width', () => decode(I(0xd4, 1, 0, 0, 8), EXIT), 'INVALID_FIELD', 0],
    ['bad atomic op', () => decode(I(0xdb, 1, 2, 0, 0x10), EXIT), 'INVALID_FIELD', 0],
    [
      'lddw with bad second slot',
      () => decodeProgram(encodeProgram([I(0x18), I(0x07), EXIT])),
      'INVALID_LDDW',
      0,
    ],
    [
      'lddw src 7',
      () => decode({ opcode: 0x18, dst: 0, src: 7, off: 0, imm: 0, imm2: 0 }, EXIT),
      'INVALID_LDDW',
      0,
    ],
    ['no exit at the end', () => decode(I(0xb7)), 'NO_EXIT', 0],
    ['subprogram without exit', () => decode(I(0x85, 0, 1, 0, 1), I(0xb7), EXIT), 'NO_EXIT', 1],
    [
      'jump out of a subprogram',
      () => decode(I(0x85, 0, 1, 0, 1), EXIT, I(0x05, 0, 0, -3)),
      'JUMP_OUT_OF_SUBPROGRAM',
      2,
    ],
    ['movsx32 in ALU32', () => decode(I(0xbc, 1, 2, 32), EXIT), 'INVALID_FIELD', 0],
    ['JCOND src 1 (not may_goto)', () => decode(I(0xe5, 0, 1, 0), EXIT), 'INVALID_FIELD', 0],
    ['may_goto with dst', () => decode(I(0xe5, 1, 0, 0), EXIT), 'INVALID_FIELD', 0],
    ['may_goto with imm', () => decode(I(0xe5, 0, 0, 0, 1), EXIT), 'INVALID_FIELD', 0],
    ['may_goto in JMP32 (0xe6)', () => decode(I(0xe6), EXIT), 'UNKNOWN_OPCODE', 0],
    ['may_goto with X source (0xed)', () => decode(I(0xed), EXIT), 'UNKNOWN_OPCODE', 0],
    ['may_goto out of range', () => decode(I(0xe5, 0, 0, 5), EXIT), 'JUMP_OUT_OF_RANGE', 0],
    ['may_goto as the last instruction', () => decode(EXIT, I(0xe5, 0, 0, -2)), 'NO_EXIT', 1],
  ];
  it.each(cases)('%s', (_name, f, code, pc) => {
    const e = loadError(f);
    expect(e.code).toBe(code);
    expect(e.pc).toBe(pc);
    expect(e.message.length).toBeGreaterThan(10);
    if (pc !== undefined && code !== 'TRUNCATED_PROGRAM')
      expect(e.message).toMatch(/at pc \d+ \(opcode 0x[0-9a-f]{2}\)/);
  });

  it('fuzz: random bytes either decode or give a LoadError, never anything else', () => {
    let seed = 12345;
    const rnd = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed >>> 16;
    };
    for (let k = 0; k < 5000; k++) {
      const bytes = new Uint8Array(8 * (1 + (rnd() % 6)));
      for (let j = 0; j < bytes.length; j++) bytes[j] = rnd() & 0xff;
      try {
        decodeProgram(bytes);
      } catch (e) {
        expect(e).toBeInstanceOf(LoadError);
      }
    }
  });
});
