/**
 * Program → text in either syntax. Every jump, local-call and code-address target gets a label line
 * `L<pc>:` (the same names in both syntaxes), so the output reads well and re-assembles to the same
 * bytes. The printers work on decoded instructions only.
 */
import type { Insn, Program } from '../isa/instruction.js';
import type { AsmSyntax } from './assembler.js';
import { labelTargets } from './labels.js';
import { formatLlvm } from './llvm-printer.js';
import { formatUbpf } from './ubpf-printer.js';

export interface DisassembleOptions {
  /** Default 'llvm'. */
  syntax?: AsmSyntax;
  /**
   * Prefix each instruction with its slot number right-aligned in 8 columns and a tab, as
   * llvm-objdump does (`      12:\tr0 = 0x1`). The assembler skips this column.
   */
  addresses?: boolean;
}

/** Formats one instruction; `labels` (target pc → name) is what `disassemble` passes. */
export function formatInsn(
  insn: Insn,
  syntax: AsmSyntax = 'llvm',
  labels?: ReadonlyMap<number, string>,
): string {
  return syntax === 'ubpf' ? formatUbpf(insn, labels) : formatLlvm(insn, labels);
}

/** Disassembles a decoded program to text, one instruction per line, ending with a newline. */
export function disassemble(program: Program, options: DisassembleOptions = {}): string {
  const syntax = options.syntax ?? 'llvm';
  const labels = labelTargets(program);
  const lines: string[] = [];
  for (const insn of program.insns) {
    const label = labels.get(insn.pc);
    if (label !== undefined) lines.push(`${label}:`);
    const prefix = options.addresses ? `${String(insn.pc).padStart(8)}:\t` : '';
    lines.push(`${prefix}${formatInsn(insn, syntax, labels)}`);
  }
  return `${lines.join('\n')}\n`;
}
