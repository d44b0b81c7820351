/**
 * Calls charged by their caller (charged-calls.ts): which functions are straight (or have their entry
 * block charged), how their charges move into the calling blocks, and that every way into them —
 * direct calls from charged and uncharged callers, recursion, callx, helper callbacks, run entries —
 * keeps the interpreter's counters exactly: budgets at every instruction, gas limits at every unit
 * (i32 and wide gas countdowns), faults and frame-limit traps inside charged callees, and budgets
 * around poll boundaries (the calling blocks poll in their callees' stead).
 */
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import type { Program } from '../../src/isa/instruction.js';
import { BlockCounts } from '../../src/jit/block-counts.js';
import { analyze } from '../../src/jit/control-flow.js';
import type { GasCostTable } from '../../src/vm/gas.js';
import type { RunOptions } from '../../src/vm/interpreter/interpreter.js';
import { INTERRUPT_POLL_INSTRUCTIONS } from '../../src/vm/interrupt.js';
import { observeCalls } from '../support/observe-calls.js';

const observe = observeCalls;

function agree(program: Program, options: RunOptions = {}, gasCosts?: GasCostTable, frames?: number) {
  const expected = observe('interp', program, options, gasCosts, frames);
  expect(observe('jit', program, options, gasCosts, frames)).toEqual(expected);
  return expected;
}

/** Every instruction budget and every gas limit (costs: each unit) up to the whole run. */
function everyBudget(program: Program, options: RunOptions, costs: GasCostTable): void {
  const total = agree(program, options).instructions as number;
  for (let budget = 0; budget <= total; budget++) agree(program, { ...options, maxInstructions: budget });
  const gas = agree(program, options, costs).gasUsed as number;
  for (let limit = 0; limit <= gas; limit++) agree(program, { ...options, gasLimit: limit }, costs);
}

// main's loop calls mix (straight: calls square twice), which stores into its frame; square loads
// what r2 points at when r3 says so (a fault with r2 = 0), so traps happen in a charged callee of
// a charged callee, at both of its call sites.
const NESTED = `
  mov %r6, 0
  mov %r7, 0
loop:
  mov %r1, %r6
  call local mix
  add %r7, %r0
  add %r6, 1
  jlt %r6, 4, loop
  mov %r0, %r7
  exit
mix:
  stxdw [%r10-8], %r1
  mov %r6, %r1
  call local square
  stxdw [%r10-16], %r0
  mov %r1, %r6
  add %r1, 3
  call local square
  ldxdw %r1, [%r10-16]
  add %r0, %r1
  exit
square:
  stxdw [%r10-8], %r1
  mov %r0, %r1
  mul %r0, %r1
  exit`;

const program = (text: string) => decodeProgram(assemble(text));

describe('straight functions', () => {
  it('are charged by their callers, with their totals in the calling blocks', () => {
    const p = program(NESTED);
    const layout = analyze(p);
    const counts = new BlockCounts(p, layout.leader, undefined, layout.charges);
    expect(Array.from(layout.chargedByCaller)).toEqual([0, 1, 1]);
    // square: 4; mix: 10 + 2 · 4 = 18. main's call block (pc 2..3) charges 2 + 18.
    const mix = layout.functions[1].startPc;
    const square = layout.functions[2].startPc;
    expect(layout.blockInsns[square]).toBe(4);
    expect(layout.blockInsns[mix]).toBe(18);
    expect(layout.blockInsns[2]).toBe(20);
    expect([counts.insnsAfter(2), counts.insnsAfter(3)]).toEqual([19, 18]);
    // In mix, a pc's "after" is the rest of mix, callees included: after the first call (pc 12),
    // 7 instructions and one square.
    expect(counts.insnsAfter(mix)).toBe(17);
    expect(counts.insnsAfter(mix + 2)).toBe(4 + 7 + 4);
    expect(layout.longestCharge).toBe(9 + 18);
  });

  it('exclude branches, helpers, recursion, functions without callers and their callers', () => {
    const charged = (text: string) => Array.from(analyze(program(text)).chargedByCaller);
    expect(charged('call local f\nexit\nf:\njeq %r1, 0, z\nmov %r0, 1\nz:\nexit')).toEqual([0, 0]);
    expect(charged('call local f\nexit\nf:\ncall 5\nexit')).toEqual([0, 0]);
    expect(charged('call local f\nexit\nf:\ncall local f\nexit')).toEqual([0, 0]);
    // g is straight and called, f calls the recursive h: only g.
    expect(
      charged('call local f\nexit\nf:\ncall local g\ncall local h\nexit\ng:\nexit\nh:\ncall local h\nexit'),
    ).toEqual([0, 0, 1, 0]);
    // The entry is straight but has no caller: it charges itself.
    expect(charged('call local f\nexit\nf:\nmov %r0, 1\nexit')).toEqual([0, 1]);
  });

  it('stop exactly at every budget and gas limit, nested and entered at each function', () => {
    const p = program(NESTED);
    const costs: GasCostTable = { store: 3, load: 2, mul: 5, call: 7, exit: 2 };
    everyBudget(p, {}, costs);
    // Entered through run (the adapter charges them).
    const layout = analyze(p);
    for (const f of layout.functions.slice(1)) everyBudget(p, { entry: f.startPc, args: [5n] }, costs);
  });

  it('keep exact gas on the wide (i64) gas countdown', () => {
    const p = program(NESTED);
    const huge: GasCostTable = { store: 2 ** 28, mul: 3 * 2 ** 27, alu: 1, call: 7 };
    const gas = agree(p, {}, huge).gasUsed as number;
    for (const limit of [0, 1, 2 ** 28 - 1, 2 ** 28, 2 ** 29 + 5, gas - 2 ** 28, gas - 1, gas]) {
      agree(p, { gasLimit: limit }, huge);
    }
    for (const limit of [0, 2 ** 28, gas - 1])
      agree(p, { gasLimit: limit, entry: analyze(p).functions[1].startPc }, huge);
  });

  it('fault inside a charged callee of a charged callee with exact counters, at each call site', () => {
    // square reads through r2: main's frame on the first call, 0 on the second (set by mix).
    const text = NESTED.replace(
      'square:\n  stxdw [%r10-8], %r1',
      'square:\n  stxdw [%r10-8], %r1\n  ldxdw %r3, [%r2]',
    )
      .replace('  mov %r1, %r6\n  add %r1, 3', '  mov %r2, 0\n  mov %r1, %r6\n  add %r1, 3')
      .replace('loop:\n', 'loop:\n  mov %r2, %r10\n  sub %r2, 8\n');
    const p = program(text);
    expect(Array.from(analyze(p).chargedByCaller)).toEqual([0, 1, 1]);
    const costs: GasCostTable = { store: 3, load: 2, mul: 5, call: 7 };
    const first = agree(p);
    expect(first).toMatchObject({ code: 'MEMORY_FAULT' });
    agree(p, {}, costs);
    everyBudget(p, {}, costs);
  });

  it('trap at the frame limit inside charged chains at the same pc and count', () => {
    // f0 → f1 → … → f8, straight; the limit stops the chain at different depths.
    const lines = ['mov %r1, 1', 'call local f0', 'exit'];
    for (let k = 0; k < 9; k++) {
      lines.push(`f${k}:`, 'stxdw [%r10-8], %r1', 'add %r1, 1');
      lines.push(k < 8 ? `call local f${k + 1}` : 'mov %r0, %r1', 'add %r0, 1', 'exit');
    }
    const p = program(lines.join('\n'));
    expect(analyze(p).chargedByCaller[1]).toBe(1);
    const costs: GasCostTable = { store: 3, call: 7 };
    for (let frames = 1; frames <= 8; frames++) {
      expect(agree(p, {}, undefined, frames)).toMatchObject({ code: 'CALL_DEPTH_EXCEEDED' });
      agree(p, {}, costs, frames);
    }
  });

  it('are charged when reached through callx and helper callbacks', () => {
    const callx = program(`
      mov %r6, 3
    again:
      lddw code_addr %r8, f
      mov %r1, %r6
      call %r8
      call local f
      sub %r6, 1
      jne %r6, 0, again
      exit
    f:
      stxdw [%r10-8], %r1
      call local g
      exit
    g:
      mov %r0, %r1
      add %r0, 7
      exit`);
    expect(Array.from(analyze(callx).chargedByCaller)).toEqual([0, 1, 1]);
    everyBudget(callx, {}, { store: 3, call: 7, alu: 2 });
    const callback = program(`
      lddw code_addr %r1, f
      mov %r2, 5
      mov %r3, 10
      call 5
      call local f
      exit
    f:
      stxdw [%r10-8], %r1
      call local g
      exit
    g:
      mov %r0, %r1
      add %r0, %r2
      exit`);
    expect(Array.from(analyze(callback).chargedByCaller)).toEqual([0, 1, 1]);
    everyBudget(callback, {}, { store: 3, call: 7, alu: 2 });
  });

  it('stop exactly around poll boundaries of a long loop of charged calls', () => {
    const p = program(NESTED.replace('jlt %r6, 4, loop', 'jlt %r6, 30000, loop'));
    const total = agree(p).instructions as number;
    expect(total).toBeGreaterThan(5 * INTERRUPT_POLL_INSTRUCTIONS);
    const costs: GasCostTable = { store: 3, load: 2, mul: 5, call: 7 };
    const gas = agree(p, {}, costs).gasUsed as number;
    for (const k of [1, 2, 5]) {
      for (const d of [-40, -19, -18, -1, 0, 1, 17, 18, 40]) {
        agree(p, { maxInstructions: k * INTERRUPT_POLL_INSTRUCTIONS + d });
        agree(p, { gasLimit: gas - k * INTERRUPT_POLL_INSTRUCTIONS + d }, costs);
        agree(p, { gasLimit: k * INTERRUPT_POLL_INSTRUCTIONS + d }, costs);
      }
    }
    agree(p, { maxInstructions: total - 1 });
    agree(p, { gasLimit: gas - 1 }, costs);
  });
});

// fib as clang compiles it (the second call turned into a loop, whose header is the first call's
// block), with a load at its entry (from r2: main's frame, or 0 to fault) and a store in the loop.
const FIB = `
  mov %r2, %r10
  sub %r2, 8
  stxdw [%r10-8], %r1
  mov %r1, 6
  call local fib
  exit
fib:
  ldxdw %r3, [%r2]
  mov %r6, %r1
  mov %r7, 0
  jlt %r1, 2, base
again:
  mov %r1, %r6
  sub %r1, 1
  call local fib
  add %r7, %r0
  stxdw [%r10-8], %r7
  sub %r6, 2
  jgt %r6, 1, again
base:
  mov %r0, %r6
  add %r0, %r7
  exit`;

describe('entry blocks charged by the caller', () => {
  it('are those of functions not entered by a jump, whose entry block calls nothing, called from polling blocks', () => {
    const p = program(FIB);
    expect(agree(p)).toMatchObject({ r0: 8n });
    const layout = analyze(p);
    const counts = new BlockCounts(p, layout.leader, undefined, layout.charges);
    expect(Array.from(layout.entryChargedByCaller)).toEqual([0, 1]);
    expect(Array.from(layout.chargedByCaller)).toEqual([0, 0]);
    // main's call block (its entry, which polls): 5 instructions and fib's entry block (4).
    const fib = layout.functions[1].startPc;
    expect(layout.blockInsns[0]).toBe(5 + 4);
    expect(counts.insnsAfter(4)).toBe(4);
    // fib's loop header calls it: 3 + 4.
    const again = fib + 4;
    expect([layout.pollSite[again], layout.blockInsns[again], counts.insnsAfter(again + 2)]).toEqual([
      1, 7, 4,
    ]);
    const entries = (text: string) => Array.from(analyze(program(text)).entryChargedByCaller);
    // Entered by a jump (a loop at its start), or an entry block ending in a call: not charged.
    expect(entries('call local f\nexit\nf:\nsub %r1, 1\njne %r1, 0, f\nexit')).toEqual([0, 0]);
    expect(
      entries('call local f\nexit\nf:\ncall local g\njeq %r0, 0, z\nz:\nexit\ng:\njeq %r1, 1, y\ny:\nexit'),
    ).toEqual([0, 0, 1]);
    // A call from a block that does not poll (after a jump): none.
    expect(entries('jeq %r1, 0, x\ncall local f\nx:\nexit\nf:\njeq %r1, 1, y\ny:\nexit')).toEqual([0, 0]);
  });

  it('stop exactly at every budget and gas limit, through calls, run entries, callx and callbacks', () => {
    const p = program(FIB);
    const costs: GasCostTable = { load: 3, store: 2, call: 5, exit: 2 };
    everyBudget(p, {}, costs);
    const fib = analyze(p).functions[1].startPc;
    const stack = 0x7000_0000 + 8 * 512 - 64;
    everyBudget(p, { entry: fib, args: [5n, BigInt(stack)] }, costs);
    const callx = program(
      FIB.replace('call local fib\n  exit\nfib:', 'lddw code_addr %r6, fib\n  call %r6\n  exit\nfib:'),
    );
    expect(Array.from(analyze(callx).entryChargedByCaller)).toEqual([0, 1]);
    everyBudget(callx, {}, costs);
    const callback = program(
      FIB.replace(
        'mov %r1, 6\n  call local fib\n  exit',
        'lddw code_addr %r1, fib\n  mov %r2, 3\n  mov %r3, 4\n  call 5\n  exit',
      ).replace('ldxdw %r3, [%r2]', 'mov %r3, %r2'),
    );
    everyBudget(callback, {}, costs);
  });

  it('fault in the entry block with exact counters, in the first call and deeper', () => {
    for (const [from, to] of [
      ['  mov %r2, %r10\n  sub %r2, 8\n', '  mov %r2, 0\n'],
      ['  sub %r6, 2\n', '  sub %r6, 2\n  mov %r2, 0\n'],
    ]) {
      const p = program(FIB.replace(from, to));
      expect(agree(p)).toMatchObject({ code: 'MEMORY_FAULT' });
      agree(p, {}, { load: 3, store: 2, call: 5 });
    }
  });

  it('are not charged from blocks that do not poll: a long loop-free run of calls stops exactly', () => {
    // 200 calls in a row of a function with a short entry block and a long second one: with its
    // entry block charged by blocks that do not poll, far more than the slack would run between polls.
    const lines: string[] = [];
    for (let k = 0; k < 200; k++) lines.push(`mov %r1, ${k}`, 'call local g', 'add %r6, %r0');
    lines.push('mov %r0, %r6', 'exit', 'g:', 'mov %r0, %r1', 'jeq %r1, 7, skip');
    for (let k = 0; k < 500; k++) lines.push('add %r0, 3');
    lines.push('skip:', 'exit');
    const p = program(lines.join('\n'));
    expect(Array.from(analyze(p).entryChargedByCaller)).toEqual([0, 0]);
    const total = agree(p).instructions as number;
    expect(total).toBeGreaterThan(INTERRUPT_POLL_INSTRUCTIONS);
    const costs: GasCostTable = { alu: 2, call: 5 };
    const gas = agree(p, {}, costs).gasUsed as number;
    for (const d of [-600, -505, -504, -3, -2, -1, 0, 1, 2, 3, 504, 505, 600]) {
      agree(p, { maxInstructions: INTERRUPT_POLL_INSTRUCTIONS + d });
      agree(p, { gasLimit: INTERRUPT_POLL_INSTRUCTIONS + d }, costs);
      agree(p, { gasLimit: gas - INTERRUPT_POLL_INSTRUCTIONS + d }, costs);
    }
  });
});
