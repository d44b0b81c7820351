/**
 * From a program's type (its SEC name, as src/elf parses it) and the run input (IN.json of the CLI
 * contract) to a mapped context: validates the input with JSON paths in every error, builds the
 * context struct, maps it (and the packet and argument memory) and tells what r1 is.
 *
 * IN.json, every key optional unless said otherwise; integers are JSON numbers or strings ("0x…",
 * "-1", decimal) so 64-bit values survive; `task` is `{pid, tgid, uid, gid, comm, parent}` for any type.
 * - socket_filter, sched_cls, sched_act: `packet` (hex, required) and __sk_buff fields: mark, priority,
 *   ifindex, ingress_ifindex, pkt_type, queue_mapping, protocol, vlan_tci, vlan_proto, hash, tc_index,
 *   tc_classid, cb (up to 5), napi_id, tstamp, wire_len, gso_segs, gso_size, hwtstamp.
 * - xdp: `packet` (required), `meta` (hex, ≤ 255 bytes, multiple of 4), ingress_ifindex, rx_queue_index,
 *   egress_ifindex.
 * - tracepoint: `args` by field name (`{"filename": "/etc/passwd", "flags": 0}`; pointer fields take a
 *   string, an array of strings or an address; char[] and __data_loc fields take a string), `format`
 *   (the tracefs format text, for events without a built-in layout).
 * - kprobe (and uprobe): `regs` by pt_regs name (`{"di": 3}`), `args` (PARM1..6 in order), `ret` (ax,
 *   return probes only). perf_event: the same plus `sample_period` and `addr`.
 * - raw_tracepoint, tracing (fentry/fexit/fmod_ret/tp_btf): `args` as an array; `ret` for fexit and
 *   fmod_ret. syscall: `ctx` (hex bytes).
 * String arguments become pointers into the simulated user memory; `{"string": "…"}` forces a string
 * for text that looks like a number, `{"hex": "…"}` points at raw bytes.
 */
import type { ProgramType, TracingAttachKind } from '../../elf/object.js';
import type { GuestMemory } from '../../vm/memory/guest-memory.js';
import { type ProgramContext, StructContext } from './context.js';
import { checkKeys, expectHex, expectObject, type JsonObject, usageError } from './json.js';
import { type ContextAccess, defineStruct } from './layout.js';
import { PERF_EVENT_ACCESS, PT_REGS_ACCESS, perfEventImage, ptRegsImage } from './pt-regs.js';
import { rawArgsAccess, rawArgsImage } from './raw-args.js';
import { SKB_INPUT_FIELDS } from './skb.js';
import { isPacketProgramType, SkbContext, type SkbProgramType } from './skb-context.js';
import { DEFAULT_TASK, parseTask, type SimulatedTask } from './task.js';
import { tracepointAccess, tracepointRecord } from './tracepoint.js';
import { type ArgumentMemory, encodeWithArguments, type UserMemoryBuilder } from './user-memory.js';
import { XDP_INPUT_FIELDS, XdpContext } from './xdp.js';

/** What a context needs to know about the program: a subset of src/elf's SectionSpec. */
export interface ContextSpec {
  readonly type: ProgramType;
  /** SEC name target: `syscalls/sys_enter_execve` for tracepoints, the function for probes. */
  readonly attachTo?: string;
  readonly retprobe?: boolean;
  readonly user?: boolean;
  readonly attachKind?: TracingAttachKind;
}

export interface ContextOptions {
  /** Top-level IN.json keys that belong to the caller (e.g. `rodata` for the loader); default ['rodata']. */
  readonly passthroughKeys?: readonly string[];
  /**
   * Where argument strings go: the helpers' user space (`KernelRuntime.user`). Without it a user space
   * is mapped in its slot when an argument needs one (create the KernelRuntime first to share it).
   */
  readonly userMemory?: ArgumentMemory;
  /** The task of an input without `task` (default DEFAULT_TASK). */
  readonly defaultTask?: SimulatedTask;
}

/** The largest context a BPF_PROG_TYPE_SYSCALL program may get (U16_MAX, like ctx_size_in). */
const MAX_SYSCALL_CTX = 0xffff;

/** Top-level IN.json keys each program type understands. */
export function inputKeys(spec: ContextSpec): readonly string[] {
  switch (spec.type) {
    case 'socket_filter':
    case 'sched_cls':
    case 'sched_act':
      return ['task', 'packet', ...SKB_INPUT_FIELDS];
    case 'xdp':
      return ['task', 'packet', ...XDP_INPUT_FIELDS];
    case 'tracepoint':
      return ['task', 'args', 'format'];
    case 'kprobe':
      return spec.retprobe ? ['task', 'regs', 'args', 'ret'] : ['task', 'regs', 'args'];
    case 'perf_event':
      return ['task', 'regs', 'args', 'sample_period', 'addr'];
    case 'raw_tracepoint':
      return ['task', 'args'];
    case 'tracing':
      return hasReturnValue(spec) ? ['task', 'args', 'ret'] : ['task', 'args'];
    case 'syscall':
      return ['task', 'ctx'];
  }
}

/** fexit and fmod_ret see the traced function's return value after its arguments. */
function hasReturnValue(spec: ContextSpec): boolean {
  return spec.attachKind === 'fexit' || spec.attachKind === 'fmod_ret';
}

/**
 * Validates `input` for a program of `spec`, maps its context into `memory` (Slot.INPUT, plus the
 * packet in Slot.PACKET and argument strings in user memory) and returns it. Nothing is mapped when
 * the input is rejected (FormatError / UsageError with the JSON path).
 */
export function createProgramContext(
  memory: GuestMemory,
  spec: ContextSpec,
  input: unknown = {},
  options: ContextOptions = {},
): ProgramContext {
  const obj = expectObject(input, '');
  checkKeys(obj, [...inputKeys(spec), ...(options.passthroughKeys ?? ['rodata'])], '');
  const task = obj.task === undefined ? (options.defaultTask ?? DEFAULT_TASK) : parseTask(obj.task);
  if (isStructType(spec.type)) {
    const { value, space } = encodeWithArguments(memory, options.userMemory, (user) =>
      structContext(spec, obj, task, user),
    );
    return new StructContext(memory, spec.type, task, value.access, value.bytes, space);
  }
  if (obj.packet === undefined) {
    throw usageError(
      'packet',
      `a ${spec.type} program needs a packet`,
      'give it as hex: {"packet": "ffff…"}',
    );
  }
  const packet = expectHex(obj.packet, 'packet');
  if (spec.type === 'xdp') return new XdpContext(memory, task, packet, obj);
  return new SkbContext(memory, spec.type as SkbProgramType, task, packet, obj);
}

/** Types whose context is a plain struct (no packet). */
function isStructType(type: ProgramType): boolean {
  return !isPacketProgramType(type);
}

/** The struct of a tracing-like type. */
function structContext(
  spec: ContextSpec,
  obj: JsonObject,
  task: SimulatedTask,
  user: UserMemoryBuilder,
): { access: ContextAccess; bytes: Uint8Array } {
  switch (spec.type) {
    case 'tracepoint': {
      const { format, record } = tracepointRecord(spec.attachTo, obj, task, user);
      return { access: tracepointAccess(format, record.length), bytes: record };
    }
    case 'kprobe':
      return { access: PT_REGS_ACCESS, bytes: ptRegsImage(obj, spec.user === true, user) };
    case 'perf_event':
      return { access: PERF_EVENT_ACCESS, bytes: perfEventImage(obj, user) };
    case 'raw_tracepoint':
    case 'tracing': {
      const withReturn = spec.type === 'tracing' && hasReturnValue(spec);
      const count = Array.isArray(obj.args) ? obj.args.length : 0;
      return { access: rawArgsAccess(count, withReturn), bytes: rawArgsImage(obj, withReturn, user) };
    }
    case 'syscall': {
      // BPF_PROG_TYPE_SYSCALL: the context is whatever bytes user space passes (ctx_in), read-write.
      const bytes = obj.ctx === undefined ? new Uint8Array(0) : expectHex(obj.ctx, 'ctx');
      if (bytes.length > MAX_SYSCALL_CTX)
        throw usageError('ctx', `${bytes.length} bytes; at most ${MAX_SYSCALL_CTX}`);
      const layout = defineStruct('ctx', bytes.length > 0 ? [['ctx', 1, bytes.length]] : []);
      return { access: { layout, readable: layout.fields, writable: layout.fields }, bytes };
    }
    default:
      throw usageError('', `${spec.type} programs have no struct context`);
  }
}
