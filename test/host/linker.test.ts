/** Linking host functions by name (murmur3-32 hash) and by helper id; LinkError; host call costs. */
import { describe, expect, it } from 'vitest';
import { LinkError, OutOfGas, type Trap, UsageError } from '../../src/errors.js';
import { Engine } from '../../src/host/engine.js';
import { Linker } from '../../src/host/linker.js';
import { Module } from '../../src/host/module.js';
import { murmur3_32 } from '../../src/host/murmur3.js';

const engine = new Engine();
const hex = (name: string) => `0x${murmur3_32(name).toString(16)}`;

function trap(f: () => unknown): Trap {
  try {
    f();
  } catch (e) {
    return e as Trap;
  }
  throw new Error('expected a trap');
}

describe('Module imports', () => {
  it('records every call imm site with its pcs, grouped by immediate', () => {
    const m = Module.fromAsm(
      engine,
      `call ${hex('sol_log_')}\ncall 1\ncall ${hex('sol_log_')}\nmov %r0, 0\nexit`,
    );
    expect(m.imports).toEqual([
      { imm: 0x207559bd, hash: 0x207559bd, pcs: [0, 2] },
      { imm: 1, hash: 1, pcs: [1] },
    ]);
    const negative = Module.fromAsm(engine, `call ${hex('abort')}\nexit`);
    expect(negative.imports[0]).toEqual({ imm: 0xb6fc1a11 | 0, hash: 0xb6fc1a11, pcs: [0] });
  });

  it('local calls are not imports', () => {
    expect(Module.fromAsm(engine, 'call local f\nexit\nf:\nexit').imports).toEqual([]);
  });
});

describe('Linker', () => {
  it('resolves by the murmur3 hash of the name, including hashes above 2^31', () => {
    const seen: string[] = [];
    const linker = new Linker(engine)
      .define('sol_log_', (ctx, ptr, len) => {
        seen.push(ctx.memory.readString(ptr, Number(len)));
      })
      .define('abort', () => 7n);
    const module = Module.fromAsm(
      engine,
      `lddw %r1, 0x10000000\nmov %r2, 5\ncall ${hex('sol_log_')}\ncall ${hex('abort')}\nexit`,
      { rodata: new TextEncoder().encode('hello') },
    );
    const instance = linker.instantiatePre(module).instantiate();
    expect(instance.call().r0).toBe(7n);
    expect(seen).toEqual(['hello']);
  });

  it('resolves by helper id, given as define(id) or as the id option', () => {
    const linker = new Linker(engine)
      .define(1, (_ctx, a) => a * 2n)
      .define('lookup', (_ctx, a) => a + 100n, { id: 5 });
    const module = Module.fromAsm(
      engine,
      `mov %r1, 4\ncall 1\nmov %r1, %r0\ncall 5\nmov %r1, %r0\ncall ${hex('lookup')}\nexit`,
    );
    expect(linker.instantiatePre(module).instantiate().call().r0).toBe(208n);
  });

  it('lists every missing import, with both readings and all call sites, in one LinkError', () => {
    const linker = new Linker(engine).define('sol_log_', () => 0);
    const module = Module.fromAsm(
      engine,
      `call ${hex('sol_log_')}\ncall ${hex('get')}\ncall 7\ncall ${hex('get')}\ncall ${hex('abort')}\nexit`,
    );
    const e = trap(() => linker.instantiatePre(module)) as unknown as LinkError;
    expect(e).toBeInstanceOf(LinkError);
    expect(e.missing).toEqual([
      `murmur3 ${hex('get')} at pc 1, 3`,
      'helper 7 (murmur3 0x00000007) at pc 2',
      `murmur3 ${hex('abort')} at pc 4`,
    ]);
    expect(e.message).toMatch(/^3 unresolved imports: /);
    expect(e.toJSON()).toMatchObject({ code: 'LINK_ERROR', pc: 1, missing: e.missing });
  });

  it('charges a host function cost on top of the call instruction', () => {
    const linker = new Linker(engine)
      .define('cheap', () => 1, { cost: 10 })
      .define('dynamic', (ctx, n) => {
        ctx.consumeGas(Number(n));
        return 2;
      });
    const module = Module.fromAsm(engine, `call ${hex('cheap')}\nmov %r1, 25\ncall ${hex('dynamic')}\nexit`);
    const instance = linker.instantiatePre(module).instantiate();
    // 4 instructions + 10 fixed + 25 charged by the function.
    expect(instance.call()).toMatchObject({ r0: 2n, gasUsed: 39 });
    expect(trap(() => instance.invoke({ gas: 38 }))).toMatchObject({
      code: 'OUT_OF_GAS',
      pc: 3,
      gasUsed: 38,
    });
    const e = trap(() => instance.invoke({ gas: 37 }));
    expect(e).toBeInstanceOf(OutOfGas);
    expect(e).toMatchObject({ pc: 2, gasUsed: 13 });
    // The fixed cost is checked before the function runs.
    expect(trap(() => instance.invoke({ gas: 10 }))).toMatchObject({ code: 'OUT_OF_GAS', pc: 0, gasUsed: 1 });
  });

  it('lets a host function end the guest, and faults on its memory accesses at the call pc', () => {
    const linker = new Linker(engine)
      .define('quit', (ctx) => ctx.terminate(99))
      .define('peek', (ctx, ptr) => ctx.memory.readU64(ptr));
    const quit = Module.fromAsm(engine, `call ${hex('quit')}\nmov %r0, 1\nexit`);
    expect(linker.instantiatePre(quit).instantiate().call()).toMatchObject({ r0: 99n, gasUsed: 1 });
    const peek = Module.fromAsm(engine, `mov %r1, 16\ncall ${hex('peek')}\nexit`);
    expect(trap(() => linker.instantiatePre(peek).instantiate().call())).toMatchObject({
      code: 'MEMORY_FAULT',
      pc: 1,
      instructions: 2,
    });
  });

  it('lets a host function call back into the guest, with the callback gas counted', () => {
    const names: string[] = [];
    const linker = new Linker(engine)
      .define('apply', (ctx, fn) => {
        let sum = 0n;
        for (let k = 1n; k <= 3n; k++) sum += ctx.callFunction(fn, k);
        names.push(ctx.name);
        return sum;
      })
      .define('log', (ctx) => void names.push(ctx.name));
    const module = Module.fromAsm(
      engine,
      `lddw code_addr %r1, double\ncall ${hex('apply')}\nexit\ndouble:\ncall ${hex('log')}\nmov %r0, %r1\nadd %r0, %r1\nexit`,
    );
    // Main: lddw, call, exit; the callback: 4 instructions, 3 times.
    expect(linker.instantiatePre(module).instantiate().call()).toMatchObject({ r0: 12n, gasUsed: 3 + 12 });
    expect(names).toEqual(['log', 'log', 'log', 'apply']);
  });

  it('offers a sol_alloc_free_ bump allocator over the heap, emptied by reset()', () => {
    const linker = new Linker(engine).defineAllocator();
    const alloc = `mov %r1, %r1\nmov %r2, 0\ncall ${hex('sol_alloc_free_')}\nexit`;
    const instance = linker.instantiatePre(Module.fromAsm(engine, alloc, { heapSize: 32 })).instantiate();
    expect(instance.call(0, 5).r0).toBe(0x3000_0000n);
    expect(instance.call(0, 8).r0).toBe(0x3000_0008n);
    expect(instance.call(0, 16).r0).toBe(0x3000_0010n);
    expect(instance.call(0, 1).r0).toBe(0n); // full
    instance.reset();
    expect(instance.call(0, 32).r0).toBe(0x3000_0000n);
    const free = `mov %r2, 0x30000000\ncall ${hex('sol_alloc_free_')}\nexit`;
    expect(
      linker
        .instantiatePre(Module.fromAsm(engine, free, { heapSize: 32 }))
        .instantiate()
        .call().r0,
    ).toBe(0n);
  });

  it('refuses duplicate or ambiguous definitions and bad options', () => {
    const linker = new Linker(engine).define('get', () => 0).define(1, () => 0);
    expect(() => linker.define('get', () => 0)).toThrow(/already defined/);
    expect(() => linker.define('other', () => 0, { id: 1 })).toThrow(/as "helper_1" already does/);
    expect(() => linker.define(murmur3_32('get') | 0, () => 0)).toThrow(UsageError);
    expect(() => linker.define('x', () => 0, { cost: -1 })).toThrow(UsageError);
    expect(() => linker.define(-3, () => 0)).toThrow(UsageError);
    expect(() => linker.define('', () => 0)).toThrow(UsageError);
    expect(() => linker.define(2, () => 0, { id: 3 })).toThrow(UsageError);
    expect(linker.definitions().map((d) => d.name)).toEqual(['get', 'helper_1']);
  });

  it('refuses a module from another engine', () => {
    const other = new Engine();
    expect(() => new Linker(engine).instantiatePre(Module.fromAsm(other, 'exit'))).toThrow(/another engine/);
  });
});
