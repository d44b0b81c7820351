/**
 * Tracepoint programs: r1 points at the event's record, laid out by its format (common header, then
 * the fields, then the data of __data_loc fields appended). Input values are given by field name.
 */
import { type ArgumentEncoder, encodeArgument } from './arguments.js';
import {
  childPath,
  expectArray,
  expectHex,
  expectInteger,
  expectObject,
  expectString,
  formatError,
  type JsonObject,
  usageError,
} from './json.js';
import { alignUp, type ContextAccess, type StructLayout, writeInt } from './layout.js';
import type { SimulatedTask } from './task.js';
import { builtinTracepoint } from './tracepoint-events.js';
import { parseTracepointFormat, type TracepointField, type TracepointFormat } from './tracepoint-format.js';

/** Size of the common header (common_type, common_flags, common_preempt_count, common_pid). */
export const TRACE_ENTRY_SIZE = 8;
/** A normal (SCHED_OTHER, nice 0) task's prio. */
export const DEFAULT_PRIO = 120;

/** tp_prog_is_valid_access: reads past the common header, no writes. */
export function tracepointAccess(format: TracepointFormat, recordSize: number): ContextAccess {
  const layout: StructLayout = {
    name: `trace_event_raw_${format.name}`,
    size: recordSize,
    fields: format.fields.map((f) => ({ name: f.name, offset: f.offset, size: f.size })),
  };
  return {
    layout,
    readable: [{ name: 'record', offset: TRACE_ENTRY_SIZE, size: recordSize - TRACE_ENTRY_SIZE }],
    writable: [],
  };
}

/** The format of `target` (`syscalls/sys_enter_openat`): the input's `format` text, else built in. */
export function resolveFormat(target: string | undefined, input: JsonObject): TracepointFormat {
  if (input.format !== undefined) return parseTracepointFormat(expectString(input.format, 'format'));
  const builtin = target === undefined ? undefined : builtinTracepoint(target);
  if (builtin === undefined) {
    throw usageError(
      'format',
      `bpfbox has no built-in layout for tracepoint "${target ?? ''}"`,
      'pass the event\'s tracefs format file as "format" (cat /sys/kernel/tracing/events/<category>/<event>/format)',
    );
  }
  return builtin.format;
}

/** Field values a record gets when the input does not name them. */
function defaults(target: string | undefined, format: TracepointFormat, task: SimulatedTask): JsonObject {
  const common = { common_type: format.id, common_pid: task.pid };
  const builtin = target === undefined ? undefined : builtinTracepoint(target);
  if (builtin?.syscall !== undefined) return { ...common, __syscall_nr: builtin.syscall.nr };
  switch (format.name) {
    case 'sched_process_exec':
      return { ...common, filename: `/usr/bin/${task.comm}`, pid: task.pid, old_pid: task.pid };
    case 'sched_process_exit':
      return { ...common, comm: task.comm, pid: task.pid, prio: DEFAULT_PRIO, group_dead: 1 };
    case 'sched_process_fork':
      // The forking task is current; the child is the next pid.
      return {
        ...common,
        parent_comm: task.comm,
        parent_pid: task.pid,
        child_comm: task.comm,
        child_pid: task.pid + 1,
      };
    default:
      return common;
  }
}

/** Encodes the record of `format` with `args` (by field name), `task` and the appended dynamic data. */
export function encodeRecord(
  format: TracepointFormat,
  args: JsonObject,
  fallback: JsonObject,
  encode: ArgumentEncoder,
): Uint8Array {
  const names = format.fields.map((f) => f.name);
  for (const key of Object.keys(args)) {
    if (!names.includes(key)) {
      throw usageError(
        childPath('args', key),
        `${format.name} has no field ${key}`,
        `its fields: ${names.join(', ')}`,
      );
    }
  }
  const fixed = new Uint8Array(format.size);
  const dynamic: Uint8Array[] = [];
  let end = format.size;
  for (const f of format.fields) {
    const path = childPath('args', f.name);
    const value = args[f.name] ?? fallback[f.name];
    if (f.kind === 'data_loc' || f.kind === 'rel_loc') {
      const bytes = dynamicBytes(f, value, path);
      // The kernel's encoding: length in the high 16 bits, offset (from the record or the field's end).
      const offset = f.kind === 'data_loc' ? end : end - (f.offset + f.size);
      if (bytes.length > 0xffff || end > 0xffff) throw formatError(path, 'dynamic data exceeds 64 KiB');
      writeInt(fixed, f.offset, 4, (bytes.length << 16) | offset);
      dynamic.push(bytes);
      end += bytes.length;
      continue;
    }
    if (value === undefined) continue;
    writeFixed(fixed, f, value, path, encode);
  }
  // perf sizes a raw record so that it plus its u32 size header is a multiple of 8.
  const size = alignUp(end + 4, 8) - 4;
  const record = new Uint8Array(size);
  record.set(fixed);
  let at = format.size;
  for (const d of dynamic) {
    record.set(d, at);
    at += d.length;
  }
  return record;
}

function dynamicBytes(f: TracepointField, value: unknown, path: string): Uint8Array {
  if (!f.text) return value === undefined ? new Uint8Array(0) : expectHex(value, path);
  // __string() stores the text with its NUL; a missing string is the kernel's "(null)".
  const text = value === undefined ? '(null)' : expectString(value, path);
  const encoded = new TextEncoder().encode(text);
  const out = new Uint8Array(encoded.length + 1);
  out.set(encoded);
  return out;
}

function writeFixed(
  record: Uint8Array,
  f: TracepointField,
  value: unknown,
  path: string,
  encode: ArgumentEncoder,
): void {
  switch (f.kind) {
    case 'integer':
      writeInt(record, f.offset, f.size, expectInteger(value, path, bits(f.size)));
      return;
    case 'pointer':
      writeInt(record, f.offset, 8, encodeArgument(value, path, encode, f.text ? 'string' : 'any'));
      return;
    case 'char_array': {
      // strscpy: at most size - 1 bytes and a NUL, the rest zero.
      const bytes = new TextEncoder().encode(expectString(value, path)).subarray(0, f.size - 1);
      record.set(bytes, f.offset);
      return;
    }
    case 'array': {
      const items = expectArray(value, path);
      const count = f.size / f.elementSize;
      if (items.length > count)
        throw formatError(path, `${f.name} has ${count} elements, got ${items.length}`);
      for (const [i, v] of items.entries()) {
        const at = f.offset + i * f.elementSize;
        writeInt(record, at, f.elementSize, expectInteger(v, childPath(path, i), bits(f.elementSize)));
      }
      return;
    }
    default:
      return;
  }
}

function bits(size: number): 8 | 16 | 32 | 64 {
  return size === 1 ? 8 : size === 2 ? 16 : size === 4 ? 32 : 64;
}

/** Builds the record of a tracepoint program from IN.json (`args` by field name, optional `format`). */
export function tracepointRecord(
  target: string | undefined,
  input: JsonObject,
  task: SimulatedTask,
  encode: ArgumentEncoder,
): { format: TracepointFormat; record: Uint8Array } {
  const format = resolveFormat(target, input);
  const args = input.args === undefined ? {} : expectObject(input.args, 'args');
  if (
    input.format === undefined &&
    builtinTracepoint(target ?? '')?.generic &&
    args.__syscall_nr === undefined
  ) {
    throw usageError(
      'args.__syscall_nr',
      `bpfbox does not know the syscall of ${target}; give its number`,
      'the generic form has fields __syscall_nr and arg0..arg5',
    );
  }
  return { format, record: encodeRecord(format, args, defaults(target, format, task), encode) };
}
