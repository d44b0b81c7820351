/**
 * The common interface of every map. Two sides share one implementation:
 * - the program side (`lookupElem`, `updateElem`, `deleteElem`) takes key and value as a byte array and
 *   an offset — usually guest memory itself — so helpers copy nothing and allocate (almost) nothing;
 * - the host side (`lookup`, `update`, `delete`, `nextKey`, `entries`) takes and returns Uint8Arrays
 *   with BPF_MAP_*_ELEM syscall semantics (no LRU recency change, all CPUs of per-CPU maps).
 * Both return 0 or a negative errno exactly as the kernel does.
 */
import { UsageError } from '../../errors.js';
import type { GuestMemory } from '../../vm/memory/guest-memory.js';
import { EINVAL } from './constants.js';
import { MapDefinitionError } from './errors.js';
import type { LookupEntry } from './lookup-table.js';
import type { MapDefinition, MapTypeName } from './map-def.js';

/** What maps see of their surroundings; `MapSet` implements it. */
export interface MapEnv {
  readonly memory: GuestMemory;
  /** Number of simulated CPUs (copies of per-CPU values). */
  readonly cpus: number;
  /** CPU the program runs on now: selects per-CPU values and the perf buffer of BPF_F_CURRENT_CPU. */
  readonly currentCpu: number;
  /** The map with this id (map-of-maps values name inner maps by id, like the kernel's map fds). */
  mapById(id: number): BpfMap | undefined;
}

export interface MapEntry {
  readonly key: Uint8Array;
  /** One value, or one per CPU for per-CPU maps. */
  readonly value: Uint8Array | Uint8Array[];
}

export abstract class BpfMap {
  /** Index in its MapSet: the object's map index (lddw map_idx) and the id used as its fd. */
  id = -1;
  /** The 64-bit value a register holds when it refers to this map (see host-api.ts). */
  handle = 0;

  constructor(
    readonly def: MapDefinition,
    protected readonly env: MapEnv,
  ) {}

  get name(): string {
    return this.def.name;
  }

  get type(): MapTypeName {
    return this.def.type;
  }

  // ------------------------------------------------------------------ program side
  /** Guest address of the value for the key at `key[keyOff..]`, or 0 (NULL). */
  lookupElem(_key: Uint8Array, _keyOff: number): number {
    return 0;
  }

  updateElem(
    _key: Uint8Array,
    _keyOff: number,
    _value: Uint8Array,
    _valueOff: number,
    _flags: number,
  ): number {
    return -EINVAL;
  }

  deleteElem(_key: Uint8Array, _keyOff: number): number {
    return -EINVAL;
  }

  /**
   * How compiled code may run `lookupElem` itself for programs on `cpu` (lookup-table.ts), or
   * undefined when every lookup must call it.
   */
  lookupEntry(_cpu: number): LookupEntry | undefined {
    return undefined;
  }

  // ------------------------------------------------------------------ host side
  /** Copy of the value (the current CPU's for per-CPU maps), or undefined when there is none. */
  abstract lookup(key: Uint8Array): Uint8Array | undefined;

  /** BPF_MAP_UPDATE_ELEM: 0 or -errno. Per-CPU maps store `value` on every CPU. */
  abstract update(key: Uint8Array, value: Uint8Array, flags?: number): number;

  /** BPF_MAP_DELETE_ELEM: 0 or -errno. */
  abstract delete(key: Uint8Array): number;

  /**
   * BPF_MAP_GET_NEXT_KEY: the key after `key` (the first one for null or a key not in the map), or
   * undefined at the end (-ENOENT).
   */
  abstract nextKey(key: Uint8Array | null): Uint8Array | undefined;

  /** Every key, in get_next_key order. */
  keys(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let k = this.nextKey(null); k !== undefined; k = this.nextKey(k)) out.push(k);
    return out;
  }

  /** Value as the host API reports it: per-CPU maps override this to return one value per CPU. */
  protected hostValue(key: Uint8Array): Uint8Array | Uint8Array[] | undefined {
    return this.lookup(key);
  }

  entries(): MapEntry[] {
    const out: MapEntry[] = [];
    for (const key of this.keys()) {
      const value = this.hostValue(key);
      if (value !== undefined) out.push({ key, value });
    }
    return out;
  }

  // ------------------------------------------------------------------ shared checks
  /** Host callers passing a key or value of the wrong size is a usage error, not an errno. */
  protected checkSize(what: 'key' | 'value', bytes: Uint8Array, size: number): void {
    if (bytes.length !== size) {
      throw new UsageError(`map "${this.name}": ${what} has ${bytes.length} bytes, expected ${size}`);
    }
  }

  protected checkKey(key: Uint8Array): void {
    this.checkSize('key', key, this.def.keySize);
  }

  /** Host per-CPU writes pass one value per CPU (`copies` of them), each of value_size bytes. */
  protected checkPerCpuValues(values: readonly Uint8Array[], copies: number): void {
    if (values.length !== copies) {
      throw new UsageError(`map "${this.name}": expected ${copies} per-CPU values, got ${values.length}`);
    }
    for (const v of values) this.checkSize('value', v, this.def.valueSize);
  }
}

/** Throws the creation error the kernel reports as -EINVAL/-E2BIG unless `ok`. */
export function requireDef(def: MapDefinition, ok: boolean, message: string): void {
  if (!ok) throw new MapDefinitionError(def.name, message);
}

/** The kernel's KMALLOC_MAX_SIZE (x86-64): the largest value_size user space can read or write. */
export const MAX_VALUE_SIZE = 1 << 22;
/** Keys are built on the program's stack, so the kernel limits them to MAX_BPF_STACK. */
export const MAX_KEY_SIZE = 512;

export function requireValueSize(def: MapDefinition): void {
  requireDef(
    def,
    def.valueSize > 0 && def.valueSize <= MAX_VALUE_SIZE,
    `value_size must be 1..${MAX_VALUE_SIZE}`,
  );
}

/** Common checks of hash-like and array-like maps (key/value sizes, max_entries). */
export function requireSizes(def: MapDefinition, keySize: number | 'any'): void {
  if (keySize === 'any') {
    requireDef(def, def.keySize > 0 && def.keySize <= MAX_KEY_SIZE, `key_size must be 1..${MAX_KEY_SIZE}`);
  } else requireDef(def, def.keySize === keySize, `key_size must be ${keySize}`);
  requireValueSize(def);
  requireDef(def, Number.isInteger(def.maxEntries) && def.maxEntries > 0, 'max_entries must be positive');
}

export function u32At(bytes: Uint8Array, off: number): number {
  return (bytes[off] | (bytes[off + 1] << 8) | (bytes[off + 2] << 16) | (bytes[off + 3] << 24)) >>> 0;
}

export function u32Bytes(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}
