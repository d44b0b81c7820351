/**
 * What every command shares: the output streams, exit codes, error reporting and loading a program
 * from a `.s` / `.asm`, `.bin` or `.data` file.
 *
 * Exit codes: 0 success; 1 the program was rejected or trapped, or a test failed; 2 the command could
 * not be set up (flags, engine, unreadable file, bad hex, unknown file type); 70 internal error (a bug).
 */
import { extname } from 'node:path';
import { type AsmSyntax, assemble } from '../asm/index.js';
import { loadDataFile } from '../conformance/data-file.js';
import { BpfError, FormatError, IoError, UsageError } from '../errors.js';
import { readBytes, readText } from '../util/files.js';
import { parseHexBytes } from '../util/hex.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** EX_SOFTWARE from sysexits.h. */
export const EXIT_INTERNAL = 70;

/** Output of a command run; the default writes to the process streams. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  readStdin(): Promise<string>;
  /** Whether stderr is a terminal (progress bars are drawn only then). */
  readonly stderrIsTTY: boolean;
  readonly stderr: NodeJS.WritableStream;
  /** Exit status the command asks for when it does not throw. */
  exitCode: number;
}

export function processIo(): CliIo {
  return {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    stderrIsTTY: process.stderr.isTTY === true,
    stderr: process.stderr,
    exitCode: EXIT_OK,
  };
}

/** Errors that mean "the command was called wrongly", as opposed to "the program is wrong". */
export function isSetupError(e: unknown): boolean {
  return e instanceof UsageError || e instanceof IoError || e instanceof FormatError;
}

/** Exit status for a thrown value. */
export function exitCodeFor(e: unknown): number {
  if (!(e instanceof BpfError)) return EXIT_INTERNAL;
  return isSetupError(e) ? EXIT_USAGE : EXIT_FAILURE;
}

/** Collapses a message onto one line (commander's suggestions come on a second line). */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** Prints an error the way every command does and returns the exit status. Never prints a stack. */
export function reportError(e: unknown, io: CliIo): number {
  if (e instanceof BpfError) {
    io.err(`error[${e.code}]: ${oneLine(e.message)}`);
    if (e.hint !== undefined && !isSetupError(e)) io.err(`  hint: ${oneLine(e.hint)}`);
  } else {
    io.err(`internal error: ${oneLine(e instanceof Error ? e.message : String(e))}`);
  }
  return exitCodeFor(e);
}

export type InputKind = 'asm' | 'bin' | 'data';

export interface ProgramInput {
  kind: InputKind;
  program: Uint8Array;
  /** `-- mem` of a `.data` file. */
  mem?: Uint8Array;
}

/** Input kind from the file extension; FormatError FILE_TYPE for anything else. */
export function inputKind(path: string): InputKind {
  switch (extname(path).toLowerCase()) {
    case '.s':
    case '.asm':
      return 'asm';
    case '.bin':
      return 'bin';
    case '.data':
      return 'data';
    default:
      throw new FormatError(
        'FILE_TYPE',
        `cannot tell what ${path} contains: use .s or .asm (assembly), .bin (raw instructions) or .data (conformance test)`,
        { file: path },
      );
  }
}

/** Reads a program from assembly (syntax auto-detected unless given), raw bytes or a `.data` file. */
export function loadProgramInput(path: string, syntax: AsmSyntax | 'auto' = 'auto'): ProgramInput {
  const kind = inputKind(path);
  if (kind === 'bin') return { kind, program: readBytes(path) };
  if (kind === 'asm') return { kind, program: assemble(readText(path), { syntax, file: path }) };
  const test = loadDataFile(path);
  if (test.programSource === 'none') {
    throw new FormatError('DATA_FORMAT', `${path} has no -- asm or -- raw program`, { file: path });
  }
  return { kind, program: test.program, mem: test.mem };
}

/** Input bytes from `--mem HEX` or `--mem-file F`, or undefined when neither was given. */
export function memFromFlags(flags: { mem?: string; memFile?: string }): Uint8Array | undefined {
  if (flags.mem !== undefined) return parseHexBytes(flags.mem, { file: '--mem' });
  return flags.memFile !== undefined ? readBytes(flags.memFile) : undefined;
}

/** Parses a positive integer option value; UsageError otherwise. */
export function parsePositiveInt(value: string, what: string): number {
  if (!/^[0-9]+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`${what} must be a positive integer, not "${value}"`);
  }
  return Number(value);
}

/** Parses a non-negative integer option value (0 allowed, e.g. a gas limit); UsageError otherwise. */
export function parseNonNegativeInt(value: string, what: string): number {
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`${what} must be a non-negative integer, not "${value}"`);
  }
  return Number(value);
}
