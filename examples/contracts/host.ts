/**
 * A small host for token.c: it compiles the contract with clang-19 (or loads the object file given as
 * the argument), defines the `get` and `set` host functions over a Map, charges gas for every host
 * call, and runs a few transfers, printing each result and the gas it used.
 *
 *   node --import tsx examples/contracts/host.ts            # compiles token.c next to this file
 *   node --import tsx examples/contracts/host.ts token.o    # an object compiled beforehand
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BpfError, Engine, type HostCallContext, Linker, Module } from '../../src/index.js';

const OWNER = 1n;
/** What the contract's negative results mean (token.c's TOKEN_E* codes). */
const ERRORS: Record<string, string> = {
  '-1': 'insufficient balance',
  '-2': 'overflow',
  '-3': 'self-transfer',
  '-4': 'not the owner',
  '-5': 'storage refused',
};

function contractObject(): Uint8Array {
  const given = process.argv[2];
  if (given !== undefined) return new Uint8Array(readFileSync(given));
  const source = fileURLToPath(new URL('token.c', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'bpfbox-token-'));
  try {
    const object = join(dir, 'token.o');
    const r = spawnSync('clang-19', ['-target', 'bpf', '-O2', '-g', '-c', source, '-o', object], {
      encoding: 'utf8',
    });
    if (r.error !== undefined || r.status !== 0) {
      throw new Error(
        `clang-19 could not compile ${source} (install clang-19, or pass a token.o):\n${r.stderr ?? r.error}`,
      );
    }
    return new Uint8Array(readFileSync(object));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Host storage: the contract's keys (bytes, as hex) to values. A call's writes are kept apart and
// committed only when it returns, so a trapped call (out of gas halfway) changes nothing.
const storage = new Map<string, Uint8Array>();
const pending = new Map<string, Uint8Array>();
const keyOf = (ctx: HostCallContext, ptr: bigint, len: bigint): string =>
  Buffer.from(ctx.memory.read(ptr, Number(len))).toString('hex');

const engine = new Engine({ gas: true });
const module = Module.fromElf(engine, contractObject(), { globals: { owner: OWNER } });
const linker = new Linker(engine)
  .define(
    'get',
    (ctx, key, keyLen, value, valueLen) => {
      const k = keyOf(ctx, key, keyLen);
      const stored = pending.get(k) ?? storage.get(k);
      if (stored === undefined) return -1;
      ctx.memory.write(value, stored.subarray(0, Number(valueLen)));
      return stored.length;
    },
    { cost: 100 }, // a storage read
  )
  .define(
    'set',
    (ctx, key, keyLen, value, valueLen) => {
      pending.set(keyOf(ctx, key, keyLen), ctx.memory.read(value, Number(valueLen)));
      return 0;
    },
    { cost: 500 }, // a storage write
  );
const instance = linker.instantiatePre(module).instantiate({ gas: 10_000 });

console.log(`contract "${instance.memory.readCString(instance.call('name').r0)}"`);
console.log(`exports: ${Object.keys(module.exports).join(', ')}`);
console.log(`imports: ${module.imports.map((i) => i.name).join(', ')}\n`);

function run(entry: string, args: bigint[], gas?: number): void {
  const label = `${entry}(${args.join(', ')})`.padEnd(34);
  try {
    const { r0, gasUsed, instructions } = instance.invoke({ entry, args, gas });
    for (const [k, v] of pending) storage.set(k, v);
    const value = BigInt.asIntN(64, r0);
    const outcome =
      entry === 'balance_of'
        ? `${value}`
        : value === 0n
          ? 'ok'
          : `refused: ${ERRORS[String(value)] ?? value}`;
    console.log(`${label} → ${outcome.padEnd(30)} gas ${gasUsed} (${instructions} instructions)`);
  } catch (e) {
    if (!(e instanceof BpfError)) throw e;
    console.log(`${label} → trap ${e.code}: ${e.message}`);
  } finally {
    pending.clear();
  }
  // Memory is per call here: reset() restores the contract's globals in well under a microsecond.
  instance.reset();
}

run('mint', [OWNER, 2n, 1000n]);
run('mint', [2n, 2n, 1000n]);
run('transfer', [2n, 3n, 300n]);
run('transfer', [3n, 2n, 500n]);
run('transfer', [2n, 2n, 1n]);
run('mint', [OWNER, 3n, 2n ** 64n - 1n]);
run('balance_of', [2n]);
run('balance_of', [3n]);
run('transfer', [2n, 3n, 100n], 1200); // the second storage write cannot be paid: nothing changes
run('balance_of', [2n]);
