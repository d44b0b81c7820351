/**
 * Seeded random XDP programs in assembly (LLVM syntax), shared by the soundness check and the kernel
 * comparison: packet pointers with and without data_end checks, variable packet and stack offsets,
 * context loads (some invalid), ALU of both widths, forward branches, helper calls clobbering r1-r5.
 */
import fc from 'fast-check';
import type { MapDefinition } from '../../src/runtime/maps/map-def.js';

/** 64 random numbers drive one program. */
export const programSeed = fc.array(fc.nat({ max: 1 << 20 }), { minLength: 64, maxLength: 64 });

type Block = (r: () => number) => string[];

/** Scalars live in r0-r2 and r5; r3/r4 are pointer temporaries, r6-r9 fixed pointers. */
const scalarReg = (r: () => number): number => [0, 1, 2, 5][r() % 4];
const pick = <T>(r: () => number, xs: readonly T[]): T => xs[r() % xs.length];
const ALU = ['+=', '-=', '*=', '&=', '|=', '^=', '<<=', '>>=', 's>>=', '/=', '%='];
const CMP = ['==', '!=', '>', '>=', '<', '<=', 's>', 's<'];
const SIZES = ['u8', 'u16', 'u32', 'u64'];
/** ` + 4` / ` - 2`: LLVM syntax has no `+ -2`. */
const off = (n: number): string => (n < 0 ? ` - ${-n}` : ` + ${n}`);

const BLOCKS: readonly Block[] = [
  // ALU on scalars, both widths, immediate or register.
  (r) => {
    const op = pick(r, ALU);
    const shift = op.includes('<<') || op.includes('>>');
    const w = r() % 2 === 0 ? 'r' : 'w';
    const imm = shift
      ? r() % (w === 'r' ? 64 : 32)
      : op === '/=' || op === '%='
        ? 1 + (r() % 9)
        : (r() % 200) - 50;
    return [
      r() % 3 === 0 ? `${w}${scalarReg(r)} ${op} ${w}${scalarReg(r)}` : `${w}${scalarReg(r)} ${op} ${imm}`,
    ];
  },
  (r) => [`r${scalarReg(r)} = ${(r() % 100) - 10}`],
  // Context loads (some invalid offsets).
  (r) => [`r${scalarReg(r)} = *(u32 *)(r6${off(pick(r, [0, 4, 8, 12, 16, 12, 16, 2, 20, 24, -4]))})`],
  // A packet pointer moved by a constant or a masked variable.
  (r) =>
    r() % 2 === 0
      ? ['r9 = r7', `r9 += ${r() % 40}`]
      : [`r${scalarReg(r)} &= ${pick(r, [7, 15, 63, 255, -1])}`, 'r9 = r7'],
  (r) => {
    const s = scalarReg(r);
    return [`r${s} &= ${pick(r, [7, 31, 255, 4095])}`, `r9 += r${s}`];
  },
  // Bounds check against data_end skipping the rest of the program.
  (r) => ['r4 = r9', `r4 += ${r() % 24}`, 'if r4 > r8 goto +SKIP'],
  (r) => ['r4 = r7', `r4 += ${r() % 24}`, 'if r4 > r8 goto +SKIP'],
  // A checked access: usually within the checked range, sometimes one byte past it.
  (r) => {
    const k = 1 + (r() % 24);
    const size = pick(r, [1, 2, 4, 8]);
    const at = Math.max(0, k - size + (r() % 4 === 0 ? 1 : 0) - (r() % 3));
    const name = ['', 'u8', 'u16', '', 'u32', '', '', '', 'u64'][size];
    return [
      'r4 = r9',
      `r4 += ${k}`,
      'if r4 > r8 goto +SKIP',
      `r${scalarReg(r)} = *(${name} *)(r9${off(at)})`,
    ];
  },
  // Packet and stack accesses.
  (r) => [`r${scalarReg(r)} = *(${pick(r, SIZES)} *)(r9${off((r() % 24) - 2)})`],
  (r) => [`*(${pick(r, SIZES)} *)(r9${off((r() % 24) - 2)}) = r${scalarReg(r)}`],
  (r) => [`*(u64 *)(r10 - ${8 * (1 + (r() % 8))}) = r${scalarReg(r)}`],
  (r) => [`r${scalarReg(r)} = *(${pick(r, SIZES)} *)(r10 - ${8 * (1 + (r() % 8))})`],
  (r) => {
    const s = scalarReg(r);
    return [
      'r3 = r10',
      'r3 += -64',
      `r${s} &= ${pick(r, [31, 63, 127])}`,
      `r3 += r${s}`,
      `r${scalarReg(r)} = *(u8 *)(r3 + 0)`,
    ];
  },
  // Branches over the rest, helper calls.
  (r) => [`if r${scalarReg(r)} ${pick(r, CMP)} ${(r() % 40) - 5} goto +SKIP`],
  () => ['call 7'],
];

/** Assembly of a random program: prologue, blocks, `exit`; SKIP jumps to a random later point. */
/** Map definitions the map blocks refer to (map_fd 0 and 1), for the verifier and the kernel runner. */
export const RANDOM_PROGRAM_MAPS: readonly MapDefinition[] = [
  { name: 'values', type: 'array', keySize: 4, valueSize: 16, maxEntries: 4, flags: 0 },
  { name: 'events', type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 4096, flags: 0 },
];

/** Map lookups (r3 = value or NULL), value accesses, ring buffer reserve/submit/discard (r3). */
const MAP_BLOCKS: readonly Block[] = [
  (r) => [
    `r1 = ${r() % 6}`,
    '*(u32 *)(r10 - 72) = r1',
    'r2 = r10',
    'r2 += -72',
    'ld_pseudo r1, 0x1, 0x0',
    'call 1',
    'r3 = r0',
    ...(r() % 4 === 0 ? [] : ['if r3 == 0 goto +SKIP']),
  ],
  (r) => [`r${scalarReg(r)} = *(${pick(r, SIZES)} *)(r3${off((r() % 20) - 2)})`],
  (r) => [`*(${pick(r, SIZES)} *)(r3${off((r() % 20) - 2)}) = r${scalarReg(r)}`],
  (r) => {
    const s = scalarReg(r);
    return [`r${s} &= ${pick(r, [7, 15, 31])}`, `r3 += r${s}`];
  },
  (r) => [
    'ld_pseudo r1, 0x1, 0x1',
    `r2 = ${pick(r, [8, 16, 24])}`,
    'r3 = 0',
    'call 131',
    'r3 = r0',
    ...(r() % 4 === 0 ? [] : ['if r3 == 0 goto +SKIP']),
  ],
  (r) => ['r1 = r3', 'r2 = 0', `call ${r() % 2 === 0 ? 132 : 133}`],
];

/**
 * A random program; with `maps`, also map and ring buffer blocks; with `loops`, counted loops (r5);
 * with `mayGoto`, some loops are bounded only by a may_goto at their bottom (`do … while (can_loop)`).
 */
export function randomProgram(
  seed: number[],
  options: { maps?: boolean; loops?: boolean; mayGoto?: boolean } = {},
): string {
  let i = 0;
  const r = (): number => seed[i++ % seed.length];
  const blocks = options.maps ? [...BLOCKS, ...MAP_BLOCKS, ...MAP_BLOCKS] : BLOCKS;
  const lines = ['r6 = r1', 'r7 = *(u32 *)(r6 + 0)', 'r8 = *(u32 *)(r6 + 4)', 'r9 = r7'];
  for (let k = 0; k < 6; k++) lines.push(`r${k} = ${r() % 16}`);
  // Most programs start with an initialized stack area; the rest exercise uninitialized reads.
  if (r() % 4 !== 0) for (let k = 8; k <= 64; k += 8) lines.push(`*(u64 *)(r10 - ${k}) = r0`);
  /** Back edges: line index of the jump → line index of the loop's first instruction. */
  const back = new Map<number, number>();
  const n = 4 + (r() % 14);
  for (let b = 0; b < n; b++) {
    if (options.loops && r() % 5 === 0) {
      // A counted loop whose body may (rarely) disturb the counter r5.
      lines.push('r5 = 0');
      const start = lines.length;
      for (let k = 1 + (r() % 3); k > 0; k--) lines.push(...pick(r, blocks)(r));
      lines.push(r() % 8 === 0 ? `r5 += ${r() % 3}` : 'r5 += 1');
      if (options.mayGoto && r() % 2 === 0) {
        lines.push('may_goto +1');
        back.set(lines.length, start);
        lines.push('goto BACK');
        continue;
      }
      back.set(lines.length, start);
      lines.push(`if r5 ${pick(r, ['<', '<', '!=', 's<'])} ${1 + (r() % 20)} goto BACK`);
    } else {
      lines.push(...pick(r, blocks)(r));
    }
  }
  lines.push('r0 = 0', 'exit');
  // Jump offsets count slots: lddw (ld_pseudo) takes two.
  const slot: number[] = [];
  let at = 0;
  for (const l of lines) {
    slot.push(at);
    at += l.startsWith('ld_pseudo') ? 2 : 1;
  }
  return lines
    .map((l, k) => {
      if (l.includes('BACK')) return l.replace('BACK', String(slot[back.get(k) ?? k] - slot[k] - 1));
      if (!l.includes('SKIP')) return l;
      const target = k + 1 + (r() % (lines.length - k - 1));
      return l.replace('SKIP', String(slot[target] - slot[k] - 1));
    })
    .join('\n');
}
