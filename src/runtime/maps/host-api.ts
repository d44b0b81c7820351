/**
 * `createMaps` builds every map of a program (or object) at once: the arena in guest memory sized for
 * all of them, then each map. The resulting `MapSet` is the host's handle on the maps (by name, id or
 * handle), the environment maps read the CPU settings from, and the resolver of map references in lddw.
 *
 * Values of maps with BPF_F_RDONLY_PROG (libbpf's `.rodata` maps) live in a read-only region in
 * Slot.RODATA instead of Slot.MAP_VALUES (see arena.ts).
 *
 * How a register refers to a map: each map has a `handle`, a guest address in slot 15, which is never
 * mapped (so a program that dereferences it faults). `lddw map_idx` (src=5) with imm = the map's index,
 * or `lddw map_fd` (src=1) with imm = the same index used as an fd, loads that handle; the map helpers
 * turn r1 back into the map and trap with BAD_MAP_HANDLE for anything else.
 */
import { LoadError, UsageError } from '../../errors.js';
import type { Insn } from '../../isa/instruction.js';
import { bytesToHex } from '../../util/hex.js';
import type { GuestMemory } from '../../vm/memory/guest-memory.js';
import { MAX_REGION_SIZE, SLOT_MASK, SLOT_SHIFT, slotBase } from '../../vm/memory/layout.js';
import { Arena, align8 } from './arena.js';
import { ArrayMap } from './array.js';
import { BPF_F_RDONLY_PROG } from './constants.js';
import { MapDefinitionError } from './errors.js';
import { HashMap } from './hash.js';
import { LookupTable } from './lookup-table.js';
import { LpmTrie } from './lpm-trie.js';
import type { BpfMap, MapEnv } from './map.js';
import { type MapDefinition, MapType } from './map-def.js';
import { ArrayOfMaps, HashOfMaps } from './map-of-maps.js';
import { PerfEventArray, type PerfRecord } from './perf-event-array.js';
import { ProgArray } from './prog-array.js';
import { QueueStackMap } from './queue-stack.js';
import { RingBuf } from './ringbuf.js';

/** Slot of map handles: never mapped, so handles are pointers nothing can read or write. */
export const MAP_HANDLE_SLOT = 15;
/** Distance between two maps' handles. */
export const MAP_HANDLE_STRIDE = 0x100;
const MAP_HANDLE_SHIFT = 8;
const MAP_HANDLE_BASE = slotBase(MAP_HANDLE_SLOT);
const MAX_MAPS = Math.floor(0x10000000 / MAP_HANDLE_STRIDE);
/** Simulated CPUs allowed (the kernel's NR_CPUS default is in this range). */
export const MAX_CPUS = 1024;

export function mapHandle(id: number): number {
  return MAP_HANDLE_BASE + id * MAP_HANDLE_STRIDE;
}

export interface CreateMapsOptions {
  /** Number of simulated CPUs (default 1). */
  cpus?: number;
  /** CPU programs run on (default 0); can be changed between runs with `currentCpu`. */
  currentCpu?: number;
}

/** Guest bytes a map needs in the arena. */
function storageBytes(def: MapDefinition, cpus: number): number {
  switch (def.type) {
    case 'hash':
    case 'percpu_hash':
    case 'lru_hash':
    case 'lru_percpu_hash':
      return HashMap.storageBytes(def, cpus);
    case 'array':
    case 'percpu_array':
      return ArrayMap.storageBytes(def, cpus);
    case 'lpm_trie':
      return LpmTrie.storageBytes(def);
    case 'ringbuf':
      return RingBuf.storageBytes(def);
    default:
      return 0;
  }
}

/**
 * Host memory limit of the maps whose contents stay on the host (the guest arena is bounded by the
 * guest memory limit): an object asking for 2^32 prog_array slots is refused, not allocated.
 */
export const MAX_HOST_MAP_BYTES = MAX_REGION_SIZE;

/** Host bytes a map allocates up front outside the arena (a JS array slot counts 8 bytes). */
function hostBytes(def: MapDefinition, cpus: number): number {
  switch (def.type) {
    case 'prog_array':
    case 'array_of_maps':
      return def.maxEntries * 8;
    case 'perf_event_array':
      return (def.maxEntries === 0 ? cpus : def.maxEntries) * 8;
    case 'hash_of_maps':
      return def.maxEntries * (24 + def.keySize);
    case 'queue':
    case 'stack':
      return def.maxEntries * def.valueSize;
    case 'lpm_trie':
      return def.maxEntries * (8 + def.keySize);
    default:
      return 0;
  }
}

function buildMap(def: MapDefinition, env: MapEnv, arena: Arena): BpfMap {
  switch (def.type) {
    case 'hash':
    case 'percpu_hash':
    case 'lru_hash':
    case 'lru_percpu_hash':
      return new HashMap(def, env, arena);
    case 'array':
    case 'percpu_array':
      return new ArrayMap(def, env, arena);
    case 'lpm_trie':
      return new LpmTrie(def, env, arena);
    case 'ringbuf':
      return new RingBuf(def, env, arena);
    case 'queue':
    case 'stack':
      return new QueueStackMap(def, env);
    case 'perf_event_array':
      return new PerfEventArray(def, env);
    case 'prog_array':
      return new ProgArray(def, env);
    case 'array_of_maps':
      return new ArrayOfMaps(def, env);
    case 'hash_of_maps':
      return new HashOfMaps(def, env);
  }
}

type LddwInsn = Insn & { kind: 'lddw' };

/** One map entry in JSON outputs: hex key, hex value or one hex value per CPU. */
export interface MapEntryJson {
  key: string;
  value: string | string[];
}

/** Records the program produced through ring buffers and perf event arrays, in output order per map. */
export interface MapEvents {
  ringbuf: Uint8Array[];
  perf: PerfRecord[];
}

export class MapSet implements MapEnv {
  readonly maps: readonly BpfMap[];
  readonly cpus: number;
  /** The JIT's inline lookup table (vm/map-lookup.ts); undefined without maps. */
  readonly lookupTable: LookupTable | undefined;
  private cpu = 0;
  private readonly byNameIndex = new Map<string, BpfMap>();

  constructor(
    defs: readonly MapDefinition[],
    readonly memory: GuestMemory,
    options: CreateMapsOptions = {},
  ) {
    const cpus = options.cpus ?? 1;
    if (!Number.isInteger(cpus) || cpus < 1 || cpus > MAX_CPUS) {
      throw new UsageError(`cpus must be an integer in 1..${MAX_CPUS}, got ${cpus}`);
    }
    this.cpus = cpus;
    this.currentCpu = options.currentCpu ?? 0;
    if (defs.length > MAX_MAPS) throw new UsageError(`at most ${MAX_MAPS} maps, got ${defs.length}`);
    if (memory.region(MAP_HANDLE_SLOT) !== undefined) {
      throw new UsageError(`slot ${MAP_HANDLE_SLOT} is reserved for map handles and must stay unmapped`);
    }
    const names = new Set<string>();
    for (const def of defs) {
      if (!Object.hasOwn(MapType, def.type))
        throw new MapDefinitionError(def.name, `unknown map type "${def.type}"`);
      if (names.has(def.name)) throw new MapDefinitionError(def.name, 'two maps have this name');
      names.add(def.name);
      for (const field of ['keySize', 'valueSize', 'maxEntries', 'flags'] as const) {
        const v = def[field];
        if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
          throw new MapDefinitionError(def.name, `${field} ${v} is not a u32`);
        }
      }
    }
    const host = defs.map((def) => hostBytes(def, cpus));
    const hostTotal = host.reduce((sum, n) => sum + n, 0);
    if (hostTotal > MAX_HOST_MAP_BYTES) {
      const largest = host.indexOf(Math.max(...host));
      throw new MapDefinitionError(
        defs[largest].name,
        `maps kept on the host need ${hostTotal} bytes in all (${host[largest]} for this map), more than the ${MAX_HOST_MAP_BYTES} bytes allowed`,
        { hint: 'lower max_entries or value_size' },
      );
    }
    const sizes = defs.map((def) => align8(storageBytes(def, cpus)));
    const readOnly = defs.map((def) => (def.flags & BPF_F_RDONLY_PROG) !== 0);
    const arenas = [false, true].map((ro) => {
      const total = sizes.reduce((sum, size, i) => (readOnly[i] === ro ? sum + size : sum), 0);
      if (total > MAX_REGION_SIZE) {
        const largest = sizes.indexOf(Math.max(...sizes.filter((_, i) => readOnly[i] === ro)));
        throw new MapDefinitionError(
          defs[largest].name,
          `map values need ${total} bytes in all (${sizes[largest]} for this map), more than the ${MAX_REGION_SIZE} bytes of the ${ro ? 'read-only ' : ''}map value region`,
          { hint: 'lower max_entries or value_size' },
        );
      }
      // The read-only arena exists only when some map needs it, leaving Slot.RODATA free otherwise.
      return ro && !readOnly.includes(true) ? undefined : new Arena(memory, total, ro);
    });
    this.maps = defs.map((def, id) => {
      const map = buildMap(def, this, arenas[readOnly[id] ? 1 : 0] as Arena);
      map.id = id;
      map.handle = mapHandle(id);
      this.byNameIndex.set(def.name, map);
      return map;
    });
    this.lookupTable =
      defs.length > 0 ? new LookupTable(memory, this.maps, MAP_HANDLE_BASE, MAP_HANDLE_SHIFT) : undefined;
    this.lookupTable?.write(this.cpu);
  }

  get currentCpu(): number {
    return this.cpu;
  }

  set currentCpu(cpu: number) {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.cpus) {
      throw new UsageError(`current CPU ${cpu} is outside 0..${this.cpus - 1}`);
    }
    this.cpu = cpu;
    // Per-CPU values of inline lookups move with the CPU (unset while the constructor runs).
    this.lookupTable?.write(cpu);
  }

  mapById(id: number): BpfMap | undefined {
    return this.maps[id];
  }

  byName(name: string): BpfMap | undefined {
    return this.byNameIndex.get(name);
  }

  /** The map called `name`, checked to be an instance of `kind` (e.g. `maps.get('counts', HashMap)`). */
  get<T extends BpfMap>(name: string, kind: abstract new (...args: never[]) => T): T {
    const map = this.byName(name);
    if (map === undefined) throw new UsageError(`no map named "${name}"`);
    if (!(map instanceof kind))
      throw new UsageError(`map "${name}" is a ${map.type} map, not a ${kind.name}`);
    return map;
  }

  /**
   * Entries of every map that holds elements (not ring buffers or perf event arrays, whose records
   * `drainEvents` takes), keyed by map name, with hex keys and values.
   */
  dump(): Record<string, MapEntryJson[]> {
    const out: Record<string, MapEntryJson[]> = {};
    for (const map of this.maps) {
      if (map instanceof RingBuf || map instanceof PerfEventArray) continue;
      out[map.name] = map.entries().map((e) => ({
        key: bytesToHex(e.key),
        value: Array.isArray(e.value) ? e.value.map(bytesToHex) : bytesToHex(e.value),
      }));
    }
    return out;
  }

  /** Consumes every ring buffer's committed records and drains every perf event array. */
  drainEvents(): MapEvents {
    const events: MapEvents = { ringbuf: [], perf: [] };
    for (const map of this.maps) {
      if (map instanceof RingBuf) events.ringbuf.push(...map.consume());
      else if (map instanceof PerfEventArray) events.perf.push(...map.drain());
    }
    return events;
  }

  /**
   * The id a register value (its low and high 32 bits) names as a map handle, or -1 when it is not a
   * handle; the id may still be past the last map.
   */
  idOfHandle(lo: number, hi = 0): number {
    // int32 bit operations only: `%` and `/` on the unsigned (double) value cost more than the lookup.
    return hi !== 0 || lo >>> SLOT_SHIFT !== MAP_HANDLE_SLOT || (lo & (MAP_HANDLE_STRIDE - 1)) !== 0
      ? -1
      : (lo & SLOT_MASK) >>> MAP_HANDLE_SHIFT;
  }

  /** The map a register value refers to (its low and high 32 bits), or undefined. */
  fromHandle(lo: number, hi = 0): BpfMap | undefined {
    const id = this.idOfHandle(lo, hi);
    return id < 0 ? undefined : this.maps[id];
  }

  /**
   * The value of an lddw that refers to a map (map_fd/map_idx: the handle; map_value/map_idx_value: the
   * address of byte imm2 of element 0 of an array map, the kernel's direct value access used for
   * global data), or undefined for other forms so a loader can chain resolvers.
   */
  resolveLddw(insn: LddwInsn): bigint | undefined {
    if (
      insn.source !== 'map_fd' &&
      insn.source !== 'map_idx' &&
      insn.source !== 'map_value' &&
      insn.source !== 'map_idx_value'
    ) {
      return undefined;
    }
    const map = this.maps[insn.imm];
    if (map === undefined) {
      throw new LoadError(
        'INVALID_LDDW',
        `lddw at pc ${insn.pc} refers to map ${insn.imm}, which does not exist`,
        {
          pc: insn.pc,
        },
      );
    }
    if (insn.source === 'map_fd' || insn.source === 'map_idx') return BigInt(map.handle);
    const off = insn.imm2 >>> 0;
    if (!(map instanceof ArrayMap) || map.perCpu || map.def.maxEntries !== 1 || off >= map.def.valueSize) {
      throw new LoadError(
        'INVALID_LDDW',
        `lddw at pc ${insn.pc} takes the address of byte ${off} of map "${map.name}", which needs an array map with one element of more than ${off} bytes`,
        { pc: insn.pc },
      );
    }
    return BigInt(map.address(0) + off);
  }

  /** A resolver for `InterpreterOptions.resolveLddw` that accepts only map references. */
  lddwResolver(): (insn: LddwInsn) => bigint {
    return (insn) => {
      const value = this.resolveLddw(insn);
      if (value === undefined) {
        throw new LoadError(
          'INVALID_LDDW',
          `lddw at pc ${insn.pc} (${insn.source}) does not refer to a map`,
          {
            pc: insn.pc,
          },
        );
      }
      return value;
    };
  }
}

/** Builds the arena and every map in one step. */
export function createMaps(
  defs: readonly MapDefinition[],
  memory: GuestMemory,
  options: CreateMapsOptions = {},
): MapSet {
  return new MapSet(defs, memory, options);
}
