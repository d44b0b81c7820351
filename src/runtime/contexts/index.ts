/** Program types and their contexts: what r1 points at, how IN.json becomes it, what a run changed. */
export { type ArgumentEncoder, encodeArgument } from './arguments.js';
export { createBoundContext } from './bind.js';
export {
  ContextImage,
  type ContextResult,
  type ProgramContext,
  StructContext,
  type XdpActionName,
} from './context.js';
export { type ContextOptions, type ContextSpec, createProgramContext, inputKeys } from './create.js';
export { type FlowInfo, type PacketHeaders, parseHeaders } from './headers.js';
export {
  type ContextAccess,
  defineStruct,
  type FieldRange,
  field,
  rangeAllows,
  readField,
  type StructLayout,
  writeField,
} from './layout.js';
export { PacketBuffer, XDP_MAX_META } from './packet.js';
export {
  PARM_REGS,
  PERF_EVENT_ACCESS,
  PERF_EVENT_DATA,
  PT_REGS,
  PT_REGS_ACCESS,
  PT_REGS_NAMES,
  type PtRegName,
} from './pt-regs.js';
export { MAX_TRACED_ARGS, rawArgsAccess, rawArgsLayout } from './raw-args.js';
export { type ContextResultJson, contextResultJson, toHex } from './result-json.js';
export { SK_BUFF, SOCKET_FILTER_ACCESS, TC_ACCESS, TC_ACTIONS } from './skb.js';
export { DEFAULT_IFINDEX, SkbContext } from './skb-context.js';
export {
  DEFAULT_TASK,
  INIT_TASK,
  makeTask,
  parseTask,
  type SimulatedTask,
  TASK_COMM_LEN,
  type TaskInput,
  truncateComm,
} from './task.js';
export { encodeRecord, tracepointAccess, tracepointRecord } from './tracepoint.js';
export { builtinTracepoint, SYSCALLS, type SyscallInfo } from './tracepoint-events.js';
export { parseTracepointFormat, type TracepointField, type TracepointFormat } from './tracepoint-format.js';
export { type ArgumentMemory, encodeWithArguments, UserMemoryBuilder } from './user-memory.js';
export { XDP_ACCESS, XDP_ACTIONS, XDP_MD, XdpContext, xdpAction } from './xdp.js';
