/**
 * The kernel's map helpers (ids from linux/bpf.h `__BPF_FUNC_MAPPER`) over a MapSet. A map argument
 * is a register holding a map handle (see runtime/maps/host-api.ts); a register that holds anything
 * else, or a map of a type the kernel's verifier would refuse for that helper, stops the program with a
 * MapTrap at the call instead of corrupting anything. Keys and values are read in place from guest
 * memory, so a lookup allocates nothing beyond the key's hash.
 */
import type { DirectHelper, HelperContext, TailCallTarget } from '../../vm/helpers.js';
import { HelperRegistry } from '../../vm/helpers.js';
import type { GuestMemory } from '../../vm/memory/guest-memory.js';
import type { ArrayMap } from '../maps/array.js';
import { BPF_F_RDONLY_PROG, BPF_F_WRONLY_PROG, ENOENT } from '../maps/constants.js';
import { MapTrap } from '../maps/errors.js';
import type { HashMap } from '../maps/hash.js';
import type { MapSet } from '../maps/host-api.js';
import type { BpfMap } from '../maps/map.js';
import { ELEMENT_MAP_TYPES, type MapTypeName } from '../maps/map-def.js';
import type { PerfEventArray } from '../maps/perf-event-array.js';
import type { ProgArray } from '../maps/prog-array.js';
import type { QueueStackMap } from '../maps/queue-stack.js';
import { RingBuf } from '../maps/ringbuf.js';

export const MapHelperId = {
  map_lookup_elem: 1,
  map_update_elem: 2,
  map_delete_elem: 3,
  tail_call: 12,
  perf_event_output: 25,
  map_push_elem: 87,
  map_pop_elem: 88,
  map_peek_elem: 89,
  ringbuf_output: 130,
  ringbuf_reserve: 131,
  ringbuf_submit: 132,
  ringbuf_discard: 133,
  ringbuf_query: 134,
  map_lookup_percpu_elem: 195,
} as const;

const HASH_ARRAY_LPM = ELEMENT_MAP_TYPES;
const ELEMENT_TYPES = new Set<MapTypeName>(ELEMENT_MAP_TYPES);
const LOOKUP_TYPES = new Set<MapTypeName>([...HASH_ARRAY_LPM, 'array_of_maps', 'hash_of_maps']);
const UPDATE_TYPES = new Set<MapTypeName>(HASH_ARRAY_LPM);
const QUEUE_TYPES = new Set<MapTypeName>(['queue', 'stack']);
const RINGBUF_TYPES = new Set<MapTypeName>(['ringbuf']);
const PERF_TYPES = new Set<MapTypeName>(['perf_event_array']);
const PROG_TYPES = new Set<MapTypeName>(['prog_array']);
const PERCPU_TYPES = new Set<MapTypeName>(['percpu_hash', 'lru_percpu_hash', 'percpu_array']);

/** A 64-bit argument as a number; values of 2^32 and more stay above every valid flag or size. */
function u64(lo: number, hi: number): number {
  return hi === 0 ? lo >>> 0 : (hi >>> 0) * 2 ** 32 + (lo >>> 0);
}

/** Argument `i` as a number (see u64). */
function num(ctx: HelperContext, i: number): number {
  return u64(ctx.argLo(i), ctx.argHi(i));
}

/** Host offset of `size` bytes at the guest pointer in argument `i`, or the MemoryFault at the call. */
function ptr(ctx: HelperContext, i: number, size: number, access: 'read' | 'write'): number {
  const { memory } = ctx;
  // Pointers are below 2^32 (high half 0) when valid: translate them without a BigInt.
  const h = ctx.argHi(i) === 0 ? memory.translate(ctx.argLo(i) >>> 0, size, access) : -1;
  return h >= 0 ? h : memory.checked(ctx.arg(i), size, access, ctx.pc);
}

/** A helper's map argument: the map in argument `i`, or a MapTrap at the call. */
interface MapArgument {
  (ctx: HelperContext, i: number): BpfMap;
  /** The map a register (lo, hi) names if the helper accepts it, else undefined: no trap, no message. */
  accepted(lo: number, hi: number): BpfMap | undefined;
}

/**
 * The map argument of `helper`, which accepts maps of `types`. `access` is what the helper does to
 * the map's elements: the verifier refuses writes to BPF_F_RDONLY_PROG maps and reads of
 * BPF_F_WRONLY_PROG. Whether a map passes is decided once, here, so a call costs one array index;
 * only a refusal goes through the checks again, to say why.
 */
function mapArgument(
  maps: MapSet,
  helper: string,
  types: ReadonlySet<MapTypeName>,
  access: 'read' | 'write' = 'read',
): MapArgument {
  const forbidden = access === 'read' ? BPF_F_WRONLY_PROG : BPF_F_RDONLY_PROG;
  const accepted = maps.maps.map((m) =>
    types.has(m.type) && (m.def.flags & forbidden) === 0 ? m : undefined,
  );
  const refuse = (ctx: HelperContext, i: number): never => {
    const map = maps.fromHandle(ctx.argLo(i), ctx.argHi(i));
    if (map === undefined) {
      throw new MapTrap(
        'BAD_MAP_HANDLE',
        `${helper} at pc ${ctx.pc}: r${i} = 0x${ctx.arg(i).toString(16)} is not a map`,
        ctx.pc,
      );
    }
    if (!types.has(map.type)) {
      throw new MapTrap(
        'BAD_MAP_TYPE',
        `${helper} at pc ${ctx.pc}: map "${map.name}" is a ${map.type} map, which ${helper} does not accept`,
        ctx.pc,
      );
    }
    throw new MapTrap(
      'MAP_ACCESS',
      `${helper} at pc ${ctx.pc}: map "${map.name}" is ${access === 'read' ? 'write' : 'read'}-only for programs`,
      ctx.pc,
    );
  };
  const find = (lo: number, hi: number): BpfMap | undefined => {
    const id = maps.idOfHandle(lo, hi);
    return id >= 0 ? accepted[id] : undefined;
  };
  return Object.assign(
    (ctx: HelperContext, i: number) => find(ctx.argLo(i), ctx.argHi(i)) ?? refuse(ctx, i),
    {
      accepted: find,
    },
  );
}

/**
 * The DirectHelper fast paths of lookup, update, delete and lookup_percpu for element maps (hash,
 * array, LPM and their per-CPU/LRU kinds): the same map checks and the same `GuestMemory.translate`
 * of the key and value pointers as the general helpers, without a HelperContext. Anything the general
 * path would trap on returns NaN before any effect, so the general path raises the trap. Map-in-map
 * lookups stay on the general path: they return a map handle, which is not an int32.
 */
function directMapHelpers(
  memory: GuestMemory,
  lookupMap: MapArgument,
  updateMap: MapArgument,
  deleteMap: MapArgument,
  percpuMap: MapArgument,
) {
  /** Host offset of a pointer argument, or -1 (the general path will fault). */
  const at = (lo: number, hi: number, size: number): number =>
    hi === 0 ? memory.translate(lo >>> 0, size, 'read') : -1;
  const lookup: DirectHelper = (r1lo, r1hi, r2lo, r2hi) => {
    const map = lookupMap.accepted(r1lo, r1hi);
    if (map === undefined) return Number.NaN;
    const key = at(r2lo, r2hi, map.def.keySize);
    // Values live in slots 1 and 6, so their addresses are below 2^31: int32 results.
    return key < 0 ? Number.NaN : map.lookupElem(memory.u8, key);
  };
  const update: DirectHelper = (r1lo, r1hi, r2lo, r2hi, r3lo, r3hi, r4lo, r4hi) => {
    const map = updateMap.accepted(r1lo, r1hi);
    if (map === undefined) return Number.NaN;
    const key = at(r2lo, r2hi, map.def.keySize);
    const value = at(r3lo, r3hi, map.def.valueSize);
    if (key < 0 || value < 0) return Number.NaN;
    return map.updateElem(memory.u8, key, memory.u8, value, u64(r4lo, r4hi));
  };
  const remove: DirectHelper = (r1lo, r1hi, r2lo, r2hi) => {
    const map = deleteMap.accepted(r1lo, r1hi);
    if (map === undefined) return Number.NaN;
    const key = at(r2lo, r2hi, map.def.keySize);
    return key < 0 ? Number.NaN : map.deleteElem(memory.u8, key);
  };
  const lookupPercpu: DirectHelper = (r1lo, r1hi, r2lo, r2hi, r3lo, r3hi) => {
    const map = percpuMap.accepted(r1lo, r1hi) as HashMap | ArrayMap | undefined;
    if (map === undefined) return Number.NaN;
    const key = at(r2lo, r2hi, map.def.keySize);
    return key < 0 ? Number.NaN : map.lookupOnCpu(memory.u8, key, u64(r3lo, r3hi));
  };
  return { lookup, update, remove, lookupPercpu };
}

export interface MapHelperOptions {
  /**
   * For network program types: the first `length` bytes of the packet, or undefined when it is
   * shorter. With it, bpf_perf_event_output accepts BPF_F_CTXLEN_MASK like bpf_skb_event_output;
   * without it (tracing programs) those flag bits are -EINVAL.
   */
  packetBytes?: (length: number) => Uint8Array | undefined;
}

/**
 * Adds the map helpers for `maps` to `registry` (a new one by default) and returns it. PROG_ARRAY
 * maps used with bpf_tail_call must hold tail-call targets (Interpreters on the same memory).
 */
export function registerMapHelpers(
  maps: MapSet,
  registry = new HelperRegistry(),
  options: MapHelperOptions = {},
): HelperRegistry {
  const ringbufs = maps.maps.filter((m): m is RingBuf => m instanceof RingBuf);
  const commit = (ctx: HelperContext, helper: string, discard: boolean): number => {
    const sample = ctx.argHi(1) === 0 ? ctx.argLo(1) >>> 0 : -1;
    const rb = ringbufs.find((r) => r.contains(sample));
    if (rb === undefined || rb.commit(sample, discard) !== 'ok') {
      throw new MapTrap(
        'BAD_RINGBUF_RECORD',
        `${helper} at pc ${ctx.pc}: r1 = 0x${ctx.arg(1).toString(16)} is not a record reserved with bpf_ringbuf_reserve and not yet submitted or discarded`,
        ctx.pc,
      );
    }
    return 0;
  };
  const { memory } = maps;
  const arg = (helper: string, types: ReadonlySet<MapTypeName>, access: 'read' | 'write' = 'read') =>
    mapArgument(maps, helper, types, access);
  const lookupMap = arg('bpf_map_lookup_elem', LOOKUP_TYPES);
  const updateMap = arg('bpf_map_update_elem', UPDATE_TYPES, 'write');
  const deleteMap = arg('bpf_map_delete_elem', UPDATE_TYPES, 'write');
  const tailMap = arg('bpf_tail_call', PROG_TYPES);
  const perfMap = arg('bpf_perf_event_output', PERF_TYPES);
  const pushMap = arg('bpf_map_push_elem', QUEUE_TYPES, 'write');
  // Pop removes an element: a write to the map, as the verifier sees it.
  const popMap = arg('bpf_map_pop_elem', QUEUE_TYPES, 'write');
  const peekMap = arg('bpf_map_peek_elem', QUEUE_TYPES);
  const outputMap = arg('bpf_ringbuf_output', RINGBUF_TYPES);
  const reserveMap = arg('bpf_ringbuf_reserve', RINGBUF_TYPES);
  const queryMap = arg('bpf_ringbuf_query', RINGBUF_TYPES);
  const percpuMap = arg('bpf_map_lookup_percpu_elem', PERCPU_TYPES);
  const take = (ctx: HelperContext, mapOf: MapArgument, remove: boolean): number => {
    const map = mapOf(ctx, 1) as QueueStackMap;
    return map.take(memory.u8, ptr(ctx, 2, map.def.valueSize, 'write'), remove);
  };

  // The direct lookup takes element maps only (see directMapHelpers).
  const elementLookup = arg('bpf_map_lookup_elem', ELEMENT_TYPES);
  const direct = directMapHelpers(memory, elementLookup, updateMap, deleteMap, percpuMap);

  return registry
    .define(
      MapHelperId.map_lookup_elem,
      'bpf_map_lookup_elem',
      (ctx) => {
        const map = lookupMap(ctx, 1);
        return map.lookupElem(memory.u8, ptr(ctx, 2, map.def.keySize, 'read'));
      },
      direct.lookup,
      maps.lookupTable,
    )
    .define(
      MapHelperId.map_update_elem,
      'bpf_map_update_elem',
      (ctx) => {
        const map = updateMap(ctx, 1);
        const key = ptr(ctx, 2, map.def.keySize, 'read');
        const value = ptr(ctx, 3, map.def.valueSize, 'read');
        return map.updateElem(memory.u8, key, memory.u8, value, num(ctx, 4));
      },
      direct.update,
    )
    .define(
      MapHelperId.map_delete_elem,
      'bpf_map_delete_elem',
      (ctx) => {
        const map = deleteMap(ctx, 1);
        return map.deleteElem(memory.u8, ptr(ctx, 2, map.def.keySize, 'read'));
      },
      direct.remove,
    )
    .define(MapHelperId.tail_call, 'bpf_tail_call', (ctx) => {
      // On success the program continues in the target; on failure (no program at the u32 index, or
      // the tail-call limit reached) it goes on after the call, as in the kernel.
      const map = tailMap(ctx, 2) as ProgArray<TailCallTarget>;
      const target = map.get(ctx.argLo(3) >>> 0);
      return target !== undefined && ctx.tailCall(target) ? 0 : -ENOENT;
    })
    .define(MapHelperId.perf_event_output, 'bpf_perf_event_output', (ctx) => {
      const map = perfMap(ctx, 2) as PerfEventArray;
      const size = num(ctx, 5);
      return map.output(memory.u8, ptr(ctx, 4, size, 'read'), size, num(ctx, 3), options.packetBytes);
    })
    .define(MapHelperId.map_push_elem, 'bpf_map_push_elem', (ctx) => {
      const map = pushMap(ctx, 1) as QueueStackMap;
      return map.push(memory.u8, ptr(ctx, 2, map.def.valueSize, 'read'), num(ctx, 3));
    })
    .define(MapHelperId.map_pop_elem, 'bpf_map_pop_elem', (ctx) => take(ctx, popMap, true))
    .define(MapHelperId.map_peek_elem, 'bpf_map_peek_elem', (ctx) => take(ctx, peekMap, false))
    .define(MapHelperId.ringbuf_output, 'bpf_ringbuf_output', (ctx) => {
      const map = outputMap(ctx, 1) as RingBuf;
      const size = num(ctx, 3);
      return map.output(memory.u8, ptr(ctx, 2, size, 'read'), size, num(ctx, 4));
    })
    .define(MapHelperId.ringbuf_reserve, 'bpf_ringbuf_reserve', (ctx) => {
      const map = reserveMap(ctx, 1) as RingBuf;
      return map.reserve(num(ctx, 2), num(ctx, 3));
    })
    .define(MapHelperId.ringbuf_submit, 'bpf_ringbuf_submit', (ctx) =>
      commit(ctx, 'bpf_ringbuf_submit', false),
    )
    .define(MapHelperId.ringbuf_discard, 'bpf_ringbuf_discard', (ctx) =>
      commit(ctx, 'bpf_ringbuf_discard', true),
    )
    .define(MapHelperId.ringbuf_query, 'bpf_ringbuf_query', (ctx) => {
      const map = queryMap(ctx, 1) as RingBuf;
      return map.query(num(ctx, 2));
    })
    .define(
      MapHelperId.map_lookup_percpu_elem,
      'bpf_map_lookup_percpu_elem',
      (ctx) => {
        const map = percpuMap(ctx, 1) as HashMap | ArrayMap;
        return map.lookupOnCpu(memory.u8, ptr(ctx, 2, map.def.keySize, 'read'), num(ctx, 3));
      },
      direct.lookupPercpu,
    );
}
