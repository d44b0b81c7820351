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
  Btf,
  type BtfAccess,
  type BtfEnumValue,
  type BtfIntEncoding,
  BtfKind,
  type BtfKindName,
  type BtfMember,
  type BtfMemberLocation,
  type BtfParam,
  type BtfType,
  type BtfTypeOf,
  type BtfVarSecinfo,
  parseBtf,
} from './elf/btf.js';
export {
  type BtfCoreRelo,
  BtfExt,
  type BtfExtSection,
  type BtfFuncInfo,
  type BtfLineInfo,
  CoreReloKind,
  type CoreReloKindName,
  parseBtfExt,
} from './elf/btf-ext.js';
export {
  type BtfDefinedMap,
  type DecodeBtfMapsOptions,
  decodeBtfMaps,
  type MapPinning,
} from './elf/btf-maps.js';
export { type BtfValue, type BtfValueInput, decodeBtfValue, encodeBtfValue } from './elf/btf-value.js';
export {
  type ExternalCall,
  type LinkedCode,
  type LinkedFunction,
  type LinkedProgram,
  type LinkOptions,
  linkFunctions,
  linkObject,
  linkProgram,
} from './elf/linker.js';
export {
  type BpfFunction,
  type BpfObject,
  type BpfProgramDef,
  type BtfMap,
  type BuildOptions,
  buildObject,
  type DataSymbol,
  findVariable,
  type InternalMap,
  type LegacyMap,
  loadObject,
  type MapInitializer,
  type ObjectMap,
  type ProgramType,
  parseSectionName,
  type SectionSpec,
  setVariable,
  type TracingAttachKind,
} from './elf/object.js';
export {
  OpenObject,
  type OpenOptions,
  type ProgramSummary,
  type RunnableCode,
  type RunnableProgram,
} from './elf/open.js';
export {
  type ElfFile,
  type ElfRelocation,
  type ElfRelocationSection,
  type ElfSection,
  type ElfSymbol,
  readElf,
} from './elf/reader.js';
export * from './errors.js';
export { BumpAllocator, HEAP_ALIGN } from './host/allocator.js';
export type { ElfModuleOptions } from './host/elf-module.js';
export { ENGINE_KINDS, Engine, type EngineConfig, type EngineKind } from './host/engine.js';
export { type CallOptions, type CallResult, Instance, type InstantiateOptions } from './host/instance.js';
export { InstancePre } from './host/instance-pre.js';
export {
  type DefineOptions,
  type HostCallContext,
  type HostDefinition,
  type HostFunction,
  type HostResult,
  Linker,
} from './host/linker.js';
export { type InstanceLayout, InstanceMemory, type RegionInfo } from './host/memory.js';
export { Module, type ModuleImport, type ModuleOptions, type SourceLine } from './host/module.js';
export { murmur3_32, syscallImm } from './host/murmur3.js';
export { type DecodeOptions, decodeProgram } from './isa/decoder.js';
export { encodeProgram, type RawInsn } from './isa/encoder.js';
export { FORM_COUNT, FORMS, type Form, formOf } from './isa/forms.js';
export type * from './isa/instruction.js';
export { insnAtPc } from './isa/instruction.js';
export {
  type CompileStats,
  createJitMachine,
  type JitMachineOptions,
  type JitOptions,
  JitProgram,
} from './jit/engine.js';
export {
  type ContextResult,
  type ContextResultJson,
  contextResultJson,
  type ProgramContext,
} from './runtime/contexts/index.js';
export {
  KernelHelperId,
  KernelRuntime,
  type KernelRuntimeOptions,
  type RedirectTarget,
  registerKernelHelpers,
} from './runtime/helpers/index.js';
export { registerMapHelpers } from './runtime/helpers/maps.js';
export {
  LoadedObject,
  type LoadedProgram,
  type LoadOptions,
  loadBpfObject,
  type ObjectEngine,
  type ObjectExecutor,
  type ProgramRun,
  type RunOptions as ObjectRunOptions,
} from './runtime/loader.js';
export {
  ArrayMap,
  ArrayOfMaps,
  BpfMap,
  createMaps,
  HashMap,
  HashOfMaps,
  LpmTrie,
  type MapDefinition,
  type MapEntry,
  MapSet,
  MapType,
  type MapTypeName,
  PerfEventArray,
  type PerfRecord,
  ProgArray,
  QueueStackMap,
  RingBuf,
} from './runtime/maps/index.js';
export { TypedMap, type TypedMapEntry, type TypedMapInput } from './runtime/maps/typed-map.js';
export {
  DEFAULT_MAX_INSNS as VERIFIER_MAX_INSNS,
  formatDiagnostic,
  type ProgramTypeSpec,
  resultJson as verifyResultJson,
  VerifierError,
  type VerifierErrorCode,
  type VerifyOptions,
  type VerifyResult,
  type VerifyStats,
  verifyProgram,
  verifyRaw,
} from './verifier/index.js';
export type { GasClass, GasCostTable } from './vm/gas.js';
export {
  type DirectHelper,
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
  type TraceStep,
} from './vm/interpreter/interpreter.js';
export { INTERRUPT_POLL_INSTRUCTIONS, InterruptSignal } from './vm/interrupt.js';
export {
  createExecutorMachine,
  createMachine,
  type ExecutorMachine,
  type Machine,
  type MachineExecutor,
  type MachineOptions,
  runProgram,
} from './vm/machine.js';
export { GuestMemory, type GuestMemoryOptions, type Region } from './vm/memory/guest-memory.js';
export { PERM_READ, PERM_WRITE, Slot, slotBase } from './vm/memory/layout.js';
