/**
 * A local call into a function that reaches no host code does not move the stack window (codegen's
 * windowFreeFunctions): the callee's checks run on its caller's window, which lacks the callee's own
 * frame. Accesses to that frame through other registers than r10 must still pass, accesses below it
 * must fault with the interpreter's message (naming the callee's window), and a budget stop inside
 * the callee must hand the interpreter the callee's window.
 */
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import { EXECUTOR_KINDS, EXECUTORS } from '../../src/executors.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';
import { outcome } from '../support/outcome.js';

function run(kind: (typeof EXECUTOR_KINDS)[number], text: string, maxInstructions?: number) {
  const memory = new GuestMemory();
  memory.mapStack();
  const vm = EXECUTORS[kind](decodeProgram(assemble(text)), { memory });
  return outcome(() => vm.run({ maxInstructions }), { message: true });
}

/** The outcome on every engine, which must agree. */
function agreed(text: string, maxInstructions?: number): Record<string, unknown> {
  const [first, ...rest] = EXECUTOR_KINDS.map((kind) => run(kind, text, maxInstructions));
  for (const other of rest) expect(other).toEqual(first);
  return first;
}

/** main calls f, which writes through r1 = r10 + `off` (`size` bytes), reads it back and returns it. */
const ownFrame = (off: number, size = 'dw') => `
  mov %r6, 5
  stxdw [%r10-8], %r6
  call local f
  ldxdw %r1, [%r10-8]
  add %r0, %r1
  exit
f:
  mov %r1, %r10
  add %r1, ${off}
  mov %r2, 0x1234
  stx${size} [%r1], %r2
  ldx${size} %r0, [%r1]
  exit`;

describe('functions called without moving the stack window', () => {
  it('reach their own frame through any register', () => {
    expect(agreed(ownFrame(-8))).toMatchObject({ r0: 0x1234n + 5n });
    expect(agreed(ownFrame(-512, 'b'))).toMatchObject({ r0: 0x34n + 5n });
    // Across the frame's top into the bottom of the caller's frame.
    expect(agreed(ownFrame(-4))).toMatchObject({ r0: 0x1234n + 5n });
  });

  it('fault below their frame with the window of their depth in the message', () => {
    const below = agreed(ownFrame(-513, 'b'));
    expect(below).toMatchObject({ code: 'MEMORY_FAULT', pc: 9 });
    expect(below.message).toContain('below the current stack frame');
    expect(agreed(ownFrame(-520))).toMatchObject({ code: 'MEMORY_FAULT', pc: 9 });
  });

  it('reach their callers’ frames through pointers, and nested callees their own frames', () => {
    const text = `
      mov %r1, %r10
      add %r1, -16
      mov %r2, 7
      stxdw [%r1], %r2
      call local f
      exit
    f:
      ldxdw %r0, [%r1]
      mov %r6, %r1
      call local g
      ldxdw %r2, [%r6]
      add %r0, %r2
      exit
    g:
      mov %r3, %r10
      add %r3, -24
      stxdw [%r3], %r0
      ldxdw %r4, [%r3]
      add %r4, 100
      stxdw [%r6], %r4
      mov %r0, %r4
      exit`;
    expect(agreed(text)).toMatchObject({ r0: 107n + 107n });
  });

  it('a loop over the own frame through a pointer (a cached stack window) runs like the interpreter', () => {
    const text = `
      call local f
      exit
    f:
      mov %r0, 0
      mov %r1, %r10
      add %r1, -64
    again:
      stxdw [%r1], %r1
      ldxdw %r2, [%r1]
      add %r0, %r2
      add %r1, 8
      jne %r1, %r10, again
      exit`;
    const r = agreed(text);
    expect(r).toMatchObject({ r0: expect.any(BigInt) });
    expect(agreed(text.replace('add %r1, -64', 'add %r1, -520'))).toMatchObject({ code: 'MEMORY_FAULT' });
  });

  it('a budget that ends inside such a function after an access to its frame stops at the same instruction', () => {
    const text = ownFrame(-8);
    const total = agreed(text).instructions as number;
    for (let budget = 1; budget < total; budget++) {
      expect(agreed(text, budget)).toMatchObject({ code: 'INSTRUCTION_LIMIT', instructions: budget });
    }
  });
});
