/**
 * A token contract through the public API: balances live in host storage behind `get`/`set` host
 * functions imported by name (murmur3-32 hashes), with gas per call and per host function.
 */
import { describe, expect, it } from 'vitest';
import { Engine, Linker, Module, murmur3_32, OutOfGas, type Trap } from '../../src/index.js';

const call = (name: string) => `call 0x${murmur3_32(name).toString(16)}`;

// transfer(from = r1, to = r2, amount = r3): 0 on success, 1 when `from` cannot pay.
const TOKEN = `
  mov %r6, %r1
  mov %r7, %r2
  mov %r8, %r3
  mov %r1, %r6
  ${call('get')}
  jlt %r0, %r8, insufficient
  mov %r2, %r0
  sub %r2, %r8
  mov %r1, %r6
  ${call('set')}
  mov %r1, %r7
  ${call('get')}
  mov %r2, %r0
  add %r2, %r8
  mov %r1, %r7
  ${call('set')}
  mov %r0, 0
  exit
insufficient:
  mov %r0, 1
  exit`;

function setup() {
  const storage = new Map<bigint, bigint>([
    [1n, 100n],
    [2n, 5n],
  ]);
  const engine = new Engine();
  const linker = new Linker(engine)
    .define('get', (_ctx, key) => storage.get(key) ?? 0n, { cost: 10 })
    .define('set', (_ctx, key, value) => void storage.set(key, value), { cost: 20 });
  const module = Module.fromAsm(engine, TOKEN, { exports: { transfer: 0 } });
  return { storage, instance: linker.instantiatePre(module).instantiate({ gas: 1000 }) };
}

describe('token contract', () => {
  it('transfers, with gas = 18 instructions + 2 gets + 2 sets', () => {
    const { storage, instance } = setup();
    expect(instance.call('transfer', 1, 2, 30)).toEqual({
      r0: 0n,
      gasUsed: 18 + 2 * 10 + 2 * 20,
      instructions: 18,
    });
    expect([...storage]).toEqual([
      [1n, 70n],
      [2n, 35n],
    ]);
  });

  it('refuses an insufficient balance without touching storage', () => {
    const { storage, instance } = setup();
    expect(instance.call('transfer', 2, 1, 6)).toMatchObject({ r0: 1n, gasUsed: 8 + 10 });
    expect(storage.get(2n)).toBe(5n);
  });

  it('runs out of gas at a precise pc; the instance serves the next call', () => {
    const { instance } = setup();
    let e: Trap | undefined;
    try {
      instance.invoke({ entry: 'transfer', args: [1, 2, 30], gas: 30 });
    } catch (err) {
      e = err as Trap;
    }
    // pcs 0–4 and get: 15; pcs 5–9 (through `call set`): 20; set's own 20 does not fit in 30.
    expect(e).toBeInstanceOf(OutOfGas);
    expect(e).toMatchObject({ pc: 9, gasUsed: 20 });
    expect(instance.call('transfer', 1, 2, 1).r0).toBe(0n);
  });
});
