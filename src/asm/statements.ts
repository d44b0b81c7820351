/**
 * The line loop shared by both parsers: tokenizes each line, takes the label definitions (`name:`) off
 * its front and hands the rest to the syntax's statement parser, which appends instructions through a
 * `StatementSink`.
 */
import type { RawInsn } from '../isa/encoder.js';
import { Cursor, type Target } from './cursor.js';
import type { LabelDef, LabelFixup, ParsedProgram, Statement } from './labels.js';
import { type SourcePos, tokenizeLine } from './lexer.js';

/** One parsed instruction, with the label its pc-relative field refers to, if any. */
export interface Encoded {
  readonly insn: RawInsn;
  readonly fixup?: LabelFixup;
}

export interface StatementSink {
  /** Appends an instruction; returns its statement index. */
  add(insn: RawInsn, pos: SourcePos, fixup?: LabelFixup): number;
  /** Defines a label standing before the next instruction added. */
  label(name: string, pos: SourcePos, implicit?: boolean): void;
}

/** Parses the instruction part of one line (labels already removed; never called for empty lines). */
export type StatementParser = (cursor: Cursor, sink: StatementSink) => void;

/**
 * Runs `parse` on every non-empty line. A leading slot-number column (`  12:`, as llvm-objdump and
 * `disassemble({ addresses: true })` print) is skipped; it cannot be a label, labels are identifiers.
 */
export function parseLines(text: string, parse: StatementParser, file: string | undefined): ParsedProgram {
  const statements: Statement[] = [];
  const labels: LabelDef[] = [];
  const sink: StatementSink = {
    add(insn, pos, fixup) {
      statements.push(fixup === undefined ? { insn, pos } : { insn, pos, fixup });
      return statements.length - 1;
    },
    label(name, pos, implicit) {
      labels.push({ name, pos, statement: statements.length, ...(implicit ? { implicit } : {}) });
    },
  };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '');
    const cursor = new Cursor(tokenizeLine(line, i + 1, file), line.length + 1, i + 1, file);
    if (cursor.peek()?.kind === 'number' && cursor.isPunct(':', 1)) {
      cursor.next();
      cursor.next();
    }
    while (cursor.isIdent(undefined, 0) && cursor.isPunct(':', 1)) {
      const name = cursor.next()!;
      cursor.next();
      sink.label(name.text, name);
    }
    if (!cursor.atEnd()) parse(cursor, sink);
  }
  return { statements, labels };
}

/**
 * The value to put in a pc-relative field for a target: the offset itself, or 0 plus a fixup that
 * `resolveLabels` fills in.
 */
export function targetField(
  cursor: Cursor,
  target: Target,
  field: 'off' | 'imm',
): { value: number; fixup?: LabelFixup } {
  if (target.kind === 'label') return { value: 0, fixup: { label: target.name, field, pos: target.pos } };
  return {
    value:
      field === 'off'
        ? cursor.off16(target.literal, 'jump offset')
        : cursor.imm32(target.literal, 'jump offset'),
  };
}
