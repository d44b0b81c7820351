/**
 * The task ("current") a run executes on behalf of. Helpers such as bpf_get_current_pid_tgid,
 * bpf_get_current_uid_gid and bpf_get_current_comm read it, tracepoint records default their pid and
 * comm fields from it, and the CO-RE task_struct reads (real_parent) follow `parent`.
 */
import { checkKeys, childPath, expectObject, expectString, expectU32, formatError } from './json.js';

/** The kernel's TASK_COMM_LEN: comm is at most 15 bytes plus the terminating NUL. */
export const TASK_COMM_LEN = 16;

export interface SimulatedTask {
  /** Thread id (the kernel's task->pid). */
  readonly pid: number;
  /** Process id (task->tgid); equals pid for a single-threaded process. */
  readonly tgid: number;
  readonly uid: number;
  readonly gid: number;
  /** Executable name as the kernel keeps it: at most 15 bytes. */
  readonly comm: string;
  /** The parent (task->real_parent); undefined only for the init task. */
  readonly parent: SimulatedTask | undefined;
}

/** What IN.json may say about a task; everything is optional. */
export interface TaskInput {
  pid?: number;
  tgid?: number;
  uid?: number;
  gid?: number;
  comm?: string;
  parent?: TaskInput | null;
}

/** init (pid 1), the parent of tasks that do not name one. */
export const INIT_TASK: SimulatedTask = Object.freeze({
  pid: 1,
  tgid: 1,
  uid: 0,
  gid: 0,
  comm: 'systemd',
  parent: undefined,
});

/** The task of a run whose input names none: an unprivileged shell-started process. */
export const DEFAULT_TASK: SimulatedTask = Object.freeze({
  pid: 1000,
  tgid: 1000,
  uid: 1000,
  gid: 1000,
  comm: 'bpfbox',
  parent: INIT_TASK,
});

/** Truncates like the kernel's strscpy into comm[TASK_COMM_LEN] (whole UTF-8 bytes kept, at most 15). */
export function truncateComm(comm: string): string {
  const bytes = new TextEncoder().encode(comm);
  if (bytes.length < TASK_COMM_LEN) return comm;
  // Cut before a UTF-8 continuation byte so no character is split (a JS string cannot hold half of one).
  let end = TASK_COMM_LEN - 1;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return new TextDecoder().decode(bytes.subarray(0, end));
}

/**
 * A task from its (partial) description. tgid defaults to pid, gid to uid, and an omitted parent is
 * init; `parent: null` makes the task itself parentless.
 */
export function makeTask(input: TaskInput = {}): SimulatedTask {
  const pid = input.pid ?? DEFAULT_TASK.pid;
  const uid = input.uid ?? DEFAULT_TASK.uid;
  return Object.freeze({
    pid,
    tgid: input.tgid ?? pid,
    uid,
    gid: input.gid ?? uid,
    comm: truncateComm(input.comm ?? DEFAULT_TASK.comm),
    parent:
      input.parent === null ? undefined : input.parent === undefined ? INIT_TASK : makeTask(input.parent),
  });
}

const TASK_KEYS = ['pid', 'tgid', 'uid', 'gid', 'comm', 'parent'] as const;
/** The kernel's PID_MAX_LIMIT (4M); larger ids do not exist. */
const PID_MAX = 1 << 22;

/** Validates the `task` object of IN.json (`path` names it in errors). */
export function parseTask(value: unknown, path = 'task', depth = 0): SimulatedTask {
  return makeTask(parseTaskInput(value, path, depth));
}

function parseTaskInput(value: unknown, path: string, depth: number): TaskInput {
  const obj = expectObject(value, path);
  checkKeys(obj, TASK_KEYS, path);
  const out: TaskInput = {};
  for (const key of ['pid', 'tgid'] as const) {
    if (obj[key] === undefined) continue;
    const id = expectU32(obj[key], childPath(path, key));
    if (id > PID_MAX)
      throw formatError(childPath(path, key), `${id} is above the kernel's pid limit ${PID_MAX}`);
    out[key] = id;
  }
  if (obj.uid !== undefined) out.uid = expectU32(obj.uid, childPath(path, 'uid'));
  if (obj.gid !== undefined) out.gid = expectU32(obj.gid, childPath(path, 'gid'));
  if (obj.comm !== undefined) out.comm = expectString(obj.comm, childPath(path, 'comm'));
  if (obj.parent === null) out.parent = null;
  else if (obj.parent !== undefined) {
    // A chain deeper than any real process tree is a mistake (or a cycle built by a script).
    if (depth >= 64) throw formatError(childPath(path, 'parent'), 'parent chain is deeper than 64 tasks');
    out.parent = parseTaskInput(obj.parent, childPath(path, 'parent'), depth + 1);
  }
  return out;
}
