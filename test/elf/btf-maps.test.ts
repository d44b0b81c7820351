/**
 * BTF-defined maps written with libbpf's macros, compiled by clang-19: every map type bpfbox supports
 * decodes to the MapDefinition the C says, variables are matched to their `.maps` symbols, the
 * `__array(values, …)` slots line up with the relocations clang emits; definitions the kernel or
 * libbpf would reject fail with a LoadError naming the map.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { parseBtf } from '../../src/elf/btf.js';
import { type BtfDefinedMap, decodeBtfMaps } from '../../src/elf/btf-maps.js';
import { LoadError } from '../../src/errors.js';
import { type MapDefinition, MapType } from '../../src/runtime/maps/map-def.js';
import { BtfBuilder } from './btf-builder.js';
import {
  cleanupCompiled,
  compileBpf,
  compileBpfMany,
  HAVE_BPF_TOOLCHAIN,
  warnIfMissing,
} from './btf-fixtures.js';

warnIfMissing('test/elf/btf-maps');
afterAll(cleanupCompiled);

const PRELUDE = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
`;

const MAPS_C = `${PRELUDE}
struct key { __u32 saddr; __u16 port; };
struct val { __u64 packets; __u64 bytes; char comm[16]; };
struct lpm_key { __u32 prefixlen; __u8 addr[4]; };
struct event { __u32 pid; char comm[16]; };

struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 1024); __type(key, struct key); __type(value, struct val);
         __uint(pinning, LIBBPF_PIN_BY_NAME); } flows SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 16); __type(key, __u32); __type(value, __u64); } counters SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_HASH); __uint(max_entries, 32); __type(key, __u32); __type(value, struct val); } pc_hash SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __uint(max_entries, 4); __type(key, __u32); __type(value, __u64); } pc_array SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_LRU_HASH); __uint(max_entries, 100); __type(key, __u64); __type(value, __u32); } lru SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH); __uint(max_entries, 100); __uint(map_flags, BPF_F_NO_COMMON_LRU);
         __type(key, __u32); __type(value, __u32); } lru_pc SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_LPM_TRIE); __uint(max_entries, 255); __uint(map_flags, BPF_F_NO_PREALLOC);
         __type(key, struct lpm_key); __type(value, __u32); } routes SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 256 * 1024); } events SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY); __uint(key_size, sizeof(int)); __uint(value_size, sizeof(__u32)); } perf SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY); __uint(max_entries, 8); } perf8 SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_QUEUE); __uint(max_entries, 10); __type(value, struct event); } queue SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_STACK); __uint(max_entries, 10); __uint(value_size, 8); } stack SEC(".maps");

int prog_a(void *ctx);
int prog_b(void *ctx);
struct { __uint(type, BPF_MAP_TYPE_PROG_ARRAY); __uint(max_entries, 4); __uint(key_size, sizeof(__u32));
         __array(values, int (void *)); } jumps SEC(".maps") = { .values = { [0] = (void *)&prog_a, [2] = (void *)&prog_b } };

struct inner_array { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 8); __type(key, __u32); __type(value, __u64); };
struct inner_array inner_one SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS); __uint(max_entries, 2); __type(key, __u32);
         __array(values, struct inner_array); } outer_array SEC(".maps") = { .values = { [1] = &inner_one } };
struct { __uint(type, BPF_MAP_TYPE_HASH_OF_MAPS); __uint(max_entries, 64); __type(key, struct key);
         __array(values, struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 4); __type(key, __u32); __type(value, __u32); }); } outer_hash SEC(".maps");

SEC("xdp") int prog_a(void *ctx) { bpf_tail_call(ctx, &jumps, 2); return XDP_PASS; }
SEC("xdp") int prog_b(void *ctx) {
  __u32 k = 0;
  __u64 *v = bpf_map_lookup_elem(&counters, &k);
  if (v) *v += 1;
  void *inner = bpf_map_lookup_elem(&outer_array, &k);
  return inner ? XDP_DROP : XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
`;

const def = (
  name: string,
  type: MapDefinition['type'],
  keySize: number,
  valueSize: number,
  maxEntries: number,
  extra: Partial<MapDefinition> = {},
): Omit<MapDefinition, 'btfKeyTypeId' | 'btfValueTypeId'> => ({
  name,
  type,
  keySize,
  valueSize,
  maxEntries,
  flags: 0,
  ...extra,
});

describe.skipIf(!HAVE_BPF_TOOLCHAIN)('BTF-defined maps of every supported type', () => {
  const compiled = HAVE_BPF_TOOLCHAIN ? compileBpf('maps', MAPS_C) : undefined;
  const btf = compiled === undefined ? undefined : parseBtf(compiled.btf);
  const symbols = new Map(
    (compiled?.symbols() ?? []).filter((s) => s.section === '.maps').map((s) => [s.name, s.value]),
  );
  const maps = btf === undefined ? [] : decodeBtfMaps(btf, { symbolOffset: (name) => symbols.get(name) });
  const byName = new Map(maps.map((m) => [m.name, m]));
  const get = (name: string): BtfDefinedMap => byName.get(name)!;
  /** Definitions without the BTF type ids, which are checked separately by rendering them. */
  const plain = (d: MapDefinition): object => {
    const { btfKeyTypeId: _k, btfValueTypeId: _v, inner, ...rest } = d;
    return inner === undefined ? rest : { ...rest, inner: plain(inner) };
  };

  it('covers every map type of map-def.ts', () => {
    const types = new Set(
      maps.flatMap((m) => [m.definition.type, ...(m.definition.inner ? [m.definition.inner.type] : [])]),
    );
    expect([...types].sort()).toEqual(Object.keys(MapType).sort());
  });

  it('decodes each definition as the C declares it', () => {
    const expected = [
      def('flows', 'hash', 8, 32, 1024),
      def('counters', 'array', 4, 8, 16),
      def('pc_hash', 'percpu_hash', 4, 32, 32),
      def('pc_array', 'percpu_array', 4, 8, 4),
      def('lru', 'lru_hash', 8, 4, 100),
      def('lru_pc', 'lru_percpu_hash', 4, 4, 100, { flags: 2 }),
      def('routes', 'lpm_trie', 8, 4, 255, { flags: 1 }),
      def('events', 'ringbuf', 0, 0, 256 * 1024),
      def('perf', 'perf_event_array', 4, 4, 0),
      def('perf8', 'perf_event_array', 4, 4, 8),
      def('queue', 'queue', 0, 20, 10),
      def('stack', 'stack', 0, 8, 10),
      def('jumps', 'prog_array', 4, 4, 4),
      def('inner_one', 'array', 4, 8, 8),
      def('outer_array', 'array_of_maps', 4, 4, 2, {
        inner: def('outer_array.inner', 'array', 4, 8, 8) as MapDefinition,
      }),
      def('outer_hash', 'hash_of_maps', 8, 4, 64, {
        inner: def('outer_hash.inner', 'hash', 4, 4, 4) as MapDefinition,
      }),
    ];
    // clang orders the DATASEC its own way (initialized variables first): compare by name.
    const byMapName = (x: { name: string }, y: { name: string }): number => x.name.localeCompare(y.name);
    expect(maps.map((m) => plain(m.definition) as { name: string }).sort(byMapName)).toEqual(
      expected.sort(byMapName),
    );
    for (const m of maps) expect(m.definition.name).toBe(m.name);
  });

  it('keeps the key and value types for typed access', () => {
    const b = btf!;
    const types = (name: string): [string | undefined, string | undefined] => {
      const d = get(name).definition;
      const render = (id: number | undefined): string | undefined =>
        id === undefined ? undefined : b.render(id);
      return [render(d.btfKeyTypeId), render(d.btfValueTypeId)];
    };
    expect(types('flows')).toEqual(['struct key', 'struct val']);
    expect(types('counters')).toEqual(['__u32', '__u64']);
    expect(types('routes')).toEqual(['struct lpm_key', '__u32']);
    expect(types('queue')).toEqual([undefined, 'struct event']);
    expect(types('stack')).toEqual([undefined, undefined]);
    expect(types('events')).toEqual([undefined, undefined]);
    expect(get('outer_array').definition.inner?.btfValueTypeId).toBeDefined();
    // A value formats through its BTF type: what a typed map dump shows.
    const value = new Uint8Array(32);
    value[0] = 3;
    value.set(new TextEncoder().encode('nginx'), 16);
    expect(JSON.parse(b.formatValue(get('flows').definition.btfValueTypeId!, value))).toEqual({
      packets: 3,
      bytes: 0,
      comm: 'nginx',
    });
  });

  it('pinning, offsets and sizes match the .maps symbols', () => {
    expect(get('flows').pinning).toBe('by_name');
    expect(get('counters').pinning).toBe('none');
    expect(symbols.size).toBe(maps.length);
    for (const m of maps) expect(m.offset, m.name).toBe(symbols.get(m.name));
    expect(get('flows').size).toBe(40); // type, max_entries, key, value, pinning: five pointers
    // Without symbols, the DATASEC offsets are what clang wrote (0 in object files).
    expect(decodeBtfMaps(btf!).map((m) => m.offset)).toEqual(maps.map(() => 0));
  });

  it('__array(values, …) slots line up with the relocations of .maps', () => {
    const relocs: [number, string][] = [];
    let inMaps = false;
    for (const row of compiled!.objdump('-r').split('\n')) {
      if (row.startsWith('RELOCATION RECORDS FOR')) inMaps = row.includes('[.maps]');
      const m = /^([0-9a-f]{16}) R_BPF_64_ABS64\s+(\S+)$/.exec(row);
      if (m && inMaps) relocs.push([Number.parseInt(m[1], 16), m[2]]);
    }
    const slot = (map: BtfDefinedMap, offset: number): number =>
      (offset - map.offset - map.valuesOffset!) / 8;
    const jumps = get('jumps');
    const outer = get('outer_array');
    const targets = relocs.map(([offset, symbol]) =>
      offset >= outer.offset
        ? ['outer_array', slot(outer, offset), symbol]
        : ['jumps', slot(jumps, offset), symbol],
    );
    expect(targets).toEqual([
      ['jumps', 0, 'prog_a'],
      ['jumps', 2, 'prog_b'],
      ['outer_array', 1, 'inner_one'],
    ]);
    expect(get('outer_hash').valuesOffset).toBe(24); // after type, max_entries, key
    expect(get('counters').valuesOffset).toBeUndefined();
  });
});

const map = (fields: string): string => `struct { ${fields} } m SEC(".maps");`;
const KEY_VALUE = '__type(key, int); __type(value, int);';
/** Bad definitions and the message each must produce; all compiled by one clang process. */
const BAD_MAPS: readonly [body: string, message: RegExp | string][] = [
  [
    map(`__uint(type, BPF_MAP_TYPE_SOCKMAP); __uint(max_entries, 4); ${KEY_VALUE}`),
    ".maps: map 'm' has map type sockmap (15), which bpfbox does not support",
  ],
  [map('__uint(type, 99); __uint(max_entries, 4);'), /map 'm' has unknown map type 99/],
  [map('__uint(max_entries, 4);'), /map 'm' has no type/],
  [map(`__uint(type, BPF_MAP_TYPE_HASH); ${KEY_VALUE}`), ".maps: map 'm' (hash) has no max_entries"],
  [
    map(
      '__uint(type, BPF_MAP_TYPE_LPM_TRIE); __uint(max_entries, 4); __type(key, __u64); __type(value, int);',
    ),
    /requires BPF_F_NO_PREALLOC/,
  ],
  [
    map(
      '__uint(type, BPF_MAP_TYPE_LPM_TRIE); __uint(max_entries, 4); __uint(map_flags, 1); __type(key, int); __type(value, int);',
    ),
    /key of 4 bytes cannot hold a prefix length and data/,
  ],
  [
    map('__uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 1000);'),
    /max_entries 1000, not a power of two/,
  ],
  [
    map('__uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); __type(value, int);'),
    /cannot have a key or value/,
  ],
  [
    map('__uint(type, BPF_MAP_TYPE_QUEUE); __uint(max_entries, 4); __type(key, int); __type(value, int);'),
    /cannot have a key/,
  ],
  [map('__uint(type, BPF_MAP_TYPE_STACK); __uint(max_entries, 4);'), /needs a value/],
  [
    map('__uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 4); __type(key, __u64); __type(value, int);'),
    /4-byte keys, not 8/,
  ],
  [map('__uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 4); __type(value, int);'), /has no key/],
  [map('__uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 4); __type(key, int);'), /has no value/],
  [
    map(`__uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 4); ${KEY_VALUE} __uint(key_size, 8);`),
    /declares key size 4 and 8/,
  ],
  [
    map('__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS); __uint(max_entries, 4); __type(key, int);'),
    /no inner map definition/,
  ],
  [
    map(`__uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 4); ${KEY_VALUE} __uint(colour, 3);`),
    /unknown field 'colour'/,
  ],
  [
    map(`__uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 4); ${KEY_VALUE} __uint(pinning, 7);`),
    /invalid pinning 7/,
  ],
  [
    map('__uint(type, BPF_MAP_TYPE_HASH); int max_entries; __type(key, int); __type(value, int);'),
    /field 'max_entries' is 'int', not an integer attribute/,
  ],
  [
    map('__uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 2); int key; __type(value, int);'),
    /field 'key' must be declared with __type\(key, T\)/,
  ],
  [
    map('__uint(type, BPF_MAP_TYPE_PROG_ARRAY); __uint(max_entries, 4); __uint(value_size, 8);'),
    /must have 4-byte values, not 8/,
  ],
  [
    map(
      '__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS); __uint(max_entries, 4); __array(values, struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 2); __type(key, int); });',
    ),
    /map 'm.inner' \(array\) has no value/,
  ],
  [
    map(
      `__uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 4); ${KEY_VALUE} __array(values, struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 2); ${KEY_VALUE} });`,
    ),
    /\(hash\) cannot have an inner map/,
  ],
  [
    map('__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS); __uint(max_entries, 4); __array(values, int);'),
    /field 'values' points to 'int': expected an inner map struct or a program prototype/,
  ],
  // clang gives a non-struct variable in .maps the type void.
  ['int m SEC(".maps") = 1;', ".maps: map 'm' has type 'void', not a struct"],
];

describe.skipIf(!HAVE_BPF_TOOLCHAIN)('BTF-defined map errors', () => {
  const objects = HAVE_BPF_TOOLCHAIN
    ? compileBpfMany(
        BAD_MAPS.map(([body], i) => [
          `bad${i}`,
          `${PRELUDE}\n${body}\nchar LICENSE[] SEC("license") = "GPL";\n`,
        ]),
      )
    : [];
  /** Decodes case i and returns its error; the ELF side's symbol offset becomes the error offset. */
  const mapError = (i: number): LoadError => {
    const btf = parseBtf(objects[i].btf);
    try {
      decodeBtfMaps(btf, { symbolOffset: () => 0x40 });
    } catch (e) {
      expect(e).toBeInstanceOf(LoadError);
      expect((e as LoadError).code).toBe('BAD_BTF');
      expect((e as LoadError).section).toBe('.maps');
      expect((e as LoadError).offset).toBe(0x40);
      return e as LoadError;
    }
    throw new Error(`expected a LoadError for ${BAD_MAPS[i][0]}`);
  };

  it.each(BAD_MAPS.map(([body, message], i) => ({ i, body, message })))('$body', ({ i, message }) => {
    const e = mapError(i);
    if (typeof message === 'string') expect(e.message).toBe(message);
    else expect(e.message).toMatch(message);
  });

  it('hints name the fix', () => {
    expect(mapError(0).hint).toMatch(/^supported: hash, array, prog_array, /);
    expect(mapError(2).hint).toBe('add __uint(type, BPF_MAP_TYPE_…)');
    expect(mapError(3).hint).toBe('add __uint(max_entries, N)');
    expect(mapError(4).hint).toBe('add __uint(map_flags, BPF_F_NO_PREALLOC)');
  });
});

describe('BTF-defined maps without a toolchain (hand-built BTF)', () => {
  it('decodes __uint/__type encodings and reports the datasec offset', () => {
    const b = new BtfBuilder();
    const int = b.int('int', 4, true);
    const index = b.int('__ARRAY_SIZE_TYPE__', 4, false);
    const uint = (n: number): number => b.ptr(b.array(int, index, n));
    const u64 = b.int('unsigned long long', 8, false);
    const s = b.struct('', 32, [
      ['type', uint(MapType.hash), 0],
      ['max_entries', uint(10), 64],
      ['key', b.ptr(int), 128],
      ['value', b.ptr(u64), 192],
    ]);
    const v = b.variable('h', s);
    b.datasec('.maps', [[v, 48, 32]]);
    const btf = parseBtf(b.build());
    expect(decodeBtfMaps(btf)).toEqual([
      {
        name: 'h',
        definition: {
          name: 'h',
          type: 'hash',
          keySize: 4,
          valueSize: 8,
          maxEntries: 10,
          flags: 0,
          btfKeyTypeId: int,
          btfValueTypeId: u64,
        },
        offset: 48,
        size: 32,
        varTypeId: v,
        pinning: 'none',
      },
    ]);
    expect(decodeBtfMaps(parseBtf(new BtfBuilder().build()))).toEqual([]);
  });

  it("'values' must be the last field (C compilers refuse it, hand-made BTF need not)", () => {
    const b = new BtfBuilder();
    const int = b.int('int', 4, true);
    const index = b.int('__ARRAY_SIZE_TYPE__', 4, false);
    const uint = (n: number): number => b.ptr(b.array(int, index, n));
    const inner = b.struct('inner', 16, [
      ['type', uint(MapType.array), 0],
      ['max_entries', uint(1), 64],
    ]);
    const s = b.struct('', 24, [
      ['type', uint(MapType.array_of_maps), 0],
      ['values', b.array(b.ptr(inner), index, 0), 64],
      ['max_entries', uint(4), 64],
    ]);
    b.datasec('.maps', [[b.variable('outer', s), 0, 24]]);
    expect(() => decodeBtfMaps(parseBtf(b.build()))).toThrow(
      ".maps: map 'outer': 'values' must be the last field",
    );
  });
});
