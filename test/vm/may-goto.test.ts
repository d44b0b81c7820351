/**
 * may_goto on every engine (interpreter, JIT, JIT with functions split into parts): each subprogram
 * frame has its own counter starting at BPF_MAX_LOOPS, a may_goto falls through (decrementing it) until
 * it is 0 and jumps from then on; callees and callbacks never touch their caller's counter, and the
 * counter lives outside guest memory. Loops run the full 8M iterations: both engines are fast enough.
 */
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import { Trap } from '../../src/errors.js';
import { EXECUTORS } from '../../src/executors.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { BPF_MAX_LOOPS } from '../../src/isa/opcodes.js';
import { JitProgram } from '../../src/jit/engine.js';
import { HelperRegistry } from '../../src/vm/helpers.js';
import type { InterpreterOptions, RunOptions } from '../../src/vm/interpreter/interpreter.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';

const CALLBACK = 102;
const helpers = new HelperRegistry().define(CALLBACK, 'twice', (c) => {
  // Like bpf_loop with two iterations: the callback's results are summed.
  return c.callFunction(c.arg(1), []) + c.callFunction(c.arg(1), []);
});

type Make = (text: string) => { run(o?: RunOptions): { r0: bigint; instructions: number; gasUsed: number } };
const options = (): InterpreterOptions => {
  const memory = new GuestMemory();
  memory.mapStack();
  return { memory, helpers };
};
const ENGINES: [string, Make][] = [
  ['interp', (text) => EXECUTORS.interp(decodeProgram(assemble(text)), options())],
  ['jit', (text) => EXECUTORS.jit(decodeProgram(assemble(text)), options())],
  ...[2, 3, 5].map((partSize): [string, Make] => [
    `jit split into parts of ${partSize}`,
    (text) => new JitProgram(decodeProgram(assemble(text)), { ...options(), partSize }),
  ]),
];
const MAX = BigInt(BPF_MAX_LOOPS);

const COUNT = `
  mov %r0, 0
loop:
  may_goto done
  add %r0, 1
  ja loop
done:
  exit
`;

/**
 * The rest of NESTED and CALLBACKS: main spends its counter in a loop and returns r6 << 32 | iterations;
 * f spends its own counter and returns its iteration count.
 */
const SPEND = `
  mov %r7, 0
mloop:
  may_goto mend
  add %r7, 1
  ja mloop
mend:
  mov %r0, %r6
  lsh %r0, 32
  add %r0, %r7
  exit
bad:
  mov %r0, -1
  exit
f:
  mov %r0, 0
floop:
  may_goto fend
  add %r0, 1
  ja floop
fend:
  exit
`;

/** main: one may_goto, two calls of f (each spends its own counter), then main spends the rest of its. */
const NESTED = `
  mov %r6, 0
  may_goto bad
  call local f
  add %r6, %r0
  call local f
  add %r6, %r0
${SPEND}`;

/** The same through a helper callback: the callback frame gets a fresh counter, main keeps its own. */
const CALLBACKS = `
  mov %r6, 0
  may_goto bad
  lddw code_addr %r1, f
  call ${CALLBACK}
  mov %r6, %r0
${SPEND}`;

/** After a loop that spent its counter, ORs every byte of the 512-byte frame: still all zero. */
const STACK_UNTOUCHED = `
  mov %r0, 0
loop:
  may_goto done
  ja loop
done:
  mov %r1, %r10
  sub %r1, 512
  mov %r2, 64
scan:
  ldxdw %r3, [%r1]
  or %r0, %r3
  add %r1, 8
  sub %r2, 1
  jne %r2, 0, scan
  exit
`;

describe.each(ENGINES)('may_goto on %s', (_name, make) => {
  it('falls through BPF_MAX_LOOPS times, then jumps; every executed instruction is counted', () => {
    const r = make(COUNT).run({ maxInstructions: 100_000_000 });
    expect(r.r0).toBe(MAX);
    // mov, 8M × (may_goto, add, ja), the final may_goto, exit.
    expect(r.instructions).toBe(1 + 3 * BPF_MAX_LOOPS + 2);
    expect(r.gasUsed).toBe(r.instructions);
  });

  it('gives every call its own counter and keeps the caller’s across the call', () => {
    const r = make(NESTED).run({ maxInstructions: 200_000_000 });
    expect(r.r0).toBe(((2n * MAX) << 32n) + MAX - 1n);
  });

  it('gives helper callbacks their own counter', () => {
    const r = make(CALLBACKS).run({ maxInstructions: 200_000_000 });
    expect(r.r0).toBe(((2n * MAX) << 32n) + MAX - 1n);
  });

  it('starts every run with a full counter', () => {
    const vm = make(COUNT);
    vm.run({ maxInstructions: 100_000_000 });
    expect(vm.run({ maxInstructions: 100_000_000 }).r0).toBe(MAX);
  });

  it('keeps the counter outside guest memory', () => {
    expect(make(STACK_UNTOUCHED).run({ maxInstructions: 100_000_000 }).r0).toBe(0n);
  });

  it('stops on the budget inside a may_goto loop at the same pc and count as the interpreter', () => {
    let trap: unknown;
    try {
      make(COUNT).run({ maxInstructions: 1000 });
    } catch (e) {
      trap = e;
    }
    expect(trap).toBeInstanceOf(Trap);
    const t = trap as Trap;
    // 1 + 333 × 3 = 1000: the limit falls after the 333rd ja, so the next may_goto (pc 1) is refused.
    expect([t.code, t.pc, t.instructions]).toEqual(['INSTRUCTION_LIMIT', 1, 1000]);
  });
});
