/**
 * Helper prototypes as the kernel's `bpf_func_proto`s declare them: argument types, return type, the
 * map types each map helper accepts, the program types that may call it, and side effects the verifier
 * must model (references acquired/released, packet pointers invalidated, callbacks).
 */
import type { ProgramType } from '../elf/object.js';
import { SKB_PROGRAM_TYPES } from '../runtime/contexts/skb-context.js';
import { KernelHelperId } from '../runtime/helpers/ids.js';
import { MapHelperId } from '../runtime/helpers/maps.js';
import { ELEMENT_MAP_TYPES, type MapTypeName } from '../runtime/maps/map-def.js';

export type ArgType =
  /** A map pointer (lddw of a map). */
  | 'map_ptr'
  /** Initialized memory of the map's key size. */
  | 'map_key'
  /** Initialized memory of the map's value size. */
  | 'map_value'
  /** Writable memory of the map's value size (pop/peek write it). */
  | 'uninit_map_value'
  /** Initialized memory whose size is the next argument. */
  | 'mem'
  /** Like `mem`, or NULL (then the size may be 0). */
  | 'mem_or_null'
  /** Writable memory whose size is the next argument; the helper initializes it. */
  | 'uninit_mem'
  /** Size of the previous memory argument, > 0. */
  | 'size'
  | 'size_or_zero'
  /** A known constant (ringbuf_reserve's size). */
  | 'const_alloc_size'
  | 'ctx'
  /** A ring buffer reservation, released by the call. */
  | 'ringbuf_mem'
  /** A callback (lddw of a function address). */
  | 'func'
  /** A stack pointer or NULL (bpf_loop's callback context). */
  | 'stack_or_null'
  | 'anything';

export type ReturnType = 'integer' | 'void' | 'map_value_or_null' | 'ringbuf_mem_or_null';

export interface HelperProto {
  readonly id: number;
  readonly name: string;
  readonly args: readonly ArgType[];
  readonly ret: ReturnType;
  /** Map types accepted by the map_ptr argument. */
  readonly mapTypes?: readonly MapTypeName[];
  /** Program types that may call it (all when absent). */
  readonly programTypes?: readonly ProgramType[];
  /** Packet pointers are invalid after the call (the helper may move or resize the packet). */
  readonly changesPacket?: boolean;
}

const LOOKUP = ELEMENT_MAP_TYPES;
const SKB: readonly ProgramType[] = SKB_PROGRAM_TYPES;
const TC: ProgramType[] = ['sched_cls', 'sched_act'];
const TRACING: ProgramType[] = ['kprobe', 'tracepoint', 'raw_tracepoint', 'perf_event', 'tracing'];
/** bpf_ktime_get_coarse_ns is not NMI-safe: tracing programs do not get it. */
const NOT_TRACING: ProgramType[] = ['socket_filter', 'sched_cls', 'sched_act', 'xdp', 'syscall'];
const XDP: ProgramType[] = ['xdp'];
const K = KernelHelperId;
const M = MapHelperId;

const PROTOS: HelperProto[] = [
  {
    id: M.map_lookup_elem,
    name: 'bpf_map_lookup_elem',
    args: ['map_ptr', 'map_key'],
    ret: 'map_value_or_null',
    mapTypes: LOOKUP,
  },
  {
    id: M.map_update_elem,
    name: 'bpf_map_update_elem',
    args: ['map_ptr', 'map_key', 'map_value', 'anything'],
    ret: 'integer',
    mapTypes: LOOKUP,
  },
  {
    id: M.map_delete_elem,
    name: 'bpf_map_delete_elem',
    args: ['map_ptr', 'map_key'],
    ret: 'integer',
    mapTypes: LOOKUP,
  },
  {
    id: M.map_lookup_percpu_elem,
    name: 'bpf_map_lookup_percpu_elem',
    args: ['map_ptr', 'map_key', 'anything'],
    ret: 'map_value_or_null',
    mapTypes: ['percpu_hash', 'lru_percpu_hash', 'percpu_array'],
  },
  {
    id: M.map_push_elem,
    name: 'bpf_map_push_elem',
    args: ['map_ptr', 'map_value', 'anything'],
    ret: 'integer',
    mapTypes: ['queue', 'stack'],
  },
  {
    id: M.map_pop_elem,
    name: 'bpf_map_pop_elem',
    args: ['map_ptr', 'uninit_map_value'],
    ret: 'integer',
    mapTypes: ['queue', 'stack'],
  },
  {
    id: M.map_peek_elem,
    name: 'bpf_map_peek_elem',
    args: ['map_ptr', 'uninit_map_value'],
    ret: 'integer',
    mapTypes: ['queue', 'stack'],
  },
  {
    id: M.tail_call,
    name: 'bpf_tail_call',
    args: ['ctx', 'map_ptr', 'anything'],
    ret: 'integer',
    mapTypes: ['prog_array'],
  },
  {
    id: M.perf_event_output,
    name: 'bpf_perf_event_output',
    args: ['ctx', 'map_ptr', 'anything', 'mem', 'size_or_zero'],
    ret: 'integer',
    mapTypes: ['perf_event_array'],
  },
  {
    id: M.ringbuf_output,
    name: 'bpf_ringbuf_output',
    args: ['map_ptr', 'mem', 'size_or_zero', 'anything'],
    ret: 'integer',
    mapTypes: ['ringbuf'],
  },
  {
    id: M.ringbuf_reserve,
    name: 'bpf_ringbuf_reserve',
    args: ['map_ptr', 'const_alloc_size', 'anything'],
    ret: 'ringbuf_mem_or_null',
    mapTypes: ['ringbuf'],
  },
  { id: M.ringbuf_submit, name: 'bpf_ringbuf_submit', args: ['ringbuf_mem', 'anything'], ret: 'void' },
  { id: M.ringbuf_discard, name: 'bpf_ringbuf_discard', args: ['ringbuf_mem', 'anything'], ret: 'void' },
  {
    id: M.ringbuf_query,
    name: 'bpf_ringbuf_query',
    args: ['map_ptr', 'anything'],
    ret: 'integer',
    mapTypes: ['ringbuf'],
  },
  {
    id: K.probe_read,
    name: 'bpf_probe_read',
    args: ['uninit_mem', 'size_or_zero', 'anything'],
    ret: 'integer',

    programTypes: TRACING,
  },
  {
    id: K.probe_read_str,
    name: 'bpf_probe_read_str',
    args: ['uninit_mem', 'size_or_zero', 'anything'],
    ret: 'integer',

    programTypes: TRACING,
  },
  {
    id: K.probe_read_user,
    name: 'bpf_probe_read_user',
    args: ['uninit_mem', 'size_or_zero', 'anything'],
    ret: 'integer',
  },
  {
    id: K.probe_read_kernel,
    name: 'bpf_probe_read_kernel',
    args: ['uninit_mem', 'size_or_zero', 'anything'],
    ret: 'integer',
  },
  {
    id: K.probe_read_user_str,
    name: 'bpf_probe_read_user_str',
    args: ['uninit_mem', 'size_or_zero', 'anything'],
    ret: 'integer',
  },
  {
    id: K.probe_read_kernel_str,
    name: 'bpf_probe_read_kernel_str',
    args: ['uninit_mem', 'size_or_zero', 'anything'],
    ret: 'integer',
  },
  { id: K.ktime_get_ns, name: 'bpf_ktime_get_ns', args: [], ret: 'integer' },
  { id: K.ktime_get_boot_ns, name: 'bpf_ktime_get_boot_ns', args: [], ret: 'integer' },
  {
    id: K.ktime_get_coarse_ns,
    name: 'bpf_ktime_get_coarse_ns',
    args: [],
    ret: 'integer',
    programTypes: NOT_TRACING,
  },
  // A BTF pointer to the task: modelled as a number until BTF-typed pointers exist here.
  { id: K.get_current_task_btf, name: 'bpf_get_current_task_btf', args: [], ret: 'integer' },
  {
    id: K.csum_diff,
    name: 'bpf_csum_diff',
    args: ['mem_or_null', 'size_or_zero', 'mem_or_null', 'size_or_zero', 'anything'],
    ret: 'integer',
    programTypes: [...TC, ...XDP],
  },
  {
    id: K.l3_csum_replace,
    name: 'bpf_l3_csum_replace',
    args: ['ctx', 'anything', 'anything', 'anything', 'anything'],
    ret: 'integer',
    programTypes: TC,
    changesPacket: true,
  },
  {
    id: K.l4_csum_replace,
    name: 'bpf_l4_csum_replace',
    args: ['ctx', 'anything', 'anything', 'anything', 'anything'],
    ret: 'integer',
    programTypes: TC,
    changesPacket: true,
  },
  {
    id: K.trace_vprintk,
    name: 'bpf_trace_vprintk',
    args: ['mem', 'size', 'mem_or_null', 'size_or_zero'],
    ret: 'integer',
  },
  {
    id: K.get_stackid,
    name: 'bpf_get_stackid',
    args: ['ctx', 'map_ptr', 'anything'],
    ret: 'integer',
    programTypes: TRACING,
  },
  { id: K.trace_printk, name: 'bpf_trace_printk', args: ['mem', 'size'], ret: 'integer' },
  { id: K.get_prandom_u32, name: 'bpf_get_prandom_u32', args: [], ret: 'integer' },
  { id: K.get_smp_processor_id, name: 'bpf_get_smp_processor_id', args: [], ret: 'integer' },
  { id: K.get_numa_node_id, name: 'bpf_get_numa_node_id', args: [], ret: 'integer' },
  { id: K.get_current_pid_tgid, name: 'bpf_get_current_pid_tgid', args: [], ret: 'integer' },
  { id: K.get_current_uid_gid, name: 'bpf_get_current_uid_gid', args: [], ret: 'integer' },
  { id: K.get_current_comm, name: 'bpf_get_current_comm', args: ['uninit_mem', 'size'], ret: 'integer' },
  { id: K.get_current_task, name: 'bpf_get_current_task', args: [], ret: 'integer' },
  { id: K.get_current_cgroup_id, name: 'bpf_get_current_cgroup_id', args: [], ret: 'integer' },
  {
    id: K.skb_store_bytes,
    name: 'bpf_skb_store_bytes',
    args: ['ctx', 'anything', 'mem', 'size', 'anything'],
    ret: 'integer',
    programTypes: TC,
    changesPacket: true,
  },
  {
    id: K.skb_load_bytes,
    name: 'bpf_skb_load_bytes',
    args: ['ctx', 'anything', 'uninit_mem', 'size'],
    ret: 'integer',
    programTypes: SKB,
  },
  {
    id: K.redirect,
    name: 'bpf_redirect',
    args: ['anything', 'anything'],
    ret: 'integer',
    programTypes: [...TC, ...XDP],
  },
  {
    id: K.redirect_map,
    name: 'bpf_redirect_map',
    args: ['map_ptr', 'anything', 'anything'],
    ret: 'integer',
    programTypes: XDP,
  },
  {
    id: K.xdp_adjust_head,
    name: 'bpf_xdp_adjust_head',
    args: ['ctx', 'anything'],
    ret: 'integer',
    programTypes: XDP,
    changesPacket: true,
  },
  {
    id: K.xdp_adjust_meta,
    name: 'bpf_xdp_adjust_meta',
    args: ['ctx', 'anything'],
    ret: 'integer',
    programTypes: XDP,
    changesPacket: true,
  },
  {
    id: K.xdp_adjust_tail,
    name: 'bpf_xdp_adjust_tail',
    args: ['ctx', 'anything'],
    ret: 'integer',
    programTypes: XDP,
    changesPacket: true,
  },
  { id: K.loop, name: 'bpf_loop', args: ['anything', 'func', 'stack_or_null', 'anything'], ret: 'integer' },
];

const BY_ID = new Map(PROTOS.map((p) => [p.id, p]));

export function helperProto(id: number): HelperProto | undefined {
  return BY_ID.get(id);
}

export const BPF_LOOP_ID = K.loop;
export const TAIL_CALL_ID = M.tail_call;
export const RINGBUF_RESERVE_ID = M.ringbuf_reserve;
