/**
 * One-call execution of a raw program with the bpf_conformance calling convention: r1 = pointer to a
 * writable copy of `mem` in the input region (0 when there is no mem), r2 = its length, r10 = top of
 * the stack. Used by the CLI, the conformance runner, the demo and the benchmarks.
 */
import { decodeProgram } from '../isa/decoder.js';
import type { Program } from '../isa/instruction.js';
import type { GasCostTable } from './gas.js';
import type { HelperRegistry } from './helpers.js';
import {
  DEFAULT_MAX_INSTRUCTIONS,
  Interpreter,
  type InterpreterOptions,
  type RunOptions,
  type RunResult,
} from './interpreter/interpreter.js';
import { GuestMemory } from './memory/guest-memory.js';
import {
  DEFAULT_FRAME_SIZE,
  DEFAULT_MAX_FRAMES,
  PERM_READ,
  PERM_WRITE,
  type Permissions,
  Slot,
} from './memory/layout.js';

export interface MachineOptions {
  /** Input bytes copied into the writable input region. */
  mem?: Uint8Array;
  helpers?: HelperRegistry;
  maxInstructions?: number;
  frameSize?: number;
  maxFrames?: number;
  gasCosts?: GasCostTable;
}

/** An engine's program bound to a memory: the Interpreter, or the JIT's JitProgram. */
export interface MachineExecutor {
  run(options: RunOptions): RunResult;
}

/** A program on its memory with the conformance convention, on the executor `E`. */
export interface ExecutorMachine<E extends MachineExecutor> {
  readonly program: Program;
  readonly memory: GuestMemory;
  readonly executor: E;
  /** r1..r2 for the conformance convention. */
  readonly args: readonly bigint[];
  /** Restores the input bytes and runs once (optionally metered with a gas limit). */
  run(options?: { gasLimit?: number }): RunResult;
}

export interface Machine extends ExecutorMachine<Interpreter> {
  readonly interpreter: Interpreter;
}

/**
 * Decodes (if needed), maps memory and builds the executor once with `build` (so every engine gets
 * the same memory set-up); `run()` may then be called many times.
 */
export function createExecutorMachine<E extends MachineExecutor>(
  code: Program | Uint8Array,
  options: MachineOptions,
  build: (program: Program, options: InterpreterOptions) => E,
): ExecutorMachine<E> {
  const program = code instanceof Uint8Array ? decodeProgram(code) : code;
  const memory = new GuestMemory();
  memory.mapStack(options.frameSize ?? DEFAULT_FRAME_SIZE, options.maxFrames ?? DEFAULT_MAX_FRAMES);
  const mem = options.mem;
  const input =
    mem && mem.length > 0
      ? memory.map(Slot.INPUT, 'input', mem.length, (PERM_READ | PERM_WRITE) as Permissions, mem)
      : null;
  const executor = build(program, { memory, helpers: options.helpers, gasCosts: options.gasCosts });
  const args = input ? [BigInt(input.guestBase), BigInt(input.size)] : [0n, 0n];
  const maxInstructions = options.maxInstructions ?? DEFAULT_MAX_INSTRUCTIONS;
  return {
    program,
    memory,
    executor,
    args,
    run(runOptions = {}) {
      if (input && mem) memory.u8.set(mem, input.hostBase);
      return executor.run({ args, maxInstructions, gasLimit: runOptions.gasLimit });
    },
  };
}

/** The interpreter on the conformance convention. */
export function createMachine(code: Program | Uint8Array, options: MachineOptions = {}): Machine {
  const machine = createExecutorMachine(code, options, (p, o) => new Interpreter(p, o));
  return { ...machine, interpreter: machine.executor };
}

/** Decode, link and run once. */
export function runProgram(code: Program | Uint8Array, options: MachineOptions = {}): RunResult {
  return createMachine(code, options).run();
}
