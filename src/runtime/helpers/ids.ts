/**
 * Kernel helper ids of the non-map helpers (linux/bpf.h `___BPF_FUNC_MAPPER`: the position in that
 * list is the id). The map helpers' ids live in maps.ts.
 */
export const KernelHelperId = {
  probe_read: 4,
  ktime_get_ns: 5,
  trace_printk: 6,
  get_prandom_u32: 7,
  get_smp_processor_id: 8,
  skb_store_bytes: 9,
  l3_csum_replace: 10,
  l4_csum_replace: 11,
  get_current_pid_tgid: 14,
  get_current_uid_gid: 15,
  get_current_comm: 16,
  redirect: 23,
  skb_load_bytes: 26,
  get_stackid: 27,
  csum_diff: 28,
  get_current_task: 35,
  get_numa_node_id: 42,
  xdp_adjust_head: 44,
  probe_read_str: 45,
  redirect_map: 51,
  xdp_adjust_meta: 54,
  xdp_adjust_tail: 65,
  get_current_cgroup_id: 80,
  probe_read_user: 112,
  probe_read_kernel: 113,
  probe_read_user_str: 114,
  probe_read_kernel_str: 115,
  ktime_get_boot_ns: 125,
  get_current_task_btf: 158,
  ktime_get_coarse_ns: 160,
  trace_vprintk: 177,
  loop: 181,
} as const;

export type KernelHelperName = keyof typeof KernelHelperId;

/** errno values the helpers return negated (asm-generic/errno-base.h, errno.h). */
export const EFAULT = 14;
export const EACCES = 13;
export { E2BIG, EEXIST, EINVAL, ENOSPC, ENOTSUPP } from '../maps/constants.js';
