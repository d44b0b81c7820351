/**
 * Source positions from `.BTF.ext` line info as errors show them: one formatting and one way to put
 * a position on a trap, for the object loader and the embedding API alike.
 */
import type { Trap } from '../errors.js';
import type { BtfLineInfo } from './btf-ext.js';

/** What a line record says about a pc. */
export type SourceLine = Pick<BtfLineInfo, 'file' | 'line' | 'column' | 'text'>;

/** The record, or undefined when it says nothing (no record, or line 0: compiler-generated code). */
export function knownLine<T extends SourceLine>(line: T | undefined): T | undefined {
  return line === undefined || line.line === 0 ? undefined : line;
}

/** `token.c:42: balance -= amount;` (without the text when the compiler recorded none). */
export function formatSourceLine(line: SourceLine): string {
  const text = line.text.trim();
  return `${line.file}:${line.line}${text === '' ? '' : `: ${text}`}`;
}

/**
 * Sets file/line/column of a trap from the line record of its pc and appends `(file:line: text)` to
 * its message; nothing when the trap already has a position or the record says nothing.
 */
export function locateTrap(trap: Trap, line: SourceLine | undefined): void {
  const known = knownLine(line);
  if (known === undefined || trap.file !== undefined || trap.line !== undefined) return;
  trap.file = known.file;
  trap.line = known.line;
  if (known.column > 0) trap.column = known.column;
  trap.message += ` (${formatSourceLine(known)})`;
}
