/**
 * The embedding API on both engines: the same contract with the same gas gives the same result, the
 * same gas used and the same trap (code, pc, counters) on the interpreter and on the JIT.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BpfError, Engine, type EngineKind, type HostCallContext, Linker, Module } from '../../src/index.js';
import { clangAvailable, compileBpf, warnIfMissing } from '../elf/compile.js';

warnIfMissing('test/host/engines-agree');

const TOKEN_C = readFileSync(new URL('../../examples/contracts/token.c', import.meta.url), 'utf8');
const MALICIOUS_C = readFileSync(new URL('../../examples/contracts/malicious.c', import.meta.url), 'utf8');

type Outcome = { r0: string; gasUsed: number; instructions: number } | Record<string, unknown>;

/** Runs `calls` in order on a fresh instance of `kind` and records each outcome. */
function outcomes(
  kind: EngineKind,
  object: Uint8Array,
  calls: [string, bigint[], number][],
  globals: Record<string, bigint> = {},
): Outcome[] {
  const engine = new Engine({ kind, maxInstructions: 100_000 });
  const storage = new Map<string, bigint>();
  const key = (ctx: HostCallContext, p: bigint, n: bigint) => [...ctx.memory.read(p, Number(n))].join(',');
  const module = Module.fromElf(engine, object, { globals });
  const instance = new Linker(engine)
    .define(
      'get',
      (ctx, k, kl, v) => {
        const value = storage.get(key(ctx, k, kl));
        if (value === undefined) return -1;
        ctx.memory.writeU64(v, value);
        return 8;
      },
      { cost: 100 },
    )
    .define(
      'set',
      (ctx, k, kl, v) => {
        storage.set(key(ctx, k, kl), ctx.memory.readU64(v));
        return 0;
      },
      { cost: 500 },
    )
    .instantiatePre(module)
    .instantiate();
  return calls.map(([entry, args, gas]) => {
    try {
      const r = instance.invoke({ entry, args, gas });
      return { r0: `0x${r.r0.toString(16)}`, gasUsed: r.gasUsed, instructions: r.instructions };
    } catch (e) {
      if (!(e instanceof BpfError)) throw e;
      return { ...e.toJSON(), gasUsed: (e as { gasUsed?: number }).gasUsed };
    }
  });
}

describe.skipIf(!clangAvailable)('interp and jit agree through the host API', () => {
  it('token: transfers, refusals, out of gas at every limit of one transfer', () => {
    const object = compileBpf(TOKEN_C);
    const script: [string, bigint[], number][] = [
      ['mint', [1n, 2n, 1000n], 100_000],
      ['transfer', [2n, 3n, 300n], 100_000],
      ['transfer', [3n, 2n, 500n], 100_000],
      ['balance_of', [3n], 100_000],
    ];
    const owner = { owner: 1n };
    const interp = outcomes('interp', object, script, owner);
    expect(interp[1]).toMatchObject({ r0: '0x0' });
    const gas = (interp[1] as { gasUsed: number }).gasUsed;
    // Limits around every host call and the last instruction of the transfer.
    for (const limit of [gas, gas - 1, gas - 100, 700, 650, 120, 99, 1]) {
      script.push(['transfer', [2n, 3n, 1n], limit]);
    }
    expect(outcomes('jit', object, script, owner)).toEqual(outcomes('interp', object, script, owner));
  });

  it('malicious: faults and endless loops stop identically', () => {
    const object = compileBpf(MALICIOUS_C);
    const module = Module.fromElf(new Engine(), object);
    const script: [string, bigint[], number][] = Object.keys(module.exports).map((entry) => [
      entry,
      [0x1234n, 7n],
      50_000,
    ]);
    expect(script.length).toBeGreaterThan(2);
    const interp = outcomes('interp', object, script);
    expect(interp.some((o) => 'code' in o && o.code === 'MEMORY_FAULT')).toBe(true);
    expect(outcomes('jit', object, script)).toEqual(interp);
  });
});
