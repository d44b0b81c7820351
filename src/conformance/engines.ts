/**
 * Execution engines selectable with `--engine`: the interpreter and the WebAssembly JIT. Every caller
 * (conformance runner, `bpfbox run`, the plugin) picks them up by name.
 */
import { UsageError } from '../errors.js';
import { createJitMachine } from '../jit/engine.js';
import type { HelperRegistry } from '../vm/helpers.js';
import type { RunResult } from '../vm/interpreter/interpreter.js';
import { createMachine } from '../vm/machine.js';

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
  /** Decodes, links and runs once with the conformance calling convention. Throws BpfError. */
  run(program: Uint8Array, options: EngineRunOptions): RunResult;
}

const interp: Engine = {
  name: 'interp',
  jit: false,
  run: (program, options) => createMachine(program, options).run({ gasLimit: options.gasLimit }),
};

const jit: Engine = {
  name: 'jit',
  jit: true,
  run: (program, options) => createJitMachine(program, options).run({ gasLimit: options.gasLimit }),
};

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
