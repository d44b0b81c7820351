/**
 * The JIT engine's contract beyond what random programs reach: the encoder's integer immediates,
 * exact gas and instruction stops, helpers (results, terminate, consumeGas, callbacks, refused tail
 * calls, Promises), callx, call depth, LD_ABS exits, entries, reruns and interrupts.
 */
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { JitProgram } from '../../src/jit/engine.js';
import {
  ByteWriter,
  encodeModule,
  I32,
  I64,
  type LocalRun,
  type ModuleDesc,
  ModuleWriter,
  Op,
  type ValType,
} from '../../src/jit/wasm-encoder.js';
import type { GasCostTable } from '../../src/vm/gas.js';
import { HelperRegistry, type TailCallTarget } from '../../src/vm/helpers.js';
import { Interpreter, type RunOptions, type RunResult } from '../../src/vm/interpreter/interpreter.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';
import { PERM_READ, PERM_WRITE, Slot } from '../../src/vm/memory/layout.js';
import { outcome } from '../support/outcome.js';

function machine(): GuestMemory {
  const m = new GuestMemory();
  m.mapStack();
  m.map(
    Slot.INPUT,
    'input',
    16,
    PERM_READ | PERM_WRITE,
    new Uint8Array([0x12, 0x34, 0x56, 0x78, 9, 10, 11, 12]),
  );
  return m;
}

interface Runner {
  run(options?: RunOptions): RunResult;
  runAsync(options?: RunOptions): Promise<RunResult>;
}

/** The same program on both engines, each on its own memory. */
function both(text: string, helpers?: HelperRegistry, gasCosts?: GasCostTable): [Runner, Runner] {
  const program = decodeProgram(assemble(text));
  return [
    new Interpreter(program, { memory: machine(), helpers, gasCosts }),
    new JitProgram(program, { memory: machine(), helpers, gasCosts }),
  ];
}

function agree(text: string, options: RunOptions = {}, helpers?: HelperRegistry, gasCosts?: GasCostTable) {
  const [interp, jit] = both(text, helpers, gasCosts);
  const expected = outcome(() => interp.run(options), { message: true });
  expect(outcome(() => jit.run(options), { message: true })).toEqual(expected);
  return expected;
}

/** Runs a module of one function whose body `write` emits (after `locals`), returning its result. */
function runBody(result: ValType, locals: LocalRun[], write: (code: ByteWriter) => void): unknown {
  const code = new ByteWriter();
  write(code);
  code.byte(Op.end);
  const bytes = encodeModule({
    types: [{ params: [], results: [result] }],
    imports: [],
    functions: [0],
    tableSize: 0,
    elements: [],
    globals: [],
    exports: [{ name: 'f', func: 0 }],
    bodies: [{ locals, code }],
  });
  return (new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.f as () => unknown)();
}

describe('wasm encoder', () => {
  it('encodes every i64 immediate exactly (signed LEB128 from int32 halves)', () => {
    const values = [0n, 1n, -1n, 63n, 64n, -64n, -65n, 0x7fffffffn, -0x80000000n, 0x80000000n, 1n << 62n];
    values.push((1n << 63n) - 1n, -(1n << 63n), 0x123456789abcdefn, -0x123456789abcdefn);
    for (const v of values) {
      const got = runBody(I64, [], (code) =>
        code.i64const(Number(BigInt.asIntN(32, v)), Number(BigInt.asIntN(32, v >> 32n))),
      );
      expect(got).toBe(v);
    }
  });

  it('encodes i32 immediates and u32 local indexes exactly, on both sides of one LEB128 byte', () => {
    // The one-byte forms are written by fast paths of their own (i32const, opU32).
    const run = (locals: LocalRun[], write: (code: ByteWriter) => void) => runBody(I32, locals, write);
    for (const v of [0, 1, -1, 63, 64, -64, -65, 8191, 8192, -8193, 0x7fffffff, -0x80000000]) {
      expect(run([], (code) => code.i32const(v))).toBe(v);
    }
    for (const k of [0, 127, 128, 300]) {
      // Set through opU32, read through byte + u32, and the other way round: another local than k
      // would still hold 0.
      const setFast = run([{ count: 301, type: I32 }], (code) => {
        code.i32const(k + 7);
        code.opU32(Op.local_set, k);
        code.byte(Op.local_get);
        code.u32(k);
      });
      const getFast = run([{ count: 301, type: I32 }], (code) => {
        code.i32const(k + 7);
        code.byte(Op.local_set);
        code.u32(k);
        code.opU32(Op.local_get, k);
      });
      expect([setFast, getFast]).toEqual([k + 7, k + 7]);
    }
  });

  it('writes the same bodies whatever room beginBody reserves for their size and locals', () => {
    // Bodies whose size takes 1, 2 and 3 LEB128 bytes, with locals vectors of 0 to 3 runs.
    const bodies: ModuleDesc['bodies'] = [1, 200, 20_000].flatMap((n, j) =>
      [0, 1, 3].map((runs) => {
        const code = new ByteWriter();
        for (let k = 0; k < n; k++) {
          code.i32const(0);
          code.byte(Op.drop);
        }
        code.i64const(n + j, 0);
        code.byte(Op.end);
        const locals: LocalRun[] = Array.from({ length: runs }, (_, r) => ({
          count: 1 + r * 70,
          type: r % 2 ? I32 : I64,
        }));
        return { locals, code };
      }),
    );
    const desc: ModuleDesc = {
      types: [{ params: [], results: [I64] }],
      imports: [],
      functions: bodies.map(() => 0),
      tableSize: 0,
      elements: [],
      globals: [],
      exports: [{ name: 'f', func: bodies.length - 1 }],
      bodies,
    };
    const expected = encodeModule(desc);
    for (const reserve of [0, 1, 2, 3, 4, 5, 6, 9, 20]) {
      const m = new ModuleWriter(desc, 64);
      for (const b of bodies) {
        // A body dropped before its end (codegen's retry without loop copies) leaves no trace.
        const dropped = m.beginBody(reserve);
        m.w.raw(new Uint8Array(300).fill(0xab));
        m.dropBody(dropped);
        const at = m.beginBody(reserve);
        m.w.append(b.code);
        m.endBody(at, b.locals);
      }
      expect(m.finish()).toEqual(expected);
    }
    const f = new WebAssembly.Instance(new WebAssembly.Module(expected)).exports.f as () => bigint;
    expect(f()).toBe(20_002n);
  });
});

describe('JIT metering', () => {
  const STRAIGHT = 'mov %r0, 1\nadd %r0, 2\nmul %r0, 3\nlddw %r1, 0x100000000\nadd %r0, %r1\nexit';

  it('stops at the first instruction the gas or instruction budget cannot pay, for every limit', () => {
    for (let limit = 0; limit <= 6; limit++) {
      const r = agree(STRAIGHT, { gasLimit: limit });
      if (limit < 6) expect(r).toMatchObject({ code: 'OUT_OF_GAS', gasUsed: limit });
      agree(STRAIGHT, { maxInstructions: limit });
    }
    expect(agree(STRAIGHT, { gasLimit: 2 })).toMatchObject({ pc: 2 });
  });

  it('prices classes from a table and counts loops exactly', () => {
    agree(STRAIGHT, {}, undefined, { mul: 10, lddw: 3, exit: 0 });
    agree(STRAIGHT, { gasLimit: 11 }, undefined, { mul: 10 });
    const loop = 'mov %r1, 100\nl:\nsub %r1, 1\njne %r1, 0, l\nexit';
    expect(agree(loop, { gasLimit: 202 })).toMatchObject({ gasUsed: 202, instructions: 202 });
    expect(agree(loop, { gasLimit: 201 })).toMatchObject({ pc: 3 });
    expect(agree(loop, { gasLimit: 200 })).toMatchObject({ pc: 2 });
  });

  it('refunds the rest of the block when an instruction in it traps', () => {
    const text = 'mov %r0, 1\nldxdw %r0, [%r0]\nmov %r0, 2\nmov %r0, 3\nexit';
    expect(agree(text)).toMatchObject({ code: 'MEMORY_FAULT', pc: 1, instructions: 2 });
    expect(agree(text, { gasLimit: 4 })).toMatchObject({ code: 'MEMORY_FAULT', pc: 1, gasUsed: 2 });
  });

  it('a compiled program runs again after a budget stop, with a zeroed stack', () => {
    const text = 'ldxdw %r0, [%r10-8]\nstdw [%r10-8], 7\nadd %r0, 1\nexit';
    const [, jit] = both(text);
    expect(() => jit.run({ maxInstructions: 2 })).toThrow(/instruction limit of 2 reached at pc 2/);
    expect(jit.run().r0).toBe(1n);
    expect(jit.run().r0).toBe(1n);
  });
});

describe('JIT helpers and calls', () => {
  function registry(): HelperRegistry {
    return new HelperRegistry()
      .define(
        1,
        'sum',
        (c) => c.argNumber(1) + c.argNumber(2) + c.argNumber(3) + c.argNumber(4) + c.argNumber(5),
      )
      .define(2, 'big', () => 0xfedcba9876543210n)
      .define(3, 'stop', (c) => c.terminate(c.arg(1)))
      .define(4, 'burn', (c) => c.consumeGas(c.argNumber(1)))
      .define(5, 'loop', (c) => {
        let acc = 0n;
        for (let i = 0n; i < c.arg(2); i++) acc += c.callFunction(c.arg(1), [i, c.arg(3)]);
        return acc + c.arg(2); // r2 is still readable after the callbacks
      })
      .define(6, 'tail', (c) => (c.tailCall({ program: decodeProgram(assemble('exit')) }) ? 1 : 0))
      .define(7, 'async', () => Promise.resolve(1))
      .define(8, 'throws', () => {
        throw new Error('boom');
      });
  }

  it('passes r1..r5, takes 64-bit results and keeps r1..r5 unchanged', () => {
    const text =
      'mov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nlddw %r5, 0x100000000\ncall 1\nadd %r0, %r5\ncall 2\nexit';
    expect(agree(text, {}, registry())).toMatchObject({ r0: 0xfedcba9876543210n });
    expect(agree('mov %r1, 1\ncall 1\nexit', {}, registry())).toMatchObject({ r0: 1n });
  });

  it('terminate ends the program at any depth with the given r0', () => {
    const text = 'call local f\nmov %r0, 9\nexit\nf:\nmov %r1, 42\ncall 3\nmov %r0, 1\nexit';
    expect(agree(text, {}, registry())).toMatchObject({ r0: 42n, instructions: 3 });
  });

  it('consumeGas charges the helper cost and traps at the call', () => {
    const text = 'mov %r1, 10\ncall 4\nexit';
    expect(agree(text, { gasLimit: 13 }, registry())).toMatchObject({ gasUsed: 13 });
    expect(agree(text, { gasLimit: 12 }, registry())).toMatchObject({ code: 'OUT_OF_GAS', pc: 2 });
    expect(agree(text, { gasLimit: 11 }, registry())).toMatchObject({
      code: 'OUT_OF_GAS',
      pc: 1,
      gasUsed: 2,
    });
  });

  it('callbacks run BPF functions one frame down and count toward the run', () => {
    const text = [
      'lddw code_addr %r1, cb',
      'mov %r2, 4',
      'mov %r3, 100',
      'call 5',
      'exit',
      'cb:',
      'stxdw [%r10-8], %r1',
      'ldxdw %r0, [%r10-8]',
      'add %r0, %r2',
      'exit',
    ].join('\n');
    expect(agree(text, {}, registry())).toMatchObject({ r0: 4n + 400n + 6n });
    agree(text, { gasLimit: 12 }, registry());
  });

  it('refuses tail calls into another engine, rejects Promises and wraps helper errors', () => {
    const [, jit] = both('call 6\nexit', registry());
    expect(jit.run().r0).toBe(0n);
    const [, promise] = both('call 7\nexit', registry());
    expect(outcome(() => promise.run(), { message: true })).toMatchObject({
      code: 'HELPER_ERROR',
      pc: 0,
      instructions: 1,
    });
    expect(agree('call 8\nexit', {}, registry())).toMatchObject({ code: 'HELPER_ERROR', pc: 0 });
  });

  it('callx calls code addresses and helper ids; anything else is BAD_CALL_TARGET', () => {
    const local = 'lddw code_addr %r2, f\ncall %r2\nadd %r0, 1\nexit\nf:\nmov %r0, 41\nexit';
    expect(agree(local, {}, registry())).toMatchObject({ r0: 42n });
    expect(agree('mov %r1, 5\nmov %r6, 1\ncall %r6\nexit', {}, registry())).toMatchObject({ r0: 5n });
    expect(agree('mov %r6, 99\ncall %r6\nexit', {}, registry())).toMatchObject({
      code: 'BAD_CALL_TARGET',
      pc: 1,
    });
  });

  it('unbounded recursion stops with CALL_DEPTH_EXCEEDED at the 8th frame', () => {
    const text = 'f:\nadd %r6, 1\ncall local f\nexit';
    expect(agree(text)).toMatchObject({ code: 'CALL_DEPTH_EXCEEDED', pc: 1, instructions: 16 });
  });

  it('LD_ABS out of bounds ends the program with r0 = 0', () => {
    expect(agree('ldabsw 0\nmov %r6, %r0\nldabsh 12\nexit')).toMatchObject({ r0: 0n });
    expect(agree('ldabsw 0\nexit')).toMatchObject({ r0: 0x12345678n });
    expect(agree('mov %r1, 14\nldindh %r1, 0\nexit')).toMatchObject({ r0: 0n });
    expect(agree('ldabsw 100\nexit')).toMatchObject({ r0: 0n, instructions: 1 });
  });

  it('runAsync (the host Executor contract) runs synchronously to the same result', async () => {
    const [, jit] = both('mov %r1, 2\ncall 1\nexit', registry());
    await expect(jit.runAsync()).resolves.toMatchObject({ r0: 2n, instructions: 3 });
    const [, promise] = both('call 7\nexit', registry());
    await expect(promise.runAsync()).rejects.toMatchObject({ code: 'HELPER_ERROR' });
  });

  it('enters at function starts only, and stops on interrupt after a helper call', () => {
    const program = decodeProgram(assemble('call local f\nexit\nf:\nmov %r0, 3\nexit'));
    const jit = new JitProgram(program, { memory: machine() });
    expect(jit.run({ entry: 2 }).r0).toBe(3n);
    expect(() => jit.run({ entry: 1 })).toThrow(/not the start of a function/);
    const helpers = new HelperRegistry().define(1, 'stop-me', () => jit2.interrupt());
    const jit2 = new JitProgram(decodeProgram(assemble('call 1\nmov %r0, 1\nexit')), {
      memory: machine(),
      helpers,
    });
    expect(() => jit2.run()).toThrow(/interrupted before pc 1/);
    expect(() => new JitProgram(decodeProgram(assemble('call 9\nexit')), { memory: machine() })).toThrow(
      /unknown helper 9/,
    );
  });

  /** Runs `entry` on one engine with helper 12 = bpf_tail_call into `targets[r1]` (same engine, memory). */
  function tailRun(kind: 'interp' | 'jit', entry: string, others: string[]) {
    const memory = machine();
    const helpers = new HelperRegistry();
    const targets: TailCallTarget[] = [];
    helpers.define(12, 'tail_call', (c) => (c.tailCall(targets[c.argNumber(1)]) ? 0 : -1));
    helpers.define(13, 'interrupt_first', () => first.interrupt());
    const load = (text: string) => {
      const program = decodeProgram(assemble(text));
      return kind === 'interp'
        ? new Interpreter(program, { memory, helpers })
        : new JitProgram(program, { memory, helpers });
    };
    const first = load(entry);
    targets.push(first, ...others.map(load));
    return outcome(() => first.run(), { message: true });
  }

  it('tail calls keep registers and the stack frame, and stop after MAX_TAIL_CALLS like the interpreter', () => {
    const a = 'mov %r6, 7\nstdw [%r10-8], 5\nmov %r1, 1\ncall 12\nmov %r0, 99\nexit';
    const b = 'ldxdw %r0, [%r10-8]\nadd %r0, %r6\nmul %r0, 10\nexit';
    expect(tailRun('jit', a, [b])).toEqual(tailRun('interp', a, [b]));
    expect(tailRun('jit', a, [b])).toMatchObject({ r0: 120n, instructions: 8 });
    // A program tail-calling itself: 33 calls succeed, the 34th is refused and the program goes on.
    const self = 'add %r6, 1\nmov %r1, 0\ncall 12\nmov %r0, %r6\nexit';
    expect(tailRun('jit', self, [])).toEqual(tailRun('interp', self, []));
    expect(tailRun('jit', self, [])).toMatchObject({ r0: 34n });
    // Refused from a subprogram; a trap in the target has the target's pc and the run's counters.
    const sub = 'call local f\nexit\nf:\nmov %r1, 1\ncall 12\nmov %r0, 5\nexit';
    expect(tailRun('jit', sub, [b])).toEqual(tailRun('interp', sub, [b]));
    // interrupt() on the program the host started reaches the tail-called one.
    const stops = 'call 13\nmov %r0, 1\nexit';
    expect(tailRun('jit', a, [stops])).toEqual(tailRun('interp', a, [stops]));
    expect(tailRun('jit', a, [stops])).toMatchObject({ code: 'INTERRUPTED', pc: 1 });
    const faulting = 'mov %r0, 0\nldxdw %r0, [%r0]\nexit';
    expect(tailRun('jit', a, [faulting])).toEqual(tailRun('interp', a, [faulting]));
    expect(tailRun('jit', a, [faulting])).toMatchObject({ code: 'MEMORY_FAULT', pc: 1, instructions: 6 });
  });
});
