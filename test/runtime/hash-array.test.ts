/** HASH, ARRAY, their per-CPU and LRU variants: kernel flags/errno semantics and guest-memory values. */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { ArrayMap } from '../../src/runtime/maps/array.js';
import {
  BPF_ANY,
  BPF_EXIST,
  BPF_F_LOCK,
  BPF_F_NO_PREALLOC,
  BPF_NOEXIST,
  E2BIG,
  EEXIST,
  EINVAL,
  ENOENT,
} from '../../src/runtime/maps/constants.js';
import { MapDefinitionError } from '../../src/runtime/maps/errors.js';
import { HashMap } from '../../src/runtime/maps/hash.js';
import { Slot, slotBase } from '../../src/vm/memory/layout.js';
import { readU64, setup, u32, u64 } from './fixtures.js';

describe('HASH', () => {
  const make = (maxEntries = 2) => setup([{ name: 'h', type: 'hash', maxEntries }]);

  it('follows BPF_ANY / BPF_NOEXIST / BPF_EXIST and max_entries like the kernel', () => {
    const { maps } = make();
    const h = maps.get('h', HashMap);
    expect(h.update(u32(1), u64(10), BPF_EXIST)).toBe(-ENOENT);
    expect(h.update(u32(1), u64(10), BPF_NOEXIST)).toBe(0);
    expect(h.update(u32(1), u64(11), BPF_NOEXIST)).toBe(-EEXIST);
    expect(h.update(u32(1), u64(12), BPF_EXIST)).toBe(0);
    expect(h.update(u32(2), u64(20), BPF_ANY)).toBe(0);
    expect(h.update(u32(3), u64(30), BPF_ANY)).toBe(-E2BIG);
    expect(h.update(u32(2), u64(21), BPF_ANY)).toBe(0); // replacing works when full
    expect(h.update(u32(2), u64(21), 3)).toBe(-EINVAL);
    expect(h.update(u32(2), u64(21), BPF_F_LOCK)).toBe(-EINVAL); // no bpf_spin_lock in the value
    expect(readU64(h.lookup(u32(1)))).toBe(12n);
    expect(readU64(h.lookup(u32(2)))).toBe(21n);
    expect(h.lookup(u32(3))).toBeUndefined();
    expect(h.delete(u32(3))).toBe(-ENOENT);
    expect(h.delete(u32(1))).toBe(0);
    expect(h.update(u32(3), u64(30), BPF_ANY)).toBe(0); // the freed slot is reused
    expect(h.size).toBe(2);
  });

  it('iterates with get_next_key: first for null or a missing key, undefined at the end', () => {
    const { maps } = make(4);
    const h = maps.get('h', HashMap);
    expect(h.nextKey(null)).toBeUndefined();
    for (const k of [5, 6, 7]) h.update(u32(k), u64(k));
    const keys = h.keys().map((k) => new DataView(k.buffer).getUint32(0, true));
    expect(keys.sort()).toEqual([5, 6, 7]);
    expect(h.nextKey(u32(99))).toEqual(h.nextKey(null));
    let k = h.nextKey(null);
    let n = 0;
    while (k) {
      n++;
      k = h.nextKey(k);
    }
    expect(n).toBe(3);
    expect(h.entries().map((e) => readU64(e.value as Uint8Array))).toHaveLength(3);
  });

  it('keeps values in guest memory: writes through the address are seen by the host and back', () => {
    const { maps, memory } = make();
    const h = maps.get('h', HashMap);
    h.update(u32(7), u64(1));
    const addr = h.lookupElem(u32(7), 0);
    expect(addr >>> 28).toBe(Slot.MAP_VALUES);
    expect(memory.readU64(addr)).toBe(1n);
    memory.writeU64(addr, 0xdeadbeefn);
    expect(readU64(h.lookup(u32(7)))).toBe(0xdeadbeefn);
    h.update(u32(7), u64(42));
    expect(memory.readU64(addr)).toBe(42n);
    expect(h.lookupElem(u32(8), 0)).toBe(0);
  });

  it('handles keys longer than 6 bytes, odd sizes included', () => {
    const { maps } = setup([{ name: 'h', type: 'hash', keySize: 13, maxEntries: 8 }]);
    const h = maps.get('h', HashMap);
    const a = new Uint8Array(13).fill(1);
    const b = a.slice();
    b[12] = 2;
    expect(h.update(a, u64(1))).toBe(0);
    expect(h.update(b, u64(2))).toBe(0);
    expect(readU64(h.lookup(a))).toBe(1n);
    expect(readU64(h.lookup(b))).toBe(2n);
    expect(h.keys()).toEqual([a, b]);
  });

  it('rejects wrong key or value sizes from the host as usage errors', () => {
    const h = make().maps.get('h', HashMap);
    expect(() => h.update(u64(1), u64(1))).toThrow(UsageError);
    expect(() => h.update(u32(1), u32(1))).toThrow(UsageError);
  });
});

describe('ARRAY', () => {
  it('has every element, zeroed; E2BIG out of range, EEXIST for NOEXIST, EINVAL for delete', () => {
    const { maps } = setup([{ name: 'a', type: 'array', maxEntries: 3 }]);
    const a = maps.get('a', ArrayMap);
    expect(readU64(a.lookup(u32(2)))).toBe(0n);
    expect(a.lookup(u32(3))).toBeUndefined();
    expect(a.update(u32(1), u64(5), BPF_EXIST)).toBe(0);
    expect(a.update(u32(1), u64(5), BPF_NOEXIST)).toBe(-EEXIST);
    expect(a.update(u32(3), u64(5))).toBe(-E2BIG);
    expect(a.update(u32(3), u64(5), 3)).toBe(-EINVAL); // bad flags are checked first
    expect(a.update(u32(3), u64(5), BPF_F_LOCK)).toBe(-E2BIG); // then the index, then the lock
    expect(a.update(u32(0), u64(5), BPF_F_LOCK)).toBe(-EINVAL);
    expect(a.delete(u32(1))).toBe(-EINVAL);
    expect(readU64(a.lookup(u32(1)))).toBe(5n);
    expect(a.lookupElem(u32(3), 0)).toBe(0);
  });

  it('get_next_key: 0 for null or out of range, index + 1, ENOENT after the last', () => {
    const a = setup([{ name: 'a', type: 'array', maxEntries: 3 }]).maps.get('a', ArrayMap);
    expect(a.nextKey(null)).toEqual(u32(0));
    expect(a.nextKey(u32(0))).toEqual(u32(1));
    expect(a.nextKey(u32(2))).toBeUndefined();
    expect(a.nextKey(u32(77))).toEqual(u32(0));
    expect(a.keys()).toEqual([u32(0), u32(1), u32(2)]);
  });

  it('lays elements out contiguously in guest memory', () => {
    const { maps, memory } = setup([{ name: 'a', type: 'array', valueSize: 12, maxEntries: 3 }]);
    const a = maps.get('a', ArrayMap);
    expect(a.lookupElem(u32(0), 0)).toBe(slotBase(Slot.MAP_VALUES));
    expect(a.lookupElem(u32(1), 0)).toBe(slotBase(Slot.MAP_VALUES) + 16); // values rounded up to 8
    memory.write(a.lookupElem(u32(2), 0), new Uint8Array(12).fill(9));
    expect(a.lookup(u32(2))).toEqual(new Uint8Array(12).fill(9));
  });

  it('refuses bad definitions like BPF_MAP_CREATE', () => {
    expect(() => setup([{ name: 'a', type: 'array', keySize: 8 }])).toThrow(MapDefinitionError);
    expect(() => setup([{ name: 'a', type: 'array', maxEntries: 0 }])).toThrow(/max_entries/);
    expect(() => setup([{ name: 'h', type: 'hash', valueSize: 0 }])).toThrow(/value_size/);
    expect(() => setup([{ name: 'l', type: 'lru_hash', flags: BPF_F_NO_PREALLOC }])).toThrow(/PREALLOC/);
    expect(() => setup([{ name: 'big', type: 'hash', valueSize: 1 << 20, maxEntries: 1 << 20 }])).toThrow(
      /map "big": map values need .* more than the/,
    );
    expect(() => setup([{ name: 'n', type: 'hash', maxEntries: -1 }])).toThrow(/maxEntries -1 is not a u32/);
    const bad = () => setup([{ name: 'x', type: 'nope' as 'hash' }]);
    expect(bad).toThrow(MapDefinitionError);
    expect(bad).toThrow(expect.objectContaining({ code: 'BAD_MAP', map: 'x' }));
  });
});

describe('per-CPU maps', () => {
  it('PERCPU_ARRAY: each CPU sees its own copy; host reads all CPUs', () => {
    const { maps, memory } = setup([{ name: 'p', type: 'percpu_array', maxEntries: 2 }], 3);
    const p = maps.get('p', ArrayMap);
    const addrs = [0, 1, 2].map((cpu) => {
      maps.currentCpu = cpu;
      return p.lookupElem(u32(1), 0);
    });
    expect(new Set(addrs).size).toBe(3);
    addrs.forEach((a, cpu) => {
      memory.writeU64(a, BigInt(cpu + 100));
    });
    expect(p.lookupPerCpu(u32(1))?.map(readU64)).toEqual([100n, 101n, 102n]);
    maps.currentCpu = 1;
    expect(readU64(p.lookup(u32(1)))).toBe(101n);
    // A program update writes the current CPU only.
    expect(p.updateElem(u32(1), 0, u64(7), 0, BPF_ANY)).toBe(0);
    expect(p.lookupPerCpu(u32(1))?.map(readU64)).toEqual([100n, 7n, 102n]);
    // A host update writes every CPU; updatePerCpu writes one value each.
    expect(p.update(u32(0), u64(3))).toBe(0);
    expect(p.lookupPerCpu(u32(0))?.map(readU64)).toEqual([3n, 3n, 3n]);
    expect(p.updatePerCpu(u32(0), [u64(1), u64(2), u64(3)])).toBe(0);
    expect(p.entries()[0].value).toEqual([u64(1), u64(2), u64(3)]);
    expect(() => (maps.currentCpu = 3)).toThrow(UsageError);
  });

  it('PERCPU_HASH: a program creating an element zeroes the other CPUs', () => {
    const { maps } = setup([{ name: 'p', type: 'percpu_hash', maxEntries: 2 }], 2);
    const p = maps.get('p', HashMap);
    expect(p.updatePerCpu(u32(1), [u64(5), u64(6)])).toBe(0);
    expect(p.delete(u32(1))).toBe(0);
    maps.currentCpu = 1;
    expect(p.updateElem(u32(1), 0, u64(9), 0, BPF_ANY)).toBe(0);
    expect(p.lookupPerCpu(u32(1))?.map(readU64)).toEqual([0n, 9n]);
    maps.currentCpu = 0;
    expect(p.updateElem(u32(1), 0, u64(4), 0, BPF_EXIST)).toBe(0);
    expect(p.lookupPerCpu(u32(1))?.map(readU64)).toEqual([4n, 9n]);
    expect(p.lookupOnCpu(u32(1), 0, 1)).toBe(p.lookupElem(u32(1), 0) + 8);
    expect(p.lookupOnCpu(u32(1), 0, 2)).toBe(0);
  });
});

describe('LRU_HASH', () => {
  it('evicts the least recently used key when full; program lookups refresh recency', () => {
    const { maps } = setup([{ name: 'l', type: 'lru_hash', maxEntries: 3 }]);
    const l = maps.get('l', HashMap);
    for (const k of [1, 2, 3]) expect(l.update(u32(k), u64(k))).toBe(0);
    expect(l.lookupElem(u32(1), 0)).not.toBe(0); // 1 becomes most recent
    expect(l.update(u32(4), u64(4))).toBe(0); // evicts 2
    expect(l.lookup(u32(2))).toBeUndefined();
    expect(l.recencyOrder()).toEqual([u32(3), u32(1), u32(4)]);
    l.lookup(u32(3)); // host lookups do not change recency
    expect(l.update(u32(5), u64(5), BPF_NOEXIST)).toBe(0); // evicts 3
    expect(l.keys().length).toBe(3);
    expect(l.lookup(u32(3))).toBeUndefined();
    expect(l.update(u32(1), u64(11), BPF_EXIST)).toBe(0); // updates refresh too
    expect(l.recencyOrder()).toEqual([u32(4), u32(5), u32(1)]);
    expect(l.update(u32(9), u64(9), BPF_EXIST)).toBe(-ENOENT); // failed updates evict nothing
    expect(l.update(u32(1), u64(9), BPF_NOEXIST)).toBe(-EEXIST);
    expect(l.size).toBe(3);
  });

  it('LRU_PERCPU_HASH evicts and keeps per-CPU values', () => {
    const { maps } = setup([{ name: 'l', type: 'lru_percpu_hash', maxEntries: 1 }], 2);
    const l = maps.get('l', HashMap);
    expect(l.update(u32(1), u64(1))).toBe(0);
    expect(l.update(u32(2), u64(2))).toBe(0);
    expect(l.keys()).toEqual([u32(2)]);
    expect(l.lookupPerCpu(u32(2))?.map(readU64)).toEqual([2n, 2n]);
  });
});
