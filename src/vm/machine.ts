/**
 * One-call execution of a raw program with the bpf_conformance calling convention: r1 = pointer to a
 * writable copy of `mem` in the input region (0 when there is no mem), r2 = its length, r10 = top of
 * the stack. Used by the CLI, the conformance runner, the demo and the benchmarks.
 */
import { decodeProgram } from '../isa/decoder.js';
import type { Program } from '../isa/instruction.js';
import type { HelperRegistry } from './helpers.js';
import { DEFAULT_MAX_INSTRUCTIONS, Interpreter, type RunResult } from './interpreter/interpreter.js';
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
}

export interface Machine {
  readonly program: Program;
  readonly memory: GuestMemory;
  readonly interpreter: Interpreter;
  /** r1..r2 for the conformance convention. */
  readonly args: readonly bigint[];
  /** Restores the input bytes and runs once (optionally metered with a gas limit). */
  run(options?: { gasLimit?: number }): RunResult;
}

/** Decodes (if needed), maps memory and links helpers once; `run()` may then be called many times. */
export function createMachine(code: Program | Uint8Array, options: MachineOptions = {}): Machine {
  const program = code instanceof Uint8Array ? decodeProgram(code) : code;
  const memory = new GuestMemory();
  memory.mapStack(options.frameSize ?? DEFAULT_FRAME_SIZE, options.maxFrames ?? DEFAULT_MAX_FRAMES);
  const mem = options.mem;
  const input =
    mem && mem.length > 0
      ? memory.map(Slot.INPUT, 'input', mem.length, (PERM_READ | PERM_WRITE) as Permissions, mem)
      : null;
  const interpreter = new Interpreter(program, { memory, helpers: options.helpers });
  const args = input ? [BigInt(input.guestBase), BigInt(input.size)] : [0n, 0n];
  const maxInstructions = options.maxInstructions ?? DEFAULT_MAX_INSTRUCTIONS;
  return {
    program,
    memory,
    interpreter,
    args,
    run(runOptions = {}) {
      if (input && mem) memory.u8.set(mem, input.hostBase);
      return interpreter.run({ args, maxInstructions, gasLimit: runOptions.gasLimit });
    },
  };
}

/** Decode, link and run once. */
export function runProgram(code: Program | Uint8Array, options: MachineOptions = {}): RunResult {
  return createMachine(code, options).run();
}
