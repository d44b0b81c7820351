/**
 * The programs `bpfbox verify FILE` checks: every program of an object file (or the one `--program`
 * names) with its maps and line info, or one assembled / raw program as the type `--type` gives.
 * Wrong flags for the kind of file are UsageErrors (exit 2); a file that does not load is a LoadError
 * or AsmError, reported like `bpfbox run` reports it (exit 1).
 */
import { basename, extname } from 'node:path';
import { OpenObject, type RunnableProgram } from '../elf/open.js';
import { UsageError } from '../errors.js';
import { decodeProgram } from '../isa/decoder.js';
import { type VerifyOptions, type VerifyResult, verifyProgram, verifyRaw } from '../verifier/index.js';
import { isElf } from './commands/run-object.js';
import { inputKind, loadProgramInput } from './io.js';
import { parseProgramType, typeList } from './program-type.js';
import { explainCoreFailures } from './verify-core.js';

export interface VerifyFlags {
  program?: string;
  type?: string;
  allowUninitStack?: boolean;
  maxInsns?: number;
}

export interface VerifiedProgram {
  readonly name: string;
  readonly result: VerifyResult;
}

export interface VerifiedFile {
  /** An object file: results are also given per program name in JSON. */
  readonly object: boolean;
  readonly programs: readonly VerifiedProgram[];
}

/** Whether FILE is an object file: the ELF magic, or a `.o` name (so a broken one is a BAD_ELF). */
export function isObjectFile(file: string, bytes: Uint8Array): boolean {
  return isElf(bytes) || extname(file).toLowerCase() === '.o';
}

/** Checks the flags against the kind of FILE before anything is loaded (UsageError: exit 2). */
export function checkVerifyFlags(file: string, object: boolean, flags: VerifyFlags): void {
  if (object) {
    if (flags.type !== undefined) {
      throw new UsageError(
        `--type applies to .s and .bin files; the programs of ${file} take their type from SEC("…")`,
      );
    }
    return;
  }
  inputKind(file); // a FormatError for a name that says nothing about the contents
  if (flags.program !== undefined) {
    throw new UsageError(`--program applies to object files (.o) only; ${file} holds one program`);
  }
  if (flags.type === undefined) {
    throw new UsageError(
      `${file} needs --type TYPE: the program type decides what is allowed; ${typeList()}`,
    );
  }
  parseProgramType(flags.type);
}

export function verifyFile(file: string, bytes: Uint8Array, flags: VerifyFlags): VerifiedFile {
  const options: VerifyOptions = { allowUninitStack: flags.allowUninitStack, maxInsns: flags.maxInsns };
  if (isObjectFile(file, bytes)) return { object: true, programs: verifyObject(bytes, flags, options) };
  const program = decodeProgram(loadProgramInput(file).program);
  const programType = parseProgramType(flags.type ?? '');
  return {
    object: false,
    programs: [{ name: basename(file), result: verifyRaw(program, { ...options, programType }) }],
  };
}

function verifyObject(bytes: Uint8Array, flags: VerifyFlags, options: VerifyOptions): VerifiedProgram[] {
  const open = OpenObject.open(bytes);
  const names = open.programSummaries().map((p) => p.name);
  if (names.length === 0)
    throw new UsageError('the object has no programs (no executable SEC("…") sections)');
  if (flags.program !== undefined && !names.includes(flags.program)) {
    throw new UsageError(`the object has no program named ${flags.program} (programs: ${names.join(', ')})`);
  }
  const programs = open.link().filter((p) => flags.program === undefined || p.name === flags.program);
  return verifyLinkedPrograms(open, programs, options);
}

/**
 * Verifies linked programs of an opened object with its maps, explaining failed CO-RE relocations.
 * Shared by `bpfbox verify` and the check `bpfbox run OBJ.o` makes first (run-verify.ts).
 */
export function verifyLinkedPrograms(
  open: OpenObject,
  programs: readonly RunnableProgram[],
  options: VerifyOptions,
): VerifiedProgram[] {
  return programs.map((p) => ({
    name: p.name,
    result: explainCoreFailures(
      verifyProgram(p, { ...options, mapDefinitions: open.mapDefinitions }),
      p.coreFailures,
    ),
  }));
}
