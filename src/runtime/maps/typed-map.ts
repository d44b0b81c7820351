/**
 * Typed host access to a map: keys and values as JS values decoded and encoded by the map's BTF key
 * and value types (src/elf/btf-value.ts), with the byte API's syscall semantics underneath. Maps
 * without BTF types (legacy `maps` definitions, internal maps, objects without -g) keep Uint8Arrays,
 * and take plain integers for 4- and 8-byte keys and values.
 */
import type { Btf } from '../../elf/btf.js';
import { type BtfValue, type BtfValueInput, decodeBtfValue, encodeBtfValue } from '../../elf/btf-value.js';
import { UsageError } from '../../errors.js';
import { ArrayMap } from './array.js';
import { HashMap } from './hash.js';
import { LpmTrie } from './lpm-trie.js';
import type { BpfMap } from './map.js';
import type { MapDefinition } from './map-def.js';

/** A key or value as `TypedMap` takes it: a JS value of its BTF type, or its raw bytes. */
export type TypedMapInput = BtfValueInput;

/** One entry of `TypedMap.entries()`; per-CPU maps give one value per CPU. */
export interface TypedMapEntry<K, V> {
  readonly key: K;
  readonly value: V | V[];
}

/** How one side (key or value) of a map turns into bytes and back. */
interface Side {
  readonly what: 'key' | 'value';
  readonly size: number;
  /** BTF type id, undefined for the byte fallback. */
  readonly typeId: number | undefined;
}

export class TypedMap<K = BtfValue, V = BtfValue> {
  private readonly key: Side;
  private readonly value: Side;
  /** The map again when it is per-CPU (values are read and written per CPU). */
  private readonly perCpu: HashMap | ArrayMap | undefined;

  constructor(
    readonly map: BpfMap,
    private readonly btf: Btf | undefined,
  ) {
    if (!(map instanceof HashMap || map instanceof ArrayMap || map instanceof LpmTrie)) {
      throw new UsageError(
        `map "${map.name}" is a ${map.type} map; typed access covers hash, array and LPM trie maps`,
        {},
        { hint: 'use the map itself (obj.maps.get) for queues, ring buffers and program or map arrays' },
      );
    }
    this.perCpu = !(map instanceof LpmTrie) && map.perCpu ? map : undefined;
    const typed: Pick<MapDefinition, 'btfKeyTypeId' | 'btfValueTypeId'> = btf === undefined ? {} : map.def;
    this.key = this.side('key', map.def.keySize, typed.btfKeyTypeId);
    this.value = this.side('value', map.def.valueSize, typed.btfValueTypeId);
  }

  get name(): string {
    return this.map.name;
  }

  /** Whether keys and values are decoded by BTF (false: the byte fallback). */
  get typed(): { key: boolean; value: boolean } {
    return { key: this.key.typeId !== undefined, value: this.value.typeId !== undefined };
  }

  /** The value of `key` (one per CPU for per-CPU maps), or undefined when there is none. */
  get(key: K | TypedMapInput): V | V[] | undefined {
    const bytes = this.encode(this.key, key);
    if (this.perCpu !== undefined)
      return this.perCpu.lookupPerCpu(bytes)?.map((v) => this.decode<V>(this.value, v));
    const value = this.map.lookup(bytes);
    return value === undefined ? undefined : this.decode<V>(this.value, value);
  }

  /**
   * BPF_MAP_UPDATE_ELEM with a typed key and value (every CPU's copy for per-CPU maps): 0 or -errno,
   * like `BpfMap.update` (-E2BIG for a full map, -EEXIST for BPF_NOEXIST on an existing key…).
   */
  set(key: K | TypedMapInput, value: V | TypedMapInput, flags = 0): number {
    return this.map.update(this.encode(this.key, key), this.encode(this.value, value), flags);
  }

  /** Per-CPU maps: one value per CPU (`cpus` of them). 0 or -errno. */
  setPerCpu(key: K | TypedMapInput, values: readonly (V | TypedMapInput)[], flags = 0): number {
    if (this.perCpu === undefined) {
      throw new UsageError(
        `map "${this.name}" is a ${this.map.type} map, not per-CPU`,
        {},
        { hint: 'use set()' },
      );
    }
    const bytes = values.map((v, cpu) => this.encode(this.value, v, `value[${cpu}]`));
    return this.perCpu.updatePerCpu(this.encode(this.key, key), bytes, flags);
  }

  /** BPF_MAP_DELETE_ELEM: 0 or -errno (-ENOENT for a missing key, -EINVAL for array maps). */
  delete(key: K | TypedMapInput): number {
    return this.map.delete(this.encode(this.key, key));
  }

  /** Every key, decoded, in get_next_key order. */
  keys(): K[] {
    return this.map.keys().map((k) => this.decode<K>(this.key, k));
  }

  /** Every entry, decoded (per-CPU maps: `value` has one element per CPU). */
  entries(): TypedMapEntry<K, V>[] {
    return this.map.entries().map((e) => ({
      key: this.decode<K>(this.key, e.key),
      value: Array.isArray(e.value)
        ? e.value.map((v) => this.decode<V>(this.value, v))
        : this.decode<V>(this.value, e.value),
    }));
  }

  private side(what: 'key' | 'value', size: number, typeId: number | undefined): Side {
    if (typeId !== undefined && this.btf !== undefined && this.btf.size(typeId) !== size) {
      throw new UsageError(
        `map "${this.name}": BTF ${what} type ${this.btf.describe(typeId)} has ${this.btf.size(typeId)} bytes, but ${what}_size is ${size}`,
      );
    }
    return { what, size, typeId };
  }

  private decode<T>(side: Side, bytes: Uint8Array): T {
    // The caller chose T for the map's C type; the decoder produces that shape from the same BTF.
    if (side.typeId === undefined || this.btf === undefined) return bytes as T;
    return decodeBtfValue(this.btf, side.typeId, bytes) as T;
  }

  /** `input` is a K or V the caller declared for the map's C types, or bytes: the encoder checks it. */
  private encode(side: Side, given: unknown, path: string = side.what): Uint8Array {
    const input = given as TypedMapInput;
    if (input instanceof Uint8Array) {
      if (input.length !== side.size) {
        throw new UsageError(`map "${this.name}": ${path} has ${input.length} bytes, expected ${side.size}`);
      }
      return input;
    }
    if (side.typeId !== undefined && this.btf !== undefined) {
      return encodeBtfValue(this.btf, side.typeId, input, `map "${this.name}" ${path}`);
    }
    return untypedInteger(this.name, side, input, path);
  }
}

/** The byte fallback's integers: little-endian, 4 or 8 bytes, signed or unsigned range. */
function untypedInteger(map: string, side: Side, input: TypedMapInput, path: string): Uint8Array {
  const bits = BigInt(side.size * 8);
  const fits =
    (side.size === 4 || side.size === 8) &&
    (typeof input === 'bigint' || (typeof input === 'number' && Number.isSafeInteger(input)));
  const n = fits ? BigInt(input as number | bigint) : 0n;
  if (!fits || n < -(1n << (bits - 1n)) || n >= 1n << bits) {
    throw new UsageError(
      `map "${map}" has no BTF type for its ${side.what}: ${path} must be a Uint8Array of ${side.size} bytes${side.size === 4 || side.size === 8 ? ` or an integer that fits ${side.size * 8} bits` : ''}`,
      {},
      {
        hint: 'declare the map in SEC(".maps") with __type(key, …) and __type(value, …) and compile with -g for typed access',
      },
    );
  }
  const out = new Uint8Array(side.size);
  const view = new DataView(out.buffer);
  if (side.size === 4) view.setUint32(0, Number(BigInt.asUintN(32, n)), true);
  else view.setBigUint64(0, BigInt.asUintN(64, n), true);
  return out;
}
