/** callAsync: host functions returning Promises suspend the guest; interrupt() stops it. */
import { describe, expect, it } from 'vitest';
import { HelperError, HostError, Interrupted, type Trap, UsageError } from '../../src/errors.js';
import { Engine } from '../../src/host/engine.js';
import { type HostFunction, Linker } from '../../src/host/linker.js';
import { Module } from '../../src/host/module.js';
import { murmur3_32 } from '../../src/host/murmur3.js';

const engine = new Engine();
const later = <T>(value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), 1));

async function rejection(p: Promise<unknown>): Promise<Trap> {
  try {
    await p;
  } catch (e) {
    return e as Trap;
  }
  throw new Error('expected a rejection');
}

// r6 = 5; f(): keeps 100 on its stack across the awaited `get(r1 = 7)`; r0 = get(7) + 100 + r6.
const NESTED = `
  mov %r6, 5
  call local f
  add %r0, %r6
  exit
f:
  stdw [%r10-8], 100
  mov %r1, 7
  call 0x${murmur3_32('get').toString(16)}
  ldxdw %r1, [%r10-8]
  add %r0, %r1
  exit`;

function instance(get: HostFunction, cost = 0) {
  const linker = new Linker(engine).define('get', get, { cost });
  return linker.instantiatePre(Module.fromAsm(engine, NESTED)).instantiate({ gas: 1000 });
}

describe('callAsync', () => {
  it('suspends at an async host function and resumes with its value, with exact gas', async () => {
    const i = instance(async (ctx, key) => {
      expect(ctx.pc).toBe(6);
      return later(key * 6n);
    }, 3);
    expect(await i.callAsync()).toEqual({ r0: 42n + 100n + 5n, gasUsed: 10 + 3, instructions: 10 });
    // The same instance again, and synchronous host functions under callAsync.
    expect((await i.callAsync()).r0).toBe(147n);
    expect((await instance(() => 42).callAsync()).r0).toBe(147n);
  });

  it('host memory accesses after an await still see the suspended guest', async () => {
    const i = instance(async (ctx) => {
      await later(0);
      return ctx.memory.readU64(0x7000_0000 + 512 * 8 - 512 - 8); // f's frame: the 100 it stored
    });
    expect((await i.callAsync()).r0).toBe(100n + 100n + 5n);
  });

  it('a synchronous call refuses a Promise with HelperError at the call', () => {
    expect(() => instance(() => later(1)).call()).toThrow(
      /host function get \(murmur3 0x3b6d35a2\) at pc 6 returned a Promise; call the guest with callAsync/,
    );
  });

  it('a rejection becomes a HelperError with the cause, pc and gas used', async () => {
    const boom = new Error('storage offline');
    const e = await rejection(instance(() => Promise.reject(boom)).callAsync());
    expect(e).toBeInstanceOf(HelperError);
    expect(e).toBeInstanceOf(HostError); // the embedding API's name for it
    expect(e).toMatchObject({ pc: 6, instructions: 5, gasUsed: 5 });
    expect(e.cause).toBe(boom);
  });

  it('interrupt() while suspended stops the guest when it would resume; the instance is reusable', async () => {
    let stop = true;
    const i = instance(() => {
      if (stop) queueMicrotask(() => i.interrupt());
      return later(1);
    });
    const e = await rejection(i.callAsync());
    expect(e).toBeInstanceOf(Interrupted);
    expect(e).toMatchObject({ code: 'INTERRUPTED', pc: 7, instructions: 5 });
    stop = false;
    expect((await i.callAsync()).r0).toBe(106n);
    i.interrupt(); // idle: no effect
    expect((await i.callAsync()).r0).toBe(106n);
  });

  it('one instance runs one call at a time; other instances run meanwhile', async () => {
    const pre = new Linker(engine)
      .define('get', () => later(1n))
      .instantiatePre(Module.fromAsm(engine, NESTED));
    const a = pre.instantiate();
    const b = pre.instantiate();
    const first = a.callAsync();
    expect(() => a.call()).toThrow(/cannot call this instance while a call is running or suspended/);
    expect(() => a.reset()).toThrow(UsageError);
    await expect(a.callAsync()).rejects.toThrow(UsageError);
    const [ra, rb] = await Promise.all([first, b.callAsync()]);
    expect(ra.r0).toBe(106n);
    expect(rb.r0).toBe(106n);
  });
});
