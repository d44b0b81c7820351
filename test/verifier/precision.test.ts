/**
 * Precision tracking (src/verifier/precision.ts): scalars no check depends on do not block pruning,
 * and a scalar a later check does depend on is never pruned away. Each targeted program explores a
 * safe value first and reaches the same join later with an unsafe one, which must not be pruned.
 * The differential check verifies random programs with and without precision: same verdicts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/assembler.js';
import type { ProgramType } from '../../src/elf/object.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import type { ProgramTypeSpec } from '../../src/verifier/context.js';
import { formatDiagnostic, type VerifyResult, verifyRaw } from '../../src/verifier/index.js';
import { programSeed, RANDOM_PROGRAM_MAPS, randomProgram } from './random-programs.js';

const COUNT = Number(process.env.BPFBOX_PRECISION_COUNT ?? 500);

type Type = ProgramType | ProgramTypeSpec;

function verify(asm: string, precision: boolean, programType: Type = 'xdp'): VerifyResult {
  return verifyRaw(decodeProgram(assemble(asm)), {
    programType,
    precision,
    allowUninitStack: true,
    mapDefinitions: RANDOM_PROGRAM_MAPS,
    maxInsns: 100_000,
  });
}

const verdict = (r: VerifyResult): string => (r.ok ? 'ok' : r.errors[0].code);

/** r7 = `first` on the path explored first, `second` on the later one; both meet at `join:`. */
const branches = (first: number, second: number): string[] => [
  'call 7',
  `r7 = ${second}`,
  'if r0 == 0 goto join',
  `r7 = ${first}`,
  // Filler (in registers dead at the join) so that the join stores a state.
  'r8 = 1',
  'r9 = 2',
  'r8 = 3',
  'join:',
];

const exit0 = ['r0 = 0', 'exit'];

interface Case {
  readonly name: string;
  readonly asm: (first: number, second: number) => string[];
  readonly safe: [number, number];
  readonly unsafe: [number, number];
  readonly code: string;
  readonly type?: Type;
}

const CASES: readonly Case[] = [
  {
    name: 'x computed in branches, then a stack index',
    asm: (a, b) => [...branches(a, b), 'r1 = r10', 'r1 += -64', 'r1 += r7', 'r0 = *(u8 *)(r1 + 0)', ...exit0],
    safe: [0, 8],
    unsafe: [0, 100],
    code: 'STACK_OOB',
  },
  {
    name: 'x used only in a jump that guards an out-of-bounds access',
    asm: (a, b) => [...branches(a, b), 'if r7 == 0 goto ok', 'r0 = *(u64 *)(r10 + 8)', 'ok:', ...exit0],
    safe: [0, 0],
    unsafe: [0, 5],
    code: 'STACK_OOB',
  },
  {
    name: 'x spilled to the stack in branches, filled after the join, then an index',
    asm: (a, b) => [
      'call 7',
      `r1 = ${b}`,
      '*(u64 *)(r10 - 8) = r1',
      'if r0 == 0 goto join',
      `r1 = ${a}`,
      '*(u64 *)(r10 - 8) = r1',
      'r2 = 1',
      'r3 = 2',
      'join:',
      'r7 = *(u64 *)(r10 - 8)',
      'r1 = r10',
      'r1 += -64',
      'r1 += r7',
      'r0 = *(u8 *)(r1 + 0)',
      ...exit0,
    ],
    safe: [0, 8],
    unsafe: [0, 100],
    code: 'STACK_OOB',
  },
  {
    name: 'x spilled through a copy of the frame pointer',
    asm: (a, b) => [
      ...branches(a, b),
      'r6 = r10',
      'r6 += -16',
      '*(u64 *)(r6 + 0) = r7',
      'r7 = 0',
      'r8 = *(u64 *)(r10 - 16)',
      'r1 = r10',
      'r1 += -64',
      'r1 += r8',
      'r0 = *(u8 *)(r1 + 0)',
      ...exit0,
    ],
    safe: [0, 8],
    unsafe: [0, 100],
    code: 'STACK_OOB',
  },
  {
    name: 'x passed to a subprogram that indexes its stack with it',
    asm: (a, b) => [
      ...branches(a, b),
      'r1 = r7',
      'call sub',
      ...exit0,
      'sub:',
      'r2 = r10',
      'r2 += -64',
      'r2 += r1',
      'r0 = *(u8 *)(r2 + 0)',
      ...exit0,
    ],
    safe: [0, 8],
    unsafe: [0, 100],
    code: 'STACK_OOB',
  },
  {
    name: 'x returned by a subprogram, then an index',
    asm: (a, b) => [
      'call sub',
      'r7 = r0',
      'r1 = r10',
      'r1 += -64',
      'r1 += r7',
      'r0 = *(u8 *)(r1 + 0)',
      ...exit0,
      'sub:',
      ...branches(a, b),
      'r0 = r7',
      'exit',
    ],
    safe: [0, 8],
    unsafe: [0, 100],
    code: 'STACK_OOB',
  },
  {
    name: 'x as a helper size argument',
    type: 'socket_filter',
    asm: (a, b) => [
      'r6 = r1',
      ...branches(a, b),
      'r1 = r6',
      'r2 = 0',
      'r3 = r10',
      'r3 += -16',
      'r4 = r7',
      'call 26',
      ...exit0,
    ],
    safe: [8, 16],
    unsafe: [8, 100],
    code: 'STACK_OOB',
  },
  {
    name: 'a copy of x bounds x (linked registers) on one path only',
    asm: (_, b) => [
      'call 7',
      'r6 = r0',
      'r7 = r6',
      'call 7',
      'if r0 == 0 goto other',
      'r2 = 1',
      'r3 = 2',
      'r4 = 3',
      'goto join',
      // Explored later: r7 a copy of r6 again (safe), or a separate unknown (unsafe).
      'other:',
      'call 7',
      b === 0 ? 'r7 = r6' : 'r7 = r0',
      'join:',
      'if r7 > 63 goto out',
      'r1 = r10',
      'r1 += -64',
      'r1 += r6',
      'r0 = *(u8 *)(r1 + 0)',
      'out:',
      ...exit0,
    ],
    safe: [0, 0],
    unsafe: [0, 1],
    code: 'POINTER_ARITH',
  },
  {
    // The path through K is pruned at B by a state of another path (through neither K nor K0), and
    // must take over that state's marks: a later arrival at K with an unsafe x is not pruned.
    name: 'a path pruned by a state from another path inherits its marks',
    asm: (a, b) => [
      'call 7',
      'r6 = r0',
      'if r6 == 0 goto K0',
      `r7 = ${a}`,
      'r8 = 1',
      'r9 = 2',
      'r8 = 3',
      'goto B',
      'K0:',
      'call 7',
      `r7 = ${b}`,
      'if r0 == 0 goto K',
      `r7 = ${a}`,
      'r8 = 1',
      'r9 = 2',
      'r8 = 3',
      'K:',
      'r8 = 1',
      'r9 = 2',
      'r8 = 3',
      'B:',
      'r1 = r10',
      'r1 += -64',
      'r1 += r7',
      'r0 = *(u8 *)(r1 + 0)',
      ...exit0,
    ],
    safe: [0, 8],
    unsafe: [0, 100],
    code: 'STACK_OOB',
  },
  {
    name: 'x returned where the program type checks the return value',
    type: { type: 'tracing', attachKind: 'fentry' },
    asm: (a, b) => [...branches(a, b), 'r0 = r7', 'exit'],
    safe: [0, 0],
    unsafe: [0, 7],
    code: 'INVALID_RETURN',
  },
];

describe('verifier precision tracking', () => {
  for (const c of CASES) {
    it(`${c.name}: the unsafe value is not pruned away`, () => {
      for (const precision of [true, false]) {
        const ok = verify(c.asm(...c.safe).join('\n'), precision, c.type);
        expect(verdict(ok), ok.ok ? '' : formatDiagnostic(ok.errors[0])).toBe('ok');
        const bad = verify(c.asm(...c.unsafe).join('\n'), precision, c.type);
        expect(verdict(bad), `precision ${precision}`).toBe(c.code);
      }
    });
  }

  it('branches on values that never matter are pruned: fewer states than comparing every scalar', () => {
    const asm = ['r6 = 0'];
    for (let k = 0; k < 10; k++) asm.push('call 7', 'if r0 == 0 goto +1', `r6 |= ${1 << k}`);
    asm.push('r3 = r6', ...exit0);
    const text = asm.join('\n');
    const precise = verify(text, true);
    const exact = verify(text, false);
    expect(precise.ok && exact.ok).toBe(true);
    // Every one of the 2^10 combinations is explored when r6 is compared.
    expect(exact.stats.insnsProcessed).toBeGreaterThan(1024 * 3);
    expect(precise.stats.insnsProcessed).toBeLessThan(300);
  });

  it(`${COUNT} random programs: the same verdict with and without precision`, () => {
    const mismatches: string[] = [];
    let accepted = 0;
    fc.assert(
      fc.property(programSeed, fc.nat(5), (seed, k) => {
        const text = randomProgram(seed, { maps: k % 2 === 0, loops: k < 3 });
        const prog = decodeProgram(assemble(text));
        const opts = {
          programType: 'xdp' as const,
          mapDefinitions: RANDOM_PROGRAM_MAPS,
          maxInsns: 100_000,
          allowUninitStack: k % 3 !== 0,
        };
        const exact = verifyRaw(prog, { ...opts, precision: false });
        const precise = verifyRaw(prog, opts);
        // Only a budget exhausted by the exact comparison may end differently.
        const budget = (r: VerifyResult): boolean =>
          !r.ok && (r.errors[0].code === 'COMPLEXITY_LIMIT' || r.errors[0].code === 'UNBOUNDED_LOOP');
        if (precise.ok) accepted++;
        if (verdict(exact) !== verdict(precise) && !budget(exact)) {
          mismatches.push(`exact ${verdict(exact)}, precise ${verdict(precise)}\n${text}`);
        }
      }),
      { numRuns: COUNT, seed: 20261130 },
    );
    expect(mismatches.slice(0, 2)).toEqual([]);
    // Most random programs are rejected (which must not change either); enough must be accepted.
    expect(accepted).toBeGreaterThan(COUNT / 25);
  });
});
