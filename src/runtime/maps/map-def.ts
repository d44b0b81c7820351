/**
 * What a map is, independent of where its definition came from (BTF-defined `.maps`, the legacy
 * `maps` section, or the host API). The ELF/BTF loader produces these; the map runtime consumes them.
 */

/** Kernel `enum bpf_map_type` values (linux/bpf.h UAPI) of the map types bpfbox implements. */
export const MapType = {
  hash: 1,
  array: 2,
  prog_array: 3,
  perf_event_array: 4,
  percpu_hash: 5,
  percpu_array: 6,
  lru_hash: 9,
  lru_percpu_hash: 10,
  lpm_trie: 11,
  array_of_maps: 12,
  hash_of_maps: 13,
  queue: 22,
  stack: 23,
  ringbuf: 27,
} as const;

/** Lower-case kernel enum name without the `BPF_MAP_TYPE_` prefix, e.g. `"hash"`, `"percpu_array"`. */
export type MapTypeName = keyof typeof MapType;

/**
 * Maps whose elements are values in guest memory, looked up, updated and deleted by key (what
 * bpf_map_lookup/update/delete_elem take, map-in-map lookups aside).
 */
export const ELEMENT_MAP_TYPES: readonly MapTypeName[] = [
  'hash',
  'percpu_hash',
  'lru_hash',
  'lru_percpu_hash',
  'array',
  'percpu_array',
  'lpm_trie',
];

export function mapTypeName(id: number): MapTypeName | undefined {
  return (Object.keys(MapType) as MapTypeName[]).find((k) => MapType[k] === id);
}

export interface MapDefinition {
  readonly name: string;
  readonly type: MapTypeName;
  /** Bytes; 0 where the type has no key (queue, stack, ringbuf). */
  readonly keySize: number;
  /** Bytes; for ringbuf 0 (its size is maxEntries). */
  readonly valueSize: number;
  /** Entries; for ringbuf the data size in bytes (a power of two, multiple of the page size). */
  readonly maxEntries: number;
  /** BPF_F_* map flags (BPF_F_NO_PREALLOC, BPF_F_NO_COMMON_LRU, …). */
  readonly flags: number;
  /** Inner map template of array_of_maps / hash_of_maps. */
  readonly inner?: MapDefinition;
  /** BTF type ids of key and value when known, for typed host access. */
  readonly btfKeyTypeId?: number;
  readonly btfValueTypeId?: number;
}
