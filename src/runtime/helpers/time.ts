/** The clock helpers over the runtime's deterministic SimulatedClock (see clock.ts for how it moves). */
import type { HelperRegistry } from '../../vm/helpers.js';
import { KernelHelperId } from './ids.js';
import type { KernelRuntime } from './runtime.js';

export function registerTimeHelpers(registry: HelperRegistry, runtime: KernelRuntime): HelperRegistry {
  const { clock } = runtime;
  return registry
    .define(KernelHelperId.ktime_get_ns, 'bpf_ktime_get_ns', () => clock.monotonic())
    .define(KernelHelperId.ktime_get_boot_ns, 'bpf_ktime_get_boot_ns', () => clock.boot())
    .define(KernelHelperId.ktime_get_coarse_ns, 'bpf_ktime_get_coarse_ns', () => clock.coarse());
}
