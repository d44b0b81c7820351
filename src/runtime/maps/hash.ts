/**
 * HASH, PERCPU_HASH, LRU_HASH and LRU_PERCPU_HASH (kernel/bpf/hashtab.c semantics). All max_entries
 * value slots are preallocated in guest memory, like the kernel's default (prealloc) hash maps.
 *
 * LRU maps evict the exactly least recently used entry when a new key needs a slot and the map is
 * full; program lookups and updates make an entry most recent, host lookups do not (as with the
 * kernel's syscall path). The kernel's LRU is an approximation of this (per-CPU free lists, reference
 * bits); exact LRU is deterministic, which is what tests need. BPF_F_NO_COMMON_LRU (per-CPU LRU
 * lists) is accepted and behaves like the common list.
 *
 * Updates of an existing key write the value in place; the kernel swaps in a new element, so a
 * pointer a program kept from an earlier lookup would still see the old value there.
 */
import { LookupKind } from '../../vm/map-lookup.js';
import type { Arena } from './arena.js';
import { BPF_EXIST, BPF_F_NO_PREALLOC, BPF_NOEXIST, E2BIG, EEXIST, EINVAL, ENOENT } from './constants.js';
import { HashIndex } from './hash-index.js';
import type { LookupEntry } from './lookup-table.js';
import { BpfMap, type MapEnv, requireDef, requireSizes } from './map.js';
import type { MapDefinition } from './map-def.js';
import { ALL_CPUS, ValueStore } from './value-store.js';

/** The kernel's limit on one CPU's copy of a per-CPU value (PCPU_MIN_UNIT_SIZE). */
export const PERCPU_VALUE_MAX = 32768;

const isPerCpu = (def: MapDefinition): boolean =>
  def.type === 'percpu_hash' || def.type === 'lru_percpu_hash';
const isLru = (def: MapDefinition): boolean => def.type === 'lru_hash' || def.type === 'lru_percpu_hash';

/**
 * Checks update flags like htab_map_update_elem: only BPF_ANY, BPF_NOEXIST and BPF_EXIST pass; other
 * bits are -EINVAL, and so is BPF_F_LOCK, because no value here holds a bpf_spin_lock. `flags` is the
 * full 64-bit argument as a number (callers map high bits to a value above 2^32).
 */
export function hashFlagsError(flags: number): number {
  return flags < 0 || flags > BPF_EXIST ? -EINVAL : 0;
}

export class HashMap extends BpfMap {
  readonly perCpu: boolean;
  readonly lru: boolean;
  private readonly index: HashIndex;
  private readonly values: ValueStore;

  static storageBytes(def: MapDefinition, cpus: number): number {
    return ValueStore.bytes(def.maxEntries, def.valueSize, isPerCpu(def) ? cpus : 1);
  }

  constructor(def: MapDefinition, env: MapEnv, arena: Arena) {
    super(def, env);
    requireSizes(def, 'any');
    this.perCpu = isPerCpu(def);
    this.lru = isLru(def);
    requireDef(
      def,
      !this.perCpu || def.valueSize <= PERCPU_VALUE_MAX,
      `per-CPU value_size above ${PERCPU_VALUE_MAX}`,
    );
    requireDef(
      def,
      !this.lru || (def.flags & BPF_F_NO_PREALLOC) === 0,
      'LRU maps cannot use BPF_F_NO_PREALLOC',
    );
    this.values = new ValueStore(
      env.memory,
      arena,
      def.maxEntries,
      def.valueSize,
      this.perCpu ? env.cpus : 1,
    );
    // The index tags a slot with its value's address when that is the same on every CPU: an inline
    // lookup's result is then the tag itself (codegen's `probe`, LOOKUP_FIXED_BASE).
    const tags = this.perCpu ? undefined : { base: this.values.address(0, 0), stride: this.values.stride };
    this.index = new HashIndex(def.maxEntries, def.keySize, this.lru, env.memory, tags);
  }

  /** Number of entries. */
  get size(): number {
    return this.index.size;
  }

  override lookupElem(key: Uint8Array, keyOff: number): number {
    const slot = this.index.lookup(key, keyOff);
    if (slot < 0) return 0;
    if (this.lru) this.index.touch(slot);
    return this.values.address(slot, this.perCpu ? this.env.currentCpu : 0);
  }

  /** Inline lookups for 4- and 8-byte keys; LRU lookups call, to update the recency list. */
  override lookupEntry(cpu: number): LookupEntry | undefined {
    const table = this.index.openTable;
    if (this.lru || table === undefined) return undefined;
    return {
      kind: this.def.keySize === 4 ? LookupKind.HASH4 : LookupKind.HASH8,
      limit: table.mask,
      base: this.values.address(0, this.perCpu ? cpu : 0),
      stride: this.values.stride,
      span: this.values.cpuStride,
      sameOnEveryCpu: !this.perCpu,
      table: table.byteOffset,
      shift: table.shift,
    };
  }

  /** bpf_map_lookup_percpu_elem: `cpu`'s copy, or 0 for a missing key or CPU. */
  lookupOnCpu(key: Uint8Array, keyOff: number, cpu: number): number {
    if (cpu >= this.env.cpus) return 0;
    const slot = this.index.lookup(key, keyOff);
    if (slot < 0) return 0;
    if (this.lru) this.index.touch(slot);
    return this.values.address(slot, cpu);
  }

  override updateElem(
    key: Uint8Array,
    keyOff: number,
    value: Uint8Array,
    valueOff: number,
    flags: number,
  ): number {
    return this.put(key, keyOff, value, valueOff, flags, this.env.currentCpu);
  }

  override deleteElem(key: Uint8Array, keyOff: number): number {
    const slot = this.index.lookup(key, keyOff);
    if (slot < 0) return -ENOENT;
    this.index.remove(slot);
    return 0;
  }

  /**
   * Inserts or replaces; `cpu` is the copy written (ALL_CPUS for host writes). A new per-CPU element
   * written for one CPU has the other CPUs' copies zeroed, as the kernel does for programs.
   */
  private put(
    key: Uint8Array,
    keyOff: number,
    value: Uint8Array,
    valueOff: number,
    flags: number,
    cpu: number,
  ): number {
    const bad = hashFlagsError(flags);
    if (bad) return bad;
    const hash = this.index.hash(key, keyOff);
    let slot = this.index.find(hash, key, keyOff);
    if (slot >= 0) {
      if (flags === BPF_NOEXIST) return -EEXIST;
      this.values.write(slot, cpu, value, valueOff);
      this.index.touch(slot);
      return 0;
    }
    if (flags === BPF_EXIST) return -ENOENT;
    slot = this.index.insert(hash, key, keyOff);
    if (slot < 0) {
      if (!this.lru) return -E2BIG;
      this.index.remove(this.index.leastRecent());
      slot = this.index.insert(hash, key, keyOff);
    }
    this.values.write(slot, cpu, value, valueOff, true);
    return 0;
  }

  // ------------------------------------------------------------------ host side
  lookup(key: Uint8Array): Uint8Array | undefined {
    this.checkKey(key);
    const slot = this.index.lookup(key, 0);
    return slot < 0 ? undefined : this.values.read(slot, this.env.currentCpu);
  }

  /** Every CPU's copy (one element for maps that are not per CPU). */
  lookupPerCpu(key: Uint8Array): Uint8Array[] | undefined {
    this.checkKey(key);
    const slot = this.index.lookup(key, 0);
    return slot < 0 ? undefined : this.values.readAll(slot);
  }

  update(key: Uint8Array, value: Uint8Array, flags = 0): number {
    this.checkKey(key);
    this.checkSize('value', value, this.def.valueSize);
    return this.put(key, 0, value, 0, flags, ALL_CPUS);
  }

  /** Per-CPU update with one value per CPU (the kernel's syscall buffer, split). */
  updatePerCpu(key: Uint8Array, values: readonly Uint8Array[], flags = 0): number {
    this.checkKey(key);
    this.checkPerCpuValues(values, this.values.copies);
    const r = this.put(key, 0, values[0], 0, flags, 0);
    if (r !== 0) return r;
    const slot = this.index.lookup(key, 0);
    for (let c = 1; c < values.length; c++) this.values.write(slot, c, values[c], 0);
    return 0;
  }

  delete(key: Uint8Array): number {
    this.checkKey(key);
    return this.deleteElem(key, 0);
  }

  /** BPF_MAP_LOOKUP_AND_DELETE_ELEM: the value (every CPU's for per-CPU maps) and removal, or undefined. */
  lookupAndDelete(key: Uint8Array): Uint8Array | Uint8Array[] | undefined {
    const value = this.hostValue(key);
    if (value !== undefined) this.deleteElem(key, 0);
    return value;
  }

  nextKey(key: Uint8Array | null): Uint8Array | undefined {
    if (key !== null) this.checkKey(key);
    const slot = this.index.nextSlot(key);
    return slot < 0 ? undefined : this.index.key(slot);
  }

  override keys(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let s = this.index.first(); s >= 0; s = this.index.after(s)) out.push(this.index.key(s));
    return out;
  }

  /** Keys from least to most recently used (LRU maps; insertion order otherwise). */
  recencyOrder(): Uint8Array[] {
    return this.index.byRecency().map((s) => this.index.key(s));
  }

  protected override hostValue(key: Uint8Array): Uint8Array | Uint8Array[] | undefined {
    return this.perCpu ? this.lookupPerCpu(key) : this.lookup(key);
  }
}
