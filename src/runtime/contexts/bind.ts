/**
 * A context wired into the kernel helpers' runtime, as a run needs it: argument strings in the
 * runtime's user space, the packet helpers acting on the context's packet (so bpf_xdp_adjust_* move
 * the pointers the program reads), and the task helpers reading the input's task.
 */
import type { KernelRuntime } from '../helpers/runtime.js';
import type { ProgramContext } from './context.js';
import { type ContextOptions, type ContextSpec, createProgramContext } from './create.js';

export function createBoundContext(
  runtime: KernelRuntime,
  spec: ContextSpec,
  input: unknown = {},
  options: Omit<ContextOptions, 'userMemory'> = {},
): ProgramContext {
  const ctx = createProgramContext(runtime.memory, spec, input, { ...options, userMemory: runtime.user });
  runtime.useContext(ctx);
  return ctx;
}
