/** Helpers about the current task: ids, credentials, comm, the task_struct pointer, the cgroup. */
import type { HelperRegistry } from '../../vm/helpers.js';
import { TASK_COMM_LEN } from '../contexts/task.js';
import { guestPtr, u32Arg } from './args.js';
import { EINVAL, KernelHelperId } from './ids.js';
import type { KernelRuntime } from './runtime.js';

export function registerTaskHelpers(registry: HelperRegistry, runtime: KernelRuntime): HelperRegistry {
  const encoder = new TextEncoder();
  return (
    registry
      .define(KernelHelperId.get_current_pid_tgid, 'bpf_get_current_pid_tgid', () => {
        const task = runtime.task;
        return task === undefined ? -EINVAL : (BigInt(task.tgid) << 32n) | BigInt(task.pid);
      })
      .define(KernelHelperId.get_current_uid_gid, 'bpf_get_current_uid_gid', () => {
        const task = runtime.task;
        return task === undefined ? -EINVAL : (BigInt(task.gid) << 32n) | BigInt(task.uid);
      })
      .define(KernelHelperId.get_current_comm, 'bpf_get_current_comm', (ctx) => {
        const size = u32Arg(ctx, 2);
        const at = guestPtr(ctx, 1, size, 'write');
        const buf = ctx.memory.u8.subarray(at, at + size);
        // strscpy_pad: at most size - 1 bytes of comm, then NUL padding; no task clears the buffer.
        buf.fill(0);
        const task = runtime.task;
        if (task === undefined) return -EINVAL;
        if (size > 0) buf.set(encoder.encode(task.comm).subarray(0, Math.min(size, TASK_COMM_LEN) - 1));
        return 0;
      })
      .define(KernelHelperId.get_current_task, 'bpf_get_current_task', () => runtime.currentTaskAddress)
      .define(
        KernelHelperId.get_current_task_btf,
        'bpf_get_current_task_btf',
        () => runtime.currentTaskAddress,
      )
      // The kernel always has a current task here; a run without one has no cgroup either (id 0).
      .define(KernelHelperId.get_current_cgroup_id, 'bpf_get_current_cgroup_id', () =>
        runtime.task === undefined ? 0 : runtime.cgroupId,
      )
  );
}
