/**
 * Accesses through a register derived from r10 skip the window check only where the range analysis
 * (src/jit/frame-ranges.ts) proves them inside the own frame. The analysis is asked directly which
 * accesses it proves, and generated programs put an index computed by random ALU steps and compares
 * right at the frame's edges: the JIT must fault exactly like the interpreter (code, pc, address,
 * size, access) and leave the same stack and r0 behind.
 */
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import { EXECUTOR_KINDS, type ExecutorKind } from '../../src/executors.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { analyze } from '../../src/jit/control-flow.js';
import { provenFrameAccesses } from '../../src/jit/frame-ranges.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';
import { PERM_READ, PERM_WRITE, Slot, slotBase } from '../../src/vm/memory/layout.js';
import { type RunOutcome, runOutcome } from '../support/run-outcome.js';

const INPUT = slotBase(Slot.INPUT);

/** The pcs of the accesses the analysis proves inside a 512-byte frame. */
function proven(source: string): number[] {
  const program = decodeProgram(assemble(source, { syntax: 'ubpf' }));
  const marks = provenFrameAccesses(program, analyze(program), 512);
  const pcs: number[] = [];
  if (marks !== undefined)
    for (let i = 0; i < marks.length; i++) if (marks[i] === 1) pcs.push(program.insns[i].pc);
  return pcs;
}

function run(kind: ExecutorKind, source: string, input: Uint8Array): RunOutcome {
  const memory = new GuestMemory();
  memory.mapStack();
  memory.map(Slot.INPUT, 'input', input.length, PERM_READ | PERM_WRITE, input.slice());
  return runOutcome(kind, source, memory, [BigInt(INPUT), BigInt(input.length)], { stack: Slot.STACK });
}

function agreed(source: string, input: Uint8Array): RunOutcome {
  const [first, ...rest] = EXECUTOR_KINDS.map((kind) => run(kind, source, input));
  for (const other of rest) expect(other, source).toEqual(first);
  return first;
}

/** clang's `counts[x % 48]++` with x from a callee, as in bench/kernels/parser.c. */
const PARSER = (bound: number, base: number) => `
  ldxb %r1, [%r1+0]
  call local f
  mov %r7, ${bound}
  jgt %r7, %r0, +1
  add %r0, -48
  lsh %r0, 3
  mov %r1, %r10
  add %r1, ${base}
  add %r1, %r0
  ldxdw %r2, [%r1+0]
  add %r2, 1
  stxdw [%r1+0], %r2
  mov %r0, %r2
  exit
f:
  mov %r0, 40
  jeq %r1, 6, +3
  and %r1, 7
  add %r1, 30
  mov %r0, %r1
  add %r0, 16
  exit`;

describe('frame-ranges: which accesses the analysis proves', () => {
  it('proves counts[x % 48] with x from a callee, and nothing past the frame', () => {
    // x ∈ [0, 53]: [0, 47] stays, [48, 53] − 48; × 8 from r10 − 384 reaches r10 − 8 at most.
    expect(proven(PARSER(48, -384))).toEqual([9, 11]);
    // One slot higher: the last counter would be r10 + 0, outside the frame.
    expect(proven(PARSER(48, -376))).toEqual([]);
    // A bound of 49 lets 48 through unreduced: 48 · 8 − 384 = 0.
    expect(proven(PARSER(49, -384))).toEqual([]);
    // Below the frame: r10 − 520 is under −512.
    expect(proven(PARSER(48, -520))).toEqual([]);
  });

  it('follows 32-bit steps, masks, shifts and both edges of unsigned compares', () => {
    const source = `
      ldxw %r2, [%r1+0]
      mov32 %r3, %r2
      and32 %r3, 0x3f
      jge %r3, 60, +6
      lsh %r3, 3
      mov %r4, %r10
      sub %r4, 480
      add %r4, %r3
      stxdw [%r4+0], %r3
      ldxdw %r0, [%r4+0]
      exit`;
    // r3 ∈ [0, 59] on the fall-through: r10 − 480 + [0, 472] + 8 ≤ r10.
    expect(proven(source)).toEqual([8, 9]);
    expect(proven(source.replace('jge %r3, 60', 'jge %r3, 61'))).toEqual([]);
    // A signed compare of a value known below 2^53 agrees with the unsigned one.
    expect(proven(source.replace('jge %r3, 60', 'jsge %r3, 60'))).toEqual([8, 9]);
    // rsh32 of a 32-bit value leaves 4 bits; arsh32 copies bit 31 into them: 0xfffffff8 and up.
    const shifted = `
      ldxw %r0, [%r1+0]
      rsh32 %r0, 28
      mov %r2, %r10
      add %r2, -16
      add %r2, %r0
      stxb [%r2+0], %r0
      exit`;
    expect(proven(shifted)).toEqual([5]);
    expect(proven(shifted.replace('rsh32', 'arsh32'))).toEqual([]);
    const signed = agreed(shifted.replace('rsh32', 'arsh32'), new Uint8Array(64).fill(0xff));
    expect(signed).toEqual(
      expect.objectContaining({ code: 'MEMORY_FAULT', pc: 5, size: 1, access: 'write' }),
    );
  });

  it('knows nothing about a register after a helper call, a 64-bit load or a loop that grows it', () => {
    const helper = `
      mov %r6, 0
      mov %r3, %r10
      add %r3, -8
      call 1
      stxb [%r3+0], %r6
      exit`;
    expect(proven(helper)).toEqual([]);
    const wide = `
      ldxdw %r2, [%r1+0]
      and32 %r2, 7
      ldxdw %r2, [%r1+0]
      mov %r3, %r10
      add %r3, %r2
      stxb [%r3-1], %r2
      exit`;
    expect(proven(wide)).toEqual([]);
    const loop = `
      mov %r2, %r10
      add %r2, -8
      mov %r0, 0
      stxb [%r2+0], %r0
      add %r2, 1
      add %r0, 1
      jlt %r0, 100, -4
      exit`;
    expect(proven(loop)).toEqual([]);
  });
});

/** A small seeded PRNG (xorshift32). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}

/** The placeholder of the generated programs' frame offset. */
const BASE = 'BASE';

/** A program computing an index from input bytes with random steps, then accessing r10 + C + index. */
function generate(next: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[next() % xs.length];
  const lines: string[] = [];
  lines.push(`${pick(['ldxb', 'ldxh', 'ldxw', 'ldxdw'])} %r0, [%r1+${pick([0, 8, 16])}]`);
  lines.push(`ldxb %r5, [%r1+${pick([24, 32])}]`);
  const small = () => pick([0, 1, 2, 3, 7, 8, 15, 16, 31, 32, 47, 48, 63, 64, 255, 256, 511, 512]);
  const steps = 1 + (next() % 5);
  for (let k = 0; k < steps; k++) {
    const w = pick(['', '32']);
    switch (next() % 12) {
      case 0:
        lines.push(`and${w} %r0, ${small()}`);
        break;
      case 1:
        lines.push(`or${w} %r0, ${small()}`);
        break;
      case 2:
        lines.push(`${pick(['rsh', 'arsh'])}${w} %r0, ${pick([1, 2, 3, 4, 6, 8, 11, 24, 28, 31])}`);
        break;
      case 3:
        lines.push(`lsh${w} %r0, ${next() % 4}`);
        break;
      case 4:
        lines.push(`add${w} %r0, ${pick([-1, -8, -48, -64, 1, 8, 48])}`);
        break;
      case 5:
        lines.push(`mod${w} %r0, ${pick([1, 3, 48, 64, 100])}`);
        break;
      case 6:
        lines.push(`mul${w} %r0, ${pick([1, 2, 3, 8])}`);
        break;
      case 7:
        lines.push(`div${w} %r0, ${pick([1, 2, 3, 7])}`);
        break;
      case 8: {
        // clang's reduction: if (x ≥ B) x −= B, as an unsigned, signed or 32-bit compare.
        const b = small();
        const op = pick(['jlt', 'jle', 'jslt', 'jsle', 'jlt32', 'jslt32', 'jle32']);
        lines.push(`${op} %r0, ${b}, +1`);
        lines.push(`add %r0, ${-b}`);
        break;
      }
      case 9: {
        // The bound in a register, on either side.
        const b = small();
        lines.push(`mov %r3, ${b}`);
        lines.push(pick([`jgt %r3, %r0, +1`, `jge %r0, %r3, +1`, `jle %r0, %r3, +1`]));
        lines.push(`mov %r0, ${small()}`);
        break;
      }
      case 10: {
        const b = small();
        lines.push(`${pick(['jeq', 'jne', 'jgt', 'jge', 'jsgt', 'jgt32'])} %r0, ${b}, +1`);
        lines.push(`mov${w} %r0, %r5`);
        break;
      }
      default:
        lines.push(`${pick(['xor', 'sub', 'add', 'and'])}${w} %r0, %r5`);
    }
  }
  const size = pick([1, 2, 4, 8]);
  const suffix = { 1: 'b', 2: 'h', 4: 'w', 8: 'dw' }[size];
  lines.push('mov %r2, %r10');
  lines.push(`add %r2, ${BASE}`);
  lines.push(pick(['add %r2, %r0', 'mov %r4, %r0\nadd %r4, %r2\nmov %r2, %r4']));
  const off = pick([-16, -8, -1, 0, 1, 8]);
  lines.push(`stx${suffix} [%r2${off < 0 ? off : `+${off}`}], %r0`);
  lines.push(`ldx${suffix} %r0, [%r2${off < 0 ? off : `+${off}`}]`);
  lines.push('exit');
  return lines.join('\n');
}

describe('frame-ranges: proven accesses behave like the interpreter', () => {
  it('the parser pattern counts, and faults at r10 when the proof would be wrong', () => {
    const input = new Uint8Array(64);
    expect(agreed(PARSER(48, -384), input).r0).toBe(1n);
    input[0] = 6; // f returns 40 + 16 = 56 → 8
    expect(agreed(PARSER(48, -384), input).r0).toBe(1n);
    // Unproven variants still fault where the interpreter does: x = 48 → r10 + 0.
    input[0] = 2; // (2 & 7) + 30 + 16 = 48
    expect(agreed(PARSER(49, -384), input)).toEqual(
      expect.objectContaining({ code: 'MEMORY_FAULT', pc: 9, size: 8, access: 'read' }),
    );
  });

  it('random index computations agree on every engine with accesses aimed at the proven ends', () => {
    const next = rng(0x5eed18);
    const fills = [0, 0x01, 0x2f, 0x30, 0x31, 0x3f, 0x40, 0x7f, 0x80, 0xff];
    let provenCount = 0;
    let faults = 0;
    for (let n = 0; n < 300; n++) {
      const template = generate(next);
      // The interval of r10 + d the analysis claims at the store, for base 0 (then aim it).
      const at = template.replace(BASE, '0');
      const program = decodeProgram(assemble(at, { syntax: 'ubpf' }));
      let range: [number, number] | undefined;
      provenFrameAccesses(program, analyze(program), 512, (i, lo, hi) => {
        if (program.insns[i].kind === 'store') range = [lo, hi];
      });
      const store = program.insns.find((x) => x.kind === 'store');
      if (range === undefined || store === undefined || store.kind !== 'store') continue;
      const [lo, hi] = range;
      const { off, size } = store;
      // The highest claimed address ends at r10, or the lowest starts at r10 − 512.
      for (const base of [-(hi + off + size), -512 - (lo + off)]) {
        if (Math.abs(base) > 2 ** 31 - 1) continue;
        const source = template.replace(BASE, String(base));
        provenCount += proven(source).length;
        const inputs = fills.map((v) => new Uint8Array(64).fill(v));
        for (let k = 0; k < 4; k++) inputs.push(new Uint8Array(64).map(() => next() & 0xff));
        for (const input of inputs) if (agreed(source, input).code !== undefined) faults++;
      }
    }
    // The generator reaches both sides: many proofs, and many faults.
    expect(provenCount).toBeGreaterThan(100);
    expect(faults).toBeGreaterThan(100);
  });
});
