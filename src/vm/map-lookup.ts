/**
 * The map lookup table: what compiled code needs to run bpf_map_lookup_elem without leaving wasm.
 * runtime/maps/lookup-table.ts writes it into a reserved block of the guest's linear memory (outside
 * every region: no guest access reaches it); the JIT reads it (codegen's `inlineLookup`). One entry of
 * LOOKUP_ENTRY_WORDS int32 words per map id, kind first; every other kind of map, and every argument
 * the inline code does not accept, goes through the helper call as before.
 */
import { SLOT_SHIFT } from './memory/layout.js';

/** int32 words per map entry (a power of two: entry offset = id << LOOKUP_ENTRY_SHIFT bytes). */
export const LOOKUP_ENTRY_WORDS = 8;
export const LOOKUP_ENTRY_SHIFT = 5;

/** Word indices in an entry. */
export const LOOKUP_KIND = 0;
/** ARRAY: max_entries; HASH*: the open table's entry mask. */
export const LOOKUP_LIMIT = 1;
/** Guest address of slot 0's value for the current CPU (int32: values live below 2^31). */
export const LOOKUP_BASE = 2;
/** Bytes between two slots' values. */
export const LOOKUP_STRIDE = 3;
/** HASH*: byte offset of the open-addressing table (hash-index.ts) in the linear memory. */
export const LOOKUP_TABLE = 4;
/** HASH*: the hash's shift, 32 − log2(entries) (runtime/maps/hash-index.ts `probedHome`). */
export const LOOKUP_SHIFT = 5;
/**
 * Bytes of one value copy that belong to it: the value size rounded up to 8 (runtime/maps/value-store.ts
 * `cpuStride`). A result's [0, span) lies inside the map's block of the values arena (jit/lookup-values.ts).
 */
export const LOOKUP_VALUE_SPAN = 6;
/**
 * LOOKUP_BASE when it never changes (maps that are not per CPU), else 0: code may take it as a
 * constant. A HASH* map with a fixed base tags each slot in its index with the value's address,
 * base + slot · stride, instead of slot + 1 (hash-index.ts `tagBase`): the probe's word is the result.
 */
export const LOOKUP_FIXED_BASE = 7;

/**
 * The hash of 4- and 8-byte keys (runtime/maps/hash-index.ts `probedHome`, which the JIT's inline
 * probe computes the same way): an 8-byte key folds to k0 ^ k1 · HASH_FOLD, then x = k · HASH_MUL1,
 * x ^= x >>> HASH_XSHIFT, home entry = (x · HASH_MUL2) >>> LOOKUP_SHIFT's value.
 */
export const HASH_FOLD = 0xc2b2ae35 | 0;
export const HASH_MUL1 = 0x85ebca6b | 0;
export const HASH_XSHIFT = 13;
export const HASH_MUL2 = 0x9e3779b1 | 0;

/** Entry kinds: how a lookup in this map runs. */
export const LookupKind = {
  /** Through the helper call (other map types, LRU recency, other key sizes, refused maps). */
  CALL: 0,
  /** ARRAY / PERCPU_ARRAY: value = base + index · stride when the u32 key < max_entries. */
  ARRAY: 1,
  /** HASH / PERCPU_HASH with 4-byte keys: entries (key, slot + 1) probed linearly. */
  HASH4: 2,
  /** Same with 8-byte keys: entries (key lo, key hi, slot + 1). */
  HASH8: 3,
} as const;

/** A lookup helper's table, attached to its HelperDefinition (`inlineLookup`). */
export interface MapLookupTable {
  /** The linear memory holding the table (the JIT inlines only on the memory it runs on). */
  readonly memory: WebAssembly.Memory;
  /** Byte offset of entry 0. */
  readonly at: number;
  /** Number of entries (map ids 0..count-1). */
  readonly count: number;
  /** Map handles: `handleBase + id << handleShift` (runtime/maps/host-api.ts). */
  readonly handleBase: number;
  readonly handleShift: number;
}

/**
 * The words of a map's entry that never change once the table is written (all but LOOKUP_BASE, which
 * moves with the current CPU for per-CPU maps): a map's kind, key size, table and value stride are
 * fixed when it is created, so the JIT may compile them in where it knows the map.
 */
export type FixedLookupWord =
  | typeof LOOKUP_KIND
  | typeof LOOKUP_LIMIT
  | typeof LOOKUP_STRIDE
  | typeof LOOKUP_TABLE
  | typeof LOOKUP_SHIFT;

/** A map's entry address (byte offset in the linear memory) and its fixed words. */
export interface FixedLookupEntry {
  readonly entry: number;
  readonly kind: (typeof LookupKind)[keyof typeof LookupKind];
  readonly limit: number;
  readonly stride: number;
  readonly table: number;
  readonly shift: number;
  readonly span: number;
  /** LOOKUP_FIXED_BASE: the value base if it never changes, else 0. */
  readonly fixedBase: number;
}

/**
 * The fixed words of the entry of the map whose handle is `handle` (a register value), read from the
 * table in its memory; undefined when `handle` is not one of the table's handles.
 */
export function fixedLookupEntry(table: MapLookupTable, handle: bigint): FixedLookupEntry | undefined {
  const rel = handle - BigInt(table.handleBase);
  const id = Number(rel >> BigInt(table.handleShift));
  if (rel < 0n || (rel & ((1n << BigInt(table.handleShift)) - 1n)) !== 0n || id >= table.count) {
    return undefined;
  }
  const entry = table.at + (id << LOOKUP_ENTRY_SHIFT);
  const words = new Int32Array(table.memory.buffer, entry, LOOKUP_ENTRY_WORDS);
  const kind = words[LOOKUP_KIND];
  if (kind !== LookupKind.ARRAY && kind !== LookupKind.HASH4 && kind !== LookupKind.HASH8) {
    return { entry, kind: LookupKind.CALL, limit: 0, stride: 0, table: 0, shift: 0, span: 0, fixedBase: 0 };
  }
  return {
    entry,
    kind,
    limit: words[LOOKUP_LIMIT],
    stride: words[LOOKUP_STRIDE],
    table: words[LOOKUP_TABLE],
    shift: words[LOOKUP_SHIFT],
    span: words[LOOKUP_VALUE_SPAN],
    fixedBase: words[LOOKUP_FIXED_BASE],
  };
}

/** Word `word` of a fixed entry. */
export function fixedLookupWord(e: FixedLookupEntry, word: FixedLookupWord): number {
  switch (word) {
    case LOOKUP_KIND:
      return e.kind;
    case LOOKUP_LIMIT:
      return e.limit;
    case LOOKUP_STRIDE:
      return e.stride;
    case LOOKUP_TABLE:
      return e.table;
    case LOOKUP_SHIFT:
      return e.shift;
  }
}

/** The 256 MiB slot of a map's values (every CPU's copies share one arena), from its entry's base. */
export function fixedLookupSlot(table: MapLookupTable, e: FixedLookupEntry): number {
  return new Int32Array(table.memory.buffer, e.entry, LOOKUP_ENTRY_WORDS)[LOOKUP_BASE] >>> SLOT_SHIFT;
}
