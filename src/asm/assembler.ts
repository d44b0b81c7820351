/**
 * The assembly pipeline shared by both syntaxes: parse (syntax-specific) → resolve labels → encode →
 * decode. Decoding the result with the one decoder keeps every encoding rule in one place; its
 * `LoadError`s keep their code and gain the instruction's file, line and column. Whether the program
 * ends in exit is a loader concern, not an encoding rule, so fragments without exit assemble (uBPF's
 * encoding tests `st.data`, `alu.data` are such fragments).
 */
import { LoadError } from '../errors.js';
import { decodeProgram } from '../isa/decoder.js';
import { encodeProgram } from '../isa/encoder.js';
import { type ResolvedProgram, resolveLabels } from './labels.js';
import { asmError } from './lexer.js';
import { parseLlvmStatement } from './llvm-parser.js';
import { parseLines } from './statements.js';
import { parseUbpfStatement } from './ubpf-parser.js';

export type AsmSyntax = 'ubpf' | 'llvm';

export interface AssembleOptions {
  /** Default 'auto': decided from the text (ubpf if it uses `%r` registers). */
  syntax?: AsmSyntax | 'auto';
  /** File name used in error locations. */
  file?: string;
}

/**
 * Guesses the syntax of a text: `%` registers mean uBPF; assignments, comparisons, `<annotations>` and
 * the LLVM-only words (`if`, `goto`, `callx`, …) mean LLVM. Anything else (`exit`, `ja +1`, `call 1`)
 * reads the same in both and is taken as uBPF.
 */
export function detectSyntax(text: string): AsmSyntax {
  const code = text
    .split('\n')
    .map((l) => l.replace(/(#|\/\/|;).*$/, '').replace(/^\s*\d+:/, ''))
    .join('\n');
  if (/%[a-z]/i.test(code)) return 'ubpf';
  if (/[=<>]|\b(if|goto|gotol|callx|ld_pseudo)\b/.test(code)) return 'llvm';
  return 'ubpf';
}

/** Parses and resolves labels; no validation beyond syntax, operand ranges and labels. */
export function parseProgram(text: string, options: AssembleOptions = {}): ResolvedProgram {
  const syntax =
    options.syntax === undefined || options.syntax === 'auto' ? detectSyntax(text) : options.syntax;
  const parsed = parseLines(text, syntax === 'ubpf' ? parseUbpfStatement : parseLlvmStatement, options.file);
  return resolveLabels(parsed, options.file);
}

/**
 * Assembles without validating the encoding: registers up to 15, out-of-range jumps and the like are
 * encoded as written. Meant for building deliberately invalid programs (loader tests); use `assemble`
 * for everything else.
 */
export function assembleUnchecked(text: string, options: AssembleOptions = {}): Uint8Array {
  return encodeProgram(parseProgram(text, options).insns);
}

/** Assembles text to program bytes. Throws AsmError (line, column, expected) on bad input. */
export function assemble(text: string, options: AssembleOptions = {}): Uint8Array {
  const program = parseProgram(text, options);
  if (program.insns.length === 0) {
    throw asmError(
      { line: 1, column: 1 },
      options.file,
      'the program has no instructions',
      'at least one instruction',
    );
  }
  const bytes = encodeProgram(program.insns);
  try {
    decodeProgram(bytes, { checkStructure: false });
  } catch (e) {
    if (e instanceof LoadError) throw loadErrorAtLine(e, program, options.file);
    throw e;
  }
  return bytes;
}

/**
 * Re-reports a decoder error at the source line of the instruction it concerns. It stays a LoadError
 * with the decoder's code (JUMP_OUT_OF_RANGE, INVALID_REGISTER, …) and gains file, line and column.
 */
function loadErrorAtLine(e: LoadError, program: ResolvedProgram, file: string | undefined): LoadError {
  const pc = e.pc ?? 0;
  let index = 0;
  while (index + 1 < program.pcs.length && program.pcs[index + 1] <= pc) index++;
  const { line, column } = program.statements[index].pos;
  return new LoadError(
    e.code,
    `${file === undefined ? '' : `${file}: `}line ${line}, column ${column}: ${e.message}`,
    { pc: e.pc, section: e.section, offset: e.offset, file, line, column },
    { hint: e.hint, opcode: e.opcode },
  );
}
