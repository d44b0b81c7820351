/**
 * The JIT's countdown meters on runs longer than one interrupt poll interval (the random differential
 * programs stop long before): every refill, every budget around a poll boundary, gas moving with the
 * instruction count or priced by a table (also beyond 32 bits), helper gas, bpf-to-bpf calls, loops
 * (natural, rotated and nested, irreducible) and split functions, all with the interpreter's exact results, counters
 * and trap pcs.
 */
import { describe, expect, it } from 'vitest';
import type { GasCostTable } from '../../src/vm/gas.js';
import { HelperRegistry } from '../../src/vm/helpers.js';
import type { RunOptions } from '../../src/vm/interpreter/interpreter.js';
import { INTERRUPT_POLL_INSTRUCTIONS } from '../../src/vm/interrupt.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';
import { agreeOnRuns } from '../support/agree-runs.js';
import { clangPrime } from './loop-programs.js';

const POLL = INTERRUPT_POLL_INSTRUCTIONS;

/** ~450k instructions: nested loops, a gas-burning helper and a local call in the inner loop. */
const LONG = `
  mov %r6, 0
  mov %r7, 2500
outer:
  mov %r1, 7
  call 101
  add %r6, %r0
  mov %r8, 20
inner:
  mov %r1, %r8
  call local f
  add %r6, %r0
  sub %r8, 1
  jne %r8, 0, inner
  sub %r7, 1
  jne %r7, 0, outer
  mov %r0, %r6
  exit
f:
  mov %r0, %r1
  mul %r0, 3
  exit`;

/** The same loops without the helper, so only the countdowns' own refills meter them. */
const PLAIN = LONG.replace('call 101\n', '');

/** A cycle with two entries (irreducible: the JIT's dispatch loop), ~450k instructions. */
const IRREDUCIBLE = `
  mov %r0, 0
  mov %r7, 150000
  jeq %r1, 0, b
a:
  add %r0, 1
b:
  sub %r7, 1
  jne %r7, 0, a
  exit`;

/** Trial division as clang lays it out (nested rotated loops, see loop-programs.ts), ~600k instructions. */
const NESTED = clangPrime(4000);

/** A straight-line block longer than a poll interval, called three times. */
const WIDE = `mov %r0, 0\ncall local f\ncall local f\ncall local f\nexit\nf:\n${'add %r0, 1\n'.repeat(POLL + 5000)}exit`;

const helpers = new HelperRegistry().define(101, 'burn', (c) => {
  c.consumeGas(c.argLo(1) & 15);
  return 1;
});

function machine(): GuestMemory {
  const m = new GuestMemory();
  m.mapStack();
  return m;
}

/** Runs `text` on both engines under every option set; returns the interpreter's outcomes. */
function agree(text: string, runs: RunOptions[], gasCosts?: GasCostTable): Record<string, unknown>[] {
  return agreeOnRuns(text, runs, { memory: machine, helpers, gasCosts });
}

const AROUND_POLLS = [POLL - 1, POLL, POLL + 1, 2 * POLL - 3, 2 * POLL + 7, 5 * POLL + 1, 400_001];

describe('JIT countdown meters on long runs', () => {
  it.each([
    ['loops with a gas-charging helper', LONG],
    ['loops without it', PLAIN],
    ['an irreducible loop', IRREDUCIBLE],
    ['nested rotated loops sharing a header and a mid entry', NESTED],
  ])('instruction budgets around every poll boundary, unit gas: %s', (_, text) => {
    const outcomes = agree(text, [{}, ...AROUND_POLLS.map((maxInstructions) => ({ maxInstructions }))]);
    expect(outcomes[0].instructions as number).toBeGreaterThan(5 * POLL);
    for (const o of outcomes.slice(1)) expect(o).toMatchObject({ code: 'INSTRUCTION_LIMIT' });
    agree(
      text,
      AROUND_POLLS.map((gasLimit) => ({ gasLimit })),
    );
    agree(
      text,
      AROUND_POLLS.map((gasLimit, k) => ({ gasLimit, maxInstructions: AROUND_POLLS[(k + 3) % 7] })),
    );
  });

  it('priced gas (two countdowns), and a table of all ones (one countdown)', () => {
    const costs: GasCostTable = { alu: 2, mul: 3, call: 7, exit: 1, jump: 0 };
    const limits = [undefined, ...AROUND_POLLS, 3 * 400_001];
    for (const text of [LONG, PLAIN, IRREDUCIBLE, NESTED]) {
      agree(
        text,
        limits.map((gasLimit) => ({ gasLimit })),
        costs,
      );
      agree(text, [{}, { gasLimit: 2 * POLL + 1 }, { maxInstructions: 3 * POLL }], { default: 1 });
    }
  });

  it('gas beyond 32 bits on the i32 gas countdown: limits around its refills are exact', () => {
    const costs: GasCostTable = { call: 2 ** 12, mul: 2 ** 16 };
    const used = agree(LONG, [{}], costs)[0].gasUsed as number;
    expect(used).toBeGreaterThan(2 ** 31);
    agree(
      LONG,
      [used, used - 1, Math.floor(used / 3), 2 ** 30 - 1, 2 ** 30 + 7, 2 ** 31 + 4].map((gasLimit) => ({
        gasLimit,
      })),
      costs,
    );
  });

  it('gas costs beyond 32 bits are charged exactly (the i64 gas countdown)', () => {
    const costs: GasCostTable = { call: 2 ** 31 + 5, mul: 2 ** 30 };
    const full = agree(LONG, [{}], costs)[0];
    const used = full.gasUsed as number;
    expect(used).toBeGreaterThan(2 ** 40);
    agree(
      LONG,
      [used, used - 1, Math.floor(used / 3), 2 ** 31 + 4, 2 ** 31 + 20].map((gasLimit) => ({ gasLimit })),
      costs,
    );
  });

  it('blocks longer than a poll interval', () => {
    const [full] = agree(WIDE, [{}]);
    expect(full).toMatchObject({ r0: 3n * BigInt(POLL + 5000) });
    agree(
      WIDE,
      [POLL, POLL + 5003, 2 * POLL + 10_000, 3 * (POLL + 5002)].map((maxInstructions) => ({
        maxInstructions,
      })),
    );
  });
});
