/** bpfbox public library API. */

export {
  type AsmSyntax,
  type AssembleOptions,
  assemble,
  type DisassembleOptions,
  disassemble,
  formatInsn,
} from './asm/index.js';
export {
  type LinkedFunction,
  type LinkedProgram,
  linkObject,
  linkProgram,
} from './elf/linker.js';
export {
  type BpfFunction,
  type BpfObject,
  type BpfProgramDef,
  type BtfMap,
  buildObject,
  type DataSymbol,
  type InternalMap,
  type LegacyMap,
  loadObject,
  type ObjectMap,
  type ProgramType,
  parseSectionName,
  type SectionSpec,
  type TracingAttachKind,
} from './elf/object.js';
export {
  type ElfFile,
  type ElfRelocation,
  type ElfRelocationSection,
  type ElfSection,
  type ElfSymbol,
  readElf,
} from './elf/reader.js';
export * from './errors.js';
export { type DecodeOptions, decodeProgram } from './isa/decoder.js';
export { encodeProgram, type RawInsn } from './isa/encoder.js';
export type * from './isa/instruction.js';
export { insnAtPc } from './isa/instruction.js';
export {
  type HelperContext,
  type HelperDefinition,
  type HelperFunction,
  HelperRegistry,
} from './vm/helpers.js';
export {
  codeAddress,
  DEFAULT_MAX_INSTRUCTIONS,
  Interpreter,
  type InterpreterOptions,
  type RunOptions,
  type RunResult,
} from './vm/interpreter/interpreter.js';
export { createMachine, type Machine, type MachineOptions, runProgram } from './vm/machine.js';
export { GuestMemory, type GuestMemoryOptions, type Region } from './vm/memory/guest-memory.js';
export { PERM_READ, PERM_WRITE, Slot, slotBase } from './vm/memory/layout.js';
