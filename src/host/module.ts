/**
 * `Module`: a program decoded and validated once, with its imports and initial data. Immutable, so one
 * module serves any number of linkers and instances (wasmtime's `Module`, PolkaVM's `Module`).
 */
import { type AssembleOptions, assemble } from '../asm/index.js';
import { knownLine, type SourceLine } from '../elf/source-line.js';
import { LoadError, UsageError } from '../errors.js';
import { decodeProgram } from '../isa/decoder.js';
import type { Program } from '../isa/instruction.js';
import { MAX_REGION_SIZE } from '../vm/memory/layout.js';
import { type ElfModuleOptions, elfModuleParts } from './elf-module.js';
import type { Engine } from './engine.js';

/** One imported function: every `call imm` (src 0) site with the same immediate. */
export interface ModuleImport {
  /** The call immediate as decoded (signed int32): a kernel helper id or a murmur3-32 name hash. */
  readonly imm: number;
  /** The same value as an unsigned 32-bit number, the form murmur3 hashes are published in. */
  readonly hash: number;
  /** pcs of the call sites, ascending. */
  readonly pcs: readonly number[];
  /** The function's name, for calls to an undefined function of an object file (`Module.fromElf`). */
  readonly name?: string;
}

/** A source position from debug info (`.BTF.ext` line info). */
export type { SourceLine };

/** What an object file adds to a module. */
interface ModuleDebug {
  readonly importNames?: ReadonlyMap<number, string>;
  readonly lines?: readonly (SourceLine | undefined)[];
}

export interface ModuleOptions {
  /** Read-only data mapped at the rodata base (0x1000_0000). */
  rodata?: Uint8Array;
  /** Initial read-write data mapped at the data base (0x2000_0000); restored by `Instance.reset()`. */
  data?: Uint8Array;
  /** Default heap size in bytes at the heap base (0x3000_0000); an instance may override it. */
  heapSize?: number;
  /** Named entry points (name → pc) accepted by `Instance.call`. */
  exports?: Readonly<Record<string, number>>;
}

export class Module {
  readonly imports: readonly ModuleImport[];
  readonly rodata: Uint8Array | undefined;
  readonly data: Uint8Array | undefined;
  readonly heapSize: number;
  readonly exports: Readonly<Record<string, number>>;
  /** Source line per pc (empty without debug info); traps are reported with `file:line`. */
  readonly lines: readonly (SourceLine | undefined)[];

  private constructor(
    readonly engine: Engine,
    readonly program: Program,
    options: ModuleOptions,
    debug: ModuleDebug = {},
  ) {
    // Copies, so later changes to the caller's buffers cannot change the module.
    this.rodata = regionBytes('rodata', options.rodata);
    this.data = regionBytes('data', options.data);
    this.heapSize = heapSizeOption(options.heapSize ?? 0, 'heapSize');
    this.exports = Object.freeze({ ...(options.exports ?? {}) });
    for (const [name, pc] of Object.entries(this.exports)) {
      if (!Number.isInteger(pc) || !((program.insnAt[pc] ?? -1) >= 0)) {
        throw new UsageError(`export "${name}" points at pc ${pc}, which is not the start of an instruction`);
      }
    }
    checkResolvable(program);
    this.imports = collectImports(program, debug.importNames);
    const lines = debug.lines ?? [];
    this.lines = Object.freeze(lines.some((l) => l !== undefined) ? [...lines] : []);
    Object.freeze(this);
  }

  /**
   * Links a clang object file (`clang -target bpf -O2 -g`): every non-static function of any section
   * is an export (also under its section name), `options.entry` is pc 0, calls to undefined functions
   * (`extern long get(...)`) are imports the Linker resolves by name, `.rodata*` is the read-only data
   * region and `.data*`/`.bss*` the read-write one, and traps carry `file:line` from the line info.
   */
  static fromElf(
    engine: Engine,
    bytes: Uint8Array,
    options: ElfModuleOptions & Pick<ModuleOptions, 'heapSize'> = {},
  ): Module {
    if (!(bytes instanceof Uint8Array))
      throw new UsageError('Module.fromElf takes the object file as a Uint8Array');
    const parts = elfModuleParts(bytes, options);
    return new Module(
      engine,
      // Exports are C functions: function starts for the structure checks and the JIT's entries.
      decodeProgram(parts.bytes, { section: parts.name, entries: Object.values(parts.exports) }),
      { rodata: parts.rodata, data: parts.data, heapSize: options.heapSize, exports: parts.exports },
      { importNames: parts.importNames, lines: parts.lines },
    );
  }

  /** Source line of `pc`, when the module came from an object file with line info. */
  lineAt(pc: number): SourceLine | undefined {
    return knownLine(this.lines[pc]);
  }

  /** Decodes raw instructions (8 bytes each, little-endian). */
  static fromBytes(engine: Engine, insns: Uint8Array, options: ModuleOptions = {}): Module {
    return new Module(engine, decodeProgram(insns), options);
  }

  /** Assembles uBPF or LLVM syntax (see `assemble`). */
  static fromAsm(engine: Engine, text: string, options: ModuleOptions & AssembleOptions = {}): Module {
    const { syntax, file, ...rest } = options;
    return Module.fromBytes(engine, assemble(text, { syntax, file }), rest);
  }

  /** pc of an entry point given by name or pc; UsageError naming the exports otherwise. */
  entryPc(entry: number | string | undefined): number {
    if (entry === undefined) return 0;
    if (typeof entry === 'number') return entry;
    const pc = Object.hasOwn(this.exports, entry) ? this.exports[entry] : undefined;
    if (pc === undefined) {
      const names = Object.keys(this.exports);
      throw new UsageError(
        `the module exports no "${entry}" (exports: ${names.length === 0 ? 'none' : names.join(', ')})`,
      );
    }
    return pc;
  }
}

function regionBytes(name: string, bytes: Uint8Array | undefined): Uint8Array | undefined {
  if (bytes === undefined) return undefined;
  if (!(bytes instanceof Uint8Array)) throw new UsageError(`module option "${name}" must be a Uint8Array`);
  if (bytes.length > MAX_REGION_SIZE) {
    throw new UsageError(
      `module option "${name}" has ${bytes.length} bytes; a region holds at most ${MAX_REGION_SIZE}`,
    );
  }
  return bytes.slice();
}

/** Validates a heap size option (a non-negative integer that fits a region). */
export function heapSizeOption(size: number, name: string): number {
  if (!Number.isSafeInteger(size) || size < 0 || size > MAX_REGION_SIZE) {
    throw new UsageError(`"${name}" must be an integer in 0..${MAX_REGION_SIZE}, not ${String(size)}`);
  }
  return size;
}

/**
 * A module from raw instructions has no maps, globals or BTF: only plain and code-address lddw load,
 * and kfunc calls (by BTF id) cannot be linked. Checked here so a bad module fails at creation.
 */
function checkResolvable(program: Program): void {
  for (const insn of program.insns) {
    if (insn.kind === 'call' && insn.op === 'kfunc') {
      throw new LoadError(
        'UNKNOWN_HELPER',
        `call to kfunc (BTF id ${insn.imm}) at pc ${insn.pc}: modules link host functions by helper id or name hash`,
        { pc: insn.pc },
      );
    }
    if (insn.kind === 'lddw' && insn.source !== 'imm64' && insn.source !== 'code_addr') {
      throw new LoadError(
        'INVALID_LDDW',
        `lddw at pc ${insn.pc} refers to a ${insn.source.replace('_', ' ')}, which a module without an object file cannot resolve`,
        { pc: insn.pc },
      );
    }
  }
}

function collectImports(program: Program, names?: ReadonlyMap<number, string>): readonly ModuleImport[] {
  const sites = new Map<number, number[]>();
  for (const insn of program.insns) {
    if (insn.kind !== 'call' || insn.op !== 'helper') continue;
    const pcs = sites.get(insn.imm);
    if (pcs) pcs.push(insn.pc);
    else sites.set(insn.imm, [insn.pc]);
  }
  return Object.freeze(
    [...sites].map(([imm, pcs]) => {
      const name = names?.get(imm);
      return Object.freeze({
        imm,
        hash: imm >>> 0,
        pcs: Object.freeze(pcs),
        ...(name === undefined ? {} : { name }),
      });
    }),
  );
}
