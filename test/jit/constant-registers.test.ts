/**
 * Constant registers (constant-registers.ts): written once in their function, by a 64-bit mov of an
 * immediate, and not read before written at its entry. Codegen's poll paths keep them out of the
 * meter import's results; any other register must come back from it, so each rule that excludes a
 * register is checked here.
 */
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { callRegisters } from '../../src/jit/call-registers.js';
import { constantRegisters } from '../../src/jit/constant-registers.js';
import { analyze } from '../../src/jit/control-flow.js';

/** The constant registers of each function of `source`, as sorted register numbers. */
function constants(source: string): number[][] {
  const program = decodeProgram(assemble(source));
  const layout = analyze(program);
  const regs = callRegisters(program, layout);
  return layout.functions.map((f) => {
    // As codegen's liveAt(entry): the entry block's live registers within the call convention's.
    const liveIn = regs.live[f.index] & layout.blockLive[f.startPc];
    const mask = constantRegisters(layout.facts, layout.operands, f.first, f.last, liveIn);
    return [...Array(10).keys()].filter((r) => (mask >> r) & 1);
  });
}

describe('constant registers', () => {
  it("finds clang's recursion-loop bound and nothing written twice (fib)", () => {
    const fib = `
      r1 = 6
      call fib
      exit
    fib:
      r6 = r1
      r0 = 0
      r1 <<= 32
      r1 >>= 32
      r7 = 2
      if r7 > r1 goto out
      r8 = 0
    loop:
      r1 = r6
      r1 += -1
      call fib
      r0 += r8
      r6 += -2
      r1 = r6
      r1 <<= 32
      r1 >>= 32
      r8 = r0
      if r7 > r1 goto out
      goto loop
    out:
      r6 <<= 32
      r6 >>= 32
      r0 += r6
      exit`;
    expect(constants(fib)[1]).toEqual([7]);
    // main's r1 = 6 is followed by a call, which hands r0..r5 back.
    expect(constants(fib)[0]).toEqual([]);
  });

  it('excludes a register read before its write at the entry', () => {
    const source = `
      r7 = 1
      call f
      exit
    f:
      r0 = r7
      r7 = 2
      r0 += r7
      exit`;
    expect(constants(source)[1]).toEqual([]);
    // The caller's own r7 = 1 is its only write there, and nothing reads it before.
    expect(constants(source)[0]).toEqual([7]);
  });

  it('excludes registers written twice, by 32-bit movs, by loads or by calls', () => {
    const source = `
      r6 = 1
      r6 = 1
      w7 = 3
      r8 = *(u64 *)(r10 - 8)
      r2 = 5
      call f
      r9 = 4
      r0 = 0
      exit
    f:
      r0 = 0
      exit`;
    // r2's mov is its only write in the program text, but the local call hands r0..r5 back.
    expect(constants(source)[0]).toEqual([9]);
  });

  it('excludes r0..r5 after a helper call, in a program without local calls', () => {
    const source = `
      r3 = 7
      r6 = 8
      r1 = 0
      r0 = 0
      call 5
      exit`;
    expect(constants(source)[0]).toEqual([6]);
  });
});
