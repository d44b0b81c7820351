/**
 * Labels, shared by both syntaxes. Parsing produces statements whose pc-relative fields may name a
 * label; `resolveLabels` is the second pass that assigns slot numbers and patches those fields.
 * `labelTargets` is the printers' side: which pcs get a label and what it is called.
 */
import type { RawInsn } from '../isa/encoder.js';
import { slotsOf } from '../isa/encoder.js';
import type { Program } from '../isa/instruction.js';
import { asmError, type SourcePos } from './lexer.js';

/** A pc-relative field to fill in once label addresses are known. */
export interface LabelFixup {
  readonly label: string;
  /** `off` for JMP/JMP32 jumps, `imm` for gotol, local calls and code-address lddw. */
  readonly field: 'off' | 'imm';
  readonly pos: SourcePos;
}

/** One parsed instruction with the place it came from. */
export interface Statement {
  readonly insn: RawInsn;
  readonly pos: SourcePos;
  readonly fixup?: LabelFixup;
}

export interface LabelDef {
  readonly name: string;
  /** Index of the statement the label stands before (== statements.length at the end of the text). */
  readonly statement: number;
  readonly pos: SourcePos;
  /** Defined by the assembler rather than the text (uBPF's `exit`): yields to an explicit label. */
  readonly implicit?: boolean;
}

export interface ParsedProgram {
  readonly statements: readonly Statement[];
  readonly labels: readonly LabelDef[];
}

/** A resolved program: instructions plus the slot at which each statement starts. */
export interface ResolvedProgram {
  readonly insns: readonly RawInsn[];
  readonly pcs: readonly number[];
  readonly statements: readonly Statement[];
}

/** Second pass: slot numbers, label table (duplicates rejected), fixups (undefined labels rejected). */
export function resolveLabels(parsed: ParsedProgram, file: string | undefined): ResolvedProgram {
  const pcs: number[] = [];
  let pc = 0;
  for (const s of parsed.statements) {
    pcs.push(pc);
    pc += slotsOf(s.insn);
  }
  const pcOfStatement = (i: number): number => (i < pcs.length ? pcs[i] : pc);

  const table = new Map<string, LabelDef>();
  for (const def of parsed.labels) {
    if (def.implicit) continue;
    const previous = table.get(def.name);
    if (previous !== undefined) {
      throw asmError(
        def.pos,
        file,
        `duplicate label "${def.name}" (first defined at line ${previous.pos.line})`,
        'a label name not used before',
      );
    }
    table.set(def.name, def);
  }
  for (const def of parsed.labels) {
    if (def.implicit && !table.has(def.name)) table.set(def.name, def);
  }

  const insns = parsed.statements.map((s, i): RawInsn => {
    if (s.fixup === undefined) return s.insn;
    const def = table.get(s.fixup.label);
    if (def === undefined) {
      throw asmError(
        s.fixup.pos,
        file,
        `undefined label "${s.fixup.label}"`,
        'a label defined in this program (name:) or a slot offset',
      );
    }
    const displacement = pcOfStatement(def.statement) - (pcs[i] + 1);
    if (s.fixup.field === 'off' && (displacement < -32768 || displacement > 32767)) {
      throw asmError(
        s.fixup.pos,
        file,
        `label "${s.fixup.label}" is ${displacement} slots away, beyond the 16-bit jump offset`,
        'a target within 32767 slots (use a 32-bit jump: ja32 / gotol)',
      );
    }
    return { ...s.insn, [s.fixup.field]: displacement };
  });
  return { insns, pcs, statements: parsed.statements };
}

/** Label names the printers use for every jump, local-call and code-address target: `L<pc>`. */
export function labelTargets(program: Program): Map<number, string> {
  const targets = new Set<number>();
  for (const insn of program.insns) {
    const target = pcRelativeTarget(insn);
    if (target !== undefined) targets.add(target);
  }
  return new Map([...targets].sort((a, b) => a - b).map((pc) => [pc, `L${pc}`]));
}

/** The slot a pc-relative instruction refers to, or undefined for every other instruction. */
export function pcRelativeTarget(insn: Program['insns'][number]): number | undefined {
  if (insn.kind === 'jump') return insn.target;
  if (insn.kind === 'call' && insn.op === 'local') return insn.target;
  if (insn.kind === 'lddw' && insn.source === 'code_addr') return insn.pc + 1 + insn.imm;
  return undefined;
}
