/**
 * The fast paths of the map helpers: the open-addressing table of 4-byte hash keys (collisions,
 * deletes by backward shift, re-inserts), keys of odd sizes, and the helpers' `direct` entry points
 * against their general `call` on identical maps, then through programs on both engines.
 */
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import { MemoryFault } from '../../src/errors.js';
import { EXECUTOR_KINDS, EXECUTORS } from '../../src/executors.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { MapHelperId, registerMapHelpers } from '../../src/runtime/helpers/maps.js';
import { E2BIG, EEXIST, EINVAL, ENOENT } from '../../src/runtime/maps/constants.js';
import { MapTrap } from '../../src/runtime/maps/errors.js';
import { HashMap } from '../../src/runtime/maps/hash.js';
import { HashIndex } from '../../src/runtime/maps/hash-index.js';
import type { MapSet } from '../../src/runtime/maps/host-api.js';
import type { MapTypeName } from '../../src/runtime/maps/map-def.js';
import type { HelperDefinition, TailCallTarget } from '../../src/vm/helpers.js';
import type { GuestMemory } from '../../src/vm/memory/guest-memory.js';
import { Slot, slotBase } from '../../src/vm/memory/layout.js';
import { RegisterHelperContext } from '../../src/vm/register-helper-context.js';
import { prng } from '../support/prng.js';
import { type Def, def, readU64, setup, u32, u64 } from './fixtures.js';

const neg = (errno: number) => BigInt.asUintN(64, BigInt(-errno));
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** `count` distinct keys of `keySize` bytes whose hashes share the table entry or bucket `target`. */
function collidingKeys(index: HashIndex, keySize: number, mask: number, target: number, count: number) {
  const out: Uint8Array[] = [];
  const key = new Uint8Array(keySize);
  const view = new DataView(key.buffer);
  for (let n = 1; out.length < count; n++) {
    view.setUint16(0, n, true);
    if (keySize > 2) key[2] = n >>> 16;
    if ((index.hash(key, 0) & mask) === target) out.push(key.slice());
  }
  return out;
}

describe('HashIndex fast paths', () => {
  for (const keySize of [3, 4, 8, 12]) {
    it(`${keySize}-byte keys: colliding keys, deletes, re-inserts, wrap-around and a full index`, () => {
      const capacity = 8;
      const index = new HashIndex(capacity, keySize, false);
      const mask = index.entries - 1;
      expect(mask).toBe(keySize === 4 || keySize === 8 ? 31 : 15); // quarter full, or chains
      // Keys whose home is the last entry: with linear probing their run wraps around to entry 0.
      const keys = collidingKeys(index, keySize, mask, mask, 5);
      const slots = keys.map((k) => index.insert(index.hash(k, 0), k, 0));
      expect(new Set(slots).size).toBe(5);
      expect(keys.map((k) => index.lookup(k, 0))).toEqual(slots);
      // A colliding key never inserted is absent.
      const [stranger] = collidingKeys(index, keySize, mask, mask, 6).slice(5);
      expect(index.lookup(stranger, 0)).toBe(-1);
      // Delete from the middle and the head of the run: the others stay reachable.
      index.remove(slots[2]);
      index.remove(slots[0]);
      expect(index.lookup(keys[2], 0)).toBe(-1);
      expect(index.lookup(keys[0], 0)).toBe(-1);
      for (const i of [1, 3, 4]) expect(index.lookup(keys[i], 0)).toBe(slots[i]);
      // Re-insert: found again, with its bytes intact for get_next_key.
      const again = index.insert(index.hash(keys[2], 0), keys[2], 0);
      expect(index.lookup(keys[2], 0)).toBe(again);
      expect(hex(index.key(again))).toBe(hex(keys[2]));
      // Fill up: 4 live + 4 more = capacity, then no slot is left.
      const extra = collidingKeys(index, keySize, mask, 3, 4);
      for (const k of extra) expect(index.insert(index.hash(k, 0), k, 0)).toBeGreaterThanOrEqual(0);
      expect(index.size).toBe(capacity);
      expect(index.insert(index.hash(stranger, 0), stranger, 0)).toBe(-1);
      for (const k of [...extra, keys[1], keys[2], keys[3], keys[4]]) {
        expect(hex(index.key(index.lookup(k, 0)))).toBe(hex(k));
      }
      // Empty it completely and check that nothing is left behind.
      for (const k of [...extra, keys[1], keys[2], keys[3], keys[4]]) index.remove(index.lookup(k, 0));
      expect(index.size).toBe(0);
      for (const k of [...keys, ...extra]) expect(index.lookup(k, 0)).toBe(-1);
    });
  }

  for (const keySize of [4, 8]) {
    it(`${keySize}-byte keys against a model through many random inserts and deletes in a small table`, () => {
      const random = prng(40 + keySize);
      const capacity = 16;
      const index = new HashIndex(capacity, keySize, false);
      const model = new Map<string, number>();
      for (let step = 0; step < 20000; step++) {
        const n = Math.floor(random() * 40);
        const key = new Uint8Array(keySize);
        const view = new DataView(key.buffer);
        view.setUint32(0, Math.imul(n, 0x01000193), true); // spread over the 32 bits
        if (keySize === 8) view.setUint32(4, n % 3, true); // keys that differ only in the high word
        const k = hex(key);
        const slot = index.lookup(key, 0);
        expect(slot).toBe(model.get(k) ?? -1);
        if (slot >= 0 && random() < 0.5) {
          index.remove(slot);
          model.delete(k);
        } else if (slot < 0) {
          const s = index.insert(index.hash(key, 0), key, 0);
          if (model.size < capacity) {
            expect(s).toBeGreaterThanOrEqual(0);
            model.set(k, s);
          } else expect(s).toBe(-1);
        }
      }
      expect(model.size).toBeGreaterThan(0);
      for (const [k, s] of model) expect(hex(index.key(s))).toBe(k);
    });
  }
});

/** A helper's direct entry point with r1..r5 halves from `halves` (missing ones 0). */
function callDirect(helper: HelperDefinition, halves: readonly number[]): number {
  const h = Array.from({ length: 10 }, (_, i) => halves[i] ?? 0);
  if (helper.direct === undefined) throw new Error(`${helper.name} has no direct entry point`);
  return helper.direct(h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9]);
}

/** A HelperContext over an Int32Array of register halves, for calling `call` outside an engine. */
class TestContext extends RegisterHelperContext {
  readonly halves = new Int32Array(12);
  constructor(memory: GuestMemory) {
    super({
      memory,
      requestTerminate: () => {},
      requestTailCall: (_t: TailCallTarget) => false,
      consumeGas: () => {},
      callFunction: () => 0n,
    });
  }
  protected get registerHalves(): Int32Array {
    return this.halves;
  }
  callFunction(): bigint {
    return 0n;
  }
}

describe('direct map helpers', () => {
  // In the top frame, the only one a program at depth 0 (and the host) may touch.
  const stackTop = slotBase(Slot.STACK) + 0x1000;
  const stackKey = stackTop - 64;
  const stackValue = stackTop - 32;

  /** One map set driven through `call`, an identical one through `direct`. */
  function twins(defs: Def[], cpus: number) {
    return [0, 1].map(() => {
      const { maps, memory } = setup(defs, cpus);
      maps.currentCpu = cpus - 1;
      const registry = registerMapHelpers(maps);
      const ids = [
        MapHelperId.map_lookup_elem,
        MapHelperId.map_update_elem,
        MapHelperId.map_delete_elem,
        MapHelperId.map_lookup_percpu_elem,
      ];
      const helpers = new Map(ids.map((id) => [id, registry.get(id) as HelperDefinition]));
      return { maps, memory, helpers, ctx: new TestContext(memory) };
    });
  }

  const CASES: [MapTypeName, number][] = [
    ['hash', 3],
    ['hash', 4],
    ['hash', 8],
    ['hash', 12],
    ['lru_hash', 4],
    ['percpu_hash', 4],
    ['lru_percpu_hash', 12],
    ['array', 4],
    ['percpu_array', 4],
  ];
  for (const [type, keySize] of CASES) {
    it(`${type} with ${keySize}-byte keys: direct and call give the same results and contents`, () => {
      const cpus = 3;
      const defs: Def[] = [{ name: 'm', type, keySize, valueSize: 12, maxEntries: 6 }];
      const [general, fast] = twins(defs, cpus);
      const random = prng(keySize * 31 + type.length);
      for (let step = 0; step < 3000; step++) {
        const key = new Uint8Array(keySize);
        key[0] = Math.floor(random() * 9);
        key[keySize - 1] ^= Math.floor(random() * 2);
        const value = Uint8Array.from({ length: 12 }, () => Math.floor(random() * 256));
        const op = [
          MapHelperId.map_lookup_elem,
          MapHelperId.map_update_elem,
          MapHelperId.map_delete_elem,
          MapHelperId.map_lookup_percpu_elem,
        ][Math.floor(random() * 4)];
        const flags = [0, 1, 2, 3, 4][Math.floor(random() * 5)];
        const cpu = Math.floor(random() * (cpus + 1));
        const halves = [fast.maps.maps[0].handle, 0, stackKey, 0, stackValue, 0, flags, 0, 0, 0];
        if (op === MapHelperId.map_lookup_percpu_elem) halves[4] = cpu;
        const results = [general, fast].map((side) => {
          side.memory.write(stackKey, key);
          side.memory.write(stackValue, value);
          const helper = side.helpers.get(op) as HelperDefinition;
          if (side === general) {
            side.ctx.halves.set(halves, 2);
            try {
              return Number(helper.call(side.ctx) as number);
            } catch (e) {
              return (e as MapTrap).code;
            }
          }
          const r = callDirect(helper, halves);
          // NaN: the direct path declined (a refusal); the general path gives the trap.
          return Number.isNaN(r) ? 'declined' : r;
        });
        if (results[1] === 'declined') expect(typeof results[0]).toBe('string');
        else expect(results[1]).toBe(results[0]);
        // Writes through returned value pointers land in the same place on both sides.
        if (op === MapHelperId.map_lookup_elem && typeof results[0] === 'number' && results[0] !== 0) {
          general.memory.write(results[0], value.subarray(0, 4));
          fast.memory.write(results[0], value.subarray(0, 4));
        }
      }
      expect(fast.maps.dump()).toEqual(general.maps.dump());
      expect(fast.maps.dump().m.length).toBeGreaterThan(0);
    });
  }

  it('declines, without effects, what must trap: bad handle, map type, pointer, and map-in-map lookups', () => {
    const { maps, memory } = setup([
      { name: 'h', type: 'hash' },
      { name: 'q', type: 'queue', keySize: 0 },
    ]);
    const registry = registerMapHelpers(maps);
    const lookup = registry.get(MapHelperId.map_lookup_elem) as HelperDefinition;
    const update = registry.get(MapHelperId.map_update_elem) as HelperDefinition;
    const h = maps.get('h', HashMap);
    const key = stackKey;
    memory.write(key, u32(5));
    memory.write(key + 8, u64(9));
    expect(callDirect(lookup, [h.handle + 8, 0, key, 0])).toBeNaN(); // not a handle
    expect(callDirect(lookup, [h.handle, 1, key, 0])).toBeNaN(); // high half set
    expect(callDirect(lookup, [maps.maps[1].handle, 0, key, 0])).toBeNaN(); // queue: BAD_MAP_TYPE
    expect(callDirect(lookup, [h.handle, 0, 0, 0])).toBeNaN(); // NULL key: MemoryFault
    expect(callDirect(lookup, [h.handle, 0, key, 1])).toBeNaN(); // pointer above 4 GiB
    expect(callDirect(update, [h.handle, 0, key, 0, slotBase(Slot.CODE), 0])).toBeNaN(); // value unreadable
    expect(h.size).toBe(0);
    expect(callDirect(update, [h.handle, 0, key, 0, key + 8, 0])).toBe(0);
    expect(readU64(h.lookup(u32(5)))).toBe(9n);
    expect(callDirect(lookup, [h.handle, 0, key, 0])).toBe(h.lookupElem(u32(5), 0));
    const inner = def({ name: 'inner', type: 'array', maxEntries: 1 });
    const mm = setup([inner, { name: 'outer', type: 'hash_of_maps', maxEntries: 1, valueSize: 4, inner }]);
    const outer = registerMapHelpers(mm.maps).get(MapHelperId.map_lookup_elem) as HelperDefinition;
    expect(callDirect(outer, [mm.maps.maps[1].handle, 0, key, 0])).toBeNaN();
  });
});

describe.each(EXECUTOR_KINDS)('map helper fast paths on the %s engine', (kind) => {
  function run(maps: MapSet, memory: GuestMemory, text: string): bigint {
    const vm = EXECUTORS[kind](decodeProgram(assemble(text)), {
      memory,
      helpers: registerMapHelpers(maps),
      resolveLddw: maps.lddwResolver(),
    });
    return vm.run().r0;
  }
  /** Stores the `keySize`-byte key (bytes n, n+1, …) at r10-32 and calls `helper` with r3 = r10-48, r4. */
  const call = (id: number, keySize: number, n: number, r4 = 0) => `
    ${Array.from({ length: keySize }, (_, i) => `stb [%r10-${32 - i}], ${(n + i) & 0xff}`).join('\n')}
    stdw [%r10-48], ${n * 10}
    lddw map_idx %r1, 0
    mov %r2, %r10
    add %r2, -32
    mov %r3, %r10
    add %r3, -48
    mov %r4, ${r4}
    call ${id}`;
  const value = (keySize: number, n: number) => `${call(1, keySize, n)}
    jeq %r0, 0, none
    ldxdw %r0, [%r0]
    exit
  none:
    mov %r0, -1
    exit`;

  for (const keySize of [3, 4, 12]) {
    it(`${keySize}-byte keys: updates with flags, full map, delete and re-insert, values read back`, () => {
      const { maps, memory } = setup([{ name: 'h', type: 'hash', keySize, maxEntries: 3 }]);
      const update = (n: number, flags: number) => run(maps, memory, `${call(2, keySize, n, flags)}\nexit`);
      const remove = (n: number) => run(maps, memory, `${call(3, keySize, n)}\nexit`);
      const get = (n: number) => run(maps, memory, value(keySize, n));
      expect(update(1, 2)).toBe(neg(ENOENT)); // BPF_EXIST on a missing key
      expect(update(1, 0)).toBe(0n);
      expect(update(1, 1)).toBe(neg(EEXIST)); // BPF_NOEXIST on a present key
      expect(update(2, 1)).toBe(0n);
      expect(update(3, 0)).toBe(0n);
      expect(update(4, 0)).toBe(neg(E2BIG)); // full
      expect(update(4, 4)).toBe(neg(EINVAL)); // unknown flag
      expect([get(1), get(2), get(3), get(4)]).toEqual([10n, 20n, 30n, BigInt.asUintN(64, -1n)]);
      expect(remove(2)).toBe(0n);
      expect(remove(2)).toBe(neg(ENOENT));
      expect(get(2)).toBe(BigInt.asUintN(64, -1n));
      expect(update(4, 0)).toBe(0n); // the freed slot is reused
      expect(update(2, 0)).toBe(neg(E2BIG));
      expect([get(1), get(3), get(4)]).toEqual([10n, 30n, 40n]);
      // get_next_key order is insertion order: 1, 3, 4.
      expect(maps.maps[0].keys().map((k) => k[0])).toEqual([1, 3, 4]);
    });
  }

  it('per-CPU maps: the program writes its CPU, lookup_percpu reads any CPU', () => {
    const { maps, memory } = setup([{ name: 'p', type: 'percpu_hash', keySize: 4, maxEntries: 2 }], 4);
    maps.currentCpu = 2;
    expect(run(maps, memory, `${call(2, 4, 7)}\nexit`)).toBe(0n);
    const p = maps.get('p', HashMap);
    expect(p.lookupPerCpu(u32(0x0a090807))?.map((v) => readU64(v))).toEqual([0n, 0n, 70n, 0n]);
    expect(run(maps, memory, value(4, 7))).toBe(70n);
    const onCpu = (cpu: number) =>
      `${call(195, 4, 7)}`.replace('mov %r3, %r10\n    add %r3, -48', `mov %r3, ${cpu}`);
    const percpu = (cpu: number) =>
      run(maps, memory, `${onCpu(cpu)}\njeq %r0, 0, none\nldxdw %r0, [%r0]\nexit\nnone:\nmov %r0, -1\nexit`);
    expect([percpu(0), percpu(2), percpu(3), percpu(4)]).toEqual([0n, 70n, 0n, BigInt.asUintN(64, -1n)]);
    maps.currentCpu = 0;
    expect(run(maps, memory, value(4, 7))).toBe(0n);
  });

  it('what the direct path declines still traps at the call: bad handle, NULL key', () => {
    const { maps, memory } = setup([{ name: 'h', type: 'hash' }]);
    const vm = (text: string) =>
      EXECUTORS[kind](decodeProgram(assemble(text)), {
        memory,
        helpers: registerMapHelpers(maps),
        resolveLddw: maps.lddwResolver(),
      });
    const badHandle = vm('lddw map_idx %r1, 0\nadd %r1, 8\nmov %r2, %r10\nadd %r2, -8\ncall 1\nexit');
    expect(() => badHandle.run()).toThrow(MapTrap);
    const nullKey = vm('lddw map_idx %r1, 0\nmov %r2, 0\ncall 1\nexit');
    let fault: unknown;
    try {
      nullKey.run();
    } catch (e) {
      fault = e;
    }
    expect(fault).toBeInstanceOf(MemoryFault);
    expect((fault as MemoryFault).pc).toBe(3);
  });
});
