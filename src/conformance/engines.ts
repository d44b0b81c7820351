/**
 * Execution engines selectable with `--engine`: the interpreter and the WebAssembly JIT. Every caller
 * (conformance runner, `bpfbox run`, the plugin) picks them up by name.
 */
import { UsageError } from '../errors.js';
import { EXECUTORS } from '../executors.js';
import type { Program } from '../isa/instruction.js';
import type { HelperRegistry } from '../vm/helpers.js';
import type { InterpreterOptions, RunResult } from '../vm/interpreter/interpreter.js';
import { createExecutorMachine, type MachineExecutor } from '../vm/machine.js';

export interface EngineRunOptions {
  /** Input bytes: r1 points at a writable copy, r2 holds the length. */
  mem?: Uint8Array;
  helpers?: HelperRegistry;
  maxInstructions?: number;
  /** Gas limit (default: unlimited; gas is counted either way). */
  gasLimit?: number;
}

export interface Engine {
  readonly name: string;
  /** True for engines that compile: uBPF's `-- no jit` tests are skipped on them. */
  readonly jit: boolean;
  /** Builds the engine's executor for a decoded program on a prepared memory. */
  build(program: Program, options: InterpreterOptions): MachineExecutor;
  /** Decodes, links and runs once with the conformance calling convention. Throws BpfError. */
  run(program: Uint8Array, options: EngineRunOptions): RunResult;
}

function engine(name: string, jit: boolean, build: Engine['build']): Engine {
  return {
    name,
    jit,
    build,
    run: (program, options) =>
      createExecutorMachine(program, options, build).run({ gasLimit: options.gasLimit }),
  };
}

const interp = engine('interp', false, EXECUTORS.interp);
const jit = engine('jit', true, EXECUTORS.jit);

const ENGINES: ReadonlyMap<string, Engine> = new Map([
  [interp.name, interp],
  [jit.name, jit],
]);

export const ENGINE_NAMES: readonly string[] = [...ENGINES.keys()];
export const DEFAULT_ENGINE = 'interp';

/** The engine called `name`; UsageError listing the available ones otherwise. */
export function getEngine(name: string): Engine {
  const engine = ENGINES.get(name);
  if (!engine) {
    throw new UsageError(`unknown engine "${name}" (available: ${ENGINE_NAMES.join(', ')})`);
  }
  return engine;
}
