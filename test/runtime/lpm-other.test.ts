/** LPM_TRIE, PERF_EVENT_ARRAY, PROG_ARRAY and map-in-map. */
import { describe, expect, it } from 'vitest';
import { ArrayMap } from '../../src/runtime/maps/array.js';
import {
  BPF_EXIST,
  BPF_F_CURRENT_CPU,
  BPF_F_INNER_MAP,
  BPF_F_NO_PREALLOC,
  BPF_NOEXIST,
  E2BIG,
  EBADF,
  EEXIST,
  EFAULT,
  EINVAL,
  ENOENT,
  ENOSPC,
  EOPNOTSUPP,
} from '../../src/runtime/maps/constants.js';
import { HashMap } from '../../src/runtime/maps/hash.js';
import { LpmTrie } from '../../src/runtime/maps/lpm-trie.js';
import { ArrayOfMaps, HashOfMaps } from '../../src/runtime/maps/map-of-maps.js';
import { PerfEventArray } from '../../src/runtime/maps/perf-event-array.js';
import { ProgArray } from '../../src/runtime/maps/prog-array.js';
import { bytes, def, readU64, setup, u32, u64 } from './fixtures.js';

/** An IPv4 LPM key: prefixlen (host order) then the address bytes. */
const ip = (prefix: number, a: number, b = 0, c = 0, d = 0) => Uint8Array.from([...u32(prefix), a, b, c, d]);

describe('LPM_TRIE', () => {
  const make = (maxEntries = 8) =>
    setup([{ name: 't', type: 'lpm_trie', keySize: 8, maxEntries, flags: BPF_F_NO_PREALLOC }]).maps.get(
      't',
      LpmTrie,
    );

  it('returns the longest matching prefix', () => {
    const t = make();
    expect(t.update(ip(8, 10), u64(8))).toBe(0);
    expect(t.update(ip(16, 10, 1), u64(16))).toBe(0);
    expect(t.update(ip(24, 10, 1, 2), u64(24))).toBe(0);
    expect(t.update(ip(0, 0), u64(0))).toBe(0); // default route
    expect(readU64(t.lookup(ip(32, 10, 1, 2, 3)))).toBe(24n);
    expect(readU64(t.lookup(ip(32, 10, 1, 9, 9)))).toBe(16n);
    expect(readU64(t.lookup(ip(32, 10, 200, 0, 1)))).toBe(8n);
    expect(readU64(t.lookup(ip(32, 11, 0, 0, 1)))).toBe(0n);
    // The key's own prefixlen limits the match.
    expect(readU64(t.lookup(ip(20, 10, 1, 2, 3)))).toBe(16n);
    expect(t.lookup(ip(33, 10, 1, 2, 3))).toBeUndefined(); // prefixlen beyond the key's bits
    expect(t.delete(ip(0, 0))).toBe(0);
    expect(t.lookup(ip(32, 11, 0, 0, 1))).toBeUndefined();
  });

  it('matches prefixes bit by bit, not byte by byte', () => {
    const t = make();
    t.update(ip(9, 192, 128), u64(9)); // 192.128/9
    expect(readU64(t.lookup(ip(32, 192, 200, 0, 0)))).toBe(9n);
    expect(t.lookup(ip(32, 192, 127, 0, 0))).toBeUndefined();
  });

  it('update/delete work on exact prefixes with kernel flags and errnos', () => {
    const t = make(2);
    expect(t.update(ip(33, 1), u64(1))).toBe(-EINVAL);
    expect(t.update(ip(8, 1), u64(1), BPF_EXIST)).toBe(-ENOENT);
    expect(t.update(ip(8, 1), u64(1), BPF_NOEXIST)).toBe(0);
    expect(t.update(ip(8, 1), u64(2), BPF_NOEXIST)).toBe(-EEXIST);
    expect(t.update(ip(8, 1, 99), u64(3), BPF_EXIST)).toBe(0); // bits past the prefix do not matter
    expect(t.update(ip(16, 1, 1), u64(4))).toBe(0);
    expect(t.update(ip(16, 1, 2), u64(5))).toBe(-ENOSPC);
    expect(t.update(ip(16, 1, 1), u64(6))).toBe(0); // replacing works when full
    expect(t.update(ip(8, 1), u64(1), 4)).toBe(-EINVAL);
    expect(t.delete(ip(16, 1, 2))).toBe(-ENOENT);
    expect(t.delete(ip(12, 1))).toBe(-ENOENT);
    expect(t.delete(ip(16, 1, 1))).toBe(0);
    expect(t.size).toBe(1);
    expect(readU64(t.lookupExact(ip(8, 1)))).toBe(3n);
  });

  it('iterates in post-order: more specific prefixes first', () => {
    const t = make();
    for (const k of [ip(8, 10), ip(16, 10, 1), ip(16, 10, 128), ip(24, 10, 1, 2), ip(8, 192)])
      t.update(k, u64(1));
    const order = t.keys().map((k) => `${k.slice(4).join('.')}/${k[0]}`);
    expect(order).toEqual(['10.1.2.0/24', '10.1.0.0/16', '10.128.0.0/16', '10.0.0.0/8', '192.0.0.0/8']);
    expect(t.nextKey(null)).toEqual(ip(24, 10, 1, 2));
    expect(t.nextKey(ip(16, 10, 128))).toEqual(ip(8, 10));
    expect(t.nextKey(ip(8, 192))).toBeUndefined();
    expect(t.nextKey(ip(8, 77))).toEqual(ip(24, 10, 1, 2));
    expect(t.entries()).toHaveLength(5);
  });

  it('requires BPF_F_NO_PREALLOC and a data part, as the kernel does', () => {
    expect(() => setup([{ name: 't', type: 'lpm_trie', keySize: 8 }])).toThrow(/NO_PREALLOC/);
    expect(() => setup([{ name: 't', type: 'lpm_trie', keySize: 4, flags: BPF_F_NO_PREALLOC }])).toThrow(
      /key_size/,
    );
  });
});

describe('PERF_EVENT_ARRAY', () => {
  it('collects records per CPU with kernel index checks', () => {
    const { maps } = setup([{ name: 'events', type: 'perf_event_array', valueSize: 4, maxEntries: 0 }], 2);
    const p = maps.get('events', PerfEventArray);
    expect(p.slots).toBe(2); // max_entries 0 = one per CPU
    expect(p.output(bytes(1, 2), 0, 2, BPF_F_CURRENT_CPU)).toBe(0);
    maps.currentCpu = 1;
    expect(p.output(bytes(3), 0, 1, BPF_F_CURRENT_CPU)).toBe(0);
    expect(p.output(bytes(3), 0, 1, 0)).toBe(-EOPNOTSUPP); // slot 0's event is on CPU 0
    expect(p.output(bytes(3), 0, 1, 2)).toBe(-E2BIG);
    expect(p.output(bytes(3), 0, 1, 2 ** 52)).toBe(-EINVAL);
    expect(p.output(bytes(3), 0, 1, 2 ** 32 + 1)).toBe(-EINVAL); // tracing programs cannot ask for context bytes
    expect(p.delete(u32(1))).toBe(0);
    expect(p.output(bytes(3), 0, 1, 1)).toBe(-ENOENT);
    expect(p.drain()).toEqual([
      { index: 0, cpu: 0, data: bytes(1, 2) },
      { index: 1, cpu: 1, data: bytes(3) },
    ]);
    expect(p.drain()).toEqual([]);
  });

  it('network programs append packet bytes with BPF_F_CTXLEN_MASK; -EFAULT past the packet', () => {
    const { maps } = setup([{ name: 'events', type: 'perf_event_array', valueSize: 4, maxEntries: 1 }]);
    const p = maps.get('events', PerfEventArray);
    const packet = bytes(0xaa, 0xbb, 0xcc);
    const bytesOf = (n: number) => (n <= packet.length ? packet.slice(0, n) : undefined);
    expect(p.output(bytes(1), 0, 1, 2 * 2 ** 32 + BPF_F_CURRENT_CPU, bytesOf)).toBe(0);
    expect(p.output(bytes(1), 0, 1, 4 * 2 ** 32, bytesOf)).toBe(-EFAULT);
    expect(p.output(bytes(1), 0, 1, 2 ** 52, bytesOf)).toBe(-EINVAL);
    expect(p.drain().map((r) => r.data)).toEqual([bytes(1, 0xaa, 0xbb)]);
  });
});

describe('PROG_ARRAY', () => {
  it('holds program references of any type with fd-array semantics', () => {
    const { maps } = setup([{ name: 'jmp', type: 'prog_array', valueSize: 4, maxEntries: 2 }]);
    const pa = maps.get('jmp', ProgArray) as ProgArray<string>;
    expect(pa.set(1, 'prog-b')).toBe(0);
    expect(pa.set(2, 'x')).toBe(-E2BIG);
    expect(pa.set(0, 'x', BPF_NOEXIST)).toBe(-EINVAL);
    expect(pa.get(1)).toBe('prog-b');
    expect(pa.get(0)).toBeUndefined();
    expect(pa.entries()).toEqual([{ key: u32(1), value: u32(1) }]);
    expect(pa.delete(u32(0))).toBe(-ENOENT);
    expect(pa.delete(u32(1))).toBe(0);
  });
});

describe('map-in-map', () => {
  const inner = def({ name: 'inner', type: 'hash', maxEntries: 4 });
  const make = () =>
    setup([
      { name: 'outer', type: 'array_of_maps', valueSize: 4, maxEntries: 2, inner },
      {
        name: 'houter',
        type: 'hash_of_maps',
        valueSize: 4,
        maxEntries: 1,
        inner: { ...inner, flags: BPF_F_INNER_MAP },
      },
      inner,
      { name: 'other', type: 'array', maxEntries: 4 },
      { ...inner, name: 'bigger', maxEntries: 8, flags: BPF_F_INNER_MAP },
    ]).maps;

  it('ARRAY_OF_MAPS: stores inner maps by id, lookups return the inner handle', () => {
    const maps = make();
    const outer = maps.get('outer', ArrayOfMaps);
    const innerMap = maps.get('inner', HashMap);
    expect(outer.update(u32(0), u32(innerMap.id))).toBe(0);
    expect(outer.update(u32(1), u32(maps.get('other', ArrayMap).id))).toBe(-EINVAL); // wrong type
    expect(outer.update(u32(1), u32(99))).toBe(-EBADF);
    expect(outer.update(u32(2), u32(innerMap.id))).toBe(-E2BIG);
    expect(outer.update(u32(1), u32(innerMap.id), BPF_NOEXIST)).toBe(-EINVAL);
    expect(outer.lookupElem(u32(0), 0)).toBe(innerMap.handle);
    expect(outer.lookupElem(u32(1), 0)).toBe(0);
    expect(outer.lookup(u32(0))).toEqual(u32(innerMap.id));
    expect(outer.lookupMap(u32(0))).toBe(innerMap);
    expect(outer.delete(u32(0))).toBe(0);
    expect(outer.delete(u32(0))).toBe(-ENOENT);
  });

  it('HASH_OF_MAPS: hash semantics; BPF_F_INNER_MAP allows other max_entries', () => {
    const maps = make();
    const h = maps.get('houter', HashOfMaps);
    const bigger = maps.get('bigger', HashMap);
    expect(h.setMap(u32(7), bigger, BPF_EXIST)).toBe(-ENOENT);
    expect(h.setMap(u32(7), bigger)).toBe(0);
    expect(h.setMap(u32(8), bigger)).toBe(-E2BIG);
    expect(h.setMap(u32(7), bigger, BPF_NOEXIST)).toBe(-EEXIST);
    expect(h.lookupElem(u32(7), 0)).toBe(bigger.handle);
    expect(h.keys()).toEqual([u32(7)]);
    expect(h.delete(u32(7))).toBe(0);
    expect(h.setMap(u32(7), maps.get('inner', HashMap))).toBe(-EINVAL); // flags differ from the template
  });
});
