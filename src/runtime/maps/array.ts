/**
 * ARRAY and PERCPU_ARRAY (kernel/bpf/arraymap.c semantics): max_entries zero-initialised values in
 * guest memory indexed by a u32 key; elements always exist, so delete is -EINVAL and BPF_NOEXIST is
 * -EEXIST.
 */
import { LookupKind } from '../../vm/map-lookup.js';
import type { Arena } from './arena.js';
import { BPF_F_LOCK, BPF_NOEXIST, E2BIG, EEXIST, EINVAL } from './constants.js';
import { PERCPU_VALUE_MAX } from './hash.js';
import type { LookupEntry } from './lookup-table.js';
import { BpfMap, type MapEnv, requireDef, requireSizes, u32At, u32Bytes } from './map.js';
import type { MapDefinition } from './map-def.js';
import { ALL_CPUS, ValueStore } from './value-store.js';

/**
 * Update-flag checks of array-like maps in the kernel's order: unknown flags -EINVAL, index out of
 * range -E2BIG, BPF_NOEXIST -EEXIST, BPF_F_LOCK without a spin lock -EINVAL. 0 when the update may go on.
 */
export function arrayUpdateError(index: number, maxEntries: number, flags: number): number {
  if (flags < 0 || flags > 7 || (flags & ~BPF_F_LOCK) > 2) return -EINVAL;
  if (index >= maxEntries) return -E2BIG;
  if (flags & BPF_NOEXIST) return -EEXIST;
  if (flags & BPF_F_LOCK) return -EINVAL;
  return 0;
}

/** get_next_key of array-like maps: index+1, 0 for a missing/out-of-range key, -1 (ENOENT) at the end. */
export function arrayNextIndex(key: Uint8Array | null, maxEntries: number): number {
  const index = key === null ? 0xffffffff : u32At(key, 0);
  if (index >= maxEntries) return 0;
  return index === maxEntries - 1 ? -1 : index + 1;
}

export class ArrayMap extends BpfMap {
  readonly perCpu: boolean;
  private readonly values: ValueStore;

  static storageBytes(def: MapDefinition, cpus: number): number {
    return ValueStore.bytes(def.maxEntries, def.valueSize, def.type === 'percpu_array' ? cpus : 1);
  }

  constructor(def: MapDefinition, env: MapEnv, arena: Arena) {
    super(def, env);
    requireSizes(def, 4);
    this.perCpu = def.type === 'percpu_array';
    requireDef(
      def,
      !this.perCpu || def.valueSize <= PERCPU_VALUE_MAX,
      `per-CPU value_size above ${PERCPU_VALUE_MAX}`,
    );
    this.values = new ValueStore(
      env.memory,
      arena,
      def.maxEntries,
      def.valueSize,
      this.perCpu ? env.cpus : 1,
    );
  }

  /** Guest address of element `index` on `cpu` (for map_idx_value relocations and tests). */
  address(index: number, cpu = 0): number {
    return this.values.address(index, cpu);
  }

  override lookupElem(key: Uint8Array, keyOff: number): number {
    const index = u32At(key, keyOff);
    return index < this.def.maxEntries
      ? this.values.address(index, this.perCpu ? this.env.currentCpu : 0)
      : 0;
  }

  override lookupEntry(cpu: number): LookupEntry {
    return {
      kind: LookupKind.ARRAY,
      limit: this.def.maxEntries,
      base: this.values.address(0, this.perCpu ? cpu : 0),
      stride: this.values.stride,
      span: this.values.cpuStride,
      sameOnEveryCpu: !this.perCpu,
      table: 0,
      shift: 0,
    };
  }

  /** bpf_map_lookup_percpu_elem: the value of `cpu`, or 0 for a bad index or CPU. */
  lookupOnCpu(key: Uint8Array, keyOff: number, cpu: number): number {
    const index = u32At(key, keyOff);
    return index < this.def.maxEntries && cpu < this.env.cpus ? this.values.address(index, cpu) : 0;
  }

  override updateElem(
    key: Uint8Array,
    keyOff: number,
    value: Uint8Array,
    valueOff: number,
    flags: number,
  ): number {
    const index = u32At(key, keyOff);
    const err = arrayUpdateError(index, this.def.maxEntries, flags);
    if (err) return err;
    this.values.write(index, this.env.currentCpu, value, valueOff);
    return 0;
  }

  // ------------------------------------------------------------------ host side
  lookup(key: Uint8Array): Uint8Array | undefined {
    this.checkKey(key);
    const index = u32At(key, 0);
    return index < this.def.maxEntries ? this.values.read(index, this.env.currentCpu) : undefined;
  }

  lookupPerCpu(key: Uint8Array): Uint8Array[] | undefined {
    this.checkKey(key);
    const index = u32At(key, 0);
    return index < this.def.maxEntries ? this.values.readAll(index) : undefined;
  }

  update(key: Uint8Array, value: Uint8Array, flags = 0): number {
    this.checkKey(key);
    this.checkSize('value', value, this.def.valueSize);
    const index = u32At(key, 0);
    const err = arrayUpdateError(index, this.def.maxEntries, flags);
    if (err) return err;
    this.values.write(index, ALL_CPUS, value, 0);
    return 0;
  }

  updatePerCpu(key: Uint8Array, values: readonly Uint8Array[], flags = 0): number {
    this.checkKey(key);
    this.checkPerCpuValues(values, this.values.copies);
    const index = u32At(key, 0);
    const err = arrayUpdateError(index, this.def.maxEntries, flags);
    if (err) return err;
    values.forEach((v, cpu) => {
      this.values.write(index, cpu, v, 0);
    });
    return 0;
  }

  delete(key: Uint8Array): number {
    this.checkKey(key);
    return -EINVAL;
  }

  nextKey(key: Uint8Array | null): Uint8Array | undefined {
    if (key !== null) this.checkKey(key);
    const next = arrayNextIndex(key, this.def.maxEntries);
    return next < 0 ? undefined : u32Bytes(next);
  }

  protected override hostValue(key: Uint8Array): Uint8Array | Uint8Array[] | undefined {
    return this.perCpu ? this.lookupPerCpu(key) : this.lookup(key);
  }
}
