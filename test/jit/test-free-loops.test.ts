/**
 * Innermost loops whose blocks after the header run without budget tests (src/jit/test-free-loops.ts,
 * codegen's `testFreeLoop`): which blocks lose their test, and that the copy stops, faults and counts
 * like the interpreter — budgets ending at every instruction of iterations near poll boundaries and
 * near the end, every exit form, rotated loops entered in their middle, a local call in the body,
 * priced and unit gas, and an interrupt while the copy runs.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { analyze } from '../../src/jit/control-flow.js';
import { planTestFree } from '../../src/jit/test-free-loops.js';
import type { GasCostTable } from '../../src/vm/gas.js';
import type { RunOptions } from '../../src/vm/interpreter/interpreter.js';
import { INTERRUPT_POLL_INSTRUCTIONS, InterruptSignal } from '../../src/vm/interrupt.js';
import type { GuestMemory } from '../../src/vm/memory/guest-memory.js';
import { Slot, slotBase } from '../../src/vm/memory/layout.js';
import { agreeOnRuns } from '../support/agree-runs.js';
import { patternedInputMemory } from '../support/input-memory.js';

const POLL = INTERRUPT_POLL_INSTRUCTIONS;
const INPUT = slotBase(Slot.INPUT);
const SIZE = 4096;

/**
 * A data-dependent loop (r1 = input): header (5), then odd (3) or even (3) blocks, a join (2) that
 * may leave, and the back edge (2). Every exit form is a variant: a break (`jeq … out`), falling out
 * after the back edge's test, an `exit` inside the loop, a `ja` out.
 */
const BRANCHY = `
  mov %r0, 0
  mov %r6, 0
loop:
  mov %r3, %r6
  and %r3, 4095
  add %r3, %r1
  ldxb %r4, [%r3]
  jset %r4, 1, odd
  add %r0, %r4
  lsh %r0, 1
  ja next
odd:
  xor %r0, %r4
  mul %r0, 3
  and %r0, 0xffffff
next:
  add %r7, %r0
  jeq %r6, 70001, out
  add %r6, 1
  jne %r6, 90000, loop
  add %r0, 7
out:
  exit`;
/** Before the loop, and its first iterations' lengths on this input (even/odd by the byte at i). */
const HEAD = 2;

const EXITS = [
  BRANCHY,
  BRANCHY.replace('jeq %r6, 70001, out', 'jne %r6, 70001, stay\n  exit\nstay:'),
  BRANCHY.replace('jeq %r6, 70001, out', 'jne %r6, 70001, stay\n  ja out\nstay:'),
  // Leaves by the back edge's test only; r10 spills in the body.
  BRANCHY.replace('jeq %r6, 70001, out', 'stxdw [%r10-8], %r7').replace(
    'add %r7, %r0',
    'ldxdw %r7, [%r10-8]\n  add %r7, %r0',
  ),
];

/** clang's rotated layout: entered at its test from above (a mid entry), the body before it. */
const ROTATED = `
  mov %r0, 0
  mov %r6, 0
  ja cond
body:
  mov %r3, %r6
  and %r3, 4095
  add %r3, %r1
  ldxb %r4, [%r3]
  jset %r4, 2, skip
  add %r0, %r4
  ja cond
skip:
  xor %r0, 0x55
cond:
  add %r6, 1
  jlt %r6, 60000, body
  exit`;

/**
 * The rotated loop inside another, 0 to 7 trips per entry: entered at its mid entry each time, left
 * from that first partial iteration when it has nothing to do.
 */
const ROTATED_INNER = `
  mov %r0, 0
  mov %r8, 0
outer:
  mov %r6, 0
  mov %r9, %r8
  and %r9, 7
  ja cond
body:
  mov %r3, %r6
  add %r3, %r1
  ldxb %r4, [%r3]
  jset %r4, 2, skip
  add %r0, %r4
  ja cond
skip:
  xor %r0, 0x55
cond:
  add %r6, 1
  jlt %r6, %r9, body
  add %r8, 1
  jne %r8, 20000, outer
  exit`;

/** A local call in the body: the blocks after it keep their tests. */
const CALLING = `
  mov %r0, 0
  mov %r6, 0
loop:
  mov %r3, %r6
  and %r3, 4095
  add %r3, %r1
  ldxb %r4, [%r3]
  jset %r4, 1, odd
  mov %r1, %r4
  call local f
  mov %r1, %r8
  add %r7, %r0
  ja next
odd:
  add %r7, 3
next:
  add %r6, 1
  jne %r6, 30000, loop
  exit
f:
  mov %r8, %r1
  mov %r0, %r1
  jgt %r0, 100, big
  add %r0, 1
big:
  exit`;

const machine = (): GuestMemory => patternedInputMemory(SIZE);

/** Runs `text` on both engines (fresh memory per engine) under every option set; returns the outcomes. */
function agree(text: string, runs: RunOptions[], gasCosts?: GasCostTable): Record<string, unknown>[] {
  return agreeOnRuns(text, runs, { memory: machine, gasCosts, args: [BigInt(INPUT), BigInt(SIZE)] });
}

/** The first loop's plan in `text`. */
function plan(text: string) {
  const program = decodeProgram(assemble(text));
  const layout = analyze(program);
  const loop = layout.functions[0].parts[0].regions.find((r) => r.isLoop);
  if (loop === undefined) throw new Error('no loop');
  return planTestFree(program, layout, loop, () => false);
}

/** Every budget from `from` to `from + n − 1`. */
const range = (from: number, n: number) => Array.from({ length: n }, (_, k) => from + k);

describe('test-free loop copies', () => {
  it('plan the blocks after the header: paths before a call, a mid entry, shapes that do not fit', () => {
    // odd (3) + next (2) + back edge (2) is the longest path after the header.
    expect(plan(BRANCHY)).toEqual({ rest: 7, restGas: 7, restMid: 0, restMidGas: 0, free: [7, 10, 13, 15] });
    // From the header: the add block (2) + cond (2); from the mid entry (cond): its own block.
    expect(plan(ROTATED)).toMatchObject({ rest: 4, restMid: 2, free: [8, 10, 11] });
    // The block after the call and the join keep their tests; the call's own block loses it.
    expect(plan(CALLING)).toEqual({ rest: 2, restGas: 2, restMid: 0, restMidGas: 0, free: [7, 12] });
    // A helper call (the meters come back from the host), and a one-block loop: no copy.
    expect(plan(BRANCHY.replace('add %r7, %r0', 'call 1'))).toBeUndefined();
    expect(plan('mov %r0, 0\nl:\nadd %r0, 1\njne %r0, 9, l\nexit')).toBeUndefined();
  });

  it('stops at the instruction budget exactly: every instruction of iterations, around polls, at the end', () => {
    const [full] = agree(BRANCHY, [{}]);
    const total = full.instructions as number;
    const limits = [
      ...range(HEAD, 40),
      ...range(POLL - 20, 40),
      ...range(3 * POLL - 20, 40),
      ...range(total - 60, 61),
    ];
    const outcomes = agree(
      BRANCHY,
      limits.map((maxInstructions) => ({ maxInstructions })),
    );
    for (const [k, o] of outcomes.entries()) {
      if (limits[k] < total) expect(o).toMatchObject({ code: 'INSTRUCTION_LIMIT', instructions: limits[k] });
    }
    for (const text of EXITS.slice(1)) {
      const [end] = agree(text, [{}]);
      const n = end.instructions as number;
      agree(
        text,
        [...range(2 * POLL - 9, 20), ...range(n - 30, 31)].map((maxInstructions) => ({ maxInstructions })),
      );
    }
  });

  it('stops at the gas limit exactly, priced (two countdowns) and unit', () => {
    const priced: GasCostTable = { load: 4, mul: 7, jump: 2 };
    for (const costs of [priced, { default: 1 }, { alu: 3, jump: 0 }]) {
      const [full] = agree(BRANCHY, [{}], costs);
      const used = full.gasUsed as number;
      const limits = [...range(HEAD, 30), ...range(2 * POLL - 15, 30), ...range(used - 40, 41)];
      agree(
        BRANCHY,
        limits.map((gasLimit) => ({ gasLimit })),
        costs,
      );
      // Both limits: the instruction one first, or the gas one.
      agree(
        BRANCHY,
        limits.map((gasLimit, k) => ({ gasLimit, maxInstructions: limits[(k + 7) % limits.length] })),
        costs,
      );
    }
  });

  it('a rotated loop entered at its mid entry, and a local call in the body', () => {
    const inner = decodeProgram(assemble(ROTATED_INNER));
    const layout = analyze(inner);
    const loop = layout.functions[0].parts[0].regions.find((r) => r.isLoop && r.mid >= 0);
    expect(loop && planTestFree(inner, layout, loop, () => false)).toMatchObject({ restMid: 2 });
    for (const text of [ROTATED, ROTATED_INNER, CALLING]) {
      for (const costs of [undefined, { load: 3, call: 5, exit: 2 }]) {
        const [full] = agree(text, [{}], costs);
        const n = full.instructions as number;
        const used = full.gasUsed as number;
        agree(
          text,
          [...range(3, 30), ...range(POLL - 10, 30), ...range(n - 40, 41)].map((maxInstructions) => ({
            maxInstructions,
          })),
          costs,
        );
        agree(
          text,
          [...range(2 * POLL - 10, 25), ...range(used - 30, 31)].map((gasLimit) => ({ gasLimit })),
          costs,
        );
      }
    }
  });

  it('a fault inside the copy counts like the interpreter', () => {
    // The walk leaves the input at i = 4096 (no `and`): a fault in the header block's load.
    const leaves = BRANCHY.replace('and %r3, 4095', 'mov %r5, 0');
    const [trap] = agree(leaves, [{}], { load: 4, mul: 7 });
    expect(trap).toMatchObject({ code: 'MEMORY_FAULT', pc: 5 });
    // A fault in a block that lost its test (odd), with priced gas.
    const inOdd = BRANCHY.replace(
      'xor %r0, %r4',
      'xor %r0, %r4\n  jne %r6, 5000, fine\n  ldxb %r9, [%r0]\nfine:',
    );
    expect(agree(inOdd, [{}], { load: 4, mul: 7 })[0]).toMatchObject({ code: 'MEMORY_FAULT' });
  });

  it('an interrupt from another thread stops an endless branchy loop', async () => {
    const endless = BRANCHY.replace('jne %r6, 90000, loop', 'ja loop').replace(
      'jeq %r6, 70001, out',
      'mov %r9, 0',
    );
    expect(plan(endless)?.free.length).toBeGreaterThan(0);
    const signal = new InterruptSignal();
    const m = await new Promise<{ kind: string; code?: string; instructions?: number }>((resolve, reject) => {
      const worker = new Worker(new URL('../vm/interrupt-worker.mjs', import.meta.url), {
        workerData: {
          kind: 'jit',
          buffer: signal.buffer,
          text: endless.replace('ldxb %r4, [%r3]', 'mov %r4, %r3'),
        },
      });
      const watchdog = setTimeout(() => {
        void worker.terminate();
        reject(new Error('the guest ignored the interrupt signal'));
      }, 30_000);
      worker.on('message', (msg: { kind: string }) => {
        if (msg.kind === 'started') setTimeout(() => signal.interrupt(), 50);
        else {
          clearTimeout(watchdog);
          void worker.terminate();
          resolve(msg);
        }
      });
      worker.on('error', reject);
    });
    expect(m).toMatchObject({ kind: 'trap', code: 'INTERRUPTED' });
    expect(m.instructions).toBeGreaterThanOrEqual(POLL);
  });
});
