/**
 * The one error hierarchy of bpfbox. Every failure a user can cause — malformed bytes, bad assembly,
 * guest faults, exhausted budgets, wrong flags — is a `BpfError` with a stable UPPER_SNAKE `code`,
 * the location it concerns (pc, section, byte offset, line/column) and a sentence a person can act on.
 */

/** Where an error happened. Every field is optional because not every error has every kind of place. */
export interface ErrorLocation {
  /** Instruction slot index (8-byte units from the start of the program or section). */
  pc?: number;
  /** ELF section or program name. */
  section?: string;
  /** Byte offset inside the file or section. */
  offset?: number;
  /** Source file, 1-based line and column (assembly, data files, debug info). */
  file?: string;
  line?: number;
  column?: number;
}

/** JSON shape of an error, as printed by `--json` outputs. */
export interface BpfErrorJson extends ErrorLocation {
  code: string;
  message: string;
  hint?: string;
  [extra: string]: unknown;
}

export abstract class BpfError extends Error implements ErrorLocation {
  abstract readonly code: string;
  pc?: number;
  section?: string;
  offset?: number;
  file?: string;
  line?: number;
  column?: number;
  /** A suggestion that names the fix, when one is known. */
  hint?: string;

  constructor(message: string, location: ErrorLocation = {}, options?: { cause?: unknown; hint?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    Object.assign(this, stripUndefined(location));
    if (options?.hint !== undefined) this.hint = options.hint;
  }

  /** Fields added to the JSON form beyond code/message/location (subclasses extend this). */
  protected details(): Record<string, unknown> {
    return {};
  }

  toJSON(): BpfErrorJson {
    const location: ErrorLocation = stripUndefined({
      pc: this.pc,
      section: this.section,
      offset: this.offset,
      file: this.file,
      line: this.line,
      column: this.column,
    });
    return {
      code: this.code,
      message: this.message,
      ...location,
      ...(this.hint === undefined ? {} : { hint: this.hint }),
      ...this.details(),
    };
  }
}

function stripUndefined<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

/** Codes of errors found while decoding or validating a program, before anything runs. */
export type LoadErrorCode =
  | 'EMPTY_PROGRAM'
  | 'PROGRAM_TOO_LARGE'
  | 'TRUNCATED_PROGRAM'
  | 'TRUNCATED_LDDW'
  | 'UNKNOWN_OPCODE'
  | 'INVALID_REGISTER'
  | 'INVALID_FIELD'
  | 'INVALID_LDDW'
  | 'JUMP_OUT_OF_RANGE'
  | 'JUMP_INTO_LDDW'
  | 'JUMP_OUT_OF_SUBPROGRAM'
  | 'UNKNOWN_HELPER'
  | 'WRITE_TO_R10'
  | 'NO_EXIT'
  // Object files (ELF, BTF).
  | 'BAD_ELF'
  | 'UNSUPPORTED_ELF'
  | 'BAD_RELOCATION'
  | 'MISSING_SYMBOL'
  | 'BAD_BTF';

/** The program bytes are not a valid eBPF program. */
export class LoadError extends BpfError {
  constructor(
    readonly code: LoadErrorCode,
    message: string,
    location: ErrorLocation = {},
    options?: { hint?: string; opcode?: number },
  ) {
    super(message, location, options);
    this.opcode = options?.opcode;
  }
  readonly opcode?: number;
  protected override details(): Record<string, unknown> {
    return this.opcode === undefined ? {} : { opcode: this.opcode };
  }
}

/** Assembly text could not be parsed; line/column point at the offending token. */
export class AsmError extends BpfError {
  readonly code = 'ASM_SYNTAX';
  constructor(
    message: string,
    location: ErrorLocation & { line: number; column: number },
    readonly expected?: string,
  ) {
    super(message, location);
  }
  protected override details(): Record<string, unknown> {
    return this.expected === undefined ? {} : { expected: this.expected };
  }
}

/** Imports of a module (host functions by name, hash or helper id) that a linker cannot resolve. */
export class LinkError extends BpfError {
  readonly code = 'LINK_ERROR';
  constructor(
    /** Every unresolved import, e.g. `get (murmur3 0x1b2c3d4e) at pc 12`. */
    readonly missing: readonly string[],
    location: ErrorLocation = {},
  ) {
    super(
      `${missing.length} unresolved import${missing.length === 1 ? '' : 's'}: ${missing.join('; ')}`,
      location,
      {
        hint: 'define each missing function on the Linker before instantiating',
      },
    );
  }
  protected override details(): Record<string, unknown> {
    return { missing: this.missing };
  }
}

/** A container file (conformance `.data`, later ELF) is malformed. */
export class FormatError extends BpfError {
  constructor(
    readonly code: 'DATA_FORMAT' | 'BAD_HEX' | 'FILE_TYPE',
    message: string,
    location: ErrorLocation = {},
  ) {
    super(message, location);
  }
}

/** The API or the CLI was called with arguments that make no sense. */
export class UsageError extends BpfError {
  readonly code = 'USAGE';
}

/** A file could not be read. */
export class IoError extends BpfError {
  readonly code = 'IO';
}

/**
 * A trap stops a running guest. It always carries the pc of the instruction that trapped and the number
 * of instructions executed until then (including the trapping one).
 */
export abstract class Trap extends BpfError {
  declare pc: number;
  instructions = 0;
  /** Gas used until the trap (0 when the run was not metered). */
  gasUsed = 0;
  protected override details(): Record<string, unknown> {
    return { instructions: this.instructions };
  }
}

export type AccessKind = 'read' | 'write';

/** A guest memory access outside every region or against the region's permission. */
export class MemoryFault extends Trap {
  readonly code = 'MEMORY_FAULT';
  constructor(
    readonly address: bigint,
    readonly size: number,
    readonly access: AccessKind,
    /** Human description of the closest region, e.g. `stack [0x50000000, 0x50001200) rw`. */
    readonly nearestRegion: string,
    pc: number,
    reason: string,
  ) {
    super(
      `${access} of ${size} byte${size === 1 ? '' : 's'} at 0x${address.toString(16)} at pc ${pc}: ${reason}; nearest region: ${nearestRegion}`,
      { pc },
    );
  }
  protected override details(): Record<string, unknown> {
    return {
      ...super.details(),
      address: `0x${this.address.toString(16)}`,
      size: this.size,
      access: this.access,
      region: this.nearestRegion,
    };
  }
}

/** The instruction budget ran out: usually an infinite loop. */
export class InstructionLimit extends Trap {
  readonly code = 'INSTRUCTION_LIMIT';
  constructor(
    readonly limit: number,
    pc: number,
  ) {
    super(
      `instruction limit of ${limit} reached at pc ${pc}; the program may loop forever`,
      { pc },
      {
        hint: 'raise the budget with --max-insns (or maxInstructions) if the program is meant to run this long',
      },
    );
  }
}

/** The gas limit cannot pay for the instruction at `pc` (or for a helper's own cost at a call). */
export class OutOfGas extends Trap {
  readonly code = 'OUT_OF_GAS';
  constructor(
    readonly gasLimit: number,
    pc: number,
  ) {
    super(
      `out of gas at pc ${pc}: the limit of ${gasLimit} cannot pay for this instruction`,
      { pc },
      {
        hint: 'raise the gas limit, or make the program do less work',
      },
    );
  }
}

/** bpf-to-bpf calls nested deeper than the allowed depth (the kernel allows 8 frames). */
export class CallDepthExceeded extends Trap {
  readonly code = 'CALL_DEPTH_EXCEEDED';
  constructor(
    readonly maxDepth: number,
    pc: number,
  ) {
    super(`call at pc ${pc} exceeds the maximum call depth of ${maxDepth} frames (unbounded recursion?)`, {
      pc,
    });
  }
}

/** A call whose target does not exist at run time (callx to a bad value, unregistered helper). */
export class BadCallTarget extends Trap {
  readonly code = 'BAD_CALL_TARGET';
}

/** A helper (host function) threw; the original error is the `cause`. */
export class HelperError extends Trap {
  readonly code = 'HELPER_ERROR';
}

/** The embedding API's name for `HelperError` (wasmtime/PolkaVM hosts call helpers host functions). */
export const HostError = HelperError;
export type HostError = HelperError;

/**
 * The program reached an instruction whose CO-RE relocation the target kernel BTF cannot satisfy
 * (libbpf poisons it the same way; the kernel's verifier then rejects the program if it is reachable).
 */
export class CoreRelocationFailed extends Trap {
  readonly code = 'CORE_RELOCATION_FAILED';
}

/** The host interrupted the guest (`interrupt()`); it stopped at the start of a run. */
export class Interrupted extends Trap {
  readonly code = 'INTERRUPTED';
}

/** Formats the `code` of any thrown value, for callers that must survive foreign exceptions too. */
export function errorCode(e: unknown): string {
  return e instanceof BpfError ? e.code : 'INTERNAL';
}
