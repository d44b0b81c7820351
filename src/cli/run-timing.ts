/**
 * `bpfbox run --repeat N`: the JIT issue's timing contract. The executor is built once and timed
 * apart (`compile_ns`: lowering for the interpreter, code generation and WebAssembly compilation for
 * the JIT); each of the N runs is timed alone with process.hrtime.bigint and the median reported
 * (`ns_per_run_median`), so one slow run (GC, tier-up) does not skew it.
 */
import type { Engine, EngineRunOptions } from '../conformance/engines.js';
import { Trap, UsageError } from '../errors.js';
import { median } from '../util/median.js';
import type { RunResult } from '../vm/interpreter/interpreter.js';
import { createExecutorMachine } from '../vm/machine.js';

/** The two fields `--repeat` adds to `--json` output. */
export interface RunTiming {
  readonly ns_per_run_median: number;
  readonly compile_ns: number;
}

/** A raw program ready to run repeatedly with the conformance convention, and its build time. */
export interface PreparedProgram {
  readonly compileNs: number;
  /** Restores the input bytes and runs once. */
  run(): RunResult;
}

/**
 * Decodes `code` and builds `engine`'s executor on a fresh memory (r1 = a writable copy of
 * `options.mem` in the input region, r2 = its length), timing only the executor.
 */
export function prepareProgram(engine: Engine, code: Uint8Array, options: EngineRunOptions): PreparedProgram {
  let compileNs = 0;
  const machine = createExecutorMachine(code, options, (program, executorOptions) => {
    const t0 = process.hrtime.bigint();
    const executor = engine.build(program, executorOptions);
    compileNs = Number(process.hrtime.bigint() - t0);
    return executor;
  });
  return { compileNs, run: () => machine.run({ gasLimit: options.gasLimit }) };
}

/**
 * Calls `run(i)` for i = 1..`count`, each timed alone: the last result and the median time. A trap
 * names its run when there are several.
 */
export function timedRuns<T>(count: number, run: (i: number) => T): { last: T; medianNs: number } {
  if (!Number.isSafeInteger(count) || count < 1) throw new UsageError('--repeat must be at least 1');
  const times: number[] = [];
  let last: T | undefined;
  for (let i = 1; i <= count; i++) {
    const t0 = process.hrtime.bigint();
    try {
      last = run(i);
    } catch (e) {
      if (e instanceof Trap && count > 1) e.message += ` (run ${i} of ${count})`;
      throw e;
    }
    times.push(Number(process.hrtime.bigint() - t0));
  }
  return { last: last as T, medianNs: median(times) };
}

/** The human-readable form of the timing line. */
export function timingText(runs: number, timing: RunTiming): string {
  return `timing: ${timing.ns_per_run_median} ns per run (median of ${runs}), executor built in ${timing.compile_ns} ns`;
}
