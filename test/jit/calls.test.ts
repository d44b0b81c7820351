/**
 * bpf-to-bpf calls in the JIT: which registers a call carries (call-registers.ts) and that trimmed
 * calls keep the interpreter's shared register file, counters, traps and stack frames: registers a
 * callee reads from its caller, registers it leaves alone or writes on some paths only, callx and
 * callbacks through the full-convention adapters, entries, and every budget inside callees.
 */
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { callRegisters } from '../../src/jit/call-registers.js';
import { analyze } from '../../src/jit/control-flow.js';
import type { GasCostTable } from '../../src/vm/gas.js';
import type { RunOptions } from '../../src/vm/interpreter/interpreter.js';
import { INTERRUPT_POLL_INSTRUCTIONS } from '../../src/vm/interrupt.js';
import { observeCalls } from '../support/observe-calls.js';

function registers(text: string, partSize?: number) {
  const program = decodeProgram(assemble(text));
  return callRegisters(program, analyze(program, undefined, partSize));
}

const observe = observeCalls;

function agree(text: string, options: RunOptions = {}, gasCosts?: GasCostTable) {
  const program = decodeProgram(assemble(text));
  const expected = observe('interp', program, options, gasCosts);
  expect(observe('jit', program, options, gasCosts)).toEqual(expected);
  return expected;
}

// fib(n) with its accumulator on the stack, so a budget stop inside a callee must continue in the
// callee's own frame (the interpreter takes the depth from the JIT).
const FIB = `
  mov %r1, 7
  call local fib
  exit
fib:
  mov %r0, %r1
  jlt %r1, 2, done
  stxdw [%r10-8], %r1
  sub %r1, 1
  call local fib
  stxdw [%r10-16], %r0
  ldxdw %r1, [%r10-8]
  sub %r1, 2
  call local fib
  ldxdw %r1, [%r10-16]
  add %r0, %r1
done:
  exit`;

describe('call registers', () => {
  it('passes what a callee reads first and returns what a caller reads after', () => {
    // fib reads r1; callers only read r0 after the call (the entry's r0 counts as read: a call
    // might leave it alone).
    expect(registers(FIB)).toEqual({
      params: Uint8Array.of(1, 2),
      results: Uint8Array.of(1, 1),
      live: Uint16Array.of(0b1, 0b10),
    });
    // The callee reads the caller's r6 before writing it; the caller reads r3 after the call, which
    // the callee writes on one path only: r3 comes back and must go in, too.
    const text = `
      mov %r6, 5
      call local f
      mov %r0, %r3
      exit
    f:
      jeq %r1, 0, skip
      mov %r3, %r6
    skip:
      mov %r0, 0
      exit`;
    // Of those, f reads r1, r3 (on the path that skips writing it) and r6 before writing them, and
    // leaves r2 alone, which it returns: only r0, r4 and r5 may go in as 0.
    expect(registers(text)).toEqual({
      params: Uint8Array.of(4, 7),
      results: Uint8Array.of(1, 4),
      live: Uint16Array.of(0b1110, 0b100_1110),
    });
  });

  it('passes everything to functions calling helpers or split into parts, returns everything with callx, trims nothing without local calls', () => {
    expect(registers('call local f\nexit\nf:\ncall 1\nexit').params[1]).toBe(10);
    const split = registers('call local f\nexit\nf:\nmov %r0, 1\njeq %r1, 0, a\nmov %r0, 2\na:\nexit', 2);
    expect([split.params[1], split.results[1]]).toEqual([10, 6]);
    const callx = registers(
      'lddw code_addr %r2, f\ncall %r2\ncall local f\nexit\nf:\nmov %r4, 1\nmov %r0, 0\nexit',
    );
    expect(callx.results[1]).toBe(5);
    // Without local calls nothing is trimmed: every function is entered with all registers.
    const entries = registers('lddw code_addr %r2, f\ncall %r2\nexit\nf:\nmov %r0, 0\nexit');
    expect(entries).toEqual({
      params: Uint8Array.of(10, 10),
      results: Uint8Array.of(6, 6),
      live: Uint16Array.of(0x3ff, 0x3ff),
    });
  });
});

describe('trimmed calls agree with the interpreter', () => {
  it('callees see the caller registers they read, and callers keep what callees leave alone', () => {
    const text = `
      mov %r0, 100
      mov %r1, 1
      mov %r2, 2
      mov %r3, 3
      mov %r4, 4
      mov %r5, 5
      mov %r6, 6
      mov %r9, 9
      call local f
      lsh %r0, 8
      add %r0, %r2
      lsh %r0, 8
      add %r0, %r3
      lsh %r0, 8
      add %r0, %r5
      lsh %r0, 8
      add %r0, %r6
      exit
    f:
      add %r0, %r9
      add %r0, %r6
      mov %r6, 77
      jeq %r1, 0, out
      mov %r3, 33
    out:
      exit`;
    expect(agree(text)).toMatchObject({ r0: 0x73_02_21_05_06n });
    expect(agree(text.replace('mov %r1, 1', 'mov %r1, 0'))).toMatchObject({ r0: 0x73_02_03_05_06n });
  });

  it('passes 0 only for registers the callee neither reads nor returns unwritten', () => {
    // f's params are r0..r4 (it reads r4); it writes r0 and r1 before reading them and returns r0..r2
    // (its caller reads them after the call), r2 written on one path only — not the one taken: r0,
    // r1 and r3 go in as 0, r2 and r4 must carry the caller's values (all nonzero).
    const text = `
      mov %r0, 10
      mov %r1, 11
      mov %r2, 12
      mov %r3, 13
      mov %r4, 14
      call local f
      lsh %r0, 8
      add %r0, %r1
      lsh %r0, 8
      add %r0, %r2
      lsh %r0, 8
      add %r0, %r3
      exit
    f:
      mov %r0, %r4
      mov %r1, 1
      add %r1, %r0
      jeq %r4, 14, out
      mov %r2, 0
    out:
      exit`;
    const f = registers(text);
    expect([f.params[1], f.live[1]]).toEqual([5, 0b1_0100]);
    expect(agree(text)).toMatchObject({ r0: 0x0e_0f_0c_0dn });
  });

  it('stops exactly at every budget in poll blocks that store registers set long before', () => {
    // A loop header and a function entry poll; their blocks store registers the function reads
    // nowhere else (r4, r7; r3 and r4 in g, which reads nothing else first), and the registers the
    // function never reads (r5, r8, r9) are dead there. The budget runs out inside each block after
    // its stores, so a live register passed as 0 to the budget import (from the poll path, where
    // dead ones go as 0) changes the stack.
    const text = `
      mov %r3, 0x33
      mov %r4, 0x44
      mov %r5, 0x55
      mov %r7, 0x77
      mov %r8, 0x88
      mov %r9, 0x99
      mov %r6, 3
    again:
      stxdw [%r10-8], %r4
      stxdw [%r10-16], %r7
      mov %r1, %r6
      call local g
      sub %r6, 1
      jne %r6, 0, again
      exit
    g:
      stxdw [%r10-8], %r3
      stxdw [%r10-16], %r4
      stxdw [%r10-24], %r1
      mov %r0, %r1
      exit`;
    const total = agree(text).instructions as number;
    for (let budget = 1; budget <= total; budget++) agree(text, { maxInstructions: budget });
    const costs: GasCostTable = { store: 3, alu: 2 };
    const gas = agree(text, {}, costs).gasUsed as number;
    for (let limit = 0; limit <= gas; limit++) agree(text, { gasLimit: limit }, costs);
  });

  it('callx and helper callbacks reach trimmed functions through their adapters', () => {
    const callx = `
      mov %r3, 3
      mov %r4, 4
      lddw code_addr %r6, f
      mov %r1, 1
      call %r6
      add %r0, %r3
      add %r0, %r4
      exit
    f:
      mov %r4, 40
      mov %r0, %r1
      exit`;
    expect(agree(callx)).toMatchObject({ r0: 44n });
    const callback = `
      lddw code_addr %r1, f
      mov %r2, 4
      mov %r3, 10
      mov %r6, 1000
      call 5
      add %r0, %r6
      exit
    f:
      mov %r0, %r1
      add %r0, %r2
      exit`;
    expect(agree(callback)).toMatchObject({ r0: 1046n });
  });

  it('enters at a trimmed function with arguments', () => {
    const program = decodeProgram(assemble(FIB));
    const options = { entry: 3, args: [6n] };
    expect(observe('jit', program, options)).toEqual(observe('interp', program, options));
    expect(observe('jit', program, options)).toMatchObject({ r0: 8n });
  });

  it('stops exactly at every instruction budget and gas limit inside recursive callees', () => {
    const total = agree(FIB).instructions as number;
    expect(agree(FIB)).toMatchObject({ r0: 13n });
    for (let budget = 1; budget <= total; budget++) agree(FIB, { maxInstructions: budget });
    const costs: GasCostTable = { load: 3, store: 2, call: 5, exit: 2 };
    const gas = agree(FIB, {}, costs).gasUsed as number;
    for (let limit = 0; limit <= gas; limit += 7) agree(FIB, { gasLimit: limit }, costs);
  });

  it('stops exactly around every poll boundary when the meters are refilled inside callees', () => {
    // Refills happen in the callees' loops and in their caller's: a callee starts with its caller's
    // poll thresholds (see codegen's prologue). Long callee loops with a block that does not poll,
    // and many short calls; budgets around each poll boundary, and gas limits.
    const text = `
      mov %r6, 0
      mov %r7, 6
    outer:
      mov %r1, 30000
      call local long
      add %r6, %r0
      mov %r8, 3000
    calls:
      mov %r1, %r8
      call local short
      add %r6, %r0
      sub %r8, 1
      jne %r8, 0, calls
      sub %r7, 1
      jne %r7, 0, outer
      mov %r0, %r6
      exit
    long:
      mov %r0, 0
    again:
      add %r0, %r1
      jgt %r0, 1000, skip
      add %r0, 3
    skip:
      sub %r1, 1
      jne %r1, 0, again
      exit
    short:
      mov %r0, %r1
      mul %r0, 3
      exit`;
    const total = agree(text).instructions as number;
    expect(total).toBeGreaterThan(10 * INTERRUPT_POLL_INSTRUCTIONS);
    const costs: GasCostTable = { alu: 2, mul: 5, call: 5 };
    const gas = agree(text, {}, costs).gasUsed as number;
    for (const k of [1, 2, 5]) {
      for (const d of [-300, -17, -1, 0, 1, 17, 300]) {
        agree(text, { maxInstructions: k * INTERRUPT_POLL_INSTRUCTIONS + d });
        agree(text, { gasLimit: gas - k * INTERRUPT_POLL_INSTRUCTIONS + d }, costs);
      }
    }
    agree(text, { maxInstructions: total - 1 });
    agree(text, { gasLimit: gas - 1 }, costs);
  });

  it('faults past the frame limit on call chains without recursion, whatever the limit', () => {
    // f0 → f1 → … → f(n−1), each storing into its frame before calling on, entered at f0 and at f1
    // (a shorter chain), with and without a helper call (which may call back into the program, so
    // the JIT then checks every call). Calls on chains that stay below the last frame skip the
    // check (codegen's checksDepth): the limit must still stop the others at the same pc.
    const chain = (n: number, helper: boolean) => {
      const lines: string[] = [];
      for (let k = 0; k < n; k++) {
        lines.push(`f${k}:`, `stxdw [%r10-8], %r1`, 'add %r1, 1');
        if (k === 0 && helper)
          lines.push('mov %r6, %r1', 'mov %r1, 1', 'mov %r2, 2', 'call 1', 'mov %r1, %r6');
        lines.push(k < n - 1 ? `call local f${k + 1}` : 'mov %r0, %r1', 'exit');
      }
      return decodeProgram(assemble(lines.join('\n')));
    };
    for (const n of [2, 3, 8, 9]) {
      for (const helper of [false, true]) {
        const program = chain(n, helper);
        const second = program.insns[program.insns.findIndex((x) => x.kind === 'exit') + 1].pc; // f1
        for (let frames = 1; frames <= 8; frames++) {
          for (const entry of [0, second]) {
            const o = { entry, args: [1n] };
            const expected = observe('interp', program, o, undefined, frames);
            expect(observe('jit', program, o, undefined, frames)).toEqual(expected);
            const deepest = entry === 0 ? n : n - 1;
            expect(expected.code).toBe(deepest > frames ? 'CALL_DEPTH_EXCEEDED' : undefined);
          }
        }
      }
    }
  });

  it('faults past the frame limit on call chains that a helper callback starts', () => {
    // The callback f1 has no local caller, yet runs one frame below its helper's caller: with host
    // code in the program every call checks the limit.
    for (const m of [3, 7, 8]) {
      const lines = ['lddw code_addr %r1, f1', 'mov %r2, 1', 'mov %r3, 5', 'call 5', 'exit'];
      for (let k = 1; k <= m; k++) {
        lines.push(`f${k}:`, 'stxdw [%r10-8], %r1', 'add %r1, 1');
        lines.push(k < m ? `call local f${k + 1}` : 'mov %r0, %r1', 'exit');
      }
      const program = decodeProgram(assemble(lines.join('\n')));
      for (let frames = 1; frames <= 8; frames++) {
        const expected = observe('interp', program, {}, undefined, frames);
        expect(observe('jit', program, {}, undefined, frames)).toEqual(expected);
        expect(expected.code).toBe(1 + m > frames ? 'CALL_DEPTH_EXCEEDED' : undefined);
      }
    }
  });

  it('faults on recursion past the frame limit at the same pc and count', () => {
    expect(agree('mov %r1, 0\ncall local f\nexit\nf:\nadd %r1, 1\ncall local f\nexit')).toMatchObject({
      code: 'CALL_DEPTH_EXCEEDED',
      pc: 4,
    });
  });

  it('checks the frame limit of a call with its block: a loop header, a plain block, an entry block', () => {
    // Recursion without a base case, the call ending (header) a loop's first block — clang's
    // recursion, whose check goes with the header's poll test —, (plain) a block after a branch and
    // (entry) the function's entry block. Each frame stores into a stack address that is inside the
    // window down to depth 4 only (r8 = top − 56 + 16 · (depth − 1)), in the calling block itself: at the
    // last frame the block's fault, or a budget that ends inside it, comes before the call. Every
    // budget up to the end, with and without a cost table, on every frame limit.
    const body = (shape: string, store: boolean) => {
      const s = store ? 'stxdw [%r8+0], %r6' : 'mov %r0, %r6';
      const call = [s, 'mov %r1, %r6', 'add %r1, 1', 'mov %r2, %r8', 'add %r2, 16', 'call local f'];
      if (shape === 'header')
        return [
          'mov %r6, %r1',
          'mov %r8, %r2',
          'mov %r7, 0',
          'loop:',
          ...call,
          'add %r7, 1',
          'jlt %r7, 2, loop',
          'exit',
        ];
      if (shape === 'plain')
        return ['mov %r6, %r1', 'mov %r8, %r2', 'jgt %r6, 100, out', ...call, 'out:', 'exit'];
      return ['mov %r6, %r1', 'mov %r8, %r2', ...call, 'exit'];
    };
    const costs: GasCostTable = { alu: 2, call: 3, store: 5 };
    for (const shape of ['header', 'plain', 'entry']) {
      for (const store of [false, true]) {
        const text = [
          'mov %r1, 0',
          'mov %r2, %r10',
          'sub %r2, 56',
          'call local f',
          'exit',
          'f:',
          ...body(shape, store),
        ];
        const program = decodeProgram(assemble(text.join('\n')));
        for (const frames of [1, 2, 5, 6, 8]) {
          for (const gasCosts of [undefined, costs]) {
            const expected = observe('interp', program, {}, gasCosts, frames);
            expect(observe('jit', program, {}, gasCosts, frames)).toEqual(expected);
            expect(expected.code).toBe(store && frames > 5 ? 'MEMORY_FAULT' : 'CALL_DEPTH_EXCEEDED');
            const total = expected.instructions as number;
            for (let n = 1; n <= total; n++) {
              const o = gasCosts === undefined ? { maxInstructions: n } : { gasLimit: n * 2 };
              expect(observe('jit', program, o, gasCosts, frames)).toEqual(
                observe('interp', program, o, gasCosts, frames),
              );
            }
          }
        }
      }
    }
  });
});
