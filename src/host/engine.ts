/**
 * `Engine`: the shared, validated configuration every Module, Linker and Instance is created against —
 * which execution engine runs the code, whether gas is metered, and the resource limits (wasmtime's
 * `Engine` + `Config`, PolkaVM's `Engine` + `ModuleConfig`).
 */
import { UsageError } from '../errors.js';
import { EXECUTOR_KINDS, EXECUTORS, type ExecutorKind, isExecutorKind } from '../executors.js';
import type { Program } from '../isa/instruction.js';
import { type GasCostTable, gasPricer } from '../vm/gas.js';
import type { HelperRegistry } from '../vm/helpers.js';
import { DEFAULT_MAX_INSTRUCTIONS, type RunOptions, type RunResult } from '../vm/interpreter/interpreter.js';
import type { GuestMemory } from '../vm/memory/guest-memory.js';
import { DEFAULT_FRAME_SIZE, DEFAULT_MAX_FRAMES, WASM_PAGE } from '../vm/memory/layout.js';

/** What an Instance needs from an execution engine: one linked program bound to one guest memory. */
export interface Executor {
  run(options: RunOptions): RunResult;
  runAsync(options: RunOptions): Promise<RunResult>;
  interrupt(): void;
}

export interface ExecutorOptions {
  memory: GuestMemory;
  helpers: HelperRegistry;
  gasCosts: GasCostTable;
}

/** Execution engines by kind (src/executors.ts); each satisfies `Executor`. */
export type EngineKind = ExecutorKind;
export const ENGINE_KINDS = EXECUTOR_KINDS;

/** WebAssembly memories address at most 4 GiB. */
const MAX_MEMORY_BYTES = 2 ** 32;

export interface EngineConfig {
  /** Execution engine (default `interp`, the only one today). */
  kind?: EngineKind;
  /** Enforce gas limits (default true). Gas is counted either way; off, no limit applies. */
  gas?: boolean;
  /** Gas price per instruction class (default 1 per instruction; lddw counts once). */
  gasCosts?: GasCostTable;
  /** Bytes per stack frame (default 512, the kernel's MAX_BPF_STACK); a multiple of 8. */
  stackFrameSize?: number;
  /** Maximum call depth including the entry frame (default 8, the kernel's MAX_CALL_FRAMES); 1..64. */
  maxCallFrames?: number;
  /** Upper bound of one instance's linear memory in bytes (default 1 GiB); 64 KiB..4 GiB. */
  maxMemoryBytes?: number;
  /** Instruction budget per call (default 10^7). */
  maxInstructions?: number;
}

export class Engine {
  readonly kind: EngineKind;
  readonly gas: boolean;
  readonly gasCosts: Readonly<GasCostTable>;
  readonly stackFrameSize: number;
  readonly maxCallFrames: number;
  readonly maxMemoryBytes: number;
  readonly maxInstructions: number;

  constructor(config: EngineConfig = {}) {
    const kind = config.kind ?? 'interp';
    if (!isExecutorKind(kind)) {
      throw new UsageError(
        `engine kind "${String(kind)}" is not available (valid: ${ENGINE_KINDS.join(', ')})`,
      );
    }
    this.kind = kind;
    if (config.gas !== undefined && typeof config.gas !== 'boolean') {
      throw new UsageError(`engine config "gas" must be true or false, not ${String(config.gas)}`);
    }
    this.gas = config.gas ?? true;
    const gasCosts = { ...(config.gasCosts ?? {}) };
    try {
      gasPricer(gasCosts);
    } catch (e) {
      throw new UsageError(`engine config "gasCosts": ${(e as Error).message}`);
    }
    this.gasCosts = Object.freeze(gasCosts);
    this.stackFrameSize = integerField(
      'stackFrameSize',
      config.stackFrameSize,
      DEFAULT_FRAME_SIZE,
      8,
      1 << 20,
    );
    if (this.stackFrameSize % 8 !== 0) {
      throw new UsageError(
        `engine config "stackFrameSize" must be a multiple of 8, not ${this.stackFrameSize}`,
      );
    }
    this.maxCallFrames = integerField('maxCallFrames', config.maxCallFrames, DEFAULT_MAX_FRAMES, 1, 64);
    this.maxMemoryBytes = integerField(
      'maxMemoryBytes',
      config.maxMemoryBytes,
      1 << 30,
      WASM_PAGE,
      MAX_MEMORY_BYTES,
    );
    this.maxInstructions = integerField(
      'maxInstructions',
      config.maxInstructions,
      DEFAULT_MAX_INSTRUCTIONS,
      1,
      Number.MAX_SAFE_INTEGER,
    );
    Object.freeze(this);
  }

  /** @internal Binds a linked program to a memory with this engine's executor. */
  createExecutor(program: Program, options: Omit<ExecutorOptions, 'gasCosts'>): Executor {
    return EXECUTORS[this.kind](program, { ...options, gasCosts: this.gasCosts });
  }
}

function integerField(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(
      `engine config "${name}" must be an integer in ${min}..${max}, not ${String(value)}`,
    );
  }
  return value;
}
