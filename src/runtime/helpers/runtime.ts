/**
 * Per-run simulated kernel state the helpers read and write: the current task, the clock, the PRNG,
 * the CPU and NUMA node, the cgroup, the kernel and user address spaces, the captured trace_printk
 * output, the packet of network programs and the redirect decision. One KernelRuntime serves many
 * runs: `beginRun()` clears the per-run outputs and moves the clock on.
 */
import { UsageError } from '../../errors.js';
import type { GuestMemory } from '../../vm/memory/guest-memory.js';
import { DEFAULT_TASK, type SimulatedTask } from '../contexts/task.js';
import type { MapSet } from '../maps/host-api.js';
import { type ClockOptions, SimulatedClock } from './clock.js';
import type { PacketContext } from './packet-context.js';
import { Prandom } from './prandom.js';
import {
  DEFAULT_KERNEL_MEMORY_SIZE,
  DEFAULT_USER_MEMORY_SIZE,
  kernelMemory,
  mappedUserMemory,
  type SimulatedMemory,
  userMemory,
} from './sim-memory.js';
import { TASK_AREA_SIZE, writeTaskChain } from './task-struct.js';

export interface KernelRuntimeOptions {
  /** The current task (default: contexts' DEFAULT_TASK); null runs with no task, like an IRQ. */
  task?: SimulatedTask | null;
  clock?: ClockOptions;
  /** Seed of bpf_get_prandom_u32 (default 0). */
  seed?: bigint | number;
  /**
   * CPU the program runs on (default 0). With `maps`, the MapSet's `currentCpu` is the CPU instead, so
   * per-CPU maps and bpf_get_smp_processor_id always agree.
   */
  cpu?: number;
  /** The maps of the program: bpf_redirect_map and bpf_get_stackid take map references. */
  maps?: MapSet;
  numaNode?: number;
  /** cgroup v2 id of the current task's cgroup (default 1, the root cgroup). */
  cgroupId?: bigint;
  /** Simulated call stacks (return addresses, innermost first) for bpf_get_stackid. */
  kernelStack?: readonly bigint[];
  userStack?: readonly bigint[];
  kernelMemorySize?: number;
  userMemorySize?: number;
  /**
   * bpf_csum_diff semantics: `folded` (default, Linux 6.13 and later: any sizes, 16-bit result) or
   * `legacy` (earlier kernels: 4-byte multiples up to 512 bytes, unfolded 32-bit sum).
   */
  csumDiff?: 'folded' | 'legacy';
}

/** Where bpf_redirect / bpf_redirect_map sent the packet, for the host to act on after the run. */
export type RedirectTarget =
  | { readonly kind: 'ifindex'; readonly ifindex: number; readonly flags: number }
  | { readonly kind: 'map'; readonly map: string; readonly key: number; readonly flags: number };

/** The kernel's MAX_BPRINTF_BUF: trace_printk output longer than this (with its NUL) is truncated. */
export const MAX_PRINTK_OUTPUT = 1024;

export class KernelRuntime {
  readonly memory: GuestMemory;
  readonly clock: SimulatedClock;
  readonly random: Prandom;
  /** Read-only kernel memory (slot 9): the task chain, then blobs the host adds with `kernel.alloc`. */
  readonly kernel: SimulatedMemory;
  /** User memory (slot 10), readable only through bpf_probe_read_user*. */
  readonly user: SimulatedMemory;
  readonly maps: MapSet | undefined;
  numaNode: number;
  cgroupId: bigint;
  csumDiff: 'folded' | 'legacy';
  kernelStack: readonly bigint[];
  userStack: readonly bigint[];
  /** Packet of the current run (network program types); set by the context that builds the run. */
  packet: PacketContext | undefined;
  /** Lines written by bpf_trace_printk / bpf_trace_vprintk during the current run, as the kernel wrote them. */
  printk: string[] = [];
  redirect: RedirectTarget | undefined;
  /** Stacks recorded by bpf_get_stackid: map name → stack id → return addresses. */
  readonly stackTraces = new Map<string, Map<number, readonly bigint[]>>();
  private ownCpu: number;
  private currentTask: SimulatedTask | undefined;
  private taskAddress = 0;

  constructor(memory: GuestMemory, options: KernelRuntimeOptions = {}) {
    this.memory = memory;
    this.clock = new SimulatedClock(options.clock);
    this.random = new Prandom(options.seed ?? 0);
    this.maps = options.maps;
    this.ownCpu = options.cpu ?? 0;
    if (this.maps !== undefined && options.cpu !== undefined) this.maps.currentCpu = options.cpu;
    this.numaNode = options.numaNode ?? 0;
    this.csumDiff = options.csumDiff ?? 'folded';
    this.cgroupId = options.cgroupId ?? 1n;
    this.kernelStack = options.kernelStack ?? [0xffffffff81000000n];
    this.userStack = options.userStack ?? [0x401000n];
    const kernelSize = options.kernelMemorySize ?? DEFAULT_KERNEL_MEMORY_SIZE;
    if (kernelSize < TASK_AREA_SIZE) {
      throw new UsageError(
        `kernelMemorySize ${kernelSize} is below the ${TASK_AREA_SIZE} bytes of the task area`,
      );
    }
    this.kernel = kernelMemory(memory, kernelSize, TASK_AREA_SIZE);
    // A context created first may have mapped the user space for its arguments: share it.
    this.user =
      mappedUserMemory(memory) ?? userMemory(memory, options.userMemorySize ?? DEFAULT_USER_MEMORY_SIZE);
    this.task = options.task === null ? undefined : (options.task ?? DEFAULT_TASK);
  }

  /** The current task; setting it rewrites the simulated task_struct chain. */
  get task(): SimulatedTask | undefined {
    return this.currentTask;
  }

  set task(task: SimulatedTask | undefined) {
    // Tasks are immutable and only this setter writes the task area (read-only to programs, kept by
    // `kernel.clear`): the chain of the task already written is still there. Every run sets its
    // context's task, so this keeps ~10 µs of writing out of each run.
    if (task !== undefined && task === this.currentTask && this.taskAddress !== 0) return;
    this.currentTask = task;
    this.taskAddress = task === undefined ? 0 : writeTaskChain(this.kernel, task);
  }

  /** Guest address of the current task's task_struct (0 without a task). */
  get currentTaskAddress(): number {
    return this.taskAddress;
  }

  get cpu(): number {
    return this.maps?.currentCpu ?? this.ownCpu;
  }

  set cpu(cpu: number) {
    if (!Number.isInteger(cpu) || cpu < 0) throw new UsageError(`cpu ${cpu} must be a non-negative integer`);
    if (this.maps !== undefined) this.maps.currentCpu = cpu;
    this.ownCpu = cpu;
  }

  /**
   * Runs on behalf of a program context (contexts/create.ts's ProgramContext): its task becomes the
   * current task and its packet (if any) the packet the helpers work on.
   */
  useContext(context: { readonly task: SimulatedTask; readonly packet: PacketContext | undefined }): void {
    this.task = context.task;
    this.packet = context.packet;
  }

  /** Starts a run: empties printk output and the redirect decision, moves the clock by runStepNs. */
  beginRun(): void {
    this.printk = [];
    this.redirect = undefined;
    this.clock.nextRun();
  }
}
