/**
 * Programs of a given size and control-flow shape, for the compile-speed benchmark (bench/jit.ts)
 * and the linearity test (compile-linear.test.ts). They only need to decode and compile: `mixed` is
 * the benchmark's typical code; the others are hostile to a structured layout (every instruction a
 * jump target, backward jumps everywhere, deeply nested loops, chains and deep nests of rotated
 * loops sharing headers and mid entries, thousands of functions, irreducible loops). Each returns `n` instructions (± a few) ending with `exit`.
 */
import { encodeProgram, type RawInsn } from '../../src/isa/encoder.js';
import { prng } from '../support/prng.js';

const EXIT: RawInsn = { opcode: 0x95, dst: 0, src: 0, off: 0, imm: 0 };
const add = (dst: number, imm: number): RawInsn => ({ opcode: 0x07, dst, src: 0, off: 0, imm });
/** jgt dst, src, +off (64-bit, register operand). */
const jgt = (dst: number, src: number, off: number): RawInsn => ({ opcode: 0x2d, dst, src, off, imm: 0 });

/** ALU, stack loads/stores and short forward branches, one exit. */
function mixed(n: number, seed: number): RawInsn[] {
  const rnd = prng(seed);
  const insns: RawInsn[] = [];
  for (let i = 0; i < n - 1; i++) {
    const r = rnd();
    const dst = Math.floor(rnd() * 10);
    const src = Math.floor(rnd() * 10);
    if (r < 0.6)
      insns.push({
        opcode: [0x07, 0x0f, 0x2f, 0xaf, 0x67, 0x04][Math.floor(rnd() * 6)],
        dst,
        src,
        off: 0,
        imm: 3,
      });
    else if (r < 0.75)
      insns.push({ opcode: 0x79, dst, src: 10, off: -8 * (1 + Math.floor(rnd() * 60)), imm: 0 });
    else if (r < 0.9)
      insns.push({ opcode: 0x7b, dst: 10, src, off: -8 * (1 + Math.floor(rnd() * 60)), imm: 0 });
    else {
      const off = Math.min(1 + Math.floor(rnd() * 20), n - 2 - i);
      insns.push({ opcode: 0x2d, dst, src, off, imm: 0 });
    }
  }
  insns.push(EXIT);
  return insns.map((x) => {
    const reg = (x.opcode & 0x08) !== 0 && (x.opcode & 0x07) !== 0x03 && (x.opcode & 0x07) !== 0x01;
    return x.opcode === 0x79 || x.opcode === 0x7b ? x : { ...x, src: reg ? x.src : 0, imm: reg ? 0 : x.imm };
  });
}

/** Every instruction a conditional forward jump: one block and one label per instruction. */
function jumps(n: number, seed: number): RawInsn[] {
  const rnd = prng(seed);
  const insns: RawInsn[] = [];
  for (let i = 0; i < n - 1; i++)
    insns.push(jgt(i % 10, (i + 3) % 10, Math.floor(rnd() * Math.min(64, n - 1 - i))));
  insns.push(EXIT);
  return insns;
}

/** A conditional jump's offset is 16 bits. */
const MAX_OFF = 0x7fff;

/** Forward and backward jumps to random earlier points (up to 32k back): dispatch everywhere. */
function backJumps(n: number, seed: number): RawInsn[] {
  const rnd = prng(seed);
  const insns: RawInsn[] = [];
  for (let i = 0; i < n - 1; i++) {
    if (i % 3 !== 2) insns.push(add(i % 10, 1));
    else if (rnd() < 0.5) insns.push(jgt(1, 2, -1 - Math.floor(rnd() * Math.min(i + 1, MAX_OFF))));
    else insns.push(jgt(1, 2, Math.floor(rnd() * Math.min(1000, n - 1 - i))));
  }
  insns.push(EXIT);
  return insns;
}

/**
 * Natural loops nested in each other, as deep as 16-bit back edges allow (16k), one nest after
 * another: headers first, then the back edges, innermost first.
 */
function nestedLoops(n: number): RawInsn[] {
  const insns: RawInsn[] = [];
  while (insns.length + 3 <= n) {
    const depth = Math.min(Math.floor((n - 1 - insns.length) / 2), MAX_OFF >> 1);
    for (let j = 0; j < depth; j++) insns.push(add(j % 10, 1));
    // The back edge k closes the loop headed k + 1 headers before the first back edge.
    for (let k = 0; k < depth; k++) insns.push(jgt(1, 2, -(2 * k + 2)));
  }
  insns.push(EXIT);
  return insns;
}

/** ja +off. */
const ja = (off: number): RawInsn => ({ opcode: 0x05, dst: 0, src: 0, off, imm: 0 });

/**
 * Clang's trial-division nest, one after another: an outer loop entered at the mid entry it shares
 * with a loop inside it, starting with a loop (itself starting with a natural one) that the outer
 * loop's end enters mid-body.
 */
function rotatedChain(n: number): RawInsn[] {
  const insns: RawInsn[] = [];
  while (insns.length + 10 <= n) {
    insns.push(ja(5)); // → E
    insns.push(add(1, 1)); // T: header of the outer loop and of the two loops starting with it
    insns.push(jgt(1, 2, -2)); // → T
    insns.push(add(2, 1)); // IM: the inner loop's mid entry
    insns.push(jgt(1, 2, -4)); // → T
    insns.push(add(3, 1)); // B
    insns.push(add(4, 1)); // E: mid entry of the outer loop and of [B, →B]
    insns.push(jgt(2, 3, -3)); // → B
    insns.push(ja(-6)); // → IM
  }
  while (insns.length < n - 1) insns.push(add(0, 1));
  insns.push(EXIT);
  return insns;
}

/**
 * Rotated loops nested 12 deep, all entered at one mid entry (deeper than the nesting a mid entry may
 * be shared by): headers, the mid entry, then the back edges, innermost first; one nest after
 * another, more than the loop checks' budget pays for.
 */
function rotatedNest(n: number): RawInsn[] {
  const insns: RawInsn[] = [];
  while (insns.length + 5 <= n) {
    const depth = Math.min(Math.floor((n - 3 - insns.length) / 2), 12);
    insns.push(ja(depth)); // → the mid entry
    for (let j = 0; j < depth; j++) insns.push(add(j % 10, 1));
    insns.push(add(0, 1)); // the mid entry
    // The back edge k closes the loop headed k + 1 headers before the mid entry.
    for (let k = 0; k < depth; k++) insns.push(jgt(1, 2, -(2 * k + 3)));
  }
  insns.push(EXIT);
  return insns;
}

/** n/4 functions of four instructions, each calling the next. */
function functions(n: number): RawInsn[] {
  const count = Math.max(1, Math.floor(n / 4));
  const insns: RawInsn[] = [];
  for (let k = 0; k < count; k++) {
    insns.push(add(0, k));
    insns.push(jgt(0, 1, 1));
    if (k + 1 < count) insns.push({ opcode: 0x85, dst: 0, src: 1, off: 0, imm: 1 });
    else insns.push(add(0, 1));
    insns.push(EXIT);
  }
  return insns;
}

/** Loops with a second entry (jumps into their middle): never natural, each re-entered by dispatch. */
function irreducible(n: number): RawInsn[] {
  const insns: RawInsn[] = [];
  for (let k = 0; k + 5 < n; k += 5) {
    insns.push(jgt(1, 2, 2)); // → B, inside the loop
    insns.push(add(2, 1)); // A: the loop's header
    insns.push(add(3, 1));
    insns.push(add(4, 1)); // B
    insns.push(jgt(2, 5, -4)); // → A
  }
  insns.push(EXIT);
  return insns;
}

export const SHAPES = {
  mixed,
  jumps,
  'back-jumps': backJumps,
  'nested-loops': nestedLoops,
  'rotated-chain': rotatedChain,
  'rotated-nest': rotatedNest,
  functions,
  irreducible,
} as const satisfies Record<string, (n: number, seed: number) => RawInsn[]>;

export type ShapeName = keyof typeof SHAPES;

/** The encoded program of about `n` instructions of `shape`. */
export function shapedProgram(shape: ShapeName, n: number, seed = n): Uint8Array {
  return encodeProgram(SHAPES[shape](n, seed));
}
