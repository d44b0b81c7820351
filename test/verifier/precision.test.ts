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

const COUNT = Number(process.env.BPFBOX_PRECISION_COUNT ?? 300);

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
/** Reads the stack byte at r10 − 64 + `x`: in bounds only for 0 ≤ x < 64. */
const stackByte = (x: string): string[] => ['r1 = r10', 'r1 += -64', `r1 += ${x}`, 'r0 = *(u8 *)(r1 + 0)'];

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
    asm: (a, b) => [...branches(a, b), ...stackByte('r7'), ...exit0],
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
      ...stackByte('r7'),
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
      ...stackByte('r8'),
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
      ...stackByte('r7'),
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
      ...stackByte('r6'),
      'out:',
      ...exit0,
    ],
    safe: [0, 0],
    unsafe: [0, 1],
    code: 'POINTER_ARITH',
  },
  {
    name: 'x bounds another value in a comparison both ways of which are possible',
    asm: (a, b) => [
      'call 7',
      'r6 = r0',
      // Not a copy of r0 any more (no id): only the comparison itself links r6 to r7.
      'r6 |= 0',
      ...branches(a, b),
      'if r6 >= r7 goto out',
      ...stackByte('r6'),
      'out:',
      ...exit0,
    ],
    safe: [10, 64],
    unsafe: [10, 100],
    code: 'STACK_OOB',
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
      ...stackByte('r7'),
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

/**
 * Random programs where precision matters: values in r6-r9 (kept across helper calls) set, combined,
 * spilled and filled on random paths; some later index the stack or guard a jump, others never matter.
 */
function precisionProgram(seed: readonly number[]): string {
  let i = 0;
  const r = (): number => seed[i++ % seed.length];
  const v = (): number => 6 + (r() % 4);
  const cmp = (): string => ['==', '!=', '>', '>=', '<', '<=', 's>', 's<'][r() % 8];
  const slot = (): number => 8 * (1 + (r() % 4));
  const blocks: (() => string[])[] = [
    () => ['call 7', `if r0 ${cmp()} ${r() % 8} goto SKIP`],
    () => [`r${v()} = ${r() % 80}`],
    () => [`r${v()} ${['+=', '&=', '>>=', '|=', '*='][r() % 5]} ${r() % 40}`],
    () => [`r${v()} += r${v()}`],
    () => [`r${v()} = r${v()}`],
    () => [`*(u64 *)(r10 - ${slot()}) = r${v()}`],
    () => [`r${v()} = *(u64 *)(r10 - ${slot()})`],
    () => {
      const x = v();
      // Usually bounded first; sometimes the value's range alone must keep it in bounds.
      const guard = r() % 2 === 0 ? [] : [`if r${x} > 63 goto +4`, `if r${x} s< 0 goto +3`];
      return [...guard, ...stackByte(`r${x}`)];
    },
    () => [`if r${v()} ${cmp()} ${r() % 80} goto SKIP`],
    () => [`if r${v()} ${cmp()} r${v()} goto SKIP`],
  ];
  const lines = ['r6 = 0', 'r7 = 0', 'r8 = 0', 'r9 = 0'];
  for (let k = 8; k <= 64; k += 8) lines.push(`*(u64 *)(r10 - ${k}) = r6`);
  for (let n = 12 + (r() % 20); n > 0; n--) {
    // Many blocks set a value on one side of a branch on a fresh random number, so paths (and joins
    // with different values) multiply.
    const k = r() % 4;
    if (k === 0) lines.push('call 7', `if r0 ${cmp()} ${r() % 8} goto +1`, `r${v()} = ${r() % 80}`);
    else lines.push(...blocks[k === 1 ? 0 : r() % blocks.length]());
  }
  lines.push(...exit0);
  return lines
    .map((l, k) => (l.includes('SKIP') ? l.replace('SKIP', `+${r() % (lines.length - k - 1)}`) : l))
    .join('\n');
}

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

  it(`${COUNT} random programs of values set on random paths: the same verdict with and without precision`, () => {
    const mismatches: string[] = [];
    let pruned = 0;
    let accepted = 0;
    fc.assert(
      fc.property(programSeed, (seed) => {
        const text = precisionProgram(seed);
        const exact = verify(text, false);
        const precise = verify(text, true);
        if (verdict(exact) !== verdict(precise)) {
          mismatches.push(`exact ${verdict(exact)}, precise ${verdict(precise)}\n${text}`);
        }
        if (precise.ok) accepted++;
        if (precise.stats.insnsProcessed < exact.stats.insnsProcessed) pruned++;
      }),
      { numRuns: COUNT, seed: 20261130 },
    );
    expect(mismatches.slice(0, 2)).toEqual([]);
    // Not vacuous: a good share is accepted, and precision prunes something in many programs.
    expect(accepted).toBeGreaterThan(COUNT / 10);
    expect(pruned).toBeGreaterThan(COUNT / 10);
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
