/** Helpers about where the program runs: CPU, NUMA node, and the per-CPU pseudo-random generator. */
import type { HelperRegistry } from '../../vm/helpers.js';
import { KernelHelperId } from './ids.js';
import type { KernelRuntime } from './runtime.js';

export function registerCpuHelpers(registry: HelperRegistry, runtime: KernelRuntime): HelperRegistry {
  return registry
    .define(KernelHelperId.get_smp_processor_id, 'bpf_get_smp_processor_id', () => runtime.cpu)
    .define(KernelHelperId.get_numa_node_id, 'bpf_get_numa_node_id', () => runtime.numaNode)
    .define(KernelHelperId.get_prandom_u32, 'bpf_get_prandom_u32', () => runtime.random.next());
}
