/**
 * Assembler and disassembler for the two eBPF text syntaxes:
 * - `ubpf`: the uBPF / bpf_conformance syntax (`ldxdw %r0, [%r1+2]`),
 * - `llvm`: the LLVM/kernel syntax printed by `llvm-objdump -d` (`r0 = *(u64 *)(r1 + 0x2)`).
 * PLACEHOLDER: the real implementation replaces this file.
 */
import type { Insn, Program } from '../isa/instruction.js';

export type AsmSyntax = 'ubpf' | 'llvm';

export interface AssembleOptions {
  /** Default 'auto': decided from the text (ubpf if it uses `%r` registers). */
  syntax?: AsmSyntax | 'auto';
  /** File name used in error locations. */
  file?: string;
}

export interface DisassembleOptions {
  /** Default 'llvm'. */
  syntax?: AsmSyntax;
}

/** Assembles text to program bytes. Throws AsmError (line, column, expected) on bad input. */
export function assemble(_text: string, _options: AssembleOptions = {}): Uint8Array {
  throw new Error('not implemented yet');
}

/** Disassembles a decoded program to text, one instruction per line. */
export function disassemble(_program: Program, _options: DisassembleOptions = {}): string {
  throw new Error('not implemented yet');
}

/** Formats one instruction. */
export function formatInsn(_insn: Insn, _syntax: AsmSyntax = 'llvm'): string {
  throw new Error('not implemented yet');
}
