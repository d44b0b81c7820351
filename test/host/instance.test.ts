/** Instances: exact gas, typed traps, reset, reuse, memory map, hostile guests. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BadCallTarget,
  CallDepthExceeded,
  HelperError,
  InstructionLimit,
  LoadError,
  MemoryFault,
  OutOfGas,
  type Trap,
  UsageError,
} from '../../src/errors.js';
import { Engine } from '../../src/host/engine.js';
import { Linker } from '../../src/host/linker.js';
import { Module } from '../../src/host/module.js';

function trap(f: () => unknown): Trap {
  try {
    f();
  } catch (e) {
    return e as Trap;
  }
  throw new Error('expected a trap');
}

// r0 = 3 + 2 + 1: 2 setup instructions, 3 iterations of 3, exit — 12 instructions; exit at pc 5.
const SUM = `
  mov %r0, 0
  mov %r1, 3
loop:
  add %r0, %r1
  sub %r1, 1
  jne %r1, 0, loop
  exit`;

const engine = new Engine();
const instantiate = (text: string, options = {}) =>
  new Linker(engine).instantiatePre(Module.fromAsm(engine, text)).instantiate(options);

describe('gas', () => {
  it('uses exactly one gas per executed instruction', () => {
    expect(instantiate(SUM).call()).toEqual({ r0: 6n, gasUsed: 12, instructions: 12 });
  });

  it('with the exact count as limit it succeeds; one less traps OUT_OF_GAS at the last pc', () => {
    const instance = instantiate(SUM);
    expect(instance.invoke({ gas: 12 }).gasUsed).toBe(12);
    const e = trap(() => instance.invoke({ gas: 11 }));
    expect(e).toBeInstanceOf(OutOfGas);
    expect(e).toMatchObject({ code: 'OUT_OF_GAS', pc: 5, gasUsed: 11, instructions: 11 });
  });

  it('any limit below the count traps at the pc of the first unpaid instruction, deterministically', () => {
    const executed = [0, 1, 2, 3, 4, 2, 3, 4, 2, 3, 4, 5];
    const instance = instantiate(SUM);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20 }), (gas) => {
        if (gas >= 12) {
          expect(instance.invoke({ gas })).toEqual({ r0: 6n, gasUsed: 12, instructions: 12 });
        } else {
          const e = trap(() => instance.invoke({ gas }));
          expect(e).toBeInstanceOf(OutOfGas);
          expect(e).toMatchObject({ pc: executed[gas], gasUsed: gas, instructions: gas });
        }
      }),
    );
  });

  it('takes the per-call limit from instantiate({gas}), overridable per call', () => {
    const instance = instantiate(SUM, { gas: 4 });
    expect(trap(() => instance.call())).toMatchObject({ code: 'OUT_OF_GAS', gasUsed: 4 });
    expect(instance.invoke({ gas: 100 }).r0).toBe(6n);
  });

  it('prices instruction classes with the engine cost table', () => {
    const priced = new Engine({ gasCosts: { alu: 2, jump: 5, exit: 0 } });
    const instance = new Linker(priced).instantiatePre(Module.fromAsm(priced, SUM)).instantiate();
    // 2 + 3·2 alu ×2, 3 jumps ×5, exit 0.
    expect(instance.call().gasUsed).toBe(2 * 2 + 3 * (2 * 2 + 5));
  });

  it('refuses a gas limit on an engine without metering, and still reports gas used', () => {
    const unmetered = new Engine({ gas: false });
    const pre = new Linker(unmetered).instantiatePre(Module.fromAsm(unmetered, SUM));
    expect(() => pre.instantiate({ gas: 5 })).toThrow(UsageError);
    const instance = pre.instantiate();
    expect(() => instance.invoke({ gas: 5 })).toThrow(/gas metering on/);
    expect(instance.call()).toMatchObject({ r0: 6n, gasUsed: 12 });
  });

  it('rejects bad gas limits', () => {
    const instance = instantiate(SUM);
    for (const gas of [-1, 1.5, Number.NaN]) expect(() => instance.invoke({ gas })).toThrow(UsageError);
  });
});

describe('calls', () => {
  it('passes r1..r5 and named entry points', () => {
    const text = 'mov %r0, %r1\nadd %r0, %r5\nexit\nmov %r0, 7\nexit';
    const instance = new Linker(engine)
      .instantiatePre(Module.fromAsm(engine, text, { exports: { main: 0, seven: 3 } }))
      .instantiate();
    expect(instance.call('main', 40n, 0, 0, 0, 2).r0).toBe(42n);
    expect(instance.call(undefined, -1, 0, 0, 0, 0).r0).toBe(0xffffffffffffffffn);
    expect(instance.call('seven').r0).toBe(7n);
    expect(instance.call(3).r0).toBe(7n);
    expect(() => instance.call('nope')).toThrow(/exports no "nope" \(exports: main, seven\)/);
    expect(() => instance.call(0, 1, 2, 3, 4, 5, 6)).toThrow(UsageError);
    expect(() => instance.call(0, 1.5)).toThrow(UsageError);
    expect(() => instance.call(1000)).toThrow(LoadError);
  });

  it('serves many calls from one instance', () => {
    const instance = instantiate('mov %r0, %r1\nmul %r0, %r0\nexit');
    for (let i = 0; i < 1000; i++) expect(instance.call(0, i).r0).toBe(BigInt(i * i));
  });

  it('creates many instances from one module and one InstancePre', () => {
    const module = Module.fromAsm(engine, 'ldxdw %r0, [%r1]\nadd %r0, 1\nstxdw [%r1], %r0\nexit', {
      data: new Uint8Array(8),
    });
    const pre = new Linker(engine).instantiatePre(module);
    const a = pre.instantiate();
    const b = pre.instantiate();
    const data = a.layout.data.base;
    expect(a.call(0, data).r0).toBe(1n);
    expect(a.call(0, data).r0).toBe(2n);
    expect(b.call(0, data).r0).toBe(1n);
    expect(Object.isFrozen(module)).toBe(true);
  });
});

describe('memory', () => {
  const module = Module.fromAsm(
    engine,
    // r0 = rodata[0] + data[0]; data[0] += 1; heap[0] = r0
    `lddw %r1, 0x10000000
     ldxdw %r0, [%r1]
     lddw %r2, 0x20000000
     ldxdw %r3, [%r2]
     add %r0, %r3
     add %r3, 1
     stxdw [%r2], %r3
     lddw %r4, 0x30000000
     stxdw [%r4], %r0
     exit`,
    {
      rodata: Uint8Array.from([100, 0, 0, 0, 0, 0, 0, 0]),
      data: Uint8Array.from([5, 0, 0, 0, 0, 0, 0, 0]),
      heapSize: 4096,
    },
  );

  it('maps rodata, data, heap and stack at the contract addresses', () => {
    const instance = new Linker(engine).instantiatePre(module).instantiate();
    expect(instance.layout).toEqual({
      rodata: { base: 0x1000_0000, size: 8 },
      data: { base: 0x2000_0000, size: 8 },
      heap: { base: 0x3000_0000, size: 4096 },
      stack: { base: 0x7000_0000, size: 512 * 8 },
    });
    expect(instance.call().r0).toBe(105n);
    expect(instance.memory.readU64(0x3000_0000)).toBe(105n);
    expect(instance.call().r0).toBe(106n);
  });

  it('reset() restores data and heap: write, reset, read back', () => {
    const instance = new Linker(engine).instantiatePre(module).instantiate();
    instance.call();
    instance.memory.writeU64(0x2000_0000, 77n);
    instance.memory.write(0x3000_0010, Uint8Array.from([1, 2, 3]));
    expect(instance.memory.readU64(0x2000_0000)).toBe(77n);
    instance.reset();
    expect(instance.memory.readU64(0x2000_0000)).toBe(5n);
    expect(instance.memory.read(0x3000_0000, 32)).toEqual(new Uint8Array(32));
    expect(instance.call().r0).toBe(105n);
  });

  it('host accesses obey the region permissions and bounds', () => {
    const instance = new Linker(engine).instantiatePre(module).instantiate({ memory: { heapSize: 64 } });
    expect(instance.layout.heap.size).toBe(64);
    expect(instance.memory.readU64(0x1000_0000)).toBe(100n);
    expect(() => instance.memory.writeU64(0x1000_0000, 1n)).toThrow(MemoryFault);
    expect(() => instance.memory.read(0x3000_0000, 65)).toThrow(/runs past the end of heap/);
    expect(() => instance.memory.readU64(0)).toThrow(MemoryFault);
    instance.memory.writeU32(0x3000_0000, 0xdeadbeef);
    instance.memory.writeU8(0x3000_0004, 7);
    expect(instance.memory.readU32(0x3000_0000)).toBe(0xdeadbeef);
    expect(instance.memory.readU8(0x3000_0004)).toBe(7);
  });

  it('the stack honours the engine limits', () => {
    const small = new Engine({ stackFrameSize: 64, maxCallFrames: 2 });
    const recurse = 'f:\ncall local f\nexit';
    const instance = new Linker(small).instantiatePre(Module.fromAsm(small, recurse)).instantiate();
    expect(instance.layout.stack.size).toBe(128);
    expect(trap(() => instance.call())).toBeInstanceOf(CallDepthExceeded);
    expect(() => instantiate('stdw [%r10-520], 1\nexit').call()).toThrow(MemoryFault);
  });

  it('refuses instances beyond maxMemoryBytes', () => {
    const tight = new Engine({ maxMemoryBytes: 65536 });
    const pre = new Linker(tight).instantiatePre(Module.fromAsm(tight, 'exit', { heapSize: 1 << 20 }));
    expect(() => pre.instantiate()).toThrow(/memory limit of 65536 bytes/);
    expect(pre.instantiate({ memory: { heapSize: 4096 } }).call().r0).toBe(0n);
  });
});

describe('trace', () => {
  it('reports every executed instruction, with the same result and gas as untraced', () => {
    const steps: [number, number][] = [];
    const instance = instantiate(SUM);
    expect(instance.invoke({ gas: 12, trace: (s) => steps.push([s.pc, s.gasUsed]) })).toEqual(
      instance.call(),
    );
    expect(steps.map(([pc]) => pc)).toEqual([0, 1, 2, 3, 4, 2, 3, 4, 2, 3, 4, 5]);
    expect(steps.map(([, gas]) => gas)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(trap(() => instance.invoke({ gas: 11, trace: () => {} }))).toMatchObject({ pc: 5, gasUsed: 11 });
  });
});

describe('interrupt', () => {
  it('a host function can stop the guest right after its call', () => {
    const linker = new Linker(engine).define('stop', (ctx) => ctx.instance.interrupt());
    const instance = linker
      .instantiatePre(Module.fromAsm(engine, 'call 0x56fe4a1a\nmov %r0, 1\nexit'))
      .instantiate();
    expect(trap(() => instance.call())).toMatchObject({ code: 'INTERRUPTED', pc: 1, instructions: 1 });
  });
});

describe('hostile guests', () => {
  it('a read outside its memory traps with MemoryFault (pc, gas used); the host carries on', () => {
    const instance = instantiate('mov %r0, 1\nlddw %r1, 0x50000000\nldxdw %r0, [%r1]\nexit', { gas: 100 });
    const e = trap(() => instance.call());
    expect(e).toBeInstanceOf(MemoryFault);
    expect(e).toMatchObject({ pc: 3, gasUsed: 3, instructions: 3, access: 'read' });
    expect(trap(() => instance.call())).toBeInstanceOf(MemoryFault);
  });

  it('writes to rodata, below the stack or to host offsets all fault', () => {
    const m = Module.fromAsm(engine, 'lddw %r1, 0x10000000\nstdw [%r1], 1\nexit', {
      rodata: new Uint8Array(8),
    });
    expect(trap(() => new Linker(engine).instantiatePre(m).instantiate().call())).toMatchObject({
      code: 'MEMORY_FAULT',
      pc: 2,
    });
    for (const address of [0, 4096, 0x7000_0000, 0x1_0000_0000]) {
      const text = `lddw %r1, ${address}\nldxb %r0, [%r1]\nexit`;
      expect(trap(() => instantiate(text).call())).toBeInstanceOf(MemoryFault);
    }
  });

  it('an endless loop runs out of gas, or out of instructions without a limit', () => {
    const loop = 'mov %r0, 0\nl:\nadd %r0, 1\nja l';
    const e = trap(() => instantiate(loop).invoke({ gas: 1_000_001 }));
    expect(e).toBeInstanceOf(OutOfGas);
    expect(e.gasUsed).toBe(1_000_001);
    const capped = new Engine({ maxInstructions: 10_000 });
    const f = trap(() =>
      new Linker(capped).instantiatePre(Module.fromAsm(capped, loop)).instantiate().call(),
    );
    expect(f).toBeInstanceOf(InstructionLimit);
    expect(f.instructions).toBe(10_000);
  });

  it('callx to an address that is no code traps', () => {
    expect(trap(() => instantiate('r1 = 12345\ncallx r1\nexit').call())).toBeInstanceOf(BadCallTarget);
  });

  it('a host function that throws becomes a HelperError with the cause; the instance stays usable', () => {
    const boom = new Error('storage offline');
    let fail = true;
    const linker = new Linker(engine).define('get', () => {
      if (fail) throw boom;
      return 9;
    });
    const instance = linker
      .instantiatePre(Module.fromAsm(engine, 'mov %r0, 1\ncall 0x3b6d35a2\nexit'))
      .instantiate();
    const e = trap(() => instance.invoke({ gas: 50 }));
    expect(e).toBeInstanceOf(HelperError);
    expect(e).toMatchObject({ pc: 1, gasUsed: 2, instructions: 2 });
    expect(e.cause).toBe(boom);
    fail = false;
    expect(instance.call().r0).toBe(9n);
  });
});
