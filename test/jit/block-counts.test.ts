/**
 * BlockCounts (src/jit/block-counts.ts): what the JIT engine refunds when a trap or a budget stop
 * ends a block the compiled code charged in full, counted on demand from the leader bits, and the
 * function starting at a pc.
 */
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { BlockCounts } from '../../src/jit/block-counts.js';
import { analyze } from '../../src/jit/control-flow.js';
import { gasPricer } from '../../src/vm/gas.js';
import { shapedProgram } from './program-shapes.js';

// Blocks: [0, 1 (lddw: 2 slots), 3, 4] [5, 6] [7] | function f: [8, 9, 10] [11].
const SOURCE = `
  mov %r0, 1
  lddw %r1, 0x100000000
  ldxdw %r2, [%r10-8]
  jeq %r0, 0, +2
  add %r0, 1
  call local f
  exit
f:
  mov %r0, 2
  stxdw [%r10-8], %r0
  ja +0
  exit
`;

function counts(price?: Parameters<typeof analyze>[1]) {
  const program = decodeProgram(assemble(SOURCE));
  return { program, blocks: new BlockCounts(program, analyze(program, price).leader, price) };
}

describe('JIT block counts', () => {
  it('counts instructions in and after a block, an lddw once, up to the next leader or function end', () => {
    const { blocks } = counts();
    expect([0, 1, 3, 4].map((pc) => blocks.insnsAfter(pc))).toEqual([3, 2, 1, 0]);
    expect([0, 5, 7, 8, 11].map((pc) => blocks.blockInsns(pc))).toEqual([4, 2, 1, 3, 1]);
    expect([5, 6, 7, 8, 9, 10, 11].map((pc) => blocks.insnsAfter(pc))).toEqual([1, 0, 0, 2, 1, 0, 0]);
    // The second slot of an lddw starts no instruction.
    expect(blocks.insnsAfter(2)).toBe(0);
    expect(blocks.blockInsns(2)).toBe(0);
    expect(blocks.gasAfter(0)).toBe(3);
    expect(blocks.blockGas(8)).toBe(3);
  });

  it('prices gas with the cost table', () => {
    const { blocks } = counts(gasPricer({ lddw: 5, load: 7, jump: 11, store: 13 }));
    expect(blocks.gasAfter(0)).toBe(5 + 7 + 11);
    expect(blocks.blockGas(0)).toBe(1 + 5 + 7 + 11);
    expect(blocks.gasAfter(1)).toBe(7 + 11);
    expect(blocks.blockGas(8)).toBe(1 + 13 + 11);
    expect(blocks.insnsAfter(0)).toBe(3);
  });

  it('finds the function starting at a pc', () => {
    const { blocks } = counts();
    expect([0, 1, 7, 8, 9, 12, -1].map((pc) => blocks.functionAt(pc))).toEqual([0, -1, -1, 1, -1, -1, -1]);
    const many = decodeProgram(shapedProgram('functions', 4_000));
    const manyBlocks = new BlockCounts(many, analyze(many).leader, undefined);
    expect(many.subprograms.map((pc) => manyBlocks.functionAt(pc))).toEqual(
      many.subprograms.map((_, k) => k),
    );
    expect(manyBlocks.functionAt(many.subprograms[100] + 1)).toBe(-1);
  });

  it('agrees with the analysis on every block of a large program', () => {
    const program = decodeProgram(shapedProgram('mixed', 3_000));
    const layout = analyze(program);
    const blocks = new BlockCounts(program, layout.leader, undefined);
    for (const insn of program.insns) {
      if (layout.leader[insn.pc] === 1) expect(blocks.blockInsns(insn.pc)).toBe(layout.blockInsns[insn.pc]);
    }
  });
});
