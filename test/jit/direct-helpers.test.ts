/**
 * Helpers with a `direct` entry are imported by the JIT one by one (`direct<id>`) and called without
 * the helper import: the result is the int32 sign-extended like the interpreter's, NaN falls back to
 * the helper's `call` (which sees the HelperContext: pc, registers, gas, terminate) without a second
 * direct attempt, and callx goes through the helper import to `call`.
 */
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import { BpfError } from '../../src/errors.js';
import { EXECUTORS, type ExecutorKind } from '../../src/executors.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { HelperRegistry } from '../../src/vm/helpers.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';

/**
 * Helper 7: r1 − r2 as an int32 (sign-extended); for r1 = 99, 1000 + pc, and r1 = 98 terminates with
 * r0 = 5 — which only `call` can do (direct returns NaN for both), as the DirectHelper contract says.
 */
function setup(kind: ExecutorKind, text: string) {
  const counts = { direct: 0, call: 0 };
  const helpers = new HelperRegistry().define(
    7,
    'sub_or_call',
    (ctx) => {
      counts.call++;
      if (ctx.argLo(1) === 98) ctx.terminate(5n);
      return ctx.argLo(1) === 99 ? 1000 + ctx.pc : (ctx.argLo(1) - ctx.argLo(2)) | 0;
    },
    (r1lo, _r1hi, r2lo) => {
      counts.direct++;
      return r1lo === 99 || r1lo === 98 ? Number.NaN : (r1lo - r2lo) | 0;
    },
  );
  const memory = new GuestMemory();
  memory.mapStack();
  const vm = EXECUTORS[kind](decodeProgram(assemble(text)), { memory, helpers, gasCosts: { default: 2 } });
  return { vm, counts };
}

function outcome(kind: ExecutorKind, text: string, gasLimit?: number) {
  const { vm, counts } = setup(kind, text);
  try {
    const { r0, instructions, gasUsed } = vm.run({ gasLimit });
    return { r0, instructions, gasUsed, counts };
  } catch (e) {
    if (!(e instanceof BpfError)) throw e;
    const t = e as BpfError & { pc?: number; instructions?: number; gasUsed?: number };
    return { code: t.code, pc: t.pc, instructions: t.instructions, gasUsed: t.gasUsed, counts };
  }
}

const call = (r1: number, r2: number) => `mov %r1, ${r1}\nmov %r2, ${r2}\ncall 7`;

describe('direct helper imports', () => {
  const programs: [string, string][] = [
    ['a positive result', `${call(50, 8)}\nexit`],
    ['a negative result, sign-extended to 64 bits', `${call(3, 10)}\nexit`],
    ['NaN: the call runs, at its pc', `mov %r6, 1\n${call(99, 0)}\nexit`],
    ['NaN, then the call terminates the program', `${call(98, 0)}\nmov %r0, 1\nexit`],
    [
      'registers r1..r9 survive, r0 is replaced',
      `mov %r6, 6\nmov %r7, 7\nmov %r8, 8\nmov %r9, 9\nmov %r0, 77\n${call(9, 4)}\nadd %r0, %r1\nadd %r0, %r2\nadd %r0, %r6\nadd %r0, %r9\nexit`,
    ],
    [
      'in a loop, mixing both paths',
      `mov %r6, 0\nmov %r7, 0\nloop:\nmov %r1, %r6\nadd %r1, 95\nmov %r2, 1\ncall 7\nadd %r7, %r0\nadd %r6, 1\njne %r6, 6, loop\nmov %r0, %r7\nexit`,
    ],
  ];
  for (const [what, text] of programs) {
    it(`${what}: same result, counters and helper entries on both engines`, () => {
      const a = outcome('interp', text);
      const b = outcome('jit', text);
      expect(b).toEqual(a);
    });
  }

  it('callx to the helper id runs its call, with the same result', () => {
    const text = 'r1 = 50\nr2 = 8\nr3 = 7\ncallx r3\nexit';
    const { counts, ...a } = outcome('interp', text);
    const { counts: jitCounts, ...b } = outcome('jit', text);
    expect(b).toEqual({ ...a, r0: 42n });
    expect([counts, jitCounts]).toEqual([
      { direct: 1, call: 0 },
      { direct: 0, call: 1 },
    ]);
  });

  it('a negative result is sign-extended on the JIT', () => {
    expect(outcome('jit', `${call(3, 10)}\nexit`).r0).toBe(BigInt.asUintN(64, -7n));
  });

  it('an out-of-gas stop around direct calls lands on the same instruction', () => {
    const text = `mov %r6, 0\nloop:\n${call(20, 1)}\nadd %r6, 1\njne %r6, 50, loop\nexit`;
    for (const gas of [1, 7, 33, 101, 150])
      expect(outcome('jit', text, gas)).toEqual(outcome('interp', text, gas));
  });
});
