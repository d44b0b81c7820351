/** bpfbox public library API. */
export * from './errors.js';
export { decodeProgram, type DecodeOptions } from './isa/decoder.js';
export { encodeProgram, type RawInsn } from './isa/encoder.js';
export type * from './isa/instruction.js';
export { insnAtPc } from './isa/instruction.js';
export {
  assemble,
  disassemble,
  formatInsn,
  type AsmSyntax,
  type AssembleOptions,
  type DisassembleOptions,
} from './asm/index.js';
export { GuestMemory, type Region, type GuestMemoryOptions } from './vm/memory/guest-memory.js';
export { Slot, PERM_READ, PERM_WRITE, slotBase } from './vm/memory/layout.js';
export {
  Interpreter,
  codeAddress,
  DEFAULT_MAX_INSTRUCTIONS,
  type RunOptions,
  type RunResult,
  type InterpreterOptions,
} from './vm/interpreter/interpreter.js';
export {
  HelperRegistry,
  type HelperContext,
  type HelperDefinition,
  type HelperFunction,
} from './vm/helpers.js';
export { createMachine, runProgram, type Machine, type MachineOptions } from './vm/machine.js';
