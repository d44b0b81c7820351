/**
 * The JIT's inline bpf_map_lookup_elem (codegen's `inlineLookup`, vm/map-lookup.ts): hits, misses,
 * host updates and deletes between runs (backward-shift deletes in colliding runs), guest updates in
 * the same run, value writes through the returned pointer seen by the host, per-CPU values after a
 * CPU change, the index moving with a growing memory, and every argument the inline code must hand
 * to the helper (bad handles, refused maps, faulting keys) trapping exactly like the interpreter. A
 * counting lookup helper proves which lookups stayed in wasm, so a test cannot pass by falling back.
 */
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import { BpfError } from '../../src/errors.js';
import { EXECUTORS, type ExecutorKind } from '../../src/executors.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { MapHelperId, registerMapHelpers } from '../../src/runtime/helpers/maps.js';
import { BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG } from '../../src/runtime/maps/constants.js';
import { HashMap } from '../../src/runtime/maps/hash.js';
import { probedHome } from '../../src/runtime/maps/hash-index.js';
import { createMaps } from '../../src/runtime/maps/host-api.js';
import type { MapDefinition, MapTypeName } from '../../src/runtime/maps/map-def.js';
import type { DirectHelper, HelperDefinition } from '../../src/vm/helpers.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';
import { PERM_READ, PERM_WRITE, Slot, slotBase } from '../../src/vm/memory/layout.js';
import { prng } from '../support/prng.js';

const INPUT = slotBase(Slot.INPUT);
const ENGINES: readonly ExecutorKind[] = ['interp', 'jit'];

type Def = Partial<MapDefinition> & { name: string; type: MapTypeName };
const def = (d: Def): MapDefinition => ({ keySize: 4, valueSize: 8, maxEntries: 16, flags: 0, ...d });

/** One engine's world: memory with a stack and an input region, the maps, a counting lookup helper. */
function world(defs: Def[], cpus = 1, maxBytes?: number) {
  const memory = new GuestMemory({ maxBytes });
  memory.mapStack();
  memory.map(Slot.INPUT, 'input', 4096, PERM_READ | PERM_WRITE);
  const maps = createMaps(defs.map(def), memory, { cpus });
  const helpers = registerMapHelpers(maps);
  const lookup = helpers.get(MapHelperId.map_lookup_elem) as HelperDefinition;
  const counter = { calls: 0 };
  const direct = lookup.direct as DirectHelper;
  helpers.define(
    lookup.id,
    lookup.name,
    (ctx) => {
      counter.calls++;
      return lookup.call(ctx);
    },
    (...args) => {
      counter.calls++;
      return direct(...args);
    },
    lookup.inlineLookup,
  );
  const load = (kind: ExecutorKind, text: string) =>
    EXECUTORS[kind](decodeProgram(assemble(text)), { memory, helpers, resolveLddw: maps.lddwResolver() });
  return { memory, maps, counter, load };
}

/**
 * Looks up `count` keys of `keySize` bytes from the input in map `m`; per key: sum = sum · 31 + r0,
 * and on a hit sum += *value and *value += 1 (the host must see the increments). r0 = sum. The
 * handle comes from an lddw in the call's block (the JIT compiles the map's entry in) or from a
 * register set before the loop (the JIT reads the entry at run time).
 */
const scan = (m: number, keySize: number, handle: 'lddw' | 'register' = 'lddw') => `
  mov %r6, %r1
  mov %r7, %r2
  mov %r8, 0
  lddw map_idx %r9, ${m}
loop:
  jeq %r7, 0, done
  ${handle === 'lddw' ? `lddw map_idx %r1, ${m}` : 'mov %r1, %r9'}
  mov %r2, %r6
  call 1
  mul %r8, 31
  add %r8, %r0
  jeq %r0, 0, skip
  ldxdw %r1, [%r0]
  add %r8, %r1
  add %r1, 1
  stxdw [%r0], %r1
skip:
  add %r6, ${keySize}
  sub %r7, 1
  ja loop
done:
  mov %r0, %r8
  exit`;

/** Key `n`; 8-byte keys share their low word with some keys and their high word with others. */
function keyBytes(keySize: number, n: number): Uint8Array {
  const key = new Uint8Array(keySize);
  const view = new DataView(key.buffer);
  if (keySize < 8) view.setUint32(0, n >>> 0, true);
  else {
    view.setUint32(0, n % 7, true);
    view.setUint32(4, Math.floor(n / 7), true);
  }
  return key;
}

function value(n: number): Uint8Array {
  const v = new Uint8Array(8);
  new DataView(v.buffer).setBigUint64(0, BigInt(n) * 1000n, true);
  return v;
}

/** Runs `text` with the keys in the input: r0, or the error's code and pc. */
function runKeys(w: ReturnType<typeof world>, kind: ExecutorKind, text: string, keys: Uint8Array[]) {
  const flat = new Uint8Array(keys.reduce((n, k) => n + k.length, 0));
  let at = 0;
  for (const k of keys) {
    flat.set(k, at);
    at += k.length;
  }
  w.memory.write(INPUT, flat);
  return outcome(() => w.load(kind, text).run({ args: [INPUT, keys.length] }));
}

function outcome(run: () => { r0: bigint; instructions: number }) {
  try {
    const { r0, instructions } = run();
    return { r0, instructions };
  } catch (e) {
    if (!(e instanceof BpfError)) throw e;
    const t = e as BpfError & { pc?: number; instructions?: number };
    return { code: t.code, pc: t.pc, instructions: t.instructions, message: t.message };
  }
}

describe('inline map lookups in JIT code', () => {
  const inlineCases: [MapTypeName, number][] = [
    ['array', 4],
    ['percpu_array', 4],
    ['hash', 4],
    ['hash', 8],
    ['percpu_hash', 4],
    ['percpu_hash', 8],
  ];
  for (const [[type, keySize], handle] of inlineCases.flatMap((c) =>
    (['lddw', 'register'] as const).map((h) => [c, h] as const),
  )) {
    it(`${type}, ${keySize}-byte keys, handle by ${handle}: random host updates and deletes between runs, same results as the interpreter, no helper call`, () => {
      const cpus = type.startsWith('percpu') ? 3 : 1;
      const worlds = ENGINES.map(() => world([{ name: 'm', type, keySize, maxEntries: 16 }], cpus));
      const random = prng(keySize * 131 + type.length);
      for (let round = 0; round < 60; round++) {
        // The same host operations on both worlds: few keys, so runs in the table collide and wrap.
        const ops = Math.floor(random() * 6);
        const cpu = Math.floor(random() * cpus);
        const edits: [number, boolean][] = [];
        for (let i = 0; i < ops; i++) edits.push([Math.floor(random() * 40), random() < 0.35]);
        const keys = Array.from({ length: 12 }, () => keyBytes(keySize, Math.floor(random() * 40)));
        const results = worlds.map((w) => {
          w.maps.currentCpu = cpu;
          for (const [n, remove] of edits) {
            if (type.endsWith('array')) {
              if (!remove) w.maps.maps[0].update(keyBytes(4, n % 16), value(n));
            } else if (remove) w.maps.maps[0].delete(keyBytes(keySize, n));
            else w.maps.maps[0].update(keyBytes(keySize, n), value(n));
          }
          return runKeys(w, w === worlds[0] ? 'interp' : 'jit', scan(0, keySize, handle), keys);
        });
        expect(results[1]).toEqual(results[0]);
        expect(worlds[0].maps.dump()).toEqual(worlds[1].maps.dump());
      }
      expect(worlds[0].counter.calls).toBeGreaterThan(0);
      expect(worlds[1].counter.calls).toBe(0);
    });
  }

  it('a hit returns the same pointer as the interpreter, and writes through it reach the host', () => {
    const w = world([
      { name: 'h', type: 'hash', keySize: 4 },
      { name: 'a', type: 'array', keySize: 4, maxEntries: 4 },
    ]);
    const h = w.maps.maps[0];
    h.update(keyBytes(4, 7), value(1));
    const pointer = (m: number, n: number, kind: ExecutorKind) =>
      runKeys(
        w,
        kind,
        `lddw map_idx %r1, ${m}\nmov %r2, %r10\nstw [%r10-4], ${n}\nadd %r2, -4\ncall 1\nexit`,
        [],
      );
    for (const [m, n] of [
      [0, 7],
      [0, 8],
      [1, 3],
      [1, 4],
    ]) {
      expect(pointer(m, n, 'jit')).toEqual(pointer(m, n, 'interp'));
    }
    expect(pointer(0, 8, 'jit').r0).toBe(0n); // miss
    expect(pointer(1, 4, 'jit').r0).toBe(0n); // index = max_entries
    expect(pointer(1, 3, 'jit').r0).not.toBe(0n);
    // Three lookups of key 7 through the scan program add 1 each.
    expect(runKeys(w, 'jit', scan(0, 4), [keyBytes(4, 7), keyBytes(4, 7), keyBytes(4, 7)]).r0).toBeDefined();
    expect(new DataView(h.lookup(keyBytes(4, 7))?.buffer as ArrayBuffer).getBigUint64(0, true)).toBe(1003n);
    expect(w.counter.calls).toBe(4); // only the interpreter's lookups called the helper
  });

  it('a lookup reached by a jump does not take the map of the lddw that falls through to it', () => {
    const w = world([
      { name: 'a', type: 'hash', keySize: 4 },
      { name: 'b', type: 'hash', keySize: 4 },
    ]);
    w.maps.maps[0].update(keyBytes(4, 3), value(1));
    w.maps.maps[1].update(keyBytes(4, 3), value(2));
    const text = `
      stw [%r10-4], 3
      mov %r6, %r1
      mov %r2, %r10
      add %r2, -4
      lddw map_idx %r1, 0
      jeq %r6, 0, go
      lddw map_idx %r1, 1
    go:
      call 1
      ldxdw %r0, [%r0]
      exit`;
    for (const [arg, want] of [
      [0, 1000n],
      [1, 2000n],
    ] as const) {
      const [a, b] = ENGINES.map((kind) => outcome(() => w.load(kind, text).run({ args: [arg] })));
      expect(a.r0).toBe(want);
      expect(b).toEqual(a);
    }
  });

  it('an 8-byte key at r10 − 4 crosses the top of the stack and faults like the interpreter', () => {
    const text = 'lddw map_idx %r1, 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\nexit';
    const [a, b] = ENGINES.map((kind) =>
      runKeys(world([{ name: 'h', type: 'hash', keySize: 8 }]), kind, text, []),
    );
    expect(a.code).toBe('MEMORY_FAULT');
    expect(b).toEqual(a);
  });

  /**
   * A loop whose lookups run wholly inline (map by lddw, key at r10 − 4) has no host call, so its
   * accesses through the returned pointer take the cached window check (slot-prediction.ts).
   */
  const pureLoop = (op: string) => `
      mov %r6, 0
      mov %r7, 0
    loop:
      stxw [%r10-4], %r6
      mov %r2, %r10
      add %r2, -4
      lddw map_idx %r1, 0
      call 1
      jeq %r0, 0, next
      ${op}
    next:
      add %r6, 1
      jlt %r6, 40, loop
      mov %r0, %r7
      exit`;
  for (const [type, flags, op, want] of [
    ['hash', 0, 'ldxdw %r1, [%r0]\n add %r7, %r1\n stxdw [%r0], %r7', 'r0'],
    ['array', 0, 'ldxdw %r1, [%r0]\n add %r7, %r1\n stxdw [%r0], %r7', 'r0'],
    ['array', BPF_F_RDONLY_PROG, 'ldxdw %r1, [%r0]\n add %r7, %r1', 'r0'],
    ['array', BPF_F_RDONLY_PROG, 'ldxdw %r1, [%r0]\n stxdw [%r0], %r1', 'MEMORY_FAULT'],
  ] as const) {
    it(`a loop of wholly inline ${type} lookups (flags ${flags}) agrees with the interpreter: ${want}`, () => {
      const results = ENGINES.map((kind) => {
        const w = world([{ name: 'm', type, keySize: 4, maxEntries: 32, flags }]);
        for (let n = 0; n < 32; n += type === 'hash' ? 3 : 1) w.maps.maps[0].update(keyBytes(4, n), value(n));
        const r = outcome(() => w.load(kind, pureLoop(op)).run());
        return { r, dump: w.maps.dump(), calls: w.counter.calls };
      });
      if (want === 'r0') expect(results[0].r.r0).toBeGreaterThan(0n);
      else expect(results[0].r.code).toBe(want);
      expect(results[1].r).toEqual(results[0].r);
      expect(results[1].dump).toEqual(results[0].dump);
      expect(results[0].calls).toBeGreaterThan(0);
      expect(results[1].calls).toBe(0);
    });
  }

  // The JIT passes the key a block stored last at r10 − 4 straight to its lookup (codegen's
  // `pureLookups`); any later write that may touch the key must make it read the stack instead.
  for (const [what, body, key] of [
    ['stxw, then the lookup', 'stxw [%r10-4], %r6\nadd %r6, 1', 5],
    ['stw of an immediate', 'stw [%r10-4], 9', 9],
    ['stxw, then a byte store into the key', 'stxw [%r10-4], %r6\nstb [%r10-3], 1', 5 + 256],
    ['stxw, then a store through an alias of r10', 'stxw [%r10-4], %r6\nmov %r3, %r10\nstw [%r3-4], 7', 7],
    ['stxw, then an atomic add on the key', 'stxw [%r10-4], %r6\nmov %r3, 2\nlock add32 [%r10-4], %r3', 7],
    ['stxdw over the key', 'stxw [%r10-4], %r6\nlddw %r3, 0x900000000\nstxdw [%r10-8], %r3', 9],
    ['stxw to another slot after the key', 'stxw [%r10-4], %r6\nstxw [%r10-8], %r7', 5],
  ] as const) {
    it(`a key forwarded from its store: ${what}`, () => {
      const text = `
        mov %r6, 5
        mov %r7, 8
        ${body}
        mov %r2, %r10
        add %r2, -4
        lddw map_idx %r1, 0
        call 1
        jeq %r0, 0, miss
        ldxdw %r0, [%r0]
        exit
      miss:
        mov %r0, 1
        exit`;
      const [a, b] = ENGINES.map((kind) => {
        const w = world([{ name: 'h', type: 'hash', keySize: 4, maxEntries: 600 }]);
        for (let n = 0; n < 300; n++) w.maps.maps[0].update(keyBytes(4, n), value(n));
        return outcome(() => w.load(kind, text).run());
      });
      expect(a.r0).toBe(BigInt(key) * 1000n);
      expect(b).toEqual(a);
    });
  }

  /** Looks up the input's keys through a key stored in the own frame (a pure lookup, no helper call). */
  const framed = (keySize: number) => `
    mov %r6, %r1
    mov %r7, %r2
    mov %r8, 0
  loop:
    jeq %r7, 0, done
    ${keySize === 4 ? 'ldxw %r3, [%r6]\n    stxw [%r10-8], %r3' : 'ldxdw %r3, [%r6]\n    stxdw [%r10-8], %r3'}
    lddw map_idx %r1, 0
    mov %r2, %r10
    add %r2, -8
    call 1
    mul %r8, 31
    add %r8, %r0
    jeq %r0, 0, skip
    ldxdw %r1, [%r0]
    add %r8, %r1
  skip:
    add %r6, ${keySize}
    sub %r7, 1
    ja loop
  done:
    mov %r0, %r8
    exit`;

  for (const keySize of [4, 8] as const) {
    it(`${keySize}-byte keys in long runs that wrap around the table: past the two-entry probe, same as the interpreter`, () => {
      const defs: Def[] = [{ name: 'h', type: 'hash', keySize, maxEntries: 16 }];
      const worlds = ENGINES.map(() => world(defs));
      const entry = worlds[1].maps.maps[0].lookupEntry(0);
      expect(entry?.limit).toBe(63); // a quarter full at most
      const shift = entry?.shift as number;
      const home = (n: number) => {
        const k = keyBytes(keySize, n);
        const v = new DataView(k.buffer);
        return probedHome(keySize, v.getInt32(0, true), keySize === 8 ? v.getInt32(4, true) : 0, shift);
      };
      // Keys whose home is the last entry (their run wraps to entry 0), then keys homed at 0 and 1.
      const homed = (h: number, count: number) => {
        const out: number[] = [];
        for (let n = 1; out.length < count; n++) if (home(n) === h) out.push(n);
        return out;
      };
      const last = homed(63, 10);
      const inserted = [...last.slice(0, 7), ...homed(0, 2), ...homed(1, 2)];
      const absent = [...last.slice(7), ...homed(2, 1)];
      const keys = [...inserted, ...absent, ...inserted.reverse()].map((n) => keyBytes(keySize, n));
      for (const w of worlds) for (const n of inserted) w.maps.maps[0].update(keyBytes(keySize, n), value(n));
      for (let round = 0; round < 3; round++) {
        for (const program of [framed(keySize), scan(0, keySize), scan(0, keySize, 'register')]) {
          const [a, b] = worlds.map((w, i) => runKeys(w, ENGINES[i], program, keys));
          expect(a.r0).toBeDefined();
          expect(b).toEqual(a);
        }
        // Backward-shift deletes from the middle and the head of the wrapped run.
        for (const w of worlds)
          for (const n of [last[2 * round + 1], inserted[round]]) w.maps.maps[0].delete(keyBytes(keySize, n));
      }
      expect(worlds[0].maps.dump()).toEqual(worlds[1].maps.dump());
      expect(worlds[1].counter.calls).toBe(0);
    });
  }

  it('sees guest updates and deletes made earlier in the same run', () => {
    const w = world([{ name: 'h', type: 'hash', keySize: 8 }]);
    // update(k, v) then lookup(k) → *r0, delete(k), lookup(k) → 0: r0 = v · 2 + (second lookup == 0).
    const text = `
      stdw [%r10-8], 0x1234
      stdw [%r10-16], 77
      lddw map_idx %r1, 0
      mov %r2, %r10
      add %r2, -8
      mov %r3, %r10
      add %r3, -16
      mov %r4, 0
      call 2
      lddw map_idx %r1, 0
      mov %r2, %r10
      add %r2, -8
      call 1
      ldxdw %r6, [%r0]
      lsh %r6, 1
      lddw map_idx %r1, 0
      mov %r2, %r10
      add %r2, -8
      call 3
      lddw map_idx %r1, 0
      mov %r2, %r10
      add %r2, -8
      call 1
      jne %r0, 0, out
      add %r6, 1
    out:
      mov %r0, %r6
      exit`;
    const interp = runKeys(w, 'interp', text, []);
    const calls = w.counter.calls;
    expect(interp.r0).toBe(155n);
    expect(runKeys(w, 'jit', text, [])).toEqual(interp);
    expect(w.counter.calls).toBe(calls);
  });

  it('finds entries after the memory grew (the index lives in the linear memory, views refreshed)', () => {
    const w = world([{ name: 'h', type: 'hash', keySize: 4, maxEntries: 64 }]);
    const jit = w.load('jit', scan(0, 4));
    const before = w.memory.wasm.buffer.byteLength;
    w.memory.map(Slot.HEAP, 'heap', 8 << 20, PERM_READ | PERM_WRITE);
    expect(w.memory.wasm.buffer.byteLength).toBeGreaterThan(before);
    for (let n = 0; n < 40; n++) w.maps.maps[0].update(keyBytes(4, n), value(n));
    w.maps.maps[0].delete(keyBytes(4, 5));
    const keys = [3, 5, 39, 40].map((n) => keyBytes(4, n));
    w.memory.write(INPUT, Uint8Array.from(keys.flatMap((k) => [...k])));
    const jitR0 = jit.run({ args: [INPUT, 4] }).r0;
    expect(runKeys(w, 'interp', scan(0, 4), keys).r0).not.toBe(jitR0); // values were incremented
    const h = w.maps.get('h', HashMap);
    const v = (n: number) =>
      new DataView((h.lookup(keyBytes(4, n)) as Uint8Array).buffer).getBigUint64(0, true);
    expect([v(3), v(39)]).toEqual([3002n, 39002n]); // one increment per engine
    expect(h.lookup(keyBytes(4, 5))).toBeUndefined();
  });

  it('leaves the index and the table outside every guest region', () => {
    const w = world([
      { name: 'h4', type: 'hash', keySize: 4 },
      { name: 'h8', type: 'hash', keySize: 8 },
    ]);
    const table = w.maps.lookupTable;
    expect(table).toBeDefined();
    const blocks: [number, number][] = [[table?.at ?? 0, 32 * 2]];
    for (const e of w.maps.maps.map((m) => m.lookupEntry(0))) {
      expect(e).toBeDefined();
      blocks.push([e?.table ?? 0, 32 * (e?.kind === 3 ? 12 : 8)]);
    }
    for (const r of w.memory.mappedRegions()) {
      for (const [at, size] of blocks) {
        expect(at + size <= r.hostBase || at >= r.hostBase + r.size).toBe(true);
      }
    }
  });

  const traps: [string, Def[], string][] = [
    ['a register that is no handle', [{ name: 'h', type: 'hash' }], 'mov %r1, 0'],
    ['a handle plus 8', [{ name: 'h', type: 'hash' }], 'lddw map_idx %r1, 0\nadd %r1, 8'],
    [
      'a handle with a high half',
      [{ name: 'h', type: 'hash' }],
      'lddw map_idx %r1, 0\nlddw %r3, 0x100000000\nadd %r1, %r3',
    ],
    ['the handle after the last map', [{ name: 'h', type: 'hash' }], 'lddw map_idx %r1, 0\nadd %r1, 0x100'],
    ['a handle below the first', [{ name: 'h', type: 'hash' }], 'lddw map_idx %r1, 0\nsub %r1, 0x100'],
    ['a queue', [{ name: 'q', type: 'queue', keySize: 0 }], 'lddw map_idx %r1, 0'],
    ['a write-only map', [{ name: 'a', type: 'array', flags: BPF_F_WRONLY_PROG }], 'lddw map_idx %r1, 0'],
  ];
  for (const [what, defs, r1] of traps) {
    it(`${what} in r1 traps at the call like the interpreter`, () => {
      const text = `stw [%r10-4], 1\n${r1}\nmov %r2, %r10\nadd %r2, -4\ncall 1\nexit`;
      const [a, b] = ENGINES.map((kind) => runKeys(world(defs), kind, text, []));
      expect(a.code).toBeDefined();
      expect(b).toEqual(a);
    });
  }

  for (const [type, keySize] of [
    ['hash', 4],
    ['hash', 8],
    ['array', 4],
  ] as const) {
    const keys: [string, string][] = [
      ['NULL', 'mov %r2, 0'],
      ['past the end of the input', `lddw %r2, ${INPUT + 4096 - keySize + 1}`],
      ['below the stack frame', 'mov %r2, %r10\nadd %r2, -600'],
      ['with a high half', `lddw %r2, ${INPUT + 2 ** 32}`],
      ['in the map handle slot', 'lddw map_idx %r2, 0'],
    ];
    for (const [what, r2] of keys) {
      it(`${type} with ${keySize}-byte keys: a key pointer ${what} faults at the same pc`, () => {
        const text = `mov %r6, 1\nlddw map_idx %r1, 0\n${r2}\ncall 1\nexit`;
        const [a, b] = ENGINES.map((kind) => runKeys(world([{ name: 'm', type, keySize }]), kind, text, []));
        expect(a.code).toBe('MEMORY_FAULT');
        expect(b).toEqual(a);
      });
    }
  }

  it('a key that ends exactly at the end of its region is still inline', () => {
    const w = world([{ name: 'h', type: 'hash', keySize: 8 }]);
    const key = keyBytes(8, 9);
    w.maps.maps[0].update(key, value(9));
    w.memory.write(INPUT + 4096 - 8, key);
    const text = `lddw map_idx %r1, 0\nlddw %r2, ${INPUT + 4096 - 8}\ncall 1\nldxdw %r0, [%r0]\nexit`;
    const [a, b] = ENGINES.map((kind) => outcome(() => w.load(kind, text).run()));
    expect(a).toEqual({ r0: 9000n, instructions: 5 }); // lddw counts once
    expect(b).toEqual(a);
    expect(w.counter.calls).toBe(1);
  });

  it('a hash index too large for the memory limit stays in JS: lookups call the helper, same results', () => {
    const defs: Def[] = [{ name: 'big', type: 'hash', keySize: 4, maxEntries: 32768 }];
    const [wi, wj] = ENGINES.map(() => world(defs, 1, 2 << 20));
    expect(wj.maps.maps[0].lookupEntry(0)).toBeUndefined();
    const keys = [1, 2, 3, 1].map((n) => keyBytes(4, n));
    for (const w of [wi, wj]) for (let n = 0; n < 3; n++) w.maps.maps[0].update(keyBytes(4, n), value(n));
    const [a, b] = [wi, wj].map((w, i) => runKeys(w, ENGINES[i], scan(0, 4), keys));
    expect(b).toEqual(a);
    expect(wj.counter.calls).toBe(keys.length);
  });

  it('LRU and other key sizes still call the helper, with the same recency order', () => {
    const defs: Def[] = [
      { name: 'lru', type: 'lru_hash', keySize: 4, maxEntries: 4 },
      { name: 'h12', type: 'hash', keySize: 12 },
    ];
    const [wi, wj] = ENGINES.map(() => world(defs));
    const keys4 = [1, 2, 3, 4, 2, 1].map((n) => keyBytes(4, n));
    const keys12 = [1, 2, 3].map((n) => keyBytes(12, n));
    for (const w of [wi, wj]) {
      for (let n = 1; n <= 4; n++) w.maps.maps[0].update(keyBytes(4, n), value(n));
      for (let n = 1; n <= 2; n++) w.maps.maps[1].update(keyBytes(12, n), value(n));
    }
    const r = [wi, wj].map((w, i) => [
      runKeys(w, ENGINES[i], scan(0, 4), keys4),
      runKeys(w, ENGINES[i], scan(1, 12), keys12),
    ]);
    expect(r[1]).toEqual(r[0]);
    const order = (w: ReturnType<typeof world>) =>
      w.maps
        .get('lru', HashMap)
        .recencyOrder()
        .map((k) => k[0]);
    expect(order(wj)).toEqual(order(wi));
    expect(order(wj)).toEqual([3, 4, 2, 1]);
    expect(wj.counter.calls).toBe(keys4.length + keys12.length);
  });
});
