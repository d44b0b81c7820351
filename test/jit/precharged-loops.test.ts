/**
 * One-block induction loops whose trips the JIT charges at the loop's entry (codegen's
 * `prechargedLoop`): the copy runs as many iterations as both countdowns pay before their poll
 * thresholds without counting them, then the ordinary loop polls and re-enters. Every budget and
 * gas limit — around poll boundaries and at each instruction of an iteration — must stop at the
 * interpreter's instruction with its counters, and a fault inside such a loop must count only the
 * iterations that ran.
 */
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { JitProgram } from '../../src/jit/engine.js';
import type { GasCostTable } from '../../src/vm/gas.js';
import { Interpreter, type RunOptions } from '../../src/vm/interpreter/interpreter.js';
import { INTERRUPT_POLL_INSTRUCTIONS } from '../../src/vm/interrupt.js';
import type { GuestMemory } from '../../src/vm/memory/guest-memory.js';
import { Slot, slotBase } from '../../src/vm/memory/layout.js';
import { patternedInputMemory } from '../support/input-memory.js';
import { outcome } from '../support/outcome.js';

const POLL = INTERRUPT_POLL_INSTRUCTIONS;
const INPUT = slotBase(Slot.INPUT);
const SIZE = 4096;

/** bench/programs/mem-loop.s on 4 KiB: 200 passes of a 512-trip walk (5 instructions a trip). */
const WALK = `
  mov %r0, 0
  mov %r6, 0
pass:
  mov %r3, %r1
  mov %r4, %r1
  add %r4, %r2
word:
  ldxdw %r5, [%r3]
  add %r0, %r5
  stxdw [%r3], %r0
  add %r3, 8
  jlt %r3, %r4, word
  add %r6, 1
  jlt %r6, 200, pass
  exit`;
/** Instructions before the first trip, per pass, per trip. */
const WALK_HEAD = 2 + 3;
const WALK_PASS = 3 + 512 * 5 + 2;

/** A loop without memory accesses, 300k trips with a spill to the own frame. */
const COUNT = `
  mov %r0, 0
  mov %r3, 0
  lddw %r4, 300000
loop:
  add %r0, %r3
  stxdw [%r10-8], %r0
  xor %r0, 0x55
  add %r3, 1
  jlt %r3, %r4, loop
  exit`;

const machine = (): GuestMemory => patternedInputMemory(SIZE);

/** Runs `text` on both engines (fresh memory per run) under every option set; returns the outcomes. */
function agree(text: string, runs: RunOptions[], gasCosts?: GasCostTable): Record<string, unknown>[] {
  const program = decodeProgram(assemble(text));
  return runs.map((options) => {
    const args = [BigInt(INPUT), BigInt(SIZE)];
    const withArgs = { ...options, args };
    const interpMemory = machine();
    const interp = new Interpreter(program, { memory: interpMemory, gasCosts });
    const expected = outcome(() => interp.run(withArgs));
    const bytes = interpMemory.read(INPUT, SIZE);
    for (const partSize of [undefined, 3]) {
      const memory = machine();
      const jit = new JitProgram(program, { memory, gasCosts, partSize });
      expect(
        outcome(() => jit.run(withArgs)),
        `${partSize} ${JSON.stringify(options)}`,
      ).toEqual(expected);
      expect(memory.read(INPUT, SIZE)).toEqual(bytes);
    }
    return expected;
  });
}

const AROUND_POLLS = [POLL - 1, POLL, POLL + 1, POLL + 2, POLL + 4, 2 * POLL - 3, 2 * POLL + 7, 5 * POLL + 1];
/** Each instruction of a trip inside passes 0, 1 and 37 of WALK. */
const IN_TRIPS = [0, 1, 37].flatMap((p) =>
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 2555, 2559].map((k) => WALK_HEAD + p * WALK_PASS + k),
);

describe('loops charged at their entry', () => {
  it('a walk stops at the instruction budget exactly: around polls and at every instruction of a trip', () => {
    const [full] = agree(WALK, [{}]);
    expect(full.instructions).toBe(WALK_HEAD + 200 * WALK_PASS - 3 + 1);
    // The leaving test with a `ja` back, and a tail after the loop.
    const leaving = WALK.replace('jlt %r3, %r4, word', 'jge %r3, %r4, next\n  ja word\nnext:');
    agree(leaving, [{}, ...[...AROUND_POLLS, ...IN_TRIPS].map((maxInstructions) => ({ maxInstructions }))]);
    agree(leaving, [{}, ...AROUND_POLLS.map((gasLimit) => ({ gasLimit }))], { load: 2, jump: 3 });
    const limits = [...AROUND_POLLS, ...IN_TRIPS, (full.instructions as number) - 1];
    const outcomes = agree(
      WALK,
      limits.map((maxInstructions) => ({ maxInstructions })),
    );
    for (const [k, o] of outcomes.entries()) {
      expect(o).toMatchObject({ code: 'INSTRUCTION_LIMIT', instructions: limits[k] });
    }
  });

  it('a walk on two countdowns (priced gas) stops at the gas limit exactly', () => {
    const costs: GasCostTable = { load: 2, store: 2, mul: 3, call: 5 };
    const [full] = agree(WALK, [{}], costs);
    const used = full.gasUsed as number;
    expect(used).toBeGreaterThan(full.instructions as number);
    const limits = [...AROUND_POLLS, ...IN_TRIPS, used - 1, used];
    agree(
      WALK,
      limits.map((gasLimit) => ({ gasLimit })),
      costs,
    );
    // Both limits, the instruction one first or the gas one first.
    agree(
      WALK,
      limits.map((gasLimit, k) => ({ gasLimit, maxInstructions: limits[(k + 5) % limits.length] })),
      costs,
    );
    // Free jumps: a trip's gas differs from its length, and a table of ones (one countdown).
    agree(WALK, [{}, { gasLimit: 3 * POLL + 2 }, { gasLimit: 400_003 }], { alu: 3, jump: 0 });
    agree(WALK, [{}, { gasLimit: 3 * POLL + 2 }, { maxInstructions: 400_003 }], { default: 1 });
  });

  it('a loop without accesses, and every exit form', () => {
    const forms = [
      COUNT,
      COUNT.replace('jlt %r3, %r4', 'jle %r3, %r4'),
      COUNT.replace('jlt %r3, %r4', 'jne %r3, %r4').replace('add %r3, 1', 'add %r3, 3'),
      COUNT.replace('jlt %r3, %r4', 'jgt %r4, %r3').replace('add %r3, 1', 'add %r3, %r5'),
    ];
    // clang's other layout: the test leaves, a `ja` goes back (its block is charged per trip but the last).
    const leaving = (test: string) =>
      COUNT.replace('jlt %r3, %r4, loop', `${test}, out\n  ja loop\nout:\n  add %r0, 1`);
    forms.push(
      leaving('jge %r3, %r4'),
      leaving('jeq %r3, %r4').replace('add %r3, 1', 'add %r3, 4'),
      leaving('jgt %r3, %r4'),
    );
    const [full] = agree(forms[0], [{}]);
    expect(full.instructions).toBe(3 + 300_000 * 5 + 1);
    for (const text of forms) {
      agree(text, [
        {},
        ...[...AROUND_POLLS, 300_001, 1_000_003].map((maxInstructions) => ({ maxInstructions })),
      ]);
      agree(text, [{}, { gasLimit: 2 * POLL + 1 }, { gasLimit: 1_000_001 }], { alu: 2, store: 3 });
    }
    // A register step: 7 (a few trips), 0 (endless: the budget stops it).
    const step = (k: number) => forms[3].replace('mov %r3, 0', `mov %r3, 0\n  mov %r5, ${k}`);
    agree(step(7), [{}, { maxInstructions: 3 * POLL + 5 }]);
    expect(agree(step(0), [{ maxInstructions: 3 * POLL + 5 }])[0]).toMatchObject({
      code: 'INSTRUCTION_LIMIT',
    });
    // Entered at or past the bound: one trip.
    agree(COUNT.replace('mov %r3, 0', 'lddw %r3, 300000'), [{}]);
    agree(COUNT.replace('mov %r3, 0', 'lddw %r3, 0x100000000'), [{}]);
  });

  it('runs exactly n trips for every n mod 4 (the unrolled trips, then the rest)', () => {
    // One pass of k trips (k words from the input's start), then the sum of the words written.
    const walk = (k: number) =>
      WALK.replace('add %r4, %r2', `add %r4, ${8 * k}`).replace('jlt %r6, 200, pass', 'jlt %r6, 1, pass');
    for (let k = 1; k <= 13; k++) {
      const [full] = agree(walk(k), [{}]);
      expect(full.instructions).toBe(WALK_HEAD + k * 5 + 2 + 1);
      // Budgets that end inside each of the first trips and inside the last.
      const limits = [WALK_HEAD + 1, WALK_HEAD + 7, WALK_HEAD + 5 * k - 1, WALK_HEAD + 5 * k + 1];
      agree(
        walk(k),
        limits.map((maxInstructions) => ({ maxInstructions })),
      );
    }
    // A register step and bound (sieve's inner loop): trips 1..9 of a byte store at stride 3.
    const stride = (k: number) => `
      mov %r0, 0
      mov %r3, %r1
      mov %r4, %r1
      add %r4, ${3 * k}
      mov %r5, 3
    loop:
      stxb [%r3], %r5
      add %r0, 1
      add %r3, %r5
      jlt %r3, %r4, loop
      exit`;
    for (let k = 1; k <= 9; k++) expect(agree(stride(k), [{}])[0]).toMatchObject({ r0: BigInt(k) });
  });

  it('a fault inside a loop counts only the trips that ran', () => {
    // r10 + 0 lies above the stack: the access keeps its check, and the loop is not charged ahead.
    const above = COUNT.replace('stxdw [%r10-8], %r0', 'stxdw [%r10+0], %r0');
    const [trap] = agree(above, [{}], { alu: 2, store: 3 });
    // The faulting store counts (mov, mov: 2 each; lddw: 1; add: 2; stxdw: 3).
    expect(trap).toMatchObject({ code: 'MEMORY_FAULT', pc: 5, instructions: 5, gasUsed: 2 + 2 + 1 + 2 + 3 });
    // A walk one word longer than the input: its entry check fails, the last trip faults.
    const longer = WALK.replace('add %r4, %r2', 'add %r4, %r2\n  add %r4, 8');
    expect(agree(longer, [{}], { load: 2 })[0]).toMatchObject({
      code: 'MEMORY_FAULT',
      pc: 6,
      instructions: WALK_HEAD + 1 + 512 * 5 + 1,
    });
  });
});
