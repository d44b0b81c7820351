/**
 * The simulated `struct task_struct` and `struct cred` in kernel memory. bpf_get_current_task returns
 * the address of the current task's struct; `real_parent` and `parent` point to the parent's struct
 * and `cred`/`real_cred` to a `struct cred`. The layouts are exported so the built-in vmlinux BTF can
 * describe exactly these offsets and CO-RE reads (`BPF_CORE_READ(task, real_parent, tgid)`) land here.
 * Only these fields exist; everything else a real task_struct has is absent.
 */

import { defineStruct, field, type StructLayout } from '../contexts/layout.js';
import { type SimulatedTask, TASK_COMM_LEN } from '../contexts/task.js';
import type { SimulatedMemory } from './sim-memory.js';

export const TASK_STRUCT: StructLayout = defineStruct('struct task_struct', [
  ['__state', 4],
  ['flags', 4],
  ['pid', 4],
  ['tgid', 4],
  ['real_parent', 8],
  ['parent', 8],
  ['real_cred', 8],
  ['cred', 8],
  ['comm', 1, TASK_COMM_LEN],
]);

/** kuid_t/kgid_t are one u32 each. */
export const CRED_STRUCT: StructLayout = defineStruct('struct cred', [
  ['usage', 4],
  ['uid', 4],
  ['gid', 4],
  ['suid', 4],
  ['sgid', 4],
  ['euid', 4],
  ['egid', 4],
  ['fsuid', 4],
  ['fsgid', 4],
]);

/** Field offsets, for the BTF describing these structs and for tests. */
export const TaskStructOffset = {
  state: field(TASK_STRUCT, '__state').offset,
  flags: field(TASK_STRUCT, 'flags').offset,
  pid: field(TASK_STRUCT, 'pid').offset,
  tgid: field(TASK_STRUCT, 'tgid').offset,
  real_parent: field(TASK_STRUCT, 'real_parent').offset,
  parent: field(TASK_STRUCT, 'parent').offset,
  real_cred: field(TASK_STRUCT, 'real_cred').offset,
  cred: field(TASK_STRUCT, 'cred').offset,
  comm: field(TASK_STRUCT, 'comm').offset,
} as const;

export const CredOffset = {
  usage: field(CRED_STRUCT, 'usage').offset,
  uid: field(CRED_STRUCT, 'uid').offset,
  gid: field(CRED_STRUCT, 'gid').offset,
  euid: field(CRED_STRUCT, 'euid').offset,
  egid: field(CRED_STRUCT, 'egid').offset,
} as const;

/** Tasks in a chain (current + 64 ancestors, as parseTask allows, + one spare) that the area holds. */
const MAX_TASKS = 66;
const TASK_SLOT = Math.ceil(TASK_STRUCT.size / 8) * 8;
const CRED_SLOT = Math.ceil(CRED_STRUCT.size / 8) * 8;
/** Bytes at the start of kernel memory that hold the task chain; host blobs go after it. */
export const TASK_AREA_SIZE = MAX_TASKS * (TASK_SLOT + CRED_SLOT);

/** TASK_RUNNING; the current task is running by definition. */
const TASK_RUNNING = 0;

/**
 * Writes `task` and its ancestors into the task area of `kernel` and returns the current task's
 * address. A parentless task's real_parent points to itself, as init_task's does in the kernel.
 */
export function writeTaskChain(kernel: SimulatedMemory, task: SimulatedTask): number {
  const chain: SimulatedTask[] = [];
  for (let t: SimulatedTask | undefined = task; t !== undefined && !chain.includes(t); t = t.parent) {
    if (chain.length === MAX_TASKS) break;
    chain.push(t);
  }
  const taskAddress = (i: number) => kernel.base + i * (TASK_SLOT + CRED_SLOT);
  const bytes = new Uint8Array(TASK_AREA_SIZE);
  const view = new DataView(bytes.buffer);
  const encoder = new TextEncoder();
  chain.forEach((t, i) => {
    const at = i * (TASK_SLOT + CRED_SLOT);
    const credAt = at + TASK_SLOT;
    const parentIndex = t.parent === undefined ? i : chain.indexOf(t.parent);
    // A chain cut at MAX_TASKS ends in a task that is its own parent, like init_task.
    const parent = BigInt(taskAddress(parentIndex < 0 ? i : parentIndex));
    const cred = BigInt(kernel.base + credAt);
    view.setUint32(at + TaskStructOffset.state, TASK_RUNNING, true);
    view.setUint32(at + TaskStructOffset.pid, t.pid, true);
    view.setUint32(at + TaskStructOffset.tgid, t.tgid, true);
    view.setBigUint64(at + TaskStructOffset.real_parent, parent, true);
    view.setBigUint64(at + TaskStructOffset.parent, parent, true);
    view.setBigUint64(at + TaskStructOffset.real_cred, cred, true);
    view.setBigUint64(at + TaskStructOffset.cred, cred, true);
    bytes.set(encoder.encode(t.comm).subarray(0, TASK_COMM_LEN - 1), at + TaskStructOffset.comm);
    view.setUint32(credAt + CredOffset.usage, 1, true);
    for (const name of ['uid', 'suid', 'euid', 'fsuid'] as const) {
      view.setUint32(credAt + field(CRED_STRUCT, name).offset, t.uid, true);
    }
    for (const name of ['gid', 'sgid', 'egid', 'fsgid'] as const) {
      view.setUint32(credAt + field(CRED_STRUCT, name).offset, t.gid, true);
    }
  });
  kernel.write(kernel.base, bytes);
  return taskAddress(0);
}
