/**
 * PERF_EVENT_ARRAY: bpf_perf_event_output appends records to the perf buffer of one array slot
 * (kernel/trace/bpf_trace.c semantics). A slot holds a BPF_OUTPUT perf event bound to a CPU; by default
 * slot i is opened on CPU i for every simulated CPU, as libbpf's perf_buffer does. The host drains the
 * records per slot. max_entries 0 means "one per CPU", as libbpf sets it.
 */
import { UsageError } from '../../errors.js';
import {
  BPF_F_CURRENT_CPU,
  BPF_F_INDEX_MASK,
  E2BIG,
  EFAULT,
  EINVAL,
  ENOENT,
  EOPNOTSUPP,
} from './constants.js';
import { BpfMap, type MapEnv, requireDef, u32At } from './map.js';
import type { MapDefinition } from './map-def.js';

/** BPF_F_CTXLEN_MASK: bits 32..51 of the flags (skb/xdp context bytes to append). */
const CTXLEN_SHIFT = 2 ** 32;
const CTXLEN_MAX = 0xfffff;

export interface PerfRecord {
  /** Array slot (usually the CPU number). */
  readonly index: number;
  readonly cpu: number;
  readonly data: Uint8Array;
}

export class PerfEventArray extends BpfMap {
  readonly slots: number;
  /** CPU of the event open at each slot, or -1. */
  private readonly eventCpu: Int32Array;
  private records: PerfRecord[] = [];

  constructor(def: MapDefinition, env: MapEnv) {
    super(def, env);
    requireDef(
      def,
      def.keySize === 4 && def.valueSize === 4,
      'perf_event_array key_size and value_size must be 4',
    );
    requireDef(
      def,
      Number.isInteger(def.maxEntries) && def.maxEntries >= 0,
      'max_entries must not be negative',
    );
    this.slots = def.maxEntries === 0 ? env.cpus : def.maxEntries;
    this.eventCpu = new Int32Array(this.slots).fill(-1);
    for (let i = 0; i < Math.min(this.slots, env.cpus); i++) this.eventCpu[i] = i;
  }

  /**
   * bpf_perf_event_output. `flags` is the 64-bit argument as a number: the low 32 bits select the slot
   * (BPF_F_CURRENT_CPU: the current CPU's). Network programs (the kernel's bpf_skb_event_output /
   * bpf_xdp_event_output) pass `packet`: then bits 32..51 (BPF_F_CTXLEN_MASK) ask for that many packet
   * bytes appended to the record, -EFAULT when the packet is shorter; tracing programs may set no bit
   * beyond the index. Returns 0, -EINVAL, -EFAULT, -E2BIG (slot out of range), -ENOENT (no event there)
   * or -EOPNOTSUPP (the event belongs to another CPU).
   */
  output(
    src: Uint8Array,
    off: number,
    size: number,
    flags: number,
    packet?: (length: number) => Uint8Array | undefined,
  ): number {
    const ctxLen = Math.floor(flags / CTXLEN_SHIFT);
    if (flags < 0 || ctxLen > (packet === undefined ? 0 : CTXLEN_MAX)) return -EINVAL;
    const tail = ctxLen > 0 ? packet?.(ctxLen) : undefined;
    if (ctxLen > 0 && tail === undefined) return -EFAULT;
    const low = flags % CTXLEN_SHIFT;
    const cpu = this.env.currentCpu;
    const index = low === BPF_F_CURRENT_CPU ? cpu : low & BPF_F_INDEX_MASK;
    if (index >= this.slots) return -E2BIG;
    const eventCpu = this.eventCpu[index];
    if (eventCpu < 0) return -ENOENT;
    if (eventCpu !== cpu) return -EOPNOTSUPP;
    const data = new Uint8Array(size + (tail?.length ?? 0));
    data.set(src.subarray(off, off + size));
    if (tail) data.set(tail, size);
    this.records.push({ index, cpu, data });
    return 0;
  }

  /** Opens (or rebinds) the event of `index` on `cpu`. */
  open(index: number, cpu = index): void {
    if (index < 0 || index >= this.slots) throw new UsageError(`map "${this.name}": no slot ${index}`);
    if (cpu < 0 || cpu >= this.env.cpus) throw new UsageError(`map "${this.name}": no CPU ${cpu}`);
    this.eventCpu[index] = cpu;
  }

  close(index: number): void {
    if (index >= 0 && index < this.slots) this.eventCpu[index] = -1;
  }

  /** Records not yet drained, in output order. */
  pending(): readonly PerfRecord[] {
    return this.records;
  }

  /** Takes every record (all slots, in output order), like perf_buffer__poll. */
  drain(): PerfRecord[] {
    const out = this.records;
    this.records = [];
    return out;
  }

  /** Syscall lookups of fd arrays are not supported from user space in the kernel either. */
  lookup(key: Uint8Array): Uint8Array | undefined {
    this.checkKey(key);
    return undefined;
  }

  /** Event fds are not simulated; use `open`. */
  update(key: Uint8Array, _value: Uint8Array, _flags = 0): number {
    this.checkKey(key);
    return -EINVAL;
  }

  delete(key: Uint8Array): number {
    this.checkKey(key);
    const index = u32At(key, 0);
    if (index >= this.slots) return -E2BIG;
    if (this.eventCpu[index] < 0) return -ENOENT;
    this.eventCpu[index] = -1;
    return 0;
  }

  nextKey(_key: Uint8Array | null): Uint8Array | undefined {
    return undefined;
  }

  override entries(): [] {
    return [];
  }
}
