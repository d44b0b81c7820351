/** Suspend/resume: helpers returning Promises under runAsync, rejections, interrupt(). */
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import { HelperError, Interrupted, type Trap, UsageError } from '../../src/errors.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { HelperRegistry } from '../../src/vm/helpers.js';
import { Interpreter } from '../../src/vm/interpreter/interpreter.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';

function vm(text: string, helpers: HelperRegistry): Interpreter {
  const memory = new GuestMemory();
  memory.mapStack();
  return new Interpreter(decodeProgram(assemble(text)), { memory, helpers });
}

async function rejection(p: Promise<unknown>): Promise<Trap> {
  try {
    await p;
  } catch (e) {
    return e as Trap;
  }
  throw new Error('expected a rejection');
}

const later = <T>(value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), 1));

// main: r6 = 5; call f; r0 += r6; exit. f (depth 1): keeps a value on its stack across the await.
const NESTED = `
  mov %r6, 5
  call local f
  add %r0, %r6
  exit
f:
  stdw [%r10-8], 100
  mov %r1, 7
  call 1
  ldxdw %r1, [%r10-8]
  add %r0, %r1
  exit`;

describe('runAsync', () => {
  it('suspends at an async helper and resumes with its value, inside a subprogram', async () => {
    const helpers = new HelperRegistry().define(1, 'fetch', (c) => later(c.argNumber(1) * 6));
    const r = await vm(NESTED, helpers).runAsync({ gasLimit: 1000 });
    expect(r.r0).toBe(42n + 100n + 5n);
    expect(r).toMatchObject({ instructions: 10, gasUsed: 10 });
  });

  it('runs synchronous helpers too, and refuses Promises in a synchronous run', async () => {
    const sync = new HelperRegistry().define(1, 'six', () => 42);
    expect((await vm(NESTED, sync).runAsync()).r0).toBe(147n);
    const async = new HelperRegistry().define(1, 'fetch', () => later(1));
    expect(() => vm(NESTED, async).run()).toThrow(/returned a Promise; run the program with runAsync/);
  });

  it('turns a rejection into a HelperError at the call, with the cause', async () => {
    const boom = new Error('storage offline');
    const helpers = new HelperRegistry().define(1, 'fetch', () => Promise.reject(boom));
    const e = await rejection(vm(NESTED, helpers).runAsync());
    expect(e).toBeInstanceOf(HelperError);
    expect(e).toMatchObject({ pc: 6, instructions: 5, gasUsed: 5 });
    expect(e.cause).toBe(boom);
  });

  it('stops at the resume point when interrupted while suspended', async () => {
    let machine: Interpreter | undefined;
    const helpers = new HelperRegistry().define(1, 'fetch', () => {
      queueMicrotask(() => machine?.interrupt());
      return later(1);
    });
    machine = vm(NESTED, helpers);
    const e = await rejection(machine.runAsync());
    expect(e).toBeInstanceOf(Interrupted);
    expect(e).toMatchObject({ code: 'INTERRUPTED', pc: 7, instructions: 5 });
    // The interpreter is usable again afterwards.
    const ok = new HelperRegistry().define(1, 'six', () => 42);
    expect((await vm(NESTED, ok).runAsync()).r0).toBe(147n);
  });

  it('stops right after a synchronous helper that interrupts', () => {
    let machine: Interpreter | undefined;
    const helpers = new HelperRegistry().define(1, 'stop', () => {
      machine?.interrupt();
      return 0;
    });
    machine = vm('call 1\nmov %r0, 1\nexit', helpers);
    expect(() => machine?.run()).toThrow(Interrupted);
    machine.interrupt(); // idle: no effect on the next run
    const e = (() => {
      try {
        return machine.run();
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(Interrupted); // the helper interrupts again, as it always does
  });

  it('refuses a second run while one is suspended', async () => {
    const helpers = new HelperRegistry().define(1, 'fetch', () => later(1));
    const machine = vm(NESTED, helpers);
    const first = machine.runAsync();
    expect(() => machine.run()).toThrow(UsageError);
    await first;
    expect(machine.run.bind(machine)).toThrow(HelperError); // sync run + async helper, but not busy
  });
});
