/** Interpreter behaviour beyond the conformance suite: traps, budgets, calls, helpers, packet loads. */
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import {
  BadCallTarget,
  CallDepthExceeded,
  HelperError,
  InstructionLimit,
  LoadError,
  MemoryFault,
} from '../../src/errors.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { encodeProgram, type RawInsn } from '../../src/isa/encoder.js';
import { HelperRegistry } from '../../src/vm/helpers.js';
import { codeAddress, Interpreter, MAX_TAIL_CALLS } from '../../src/vm/interpreter/interpreter.js';
import { createMachine, runProgram } from '../../src/vm/machine.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';

const I = (opcode: number, dst = 0, src = 0, off = 0, imm = 0): RawInsn => ({ opcode, dst, src, off, imm });
const EXIT = I(0x95);
const MOV = (dst: number, imm: number) => I(0xb7, dst, 0, 0, imm);
const run = (insns: RawInsn[], options: Parameters<typeof runProgram>[1] = {}) =>
  runProgram(encodeProgram(insns), options);

function trap<T>(f: () => unknown, type: new (...a: never[]) => T): T {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(type);
    return e as T;
  }
  throw new Error('expected a trap');
}

describe('traps', () => {
  it('stops an infinite loop at the instruction budget, naming the pc', () => {
    const e = trap(
      () => run([MOV(0, 0), I(0x05, 0, 0, -1), EXIT], { maxInstructions: 1000 }),
      InstructionLimit,
    );
    expect(e.code).toBe('INSTRUCTION_LIMIT');
    expect(e.pc).toBe(1);
    expect(e.instructions).toBe(1000);
    expect(e.message).toMatch(/instruction limit of 1000 reached at pc 1/);
  });

  it('counts instructions exactly: the budget allows exactly N', () => {
    const insns = [MOV(0, 1), MOV(1, 2), EXIT];
    expect(run(insns, { maxInstructions: 3 }).instructions).toBe(3);
    // The budget stops at the first instruction beyond it, even inside straight-line code.
    const e = trap(() => run(insns, { maxInstructions: 2 }), InstructionLimit);
    expect(e).toMatchObject({ pc: 2, instructions: 2 });
  });

  it('counts exactly the executed instructions when a trap stops a run midway', () => {
    const e = trap(() => run([MOV(0, 1), I(0x79, 0, 0, 0), MOV(0, 2), MOV(0, 3), EXIT]), MemoryFault);
    expect(e).toMatchObject({ pc: 1, instructions: 2 });
    const loop = [MOV(1, 10), I(0x17, 1, 0, 0, 1), I(0x55, 1, 0, -2, 0), MOV(0, 7), EXIT];
    expect(run(loop).instructions).toBe(1 + 10 * 2 + 2);
    expect(() => run(loop, { maxInstructions: 22 })).toThrow(InstructionLimit);
    expect(run(loop, { maxInstructions: 23 }).r0).toBe(7n);
  });

  it('stops unbounded recursion at the call depth limit (8 frames, like the kernel)', () => {
    // f: call f
    const e = trap(() => run([I(0x85, 0, 1, 0, -1), EXIT]), CallDepthExceeded);
    expect(e.code).toBe('CALL_DEPTH_EXCEEDED');
    expect(e.pc).toBe(0);
    expect(e.instructions).toBe(8);
  });

  it('allows exactly 7 nested calls', () => {
    // f_k: call f_{k+1}; exit — a chain of `depth` functions below main; the innermost sets r0 = 42.
    const chain = (depth: number) => [
      ...Array.from({ length: depth }, () => [I(0x85, 0, 1, 0, 1), EXIT]).flat(),
      MOV(0, 42),
      EXIT,
    ];
    expect(run(chain(7)).r0).toBe(42n);
    const e = trap(() => run(chain(8)), CallDepthExceeded);
    expect(e.pc).toBe(14);
  });

  it('gives every frame its own 512 bytes and forbids access below it', () => {
    const insns = [
      I(0x7a, 10, 0, -8, 11), // *(u64 *)(r10 - 8) = 11
      I(0x85, 0, 1, 0, 3), // call +3
      I(0x79, 0, 10, -8, 0), // r0 = *(u64 *)(r10 - 8)   (still 11: callee used its own frame)
      I(0x0f, 0, 6, 0, 0),
      EXIT,
      I(0x7a, 10, 0, -8, 22), // callee: *(r10 - 8) = 22
      MOV(6, 0),
      EXIT,
    ];
    expect(run(insns).r0).toBe(11n);
    const below = trap(() => run([I(0x7a, 10, 0, -520, 1), EXIT]), MemoryFault);
    expect(below.message).toMatch(/below the current stack frame/);
    trap(() => run([I(0x72, 10, 0, 0, 1), EXIT]), MemoryFault); // *(u8 *)(r10 + 0): past the top
  });

  it('faults on out-of-bounds reads with address, size and region', () => {
    const e = trap(() => run([I(0x61, 0, 1, 4, 0), EXIT], { mem: new Uint8Array(6) }), MemoryFault);
    expect(e.pc).toBe(0);
    expect(e.address).toBe(0x40000004n);
    expect(e.size).toBe(4);
    expect(e.access).toBe('read');
    expect(e.message).toMatch(/runs past the end of input/);
    expect(e.toJSON()).toMatchObject({
      code: 'MEMORY_FAULT',
      pc: 0,
      address: '0x40000004',
      size: 4,
      access: 'read',
    });
  });

  it('faults on a null dereference', () => {
    const e = trap(() => run([MOV(1, 0), I(0x79, 0, 1, 16, 0), EXIT]), MemoryFault);
    expect(e.message).toMatch(/null pointer dereference/);
  });
});

describe('calls', () => {
  it('rejects calls to unknown helpers at load, naming the id', () => {
    const e = trap(() => run([I(0x85, 0, 0, 0, 63), EXIT]), LoadError);
    expect(e.code).toBe('UNKNOWN_HELPER');
    expect(e.message).toMatch(/unknown helper 63 at pc 0/);
  });

  it('passes r1..r5 to helpers and takes r0 back (numbers and bigints)', () => {
    const helpers = new HelperRegistry()
      .define(
        1,
        'sum',
        (c) => c.argNumber(1) + c.argNumber(2) + c.argNumber(3) + c.argNumber(4) + c.argNumber(5),
      )
      .define(2, 'big', (c) => c.arg(1) << 32n)
      .define(3, 'neg', () => -5);
    const r = run([MOV(1, 1), MOV(2, 2), MOV(3, 3), MOV(4, 4), MOV(5, 5), I(0x85, 0, 0, 0, 1), EXIT], {
      helpers,
    });
    expect(r.r0).toBe(15n);
    expect(run([MOV(1, 3), I(0x85, 0, 0, 0, 2), EXIT], { helpers }).r0).toBe(3n << 32n);
    expect(run([I(0x85, 0, 0, 0, 3), EXIT], { helpers }).r0).toBe(2n ** 64n - 5n);
  });

  it('wraps a throwing helper in HelperError with the original cause', () => {
    const boom = new Error('boom');
    const helpers = new HelperRegistry().define(7, 'fails', () => {
      throw boom;
    });
    const e = trap(() => run([I(0x85, 0, 0, 0, 7), EXIT], { helpers }), HelperError);
    expect(e.code).toBe('HELPER_ERROR');
    expect(e.pc).toBe(0);
    expect(e.cause).toBe(boom);
  });

  it('lets a helper terminate the program', () => {
    const helpers = new HelperRegistry().define(5, 'unwind', (c) => {
      c.terminate(99);
      return 0;
    });
    expect(run([I(0x85, 0, 0, 0, 5), MOV(0, 1), EXIT], { helpers }).r0).toBe(99n);
  });

  it('callx calls a code address from lddw src=4, or a helper by id', () => {
    const helpers = new HelperRegistry().define(9, 'nine', () => 9);
    // Slots: 0-1 lddw, 2 callx r1, 3 r7 = r0, 4 r2 = 9, 5 callx r2, 6 r0 += r7, 7 exit, 8-9 f.
    const insns: RawInsn[] = [
      { opcode: 0x18, dst: 1, src: 4, off: 0, imm: 7, imm2: 0 }, // r1 = &f: slot 0 + 1 + 7 (as the kernel counts)
      I(0x8d, 1), // callx r1 → f returns 5
      I(0xbf, 7, 0), // r7 = r0
      MOV(2, 9),
      I(0x8d, 2), // callx r2 → helper 9
      I(0x0f, 0, 7), // r0 += r7
      EXIT,
      MOV(0, 5), // f
      EXIT,
    ];
    expect(run(insns, { helpers }).r0).toBe(14n);
    const bad = trap(() => run([MOV(1, 1234), I(0x8d, 1), EXIT]), BadCallTarget);
    expect(bad.code).toBe('BAD_CALL_TARGET');
    expect(codeAddress(2)).toBe(0x80000010);
  });
});

describe('legacy packet loads', () => {
  const packet = new Uint8Array([0x12, 0x34, 0x56, 0x78, 0x9a]);
  it('loads big-endian words from the input', () => {
    expect(run([I(0x20, 0, 0, 0, 0), EXIT], { mem: packet }).r0).toBe(0x12345678n);
    expect(run([I(0x28, 0, 0, 0, 3), EXIT], { mem: packet }).r0).toBe(0x789an);
    expect(run([MOV(3, 2), I(0x50, 0, 3, 0, 2), EXIT], { mem: packet }).r0).toBe(0x9an);
  });
  it('ends the program with r0 = 0 when out of bounds (kernel semantics)', () => {
    expect(run([I(0x20, 0, 0, 0, 2), MOV(0, 7), EXIT], { mem: packet }).r0).toBe(0n);
    expect(run([MOV(3, -1), I(0x50, 0, 3, 0, 0), MOV(0, 7), EXIT], { mem: packet }).r0).toBe(0n);
  });
});

describe('machine reuse', () => {
  it('restores the input before every run', () => {
    const m = createMachine(encodeProgram([I(0x71, 0, 1, 0, 0), I(0x72, 1, 0, 0, 99), EXIT]), {
      mem: new Uint8Array([5]),
    });
    expect(m.run().r0).toBe(5n);
    expect(m.run().r0).toBe(5n);
  });
});

describe('tail calls', () => {
  it('continue in the target with the same registers and stack frame, at most 33 times', () => {
    const memory = new GuestMemory();
    memory.mapStack();
    let self: Interpreter | undefined;
    const helpers = new HelperRegistry().define(12, 'tail_call', (c) => (self && c.tailCall(self) ? 0 : -2));
    // *(u64 *)(r10 - 8) += 1; tail_call(self); on failure: r0 = *(u64 *)(r10 - 8)
    const bytes = encodeProgram([
      I(0x79, 1, 10, -8),
      I(0x07, 1, 0, 0, 1),
      I(0x7b, 10, 1, -8),
      I(0x85, 0, 0, 0, 12),
      I(0x79, 0, 10, -8),
      EXIT,
    ]);
    self = new Interpreter(decodeProgram(bytes), { memory, helpers });
    expect(self.run().r0).toBe(34n); // the first run plus MAX_TAIL_CALLS tail calls
    expect(self.run().r0).toBe(34n); // every run starts with a zeroed stack
    expect(MAX_TAIL_CALLS).toBe(33);
  });

  it('refuse targets on another memory and calls from subprograms', () => {
    const memory = new GuestMemory();
    memory.mapStack();
    const other = new GuestMemory();
    other.mapStack();
    const foreign = new Interpreter(decodeProgram(encodeProgram([MOV(0, 1), EXIT])), { memory: other });
    const local = new Interpreter(decodeProgram(encodeProgram([MOV(0, 7), EXIT])), { memory });
    let target: Interpreter = foreign;
    const helpers = new HelperRegistry().define(12, 'tail_call', (c) => (c.tailCall(target) ? 0 : -2));
    const main = new Interpreter(decodeProgram(encodeProgram([I(0x85, 0, 0, 0, 12), EXIT])), {
      memory,
      helpers,
    });
    expect(main.run().r0).toBe(2n ** 64n - 2n);
    target = local;
    expect(main.run().r0).toBe(7n);
    const fromSub = new Interpreter(
      decodeProgram(encodeProgram([I(0x85, 0, 1, 0, 1), EXIT, I(0x85, 0, 0, 0, 12), EXIT])),
      { memory, helpers },
    );
    expect(fromSub.run().r0).toBe(2n ** 64n - 2n);
  });
});

describe('callbacks (HelperContext.callFunction)', () => {
  // A bpf_loop-like helper: calls the callback for i = 0..n-1 with (i, ctx) until it returns 1.
  const loopHelpers = () =>
    new HelperRegistry().define(181, 'loop', (c) => {
      const n = c.argNumber(1);
      let i = 0;
      for (; i < n; i++) if (c.callFunction(c.arg(2), [BigInt(i), c.arg(3)]) === 1n) return i + 1;
      return i;
    });
  const text = `
    stdw [%r10-8], 0
    mov %r6, 77
    mov %r1, 10
    lddw code_addr %r2, cb
    mov %r3, %r10
    add %r3, -8
    call 181
    ldxdw %r1, [%r10-8]
    lsh %r1, 8
    add %r0, %r1
    add %r0, %r6
    exit
  cb:
    ldxdw %r3, [%r2]
    add %r3, %r1
    stxdw [%r2], %r3
    mov %r6, 0
    mov %r0, 0
    jne %r1, 4, +1
    mov %r0, 1
    exit`;

  it('runs the callback in a new frame, preserving the caller, counting its instructions', () => {
    const m = createMachine(assemble(text), { helpers: loopHelpers() });
    const result = m.run();
    // i = 0..4 summed = 10 into the caller's stack slot; loop returns 5 iterations; r6 survives.
    expect(result.r0).toBe(5n + (10n << 8n) + 77n);
    expect(result.instructions).toBe(12 + 5 * 7 + 1);
    expect(result.gasUsed).toBe(result.instructions);
  });

  it('reports traps inside the callback with the run totals', () => {
    const bad = text.replace('ldxdw %r3, [%r2]', 'ldxdw %r3, [%r2+4096]');
    const e = trap(() => createMachine(assemble(bad), { helpers: loopHelpers() }).run(), MemoryFault);
    expect(e.pc).toBe(13);
    expect(e.instructions).toBe(7 + 1); // seven in main (lddw counts once), then the faulting load
  });
});
