/**
 * The compact per-instruction facts the JIT's analyses read instead of the decoded objects
 * (src/jit/insn-facts.ts) and the call graph the analysis builds once (src/jit/call-graph.ts).
 */
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { analyze } from '../../src/jit/control-flow.js';
import {
  CONST_NEGATIVE,
  CONST_SHIFT,
  F_CALLX,
  F_DEFS,
  F_ENDS_BLOCK,
  F_EXIT,
  F_HOST,
  F_JA,
  F_JUMP,
  F_LOCAL_CALL,
  MOVE_ADD_REG,
  MOVE_ATOMIC_FETCH,
  MOVE_CALL,
  MOVE_CLOBBER,
  MOVE_CONST,
  MOVE_COPY,
  MOVE_LDDW,
  MOVE_LOAD,
  MOVE_NONE,
  MOVE_OFFSET,
  MOVE_SHIFT,
  MOVE_STORE,
  SRC_SHIFT,
  WRITES_SHIFT,
} from '../../src/jit/insn-facts.js';

/** Registers as bits; r10 is read-only and not tracked. */
const regs = (...rs: number[]) => rs.reduce((m, r) => (r < 10 ? m | (1 << r) : m), 0);

/** Facts and operand facts of every instruction of `text`, from the analysis. */
function factsOf(text: string) {
  const program = decodeProgram(assemble(text));
  const layout = analyze(program);
  return {
    layout,
    facts: Array.from(layout.facts),
    operands: Array.from(layout.operands),
  };
}

describe('instruction facts', () => {
  it('records what each instruction reads, writes and may do', () => {
    const { facts } = factsOf(`
      mov %r1, %r2
      add %r3, 4
      mov32 %r4, 7
      ldxdw %r5, [%r10-8]
      ldxdw %r6, [%r1+8]
      stxdw [%r10-16], %r7
      stdw [%r2+0], 1
      lock fetch add [%r10-8], %r8
      jeq %r1, %r2, l
      ja l
      l:
      call 1
      exit
    `);
    expect(facts).toEqual([
      regs(2) | (regs(1) << WRITES_SHIFT) | F_DEFS, // mov reads only its source
      regs(3) | (regs(3) << WRITES_SHIFT) | F_DEFS,
      (regs(4) << WRITES_SHIFT) | F_DEFS, // mov32 imm reads nothing
      regs(10) | (regs(5) << WRITES_SHIFT) | F_DEFS,
      regs(1) | (regs(6) << WRITES_SHIFT) | F_DEFS,
      regs(10, 7),
      regs(2),
      regs(0, 10, 8) | (regs(0, 8) << WRITES_SHIFT), // may write, not certainly
      regs(1, 2) | F_JUMP | F_ENDS_BLOCK,
      F_JA | F_JUMP | F_ENDS_BLOCK,
      0x3ff | (regs(0) << WRITES_SHIFT) | F_HOST | F_ENDS_BLOCK, // a helper may read every register
      F_EXIT | F_ENDS_BLOCK,
    ]);
  });

  it('classifies how addresses move between registers, for slot prediction', () => {
    const { operands } = factsOf(`
      mov %r1, %r10
      mov %r2, 0x30000000
      mov %r3, -1
      add %r1, %r2
      sub %r1, 8
      mul %r1, 3
      lddw %r4, 0x20000000
      ldxdw %r5, [%r1+0]
      stxdw [%r4+0], %r5
      lock fetch add [%r4+0], %r6
      call 1
      exit
    `);
    const move = operands.map((o) => (o >>> MOVE_SHIFT) & 15);
    expect(move).toEqual([
      MOVE_COPY,
      MOVE_CONST,
      MOVE_CONST,
      MOVE_ADD_REG,
      MOVE_OFFSET,
      MOVE_CLOBBER,
      MOVE_LDDW,
      MOVE_LOAD,
      MOVE_STORE,
      MOVE_ATOMIC_FETCH,
      MOVE_CALL,
      MOVE_NONE,
    ]);
    expect([operands[0] & 15, (operands[0] >>> SRC_SHIFT) & 15]).toEqual([1, 10]);
    expect((operands[1] >>> CONST_SHIFT) & 15).toBe(3); // the heap's slot
    expect((operands[2] >>> CONST_SHIFT) & 15).toBe(CONST_NEGATIVE);
  });
});

describe('call graph', () => {
  it('lists every local call once per site, in program order, with callers and callees', () => {
    const { layout, facts } = factsOf(`
      call local f
      call local g
      call local f
      exit
      f:
      call local g
      exit
      g:
      lddw code_addr %r2, f
      call %r2
      exit
    `);
    const { calls } = layout;
    expect(Array.from(calls.sites)).toEqual([0, 1, 2, 4]);
    expect(Array.from(calls.siteCallee)).toEqual([1, 2, 1, 2]);
    expect(calls.callees).toEqual([[1, 2, 1], [2], []]);
    expect(calls.callers).toEqual([[], [0, 0], [0, 1]]);
    expect(facts[0]).toBe(F_LOCAL_CALL | F_ENDS_BLOCK);
    expect(facts[7] & (F_CALLX | F_HOST)).toBe(F_CALLX | F_HOST);
  });
});
