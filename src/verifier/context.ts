/**
 * The context (r1 at entry) per program type, as the kernel's `*_is_valid_access` callbacks see it:
 * which byte ranges may be read and written, which fields load packet pointers, whether direct packet
 * access and packet writes are allowed, and the return-value range the kernel enforces.
 */
import type { ProgramType, TracingAttachKind } from '../elf/object.js';
import type { ContextAccess, FieldRange } from '../runtime/contexts/layout.js';
import { rangeAllows } from '../runtime/contexts/layout.js';
import { PERF_EVENT_ACCESS, PT_REGS_ACCESS } from '../runtime/contexts/pt-regs.js';
import { SK_BUFF, SOCKET_FILTER_ACCESS, TC_ACCESS } from '../runtime/contexts/skb.js';
import { XDP_ACCESS, XDP_MD } from '../runtime/contexts/xdp.js';

/** What the verifier needs to know about the program beyond its code. */
export interface ProgramTypeSpec {
  readonly type: ProgramType;
  readonly attachKind?: TracingAttachKind;
}

export type PacketField = 'pkt' | 'pkt_end' | 'pkt_meta';

export interface ContextRules {
  /** C name of the context struct, for messages. */
  readonly name: string;
  canRead(off: number, size: number): boolean;
  canWrite(off: number, size: number): boolean;
  /** The field at `off`, for messages. */
  fieldAt(off: number): FieldRange | undefined;
  /** Fields whose 4-byte load yields a packet pointer. */
  readonly packetFields: ReadonlyMap<number, PacketField>;
  /** Direct packet stores allowed (XDP, tc). */
  readonly packetWritable: boolean;
  /** LD_ABS / LD_IND allowed (socket filters, tc). */
  readonly legacyPacketLoads: boolean;
  /** [min, max] of r0 at exit when the kernel enforces it. */
  readonly returnRange?: readonly [bigint, bigint];
}

/** PERF_MAX_TRACE_SIZE: the largest tracepoint record offset the kernel lets a program read. */
const PERF_MAX_TRACE_SIZE = 2048;
/** MAX_BPF_FUNC_ARGS u64 slots of raw tracepoint / tracing contexts. */
const MAX_FUNC_ARGS = 12;

/** Size rules the access tables leave out, from the kernel's `*_is_valid_access`. */
interface SizeRules {
  /** Fields that must be read whole (pointers, u64 timestamps). */
  readonly wholeReads?: readonly string[];
  /** Stores must cover the whole field, except in these (narrow stores allowed). */
  readonly wholeWritesExcept?: readonly string[];
  /** Every access has exactly this size (xdp_md: 4). */
  readonly onlySize?: number;
  /** Fields that can only be read 8 bytes at a time (perf_event's registers). */
  readonly wordFields?: readonly string[];
}

function fromAccess(
  access: ContextAccess,
  packetFields: Map<number, PacketField>,
  extra: Partial<ContextRules>,
  sizes: SizeRules = {},
): ContextRules {
  const fieldAt = (off: number): FieldRange | undefined =>
    access.layout.fields.find((f) => off >= f.offset && off < f.offset + f.size);
  const sized = (off: number, size: number, write: boolean): boolean => {
    if (off % size !== 0) return false;
    if (sizes.onlySize !== undefined && size !== sizes.onlySize) return false;
    const f = fieldAt(off);
    if (f === undefined) return true;
    const whole = off === f.offset && size === f.size;
    if (!write && sizes.wholeReads?.includes(f.name) && !whole) return false;
    if (!write && sizes.wordFields?.includes(f.name) && size !== 8) return false;
    if (
      write &&
      sizes.wholeWritesExcept !== undefined &&
      !sizes.wholeWritesExcept.includes(f.name) &&
      !whole
    ) {
      return false;
    }
    return true;
  };
  return {
    name: access.layout.name,
    canRead: (off, size) => sized(off, size, false) && rangeAllows(access.readable, off, size),
    canWrite: (off, size) => sized(off, size, true) && rangeAllows(access.writable, off, size),
    fieldAt,
    packetFields,
    packetWritable: false,
    legacyPacketLoads: false,
    ...extra,
  };
}

const SKB_SIZES: SizeRules = {
  wholeReads: ['data', 'data_end', 'data_meta', 'flow_keys', 'sk', 'tstamp', 'hwtstamp'],
  wholeWritesExcept: ['cb'],
};

/** A read-only array of bytes from `start` (tracepoint records, u64 argument arrays). */
function readOnlyBytes(name: string, size: number, unit: string, start = 0): ContextRules {
  return {
    name,
    canRead: (off, n) => off >= start && off + n <= size && off % n === 0,
    canWrite: () => false,
    fieldAt: (off) =>
      off >= 0 && off < size
        ? { name: `${unit}[${Math.floor(off / 8)}]`, offset: off - (off % 8), size: 8 }
        : undefined,
    packetFields: new Map(),
    packetWritable: false,
    legacyPacketLoads: false,
  };
}

function skbPacketFields(): Map<number, PacketField> {
  const at = (n: string): number => SK_BUFF.fields.find((f) => f.name === n)?.offset ?? -1;
  return new Map<number, PacketField>([
    [at('data'), 'pkt'],
    [at('data_end'), 'pkt_end'],
    [at('data_meta'), 'pkt_meta'],
  ]);
}

export function contextRules(spec: ProgramTypeSpec): ContextRules {
  switch (spec.type) {
    case 'socket_filter':
      return fromAccess(SOCKET_FILTER_ACCESS, new Map(), { legacyPacketLoads: true }, SKB_SIZES);
    case 'sched_cls':
    case 'sched_act':
      return fromAccess(
        TC_ACCESS,
        skbPacketFields(),
        { packetWritable: true, legacyPacketLoads: true },
        SKB_SIZES,
      );
    case 'xdp': {
      const at = (n: string): number => XDP_MD.fields.find((f) => f.name === n)?.offset ?? -1;
      return fromAccess(
        XDP_ACCESS,
        new Map<number, PacketField>([
          [at('data'), 'pkt'],
          [at('data_end'), 'pkt_end'],
          [at('data_meta'), 'pkt_meta'],
        ]),
        { packetWritable: true },
        { onlySize: 4 },
      );
    }
    case 'kprobe':
      return fromAccess(PT_REGS_ACCESS, new Map(), {});
    case 'perf_event':
      return fromAccess(
        PERF_EVENT_ACCESS,
        new Map(),
        {},
        {
          wordFields: PERF_EVENT_ACCESS.layout.fields
            .filter((f) => f.name !== 'sample_period' && f.name !== 'addr')
            .map((f) => f.name),
        },
      );
    case 'tracepoint':
      // The common header (type, flags, preempt count, pid) is not readable: the record starts at 8.
      return readOnlyBytes('tracepoint record', PERF_MAX_TRACE_SIZE, 'record', 8);
    case 'raw_tracepoint':
      return readOnlyBytes('u64 args', 8 * MAX_FUNC_ARGS, 'args');
    case 'tracing': {
      const rules = readOnlyBytes('u64 args', 8 * MAX_FUNC_ARGS, 'args');
      // fentry/fexit results are ignored; the kernel insists on 0.
      const zero = spec.attachKind === 'fentry' || spec.attachKind === 'fexit';
      return zero ? { ...rules, returnRange: [0n, 0n] } : rules;
    }
    case 'syscall':
      return {
        name: 'syscall ctx',
        canRead: (off, n) => off >= 0 && off + n <= 0xffff,
        canWrite: (off, n) => off >= 0 && off + n <= 0xffff,
        fieldAt: () => undefined,
        packetFields: new Map(),
        packetWritable: false,
        legacyPacketLoads: false,
      };
  }
}
