/**
 * Contracts compiled by clang-19 through `Module.fromElf`: examples/contracts/token.c with host storage
 * behind `get`/`set` imported by name, examples/contracts/malicious.c stopped by its host, and the ELF
 * side (entries, globals in the memory map, data pointers, hash calls, traps with file:line).
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BpfError,
  CallDepthExceeded,
  Engine,
  HelperError,
  type HostCallContext,
  InstructionLimit,
  Interrupted,
  LinkError,
  Linker,
  LoadError,
  MemoryFault,
  Module,
  OutOfGas,
  type Trap,
  UsageError,
} from '../../src/index.js';
import { clangAvailable, compileBpf, warnIfMissing } from '../elf/compile.js';

warnIfMissing('test/host/contracts-elf');

const TOKEN_C = readFileSync(new URL('../../examples/contracts/token.c', import.meta.url), 'utf8');
const MALICIOUS_C = readFileSync(new URL('../../examples/contracts/malicious.c', import.meta.url), 'utf8');
/** 1-based line of the first line of `source` containing `text` (what line info must point at). */
const lineOf = (source: string, text: string): number =>
  source.split('\n').findIndex((l) => l.includes(text)) + 1;

function caught(f: () => unknown): Trap {
  try {
    f();
  } catch (e) {
    return e as Trap;
  }
  throw new Error('expected a trap');
}

const OWNER = 1n;
const GET_COST = 100;
const SET_COST = 500;

/** The token contract with host storage in a Map keyed by the key bytes; counts host calls. */
function token(object: Uint8Array, options: { gas?: number; cost?: boolean } = {}) {
  const storage = new Map<string, bigint>();
  const calls = { get: 0, set: 0 };
  const key = (ctx: HostCallContext, ptr: bigint, len: bigint) =>
    [...ctx.memory.read(ptr, Number(len))].join(',');
  const engine = new Engine();
  const module = Module.fromElf(engine, object, { globals: { owner: OWNER } });
  const cost = options.cost ?? true;
  const linker = new Linker(engine)
    .define(
      'get',
      (ctx, k, kl, v) => {
        calls.get++;
        const value = storage.get(key(ctx, k, kl));
        if (value === undefined) return -1;
        ctx.memory.writeU64(v, value);
        return 8;
      },
      { cost: cost ? GET_COST : 0 },
    )
    .define(
      'set',
      (ctx, k, kl, v) => {
        calls.set++;
        storage.set(key(ctx, k, kl), ctx.memory.readU64(v));
        return 0;
      },
      { cost: cost ? SET_COST : 0 },
    );
  const instance = linker.instantiatePre(module).instantiate({ gas: options.gas ?? 100_000 });
  const balance = (account: bigint) => instance.call('balance_of', account).r0;
  return { module, instance, storage, calls, balance };
}

describe.skipIf(!clangAvailable)('examples/contracts/token.c', () => {
  let object: Uint8Array;
  beforeAll(() => {
    object = compileBpf(TOKEN_C);
  });

  it('exports every non-static function (and its section) and imports get/set by name', () => {
    const { module } = token(object);
    expect(Object.keys(module.exports)).toEqual(['balance_of', 'transfer', 'mint', 'name', 'contract']);
    expect(module.exports.balance_of).toBe(0);
    expect(module.imports.map((i) => i.name)).toEqual(['get', 'set']);
    expect(module.imports[0].hash).toBe(0x3b6d35a2); // murmur3_32("get")
  });

  it('mints and transfers; gas = instructions + the host calls’ costs', () => {
    const { instance, calls, balance } = token(object);
    expect(instance.call('mint', OWNER, 2, 1000).r0).toBe(0n);
    const before = { ...calls };
    const r = instance.call('transfer', 2, 3, 300);
    expect(r.r0).toBe(0n);
    const gets = calls.get - before.get;
    const sets = calls.set - before.set;
    expect([gets, sets]).toEqual([2, 2]);
    expect(r.gasUsed).toBe(r.instructions + gets * GET_COST + sets * SET_COST);
    expect([balance(2n), balance(3n)]).toEqual([700n, 300n]);
  });

  it('refuses an insufficient balance, an overflow, a self-transfer and a mint by anyone but the owner', () => {
    const { instance, storage, balance } = token(object);
    instance.call('mint', OWNER, 2, 1000);
    const snapshot = [...storage];
    const code = (entry: string, ...args: bigint[]) => BigInt.asIntN(64, instance.call(entry, ...args).r0);
    expect(code('transfer', 2n, 3n, 1001n)).toBe(-1n);
    expect(code('transfer', 3n, 2n, 1n)).toBe(-1n);
    expect(code('mint', OWNER, 3n, 2n ** 64n - 1n)).toBe(-2n);
    expect(code('transfer', 2n, 2n, 1n)).toBe(-3n);
    expect(code('mint', 2n, 2n, 5n)).toBe(-4n);
    expect([...storage]).toEqual(snapshot);
    expect(balance(2n)).toBe(1000n);
  });

  it('reads its globals: the owner from .rodata, a string for the host, a .bss counter reset() clears', () => {
    const { instance, module } = token(object);
    expect(module.rodata).toBeDefined();
    const name = instance.call('name').r0;
    expect(Number(name) >>> 28).toBe(1); // the read-only data region
    expect(instance.memory.readString(name, 12)).toBe('bpfbox token');
    expect(instance.memory.readCString(name)).toBe('bpfbox token');
    expect(() => instance.memory.readCString(name, 5)).toThrow(UsageError);
    const end = BigInt(instance.layout.rodata.base + instance.layout.rodata.size - 1);
    expect(instance.memory.readCString(end)).toBe(''); // the string's NUL is the region's last byte
    expect(() => instance.memory.writeU8(name, 0)).toThrow(MemoryFault);
    instance.call('balance_of', 1);
    instance.call('balance_of', 1);
    expect(instance.memory.readU64(instance.layout.data.base)).toBe(2n); // `calls`
    instance.reset();
    expect(instance.memory.readU64(instance.layout.data.base)).toBe(0n);
  });

  it('runs out of gas at the host call it cannot pay, with pc and file:line', () => {
    const { instance, storage, balance } = token(object);
    instance.call('mint', OWNER, 2, 1000);
    const snapshot = [...storage];
    const e = caught(() => instance.invoke({ entry: 'transfer', args: [2, 3, 100], gas: 400 }));
    expect(e).toBeInstanceOf(OutOfGas);
    const line = lineOf(TOKEN_C, 'return set(k');
    expect(e).toMatchObject({ code: 'OUT_OF_GAS', line });
    expect(e.file).toMatch(/prog\.c$/);
    expect(e.gasUsed).toBeLessThanOrEqual(400);
    expect(e.message).toContain(
      `cannot pay for the call to host function set (murmur3 0x5ecc6fe8), which costs ${SET_COST} gas per call`,
    );
    expect(e.message).toContain(`prog.c:${line}: return set(k, sizeof(*k)`);
    const insn = instance.module.program.insns[instance.module.program.insnAt[e.pc]];
    expect(insn.kind).toBe('call'); // the trap pc is the call itself
    expect([...storage]).toEqual(snapshot);
    expect(balance(2n)).toBe(1000n); // the instance keeps working
  });

  it('exact gas: a compiled function uses one gas per executed instruction; count − 1 traps at the last one', () => {
    const { instance, storage } = token(object, { cost: false });
    instance.call('mint', OWNER, 2, 1000);
    const before = [...storage];
    const pcs: number[] = [];
    const r = instance.invoke({ entry: 'transfer', args: [2, 3, 1], trace: (s) => pcs.push(s.pc) });
    expect(r.r0).toBe(0n);
    // The same path again: the same storage as before the traced call.
    storage.clear();
    for (const [k, v] of before) storage.set(k, v);
    expect(r.instructions).toBe(pcs.length);
    expect(r.gasUsed).toBe(pcs.length);
    const e = caught(() => instance.invoke({ entry: 'transfer', args: [2, 3, 1], gas: pcs.length - 1 }));
    expect(e).toBeInstanceOf(OutOfGas);
    const last = pcs[pcs.length - 1];
    expect(e).toMatchObject({ pc: last, gasUsed: pcs.length - 1, instructions: pcs.length - 1 });
    expect(instance.module.program.insns[instance.module.program.insnAt[last]].kind).toBe('exit');
    const line = instance.module.lineAt(last);
    expect(line).toBeDefined();
    expect(e).toMatchObject({ file: line?.file, line: line?.line });
  });

  it('lists a missing import by name in one LinkError', () => {
    const engine = new Engine();
    const module = Module.fromElf(engine, object);
    const e = caught(() => new Linker(engine).define('get', () => -1).instantiatePre(module));
    expect(e).toBeInstanceOf(LinkError);
    const setPc = module.imports.find((i) => i.name === 'set')?.pcs[0];
    expect((e as unknown as LinkError).missing).toEqual([`set (murmur3 0x5ecc6fe8) at pc ${setPc}`]);
    expect(e.message).toMatch(/^1 unresolved import: set /);
    expect(e.line).toBe(lineOf(TOKEN_C, 'return set(k'));
  });

  it('a named import resolves by its name only, not by a helper id equal to its hash', () => {
    const engine = new Engine();
    const module = Module.fromElf(engine, object);
    const linker = new Linker(engine).define(0x3b6d35a2 & 0x7fffffff, () => 0).define('set', () => 0);
    expect(() => linker.instantiatePre(module)).toThrow(/get \(murmur3 0x3b6d35a2\)/);
  });

  it('a host function that throws is a HelperError naming the import, with the cause and file:line', () => {
    const engine = new Engine();
    const boom = new Error('storage offline');
    const instance = new Linker(engine)
      .define('get', () => {
        throw boom;
      })
      .define('set', () => 0)
      .instantiatePre(Module.fromElf(engine, object))
      .instantiate();
    const e = caught(() => instance.call('balance_of', 1));
    expect(e).toBeInstanceOf(HelperError);
    expect(e.cause).toBe(boom);
    expect(e.message).toMatch(
      /^host function get \(murmur3 0x3b6d35a2\) at pc \d+ threw: storage offline \(/,
    );
    expect(e.line).toBe(lineOf(TOKEN_C, 'if (get(k'));
  });

  it('a result r0 cannot hold exactly is a HelperError naming the import, sync or async', async () => {
    const engine = new Engine();
    const module = Module.fromElf(engine, object);
    const withGet = (fn: () => number | Promise<number>) =>
      new Linker(engine)
        .define('get', fn)
        .define('set', () => 0)
        .instantiatePre(module)
        .instantiate();
    const sync = caught(() => withGet(() => 1.5).call('balance_of', 1));
    expect(sync).toBeInstanceOf(HelperError);
    expect(sync.message).toMatch(
      /^host function get \(murmur3 0x3b6d35a2\) at pc \d+ returned 1.5, which is not a safe integer/,
    );
    const async = await withGet(async () => 2 ** 60)
      .callAsync('balance_of', 1)
      .catch((e: unknown) => e as Trap);
    expect(async).toBeInstanceOf(HelperError);
    expect((async as Trap).message).toMatch(
      /host function get .* returned 1152921504606847000, which is not a safe integer/,
    );
    expect((async as Trap).line).toBe(lineOf(TOKEN_C, 'if (get(k'));
  });

  it('an OutOfGas from ctx.consumeGas names the host function and the amount', () => {
    const engine = new Engine();
    const instance = new Linker(engine)
      .define('get', (ctx) => {
        ctx.consumeGas(1_000_000);
        return -1;
      })
      .define('set', () => 0)
      .instantiatePre(Module.fromElf(engine, object))
      .instantiate({ gas: 5000 });
    const e = caught(() => instance.call('balance_of', 1));
    expect(e).toBeInstanceOf(OutOfGas);
    expect(e.message).toMatch(
      /cannot pay for the 1000000 gas host function get \(murmur3 0x3b6d35a2\) charged/,
    );
  });

  it('interrupting a suspended callAsync traps Interrupted with file:line', async () => {
    const engine = new Engine();
    let release: (v: number) => void = () => {};
    const instance = new Linker(engine)
      .define('get', () => new Promise<number>((resolve) => (release = resolve)))
      .define('set', () => 0)
      .instantiatePre(Module.fromElf(engine, object))
      .instantiate();
    const pending = instance.callAsync('balance_of', 1).catch((e: unknown) => e);
    await Promise.resolve();
    instance.interrupt();
    release(-1);
    const e = (await pending) as Trap;
    expect(e).toBeInstanceOf(Interrupted);
    expect(e.file).toMatch(/prog\.c$/);
    expect(e.line).toBeGreaterThan(0);
    expect(instance.call('name').r0).toBeGreaterThan(0n); // the instance is idle and usable again
  });
});

describe.skipIf(!clangAvailable)('examples/contracts/malicious.c', () => {
  let object: Uint8Array;
  beforeAll(() => {
    object = compileBpf(MALICIOUS_C);
  });

  function malicious(gas?: number) {
    const engine = new Engine();
    let sets = 0;
    const linker = new Linker(engine).define('set', () => void sets++, { cost: 50 });
    const instance = linker.instantiatePre(Module.fromElf(engine, object)).instantiate({ gas });
    return { instance, sets: () => sets };
  }

  it('reading outside its memory is a MemoryFault at the load, with file:line; the host carries on', () => {
    const { instance } = malicious();
    for (const address of [0, 0x4000_0000, 0x8000_0000, 0xf000_0000, 2 ** 32, 0x7000_0000]) {
      const e = caught(() => instance.call('peek', BigInt(address)));
      expect(e).toBeInstanceOf(MemoryFault);
      expect(e).toMatchObject({ pc: 0, line: lineOf(MALICIOUS_C, 'return *(volatile u64 *)address') });
      expect(e.message).toContain('return *(volatile u64 *)address;');
    }
    const top = BigInt(instance.layout.stack.base + instance.layout.stack.size - 8);
    expect(instance.call('peek', top).r0).toBe(0n);
  });

  it('without debug info the same traps carry the pc only', () => {
    const engine = new Engine();
    const module = Module.fromElf(engine, compileBpf(MALICIOUS_C, ['-g0']));
    expect(module.lines).toEqual([]);
    const instance = new Linker(engine)
      .define('set', () => 0)
      .instantiatePre(module)
      .instantiate();
    const e = caught(() => instance.call('peek', 0));
    expect(e).toBeInstanceOf(MemoryFault);
    expect(e).toMatchObject({ pc: 0, file: undefined, line: undefined });
    expect(e.message).toMatch(/nearest region: [^(]*$/);
  });

  it('writing its own read-only data is a MemoryFault', () => {
    const { instance } = malicious();
    const e = caught(() => instance.call('scribble'));
    expect(e).toBeInstanceOf(MemoryFault);
    expect(e).toMatchObject({ access: 'write', line: lineOf(MALICIOUS_C, "= 'j'") });
    expect(instance.memory.readString(instance.layout.rodata.base, 5)).toBe('hello');
  });

  it('an endless loop is stopped by gas, or by the instruction budget without a gas limit', () => {
    const spinLine = lineOf(MALICIOUS_C, 'for (;;) i++');
    const gas = caught(() => malicious(10_000).instance.call('spin'));
    expect(gas).toBeInstanceOf(OutOfGas);
    expect(gas).toMatchObject({ gasUsed: 10_000, line: spinLine });
    const { instance } = malicious();
    const budget = caught(() => instance.invoke({ entry: 'spin', maxInstructions: 50_000 }));
    expect(budget).toBeInstanceOf(InstructionLimit);
    expect(budget).toMatchObject({ instructions: 50_000, line: spinLine });
    expect(
      instance.call('peek', BigInt(instance.layout.stack.base + instance.layout.stack.size - 8)).r0,
    ).toBe(0n);
  });

  it('an endless loop of host calls runs out of gas paying for them', () => {
    const { instance, sets } = malicious(10_000);
    const e = caught(() => instance.call('flood'));
    expect(e).toBeInstanceOf(OutOfGas);
    expect(e.gasUsed).toBeLessThanOrEqual(10_000);
    expect(sets()).toBeGreaterThan(100);
    expect(sets()).toBeLessThan(10_000 / 50);
  });
});

describe.skipIf(!clangAvailable)('Module.fromElf on damaged objects', () => {
  it('every byte flip of token.o loads, or fails with a BpfError; what loads runs or traps', () => {
    const object = compileBpf(TOKEN_C);
    let seed = 7;
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    let loaded = 0;
    for (let k = 0; k < 300; k++) {
      const bytes = object.slice();
      for (let n = 0; n < 1 + Math.floor(random() * 4); n++) {
        bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      }
      const engine = new Engine();
      let module: Module;
      try {
        module = Module.fromElf(engine, bytes);
      } catch (e) {
        expect(e).toBeInstanceOf(BpfError);
        continue;
      }
      loaded++;
      const linker = new Linker(engine);
      for (const imp of module.imports) if (imp.name !== undefined) linker.define(imp.name, () => -1);
      try {
        const instance = linker.instantiatePre(module).instantiate({ gas: 100_000 });
        for (const entry of Object.keys(module.exports)) {
          try {
            instance.call(entry, 1, 2, 3);
          } catch (e) {
            expect(e).toBeInstanceOf(BpfError);
          }
        }
      } catch (e) {
        expect(e).toBeInstanceOf(BpfError);
      }
    }
    expect(loaded).toBeGreaterThan(0);
  }, 30_000);
});

describe.skipIf(!clangAvailable)('Module.fromElf', () => {
  const SOURCE = `
typedef unsigned long long u64;
#define SEC(name) __attribute__((section(name), used))
static long (*sol_log_)(const char *msg, u64 len) = (void *)0x207559bd;
extern long host_add(u64 a, u64 b);
static __attribute__((noinline)) long deep(u64 n) { volatile u64 x = n; if (n == 0) return 0; return deep(n - 1) + x; }
long depth(u64 n) { return deep(n); }
const char *names[] = {"alpha", "beta"};
u64 counter = 41;
u64 zeroed;
long pick(u64 i) { counter++; zeroed += 2; return names[i][0] * 1000 + counter * 10 + zeroed; }
SEC("contract/log") long hello(void) { return sol_log_("hi", 2) + host_add(40, 2); }
static __attribute__((noinline)) long hidden(u64 x) { volatile u64 y = x; return y + 7; }
long use_hidden(void) { return hidden(0); }
`;
  let object: Uint8Array;
  beforeAll(() => {
    object = compileBpf(SOURCE);
  });

  function instance(options: { entry?: string } = {}) {
    const engine = new Engine();
    const logs: string[] = [];
    const linker = new Linker(engine)
      .define('sol_log_', (ctx, p, n) => void logs.push(ctx.memory.readString(p, Number(n))))
      .define('host_add', (_ctx, a, b) => a + b);
    const module = Module.fromElf(engine, object, options);
    return { module, logs, instance: linker.instantiatePre(module).instantiate() };
  }

  it('mixes a murmur3 hash call (sol_log_) with a call by name, and exports section names', () => {
    const { module, logs, instance: i } = instance();
    expect(module.imports.map((x) => [x.hash, x.name])).toEqual([
      [0x207559bd, undefined],
      [expect.any(Number), 'host_add'],
    ]);
    expect(i.call('contract/log').r0).toBe(42n);
    expect(i.call('hello').r0).toBe(42n);
    expect(logs).toEqual(['hi', 'hi']);
  });

  it('lays out .data, .bss and pointers to string literals; reset() restores them', () => {
    const { instance: i } = instance();
    expect(i.call('pick', 1).r0).toBe(BigInt('b'.charCodeAt(0) * 1000 + 42 * 10 + 2));
    expect(i.call('pick', 0).r0).toBe(BigInt('a'.charCodeAt(0) * 1000 + 43 * 10 + 4));
    i.reset();
    expect(i.call('pick', 0).r0).toBe(BigInt('a'.charCodeAt(0) * 1000 + 42 * 10 + 2));
  });

  it('picks the default entry by function or section name; static functions are not exports', () => {
    expect(instance().instance.call().r0).toBe(0n); // depth(0), the first function
    const bySection = instance({ entry: 'contract/log' });
    expect(bySection.module.exports.hello).toBe(0);
    expect(bySection.instance.call().r0).toBe(42n);
    expect(instance({ entry: 'use_hidden' }).instance.call().r0).toBe(7n);
    expect(instance({ entry: 'hidden' }).instance.call().r0).toBe(7n);
    expect(Object.keys(instance().module.exports)).not.toContain('hidden');
    const e = caught(() => instance({ entry: 'nope' }));
    expect(e).toBeInstanceOf(UsageError);
    expect(e.hint).toMatch(/functions: .*depth.*; sections: /);
  });

  it('deep recursion traps CallDepthExceeded with file:line', () => {
    const e = caught(() => instance().instance.call('depth', 100));
    expect(e).toBeInstanceOf(CallDepthExceeded);
    expect(e.line).toBe(lineOf(SOURCE, 'static __attribute__((noinline)) long deep'));
  });

  it('refuses maps and objects without a callable function', () => {
    const withMap = compileBpf(`
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, __u64); } m SEC(".maps");
long f(void) { __u32 k = 0; __u64 *v = bpf_map_lookup_elem(&m, &k); return v ? *v : 0; }
`);
    const e = caught(() => Module.fromElf(new Engine(), withMap));
    expect(e).toBeInstanceOf(LoadError);
    expect(e).toMatchObject({ code: 'UNSUPPORTED_ELF' });
    expect(e.message).toMatch(/refers to map m; contracts have no maps/);
    const none = compileBpf('static long f(void) { return 1; }\nlong (*keep)(void) = f;');
    expect(() => Module.fromElf(new Engine(), none)).toThrow(/no non-static function/);
  });
});
