/**
 * The execution engines, by name: the interpreter and the WebAssembly JIT take the same options and
 * give the same results and traps. Every place that lets a user pick an engine (the embedding API's
 * `Engine`, `--engine` of the CLI and the conformance runner, `LoadOptions.engine`) builds through
 * this one table, so a new engine is added here only.
 */
import type { Program } from './isa/instruction.js';
import { JitProgram } from './jit/engine.js';
import { Interpreter, type InterpreterOptions } from './vm/interpreter/interpreter.js';

export const EXECUTORS = {
  interp: (program: Program, options: InterpreterOptions): Interpreter => new Interpreter(program, options),
  jit: (program: Program, options: InterpreterOptions): JitProgram => new JitProgram(program, options),
} as const;

export type ExecutorKind = keyof typeof EXECUTORS;
export const EXECUTOR_KINDS = Object.keys(EXECUTORS) as readonly ExecutorKind[];
/** What runs one program: the interpreter or its compiled WebAssembly module. */
export type AnyExecutor = ReturnType<(typeof EXECUTORS)[ExecutorKind]>;

export function isExecutorKind(kind: unknown): kind is ExecutorKind {
  return typeof kind === 'string' && Object.hasOwn(EXECUTORS, kind);
}
