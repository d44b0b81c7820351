/** Message prefixes for errors that point into text, in the assembler's style: `f.data: line 3, column 9: `. */
import type { ErrorLocation } from '../errors.js';

export function locationPrefix(location: ErrorLocation): string {
  const parts: string[] = [];
  if (location.line !== undefined) parts.push(`line ${location.line}`);
  if (location.column !== undefined) parts.push(`column ${location.column}`);
  const where = parts.join(', ');
  if (location.file === undefined) return where === '' ? '' : `${where}: `;
  return where === '' ? `${location.file}: ` : `${location.file}: ${where}: `;
}
