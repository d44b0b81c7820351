/**
 * ARRAY_OF_MAPS and HASH_OF_MAPS: values are references to inner maps. A program lookup returns the
 * inner map's handle (the value a register holds for a map), which the map helpers accept like any
 * map; the host API stores maps directly or by id (the u32 "fd" the kernel's syscall takes) and reads
 * back the id. An inner map must match the `inner` template like the kernel's bpf_map_meta_equal:
 * same type, key size, value size and flags, and same max_entries unless the template has
 * BPF_F_INNER_MAP.
 */

import { arrayNextIndex } from './array.js';
import {
  BPF_ANY,
  BPF_EXIST,
  BPF_F_INNER_MAP,
  BPF_NOEXIST,
  E2BIG,
  EBADF,
  EEXIST,
  EINVAL,
  ENOENT,
} from './constants.js';
import { hashFlagsError } from './hash.js';
import { HashIndex } from './hash-index.js';
import { BpfMap, type MapEnv, requireDef, requireSizes, u32At, u32Bytes } from './map.js';
import type { MapDefinition } from './map-def.js';

/** Whether `inner` may be stored in a map whose inner template is `template`. */
export function innerMapMatches(template: MapDefinition, inner: MapDefinition): boolean {
  return (
    template.type === inner.type &&
    template.keySize === inner.keySize &&
    template.valueSize === inner.valueSize &&
    template.flags === inner.flags &&
    ((template.flags & BPF_F_INNER_MAP) !== 0 || template.maxEntries === inner.maxEntries)
  );
}

abstract class MapOfMaps extends BpfMap {
  protected readonly template: MapDefinition;

  constructor(def: MapDefinition, env: MapEnv, keySize: number | 'any') {
    super(def, env);
    requireSizes(def, keySize);
    requireDef(def, def.valueSize === 4, 'map-in-map value_size must be 4 (an inner map fd)');
    requireDef(def, def.inner !== undefined, 'map-in-map needs an inner map template');
    requireDef(
      def,
      def.inner?.type !== 'array_of_maps' && def.inner?.type !== 'hash_of_maps',
      'inner maps cannot themselves hold maps',
    );
    this.template = def.inner as MapDefinition;
  }

  /** The inner map for `id` (a map's id), or the errno the kernel's map_fd_get_ptr would give. */
  protected resolve(value: Uint8Array): BpfMap | number {
    this.checkSize('value', value, 4);
    const inner = this.env.mapById(u32At(value, 0));
    if (inner === undefined) return -EBADF;
    return innerMapMatches(this.template, inner.def) ? inner : -EINVAL;
  }

  /** The inner map stored under `key`, or undefined. */
  abstract lookupMap(key: Uint8Array): BpfMap | undefined;

  lookup(key: Uint8Array): Uint8Array | undefined {
    const inner = this.lookupMap(key);
    return inner === undefined ? undefined : u32Bytes(inner.id);
  }
}

export class ArrayOfMaps extends MapOfMaps {
  private readonly inner: (BpfMap | undefined)[];

  constructor(def: MapDefinition, env: MapEnv) {
    super(def, env, 4);
    this.inner = new Array<BpfMap | undefined>(def.maxEntries).fill(undefined);
  }

  override lookupElem(key: Uint8Array, keyOff: number): number {
    const index = u32At(key, keyOff);
    return index < this.inner.length ? (this.inner[index]?.handle ?? 0) : 0;
  }

  lookupMap(key: Uint8Array): BpfMap | undefined {
    this.checkKey(key);
    const index = u32At(key, 0);
    return index < this.inner.length ? this.inner[index] : undefined;
  }

  /** Stores `map` at `key`: 0, -EINVAL (flags other than BPF_ANY, mismatching map), -E2BIG (index). */
  setMap(key: Uint8Array, map: BpfMap, flags = BPF_ANY): number {
    this.checkKey(key);
    if (flags !== BPF_ANY) return -EINVAL;
    const index = u32At(key, 0);
    if (index >= this.inner.length) return -E2BIG;
    if (!innerMapMatches(this.template, map.def)) return -EINVAL;
    this.inner[index] = map;
    return 0;
  }

  update(key: Uint8Array, value: Uint8Array, flags = BPF_ANY): number {
    this.checkKey(key);
    if (flags !== BPF_ANY) return -EINVAL;
    if (u32At(key, 0) >= this.inner.length) return -E2BIG;
    const inner = this.resolve(value);
    return typeof inner === 'number' ? inner : this.setMap(key, inner, flags);
  }

  delete(key: Uint8Array): number {
    this.checkKey(key);
    const index = u32At(key, 0);
    if (index >= this.inner.length) return -E2BIG;
    if (this.inner[index] === undefined) return -ENOENT;
    this.inner[index] = undefined;
    return 0;
  }

  nextKey(key: Uint8Array | null): Uint8Array | undefined {
    if (key !== null) this.checkKey(key);
    const next = arrayNextIndex(key, this.inner.length);
    return next < 0 ? undefined : u32Bytes(next);
  }
}

export class HashOfMaps extends MapOfMaps {
  private readonly index: HashIndex;
  private readonly inner: (BpfMap | undefined)[];

  constructor(def: MapDefinition, env: MapEnv) {
    super(def, env, 'any');
    // In guest memory like HashMap's (never probed by JIT code here, whose lookups return handles):
    // one kind of word store keeps HashIndex's hot loads monomorphic.
    this.index = new HashIndex(def.maxEntries, def.keySize, false, env.memory);
    this.inner = new Array<BpfMap | undefined>(def.maxEntries).fill(undefined);
  }

  override lookupElem(key: Uint8Array, keyOff: number): number {
    const slot = this.index.lookup(key, keyOff);
    return slot < 0 ? 0 : (this.inner[slot]?.handle ?? 0);
  }

  lookupMap(key: Uint8Array): BpfMap | undefined {
    this.checkKey(key);
    const slot = this.index.lookup(key, 0);
    return slot < 0 ? undefined : this.inner[slot];
  }

  /** Stores `map` under `key` with hash update semantics (flags, -EEXIST, -ENOENT, -E2BIG). */
  setMap(key: Uint8Array, map: BpfMap, flags = BPF_ANY): number {
    this.checkKey(key);
    if (!innerMapMatches(this.template, map.def)) return -EINVAL;
    const bad = hashFlagsError(flags);
    if (bad) return bad;
    const hash = this.index.hash(key, 0);
    let slot = this.index.find(hash, key, 0);
    if (slot >= 0 && flags === BPF_NOEXIST) return -EEXIST;
    if (slot < 0) {
      if (flags === BPF_EXIST) return -ENOENT;
      slot = this.index.insert(hash, key, 0);
      if (slot < 0) return -E2BIG;
    }
    this.inner[slot] = map;
    return 0;
  }

  update(key: Uint8Array, value: Uint8Array, flags = BPF_ANY): number {
    this.checkKey(key);
    const inner = this.resolve(value);
    return typeof inner === 'number' ? inner : this.setMap(key, inner, flags);
  }

  delete(key: Uint8Array): number {
    this.checkKey(key);
    const slot = this.index.lookup(key, 0);
    if (slot < 0) return -ENOENT;
    this.index.remove(slot);
    this.inner[slot] = undefined;
    return 0;
  }

  nextKey(key: Uint8Array | null): Uint8Array | undefined {
    if (key !== null) this.checkKey(key);
    const slot = this.index.nextSlot(key);
    return slot < 0 ? undefined : this.index.key(slot);
  }
}
