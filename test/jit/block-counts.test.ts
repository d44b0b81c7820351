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
import { lastAtOrBefore } from '../../src/util/sorted.js';
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
  const layout = analyze(program, price);
  return { program, blocks: new BlockCounts(program, layout.leader, price, layout.charges) };
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
    const manyLayout = analyze(many);
    const manyBlocks = new BlockCounts(many, manyLayout.leader, undefined, manyLayout.charges);
    expect(many.subprograms.map((pc) => manyBlocks.functionAt(pc))).toEqual(
      many.subprograms.map((_, k) => k),
    );
    expect(manyBlocks.functionAt(many.subprograms[100] + 1)).toBe(-1);
  });

  it.each(['mixed', 'functions'] as const)(
    'agrees with the analysis on every block the compiled code charges (%s shape)',
    (shape) => {
      const program = decodeProgram(shapedProgram(shape, 3_000));
      const layout = analyze(program);
      const blocks = new BlockCounts(program, layout.leader, undefined, layout.charges);
      let checked = 0;
      for (const insn of program.insns) {
        if (layout.leader[insn.pc] !== 1) continue;
        // A straight function charged by its callers has no charging block but its start (its total).
        const k = lastAtOrBefore(program.subprograms, insn.pc);
        if (layout.chargedByCaller[k] === 1 && program.subprograms[k] !== insn.pc) continue;
        expect(blocks.blockInsns(insn.pc)).toBe(layout.blockInsns[insn.pc]);
        checked++;
      }
      expect(checked).toBeGreaterThan(300);
    },
  );

  it('reads the leader bytes the same at any alignment (four at a time when aligned)', () => {
    // 1001 slots: whole 32-pc words and a partial last one.
    const program = decodeProgram(shapedProgram('jumps', 1_001));
    const layout = analyze(program);
    const n = program.slotCount;
    const leader = layout.leader.slice(0, n);
    const at = (offset: number) => {
      const copy = new Uint8Array(new ArrayBuffer(n + 8), offset, n);
      copy.set(leader);
      return new BlockCounts(program, copy, undefined, layout.charges);
    };
    const aligned = at(4);
    const unaligned = at(1);
    let leaders = 0;
    for (let pc = 0; pc < n; pc++) {
      expect(aligned.insnsAfter(pc)).toBe(unaligned.insnsAfter(pc));
      if (leader[pc] === 1) {
        leaders++;
        expect(aligned.blockInsns(pc)).toBe(layout.blockInsns[pc]);
      }
    }
    expect(leaders).toBeGreaterThan(n / 2);
  });
});
