/**
 * The deterministic clock behind bpf_ktime_get_*_ns. Time only moves when it is read or when a run
 * begins: every reading returns the current time and then advances it by `stepNs`, and
 * `KernelRuntime.beginRun` advances it by `runStepNs`. So two readings in one program differ by
 * exactly `stepNs`, and the same program on the same configuration always sees the same times.
 */
import { UsageError } from '../../errors.js';

export interface ClockOptions {
  /** CLOCK_MONOTONIC at the first reading (default 1 s after boot). */
  startNs?: bigint;
  /** Advance per reading (default 1000 ns). */
  stepNs?: bigint;
  /** Advance at the start of each run (default 1 ms), so consecutive runs are distinct events. */
  runStepNs?: bigint;
  /** Time spent suspended: CLOCK_BOOTTIME − CLOCK_MONOTONIC (default 0). */
  suspendedNs?: bigint;
  /** Tick length of the coarse clock (default 4 ms, a kernel with HZ=250). */
  coarseResolutionNs?: bigint;
}

export class SimulatedClock {
  /** CLOCK_MONOTONIC of the next reading. */
  now: bigint;
  readonly stepNs: bigint;
  readonly runStepNs: bigint;
  readonly suspendedNs: bigint;
  readonly coarseResolutionNs: bigint;

  constructor(options: ClockOptions = {}) {
    this.now = options.startNs ?? 1_000_000_000n;
    this.stepNs = options.stepNs ?? 1000n;
    this.runStepNs = options.runStepNs ?? 1_000_000n;
    this.suspendedNs = options.suspendedNs ?? 0n;
    this.coarseResolutionNs = options.coarseResolutionNs ?? 4_000_000n;
    for (const [name, v] of Object.entries({
      startNs: this.now,
      stepNs: this.stepNs,
      runStepNs: this.runStepNs,
      suspendedNs: this.suspendedNs,
    })) {
      if (v < 0n || v >= 1n << 63n) throw new UsageError(`clock ${name} ${v} must be in 0..2^63-1`);
    }
    if (this.coarseResolutionNs <= 0n) {
      throw new UsageError(`clock coarseResolutionNs ${this.coarseResolutionNs} must be positive`);
    }
  }

  private tick(): bigint {
    const t = this.now;
    this.now += this.stepNs;
    return t;
  }

  /** bpf_ktime_get_ns: CLOCK_MONOTONIC, which stops while the system is suspended. */
  monotonic(): bigint {
    return this.tick();
  }

  /** bpf_ktime_get_boot_ns: CLOCK_BOOTTIME, which counts suspended time too. */
  boot(): bigint {
    return this.tick() + this.suspendedNs;
  }

  /** bpf_ktime_get_coarse_ns: CLOCK_MONOTONIC_COARSE, the monotonic time of the last tick. */
  coarse(): bigint {
    const t = this.tick();
    return t - (t % this.coarseResolutionNs);
  }

  /** Moves to the next run (called by KernelRuntime.beginRun). */
  nextRun(): void {
    this.now += this.runStepNs;
  }
}
