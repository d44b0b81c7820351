/**
 * BTF-defined maps: the `.maps` DATASEC written with libbpf's macros (bpf_helpers.h):
 *   __uint(name, N)        → `int (*name)[N]`  : pointer to an array whose element count is the value
 *   __type(name, T)        → `typeof(T) *name` : pointer to T (key/value types, sizes from T)
 *   __array(name, T)       → `typeof(T) *name[]`: zero-length array of pointers (inner map / prog slots)
 * Each VAR of the section is one map; decoding follows libbpf's parse_btf_map_def and the kernel's
 * map-creation checks, so a definition the kernel would reject fails here with a fix in the hint.
 */
import { LoadError } from '../errors.js';
import { type MapDefinition, MapType, type MapTypeName, mapTypeName } from '../runtime/maps/map-def.js';
import type { Btf, BtfMember, BtfTypeOf } from './btf.js';

export const MAPS_SECTION = '.maps';

/** BPF_F_NO_PREALLOC: required by LPM tries. */
export const BPF_F_NO_PREALLOC = 1;
const PAGE_SIZE = 4096;

/** `enum libbpf_pin_type`. */
export type MapPinning = 'none' | 'by_name';

export interface DecodeBtfMapsOptions {
  /**
   * Offset of a `.maps` symbol by name (its ELF `st_value`). clang writes 0 as every variable offset of
   * an object file's DATASEC and libbpf fixes them up from the symbol table; the ELF loader does the
   * same by passing this. Without it (or when it returns undefined) the DATASEC offset is used.
   */
  readonly symbolOffset?: (name: string) => number | undefined;
}

export interface BtfDefinedMap {
  /** The map variable's name, which is also its ELF symbol name. */
  readonly name: string;
  readonly definition: MapDefinition;
  /** Byte offset of the map variable inside `.maps` (see `DecodeBtfMapsOptions.symbolOffset`). */
  readonly offset: number;
  /** Byte size of the map variable inside `.maps`. */
  readonly size: number;
  /** VAR type id of the map. */
  readonly varTypeId: number;
  readonly pinning: MapPinning;
  /**
   * For `__array(values, …)` (prog_array, map-in-map): offset of slot 0 relative to `offset`; slot i is
   * the 8 bytes at `valuesOffset + 8·i`, filled by relocations of `.maps` against program or map symbols.
   */
  readonly valuesOffset?: number;
}

/**
 * Kernel `enum bpf_map_type` names (UAPI order), so an unsupported type is named in the error rather
 * than shown as a bare number.
 */
const KERNEL_MAP_TYPES = [
  'unspec',
  'hash',
  'array',
  'prog_array',
  'perf_event_array',
  'percpu_hash',
  'percpu_array',
  'stack_trace',
  'cgroup_array',
  'lru_hash',
  'lru_percpu_hash',
  'lpm_trie',
  'array_of_maps',
  'hash_of_maps',
  'devmap',
  'sockmap',
  'cpumap',
  'xskmap',
  'sockhash',
  'cgroup_storage',
  'reuseport_sockarray',
  'percpu_cgroup_storage',
  'queue',
  'stack',
  'sk_storage',
  'devmap_hash',
  'struct_ops',
  'ringbuf',
  'inode_storage',
  'task_storage',
  'bloom_filter',
  'user_ringbuf',
  'cgrp_storage',
  'arena',
];

const FIELDS = new Set([
  'type',
  'max_entries',
  'map_flags',
  'numa_node',
  'key_size',
  'key',
  'value_size',
  'value',
  'values',
  'pinning',
  'map_extra',
]);

interface RawDef {
  type?: number;
  maxEntries?: number;
  flags: number;
  keySize?: number;
  valueSize?: number;
  keyTypeId?: number;
  valueTypeId?: number;
  pinning: number;
  inner?: MapDefinition;
  valuesOffset?: number;
}

/**
 * Decodes every map of the `.maps` DATASEC. Returns [] when the object has no BTF-defined maps.
 * Throws LoadError (location: section `.maps`, offset of the map variable) for malformed or
 * unsupported definitions.
 */
export function decodeBtfMaps(btf: Btf, options: DecodeBtfMapsOptions = {}): BtfDefinedMap[] {
  const sec = btf.find(MAPS_SECTION, 'datasec');
  if (sec === undefined) return [];
  return sec.vars.map((entry) => {
    const v = btf.get(entry.type);
    const offset = options.symbolOffset?.(v.name) ?? entry.offset;
    const fail = (message: string, hint?: string): LoadError =>
      new LoadError(
        'BAD_BTF',
        `${MAPS_SECTION}: ${message}`,
        { section: MAPS_SECTION, offset },
        hint === undefined ? {} : { hint },
      );
    if (v.kind !== 'var') throw fail(`entry ${btf.describe(v.id)} is a ${v.kind}, not a map variable`);
    const struct = btf.resolve(v.type);
    if (struct.kind !== 'struct') {
      throw fail(
        `map '${v.name}' has type ${btf.describe(v.type)}, not a struct`,
        'declare maps as `struct { __uint(type, …); … } name SEC(".maps");`',
      );
    }
    const raw = parseDef(btf, struct, v.name, fail, false);
    const definition = finish(raw, v.name, fail);
    return {
      name: v.name,
      definition,
      offset,
      size: entry.size,
      varTypeId: v.id,
      pinning: raw.pinning === 1 ? 'by_name' : 'none',
      ...(raw.valuesOffset === undefined ? {} : { valuesOffset: raw.valuesOffset }),
    };
  });
}

type Fail = (message: string, hint?: string) => LoadError;

/** Reads the struct members into a raw definition (libbpf's parse_btf_map_def). */
function parseDef(
  btf: Btf,
  struct: BtfTypeOf<'struct' | 'union'>,
  name: string,
  fail: Fail,
  inner: boolean,
): RawDef {
  const def: RawDef = { flags: 0, pinning: 0 };
  struct.members.forEach((m, i) => {
    const field = m.name;
    if (!FIELDS.has(field)) {
      throw fail(`map '${name}' has unknown field '${field}'`, `supported fields: ${[...FIELDS].join(', ')}`);
    }
    switch (field) {
      case 'type':
        def.type = uintField(btf, m, name, fail);
        break;
      case 'max_entries':
        def.maxEntries = uintField(btf, m, name, fail);
        break;
      case 'map_flags':
        def.flags = uintField(btf, m, name, fail);
        break;
      case 'pinning': {
        def.pinning = uintField(btf, m, name, fail);
        if (def.pinning > 1)
          throw fail(
            `map '${name}' has invalid pinning ${def.pinning}`,
            'use LIBBPF_PIN_NONE or LIBBPF_PIN_BY_NAME',
          );
        break;
      }
      case 'numa_node':
      case 'map_extra':
        uintField(btf, m, name, fail); // validated, no meaning in a simulator
        break;
      case 'key_size':
      case 'value_size': {
        const size = uintField(btf, m, name, fail);
        setSize(def, field === 'key_size' ? 'key' : 'value', size, undefined, name, fail);
        break;
      }
      case 'key':
      case 'value': {
        const ptr = btf.skipQualifiers(m.type);
        if (ptr.kind !== 'ptr')
          throw fail(`map '${name}' field '${field}' must be declared with __type(${field}, T)`);
        setSize(def, field, btf.size(ptr.type), ptr.type, name, fail);
        break;
      }
      case 'values': {
        if (inner)
          throw fail(`map '${name}': an inner map cannot itself have 'values' (one level of nesting only)`);
        if (i !== struct.members.length - 1) throw fail(`map '${name}': 'values' must be the last field`);
        const arr = btf.skipQualifiers(m.type);
        if (arr.kind !== 'array' || arr.nelems !== 0) {
          throw fail(
            `map '${name}' field 'values' must be a zero-length array`,
            'declare it with __array(values, …)',
          );
        }
        const ptr = btf.skipQualifiers(arr.type);
        if (ptr.kind !== 'ptr') throw fail(`map '${name}' field 'values' must be an array of pointers`);
        const target = btf.resolve(ptr.type);
        def.valuesOffset = m.bitOffset / 8;
        if (target.kind === 'struct') {
          const innerName = `${name}.inner`;
          def.inner = finish(parseDef(btf, target, innerName, fail, true), innerName, fail);
        } else if (target.kind !== 'func_proto') {
          throw fail(
            `map '${name}' field 'values' points to ${btf.describe(ptr.type)}: expected an inner map struct or a program prototype`,
          );
        }
        break;
      }
    }
  });
  return def;
}

/** `__uint(name, N)` is `int (*name)[N]`: the value is the array's element count. */
function uintField(btf: Btf, m: BtfMember, name: string, fail: Fail): number {
  const ptr = btf.skipQualifiers(m.type);
  const arr = ptr.kind === 'ptr' ? btf.skipQualifiers(ptr.type) : undefined;
  if (arr?.kind !== 'array') {
    throw fail(
      `map '${name}' field '${m.name}' is ${btf.describe(m.type)}, not an integer attribute`,
      `declare it with __uint(${m.name}, value)`,
    );
  }
  return arr.nelems;
}

function setSize(
  def: RawDef,
  which: 'key' | 'value',
  size: number,
  typeId: number | undefined,
  name: string,
  fail: Fail,
): void {
  const sizeKey = which === 'key' ? 'keySize' : 'valueSize';
  const previous = def[sizeKey];
  if (previous !== undefined && previous !== size) {
    throw fail(
      `map '${name}' declares ${which} size ${previous} and ${size}`,
      `keep only one of __type(${which}, …) and __uint(${which}_size, …)`,
    );
  }
  def[sizeKey] = size;
  if (typeId !== undefined) {
    if (which === 'key') def.keyTypeId = typeId;
    else def.valueTypeId = typeId;
  }
}

/** Applies the kernel's per-type rules and libbpf's defaults. */
function finish(raw: RawDef, name: string, fail: Fail): MapDefinition {
  if (raw.type === undefined) throw fail(`map '${name}' has no type`, 'add __uint(type, BPF_MAP_TYPE_…)');
  const type = mapTypeName(raw.type);
  if (type === undefined) {
    const known = KERNEL_MAP_TYPES[raw.type];
    throw fail(
      known === undefined
        ? `map '${name}' has unknown map type ${raw.type}`
        : `map '${name}' has map type ${known} (${raw.type}), which bpfbox does not support`,
      `supported: ${Object.keys(MapType).join(', ')}`,
    );
  }
  const fdValued =
    type === 'prog_array' ||
    type === 'perf_event_array' ||
    type === 'array_of_maps' ||
    type === 'hash_of_maps';
  let keySize = raw.keySize ?? 0;
  let valueSize = raw.valueSize ?? 0;
  // Slots holding fds/ids are u32 on both sides; libbpf fills the sizes in when a definition omits them.
  if (fdValued) {
    if (type !== 'hash_of_maps' && raw.keySize === undefined) keySize = 4;
    if (raw.valueSize === undefined) valueSize = 4;
    if (valueSize !== 4) throw fail(`map '${name}' (${type}) must have 4-byte values, not ${valueSize}`);
  }
  const maxEntries = raw.maxEntries ?? 0;
  const need = (ok: boolean, message: string, hint: string): void => {
    if (!ok) throw fail(`map '${name}' (${type}) ${message}`, hint);
  };
  // perf_event_array: libbpf sizes it to the CPU count when max_entries is absent (0 here).
  if (type !== 'perf_event_array') need(maxEntries > 0, 'has no max_entries', 'add __uint(max_entries, N)');
  switch (type) {
    case 'ringbuf':
      need(
        keySize === 0 && valueSize === 0,
        'cannot have a key or value',
        'remove key/value from the ring buffer definition',
      );
      need(
        maxEntries >= PAGE_SIZE && (maxEntries & (maxEntries - 1)) === 0,
        `has max_entries ${maxEntries}, not a power of two multiple of ${PAGE_SIZE}`,
        'use a size such as 256 * 1024',
      );
      break;
    case 'queue':
    case 'stack':
      need(keySize === 0, 'cannot have a key', 'declare only __type(value, …)');
      need(valueSize > 0, 'needs a value', 'add __type(value, T)');
      break;
    case 'array':
    case 'percpu_array':
    case 'prog_array':
    case 'perf_event_array':
    case 'array_of_maps':
      need(keySize === 4, `must have 4-byte keys, not ${keySize}`, 'use __type(key, __u32)');
      break;
    case 'lpm_trie':
      need(
        (raw.flags & BPF_F_NO_PREALLOC) !== 0,
        'requires BPF_F_NO_PREALLOC',
        'add __uint(map_flags, BPF_F_NO_PREALLOC)',
      );
      need(
        keySize > 4,
        `key of ${keySize} bytes cannot hold a prefix length and data`,
        'use a key struct { __u32 prefixlen; __u8 data[…]; }',
      );
      break;
    default:
      need(keySize > 0, 'has no key', 'add __type(key, T) or __uint(key_size, N)');
  }
  if (type !== 'ringbuf')
    need(valueSize > 0, 'has no value', 'add __type(value, T) or __uint(value_size, N)');
  const isMapInMap = type === 'array_of_maps' || type === 'hash_of_maps';
  if (isMapInMap && raw.inner === undefined) {
    throw fail(
      `map '${name}' (${type}) has no inner map definition`,
      'add __array(values, struct { … }) describing the inner map',
    );
  }
  if (!isMapInMap && raw.inner !== undefined) throw fail(`map '${name}' (${type}) cannot have an inner map`);
  return {
    name,
    type: type satisfies MapTypeName,
    keySize,
    valueSize,
    maxEntries,
    flags: raw.flags,
    ...(raw.inner === undefined ? {} : { inner: raw.inner }),
    ...(raw.keyTypeId === undefined ? {} : { btfKeyTypeId: raw.keyTypeId }),
    ...(raw.valueTypeId === undefined ? {} : { btfValueTypeId: raw.valueTypeId }),
  };
}
