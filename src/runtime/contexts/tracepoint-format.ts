/**
 * Tracepoint record layouts in the kernel's own notation: the `format` files of tracefs
 * (/sys/kernel/tracing/events/<category>/<event>/format). Built-in events are written in that notation
 * and parsed like a user-supplied format, so one parser decides every record layout.
 */
import { UsageError } from '../../errors.js';

export type TracepointFieldKind =
  /** Integer or bool of 1, 2, 4 or 8 bytes. */
  | 'integer'
  /** A pointer (8 bytes); string and array arguments become pointers into user memory. */
  | 'pointer'
  /** `char name[N]`: a NUL-padded string. */
  | 'char_array'
  /** Any other fixed array: integers of `elementSize`. */
  | 'array'
  /** `__data_loc T[] name`: u32 (length << 16 | offset from the record start) of appended data. */
  | 'data_loc'
  /** `__rel_loc T[] name`: like data_loc, offset counted from the end of the field. */
  | 'rel_loc';

export interface TracepointField {
  readonly name: string;
  /** The C type as the format file spells it (`const char *`, `char[16]`, `__data_loc char[]`). */
  readonly type: string;
  readonly offset: number;
  readonly size: number;
  readonly signed: boolean;
  readonly kind: TracepointFieldKind;
  /** Element size of arrays (1 for char), else `size`. */
  readonly elementSize: number;
  /** Whether the dynamic data (data_loc/rel_loc) or the array holds characters. */
  readonly text: boolean;
}

export interface TracepointFormat {
  /** Event name, e.g. `sys_enter_openat`. */
  readonly name: string;
  /** Event id (common_type), 0 when the format does not give one. */
  readonly id: number;
  readonly fields: readonly TracepointField[];
  /** End of the fixed part: dynamic data (data_loc strings) is appended from here. */
  readonly size: number;
}

const FIELD_LINE = /^\s*field:(.+?);\s*offset:(\d+);\s*size:(\d+);(?:\s*signed:(\d+);)?\s*$/;

/** Parses a tracefs format file. Throws UsageError naming the line that is not a field description. */
export function parseTracepointFormat(text: string): TracepointFormat {
  let name = '';
  let id = 0;
  const fields: TracepointField[] = [];
  let inFormat = false;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith('name:')) name = line.slice(5).trim();
    else if (line.startsWith('ID:')) id = Number.parseInt(line.slice(3).trim(), 10) || 0;
    else if (line.startsWith('format:')) inFormat = true;
    else if (line.startsWith('print fmt:')) inFormat = false;
    else if (inFormat && line.trim() !== '') {
      const m = FIELD_LINE.exec(line);
      if (m === null) throw new UsageError(`tracepoint format line ${i + 1} is not a field: ${line.trim()}`);
      fields.push(parseField(m[1].trim(), Number(m[2]), Number(m[3]), m[4] === '1', i + 1));
    }
  }
  if (fields.length === 0) throw new UsageError('tracepoint format has no fields');
  const size = Math.max(...fields.map((f) => f.offset + f.size));
  return { name, id, fields: Object.freeze(fields), size };
}

function parseField(
  decl: string,
  offset: number,
  size: number,
  signed: boolean,
  line: number,
): TracepointField {
  const m = /^(.*?)\s*([A-Za-z_][A-Za-z0-9_]*)\s*(\[[^\]]*\])?$/.exec(decl);
  if (m === null)
    throw new UsageError(`tracepoint format line ${line}: cannot read the declaration "${decl}"`);
  const [, base, name, dims] = m;
  const type = dims === undefined ? base : `${base}${dims}`;
  const text = /\bchar\b/.test(base);
  let kind: TracepointFieldKind;
  let elementSize = size;
  if (base.startsWith('__data_loc')) kind = 'data_loc';
  else if (base.startsWith('__rel_loc')) kind = 'rel_loc';
  else if (base.includes('*')) kind = 'pointer';
  else if (dims !== undefined) {
    const count = Number(dims.slice(1, -1));
    if (!Number.isInteger(count) || count <= 0) {
      throw new UsageError(`tracepoint format line ${line}: array ${name} has no fixed length`);
    }
    kind = text ? 'char_array' : 'array';
    elementSize = size / count;
    if (![1, 2, 4, 8].includes(elementSize)) {
      throw new UsageError(
        `tracepoint format line ${line}: array ${name} has ${size} bytes for ${count} elements`,
      );
    }
  } else kind = 'integer';
  if ((kind === 'data_loc' || kind === 'rel_loc') && size !== 4) {
    throw new UsageError(
      `tracepoint format line ${line}: ${name} is a ${kind} field of ${size} bytes, not 4`,
    );
  }
  if (kind === 'integer' && ![1, 2, 4, 8].includes(size)) {
    throw new UsageError(`tracepoint format line ${line}: integer ${name} has size ${size}`);
  }
  return { name, type, offset, size, signed, kind, elementSize, text };
}
