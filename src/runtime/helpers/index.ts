/**
 * The kernel helpers other than the map helpers (maps.ts), registered with their linux/bpf.h ids
 * over one KernelRuntime that holds the simulated task, clock, PRNG, CPU, memories and outputs.
 */
import { HelperRegistry } from '../../vm/helpers.js';
import { registerCpuHelpers } from './cpu.js';
import { registerCsumReplaceHelpers } from './csum-replace.js';
import { registerLoopHelpers } from './loop.js';
import { registerPacketHelpers } from './packet.js';
import { registerPrintkHelpers } from './printk.js';
import { registerProbeReadHelpers } from './probe-read.js';
import type { KernelRuntime } from './runtime.js';
import { registerStackHelpers } from './stack.js';
import { registerTaskHelpers } from './task.js';
import { registerTimeHelpers } from './time.js';

export { KernelHelperId, type KernelHelperName } from './ids.js';
export type { PacketContext } from './packet-context.js';
export { KernelRuntime, type KernelRuntimeOptions, type RedirectTarget } from './runtime.js';
export { CRED_STRUCT, CredOffset, TASK_STRUCT, TaskStructOffset } from './task-struct.js';

/** Adds every kernel helper of this module to `registry` (a new one by default) and returns it. */
export function registerKernelHelpers(
  registry: HelperRegistry = new HelperRegistry(),
  runtime: KernelRuntime,
): HelperRegistry {
  registerTaskHelpers(registry, runtime);
  registerTimeHelpers(registry, runtime);
  registerCpuHelpers(registry, runtime);
  registerPrintkHelpers(registry, runtime);
  registerProbeReadHelpers(registry, runtime);
  registerPacketHelpers(registry, runtime);
  registerCsumReplaceHelpers(registry, runtime);
  registerStackHelpers(registry, runtime);
  return registerLoopHelpers(registry);
}
