/**
 * Parser for conformance `.data` files: the bpf_conformance format (shared/bpf_conformance/FORMAT.md
 * §1–§2) plus the uBPF-only sections (shared/ubpf_tests/README.md). Parsing is split in two steps so
 * a runner can read what a file expects even when its program does not assemble:
 * `parseDataSections` (text → sections) and `buildDataProgram` (sections → program bytes).
 */
import { dirname, resolve } from 'node:path';
import { assembleUnchecked } from '../asm/index.js';
import { FormatError } from '../errors.js';
import { readText } from '../util/files.js';
import { parseHexBytes } from '../util/hex.js';
import { locationPrefix } from '../util/location.js';

export type SectionKind =
  | 'asm'
  | 'result'
  | 'mem'
  | 'raw'
  | 'no register offset'
  | 'c'
  | 'error pattern'
  | 'error'
  | 'no jit'
  | 'description'
  | 'pyelf'
  | 'reload'
  | 'unload';

/**
 * Header keywords, found by substring search in this order (FORMAT.md §1). `error pattern` must come
 * before `error`; the uBPF extras come last and contain none of the earlier keywords.
 */
const HEADERS: readonly (readonly [string, SectionKind])[] = [
  ['asm', 'asm'],
  ['result', 'result'],
  ['mem', 'mem'],
  ['raw', 'raw'],
  ['no register offset', 'no register offset'],
  [' c', 'c'],
  ['error pattern', 'error pattern'],
  ['error', 'error'],
  ['no jit', 'no jit'],
  ['description', 'description'],
  ['pyelf', 'pyelf'],
  ['reload', 'reload'],
  ['unload', 'unload'],
];

/** Everything a `.data` file says, before its program is assembled. */
export interface DataSections {
  /** Path of the `.data` file, when it came from one (used in error locations and for `@ file`). */
  file?: string;
  /**
   * The `-- asm` text. For inline asm it is line-aligned with the `.data` file (other lines blanked),
   * so assembler errors point at the right line; `asmFile` is set when it came from `-- asm @ file`.
   */
  asm?: string;
  asmFile?: string;
  /** `-- raw` slots as bytes (8 per slot, little-endian). */
  raw?: Uint8Array;
  /** `-- mem` bytes; undefined when the file has no mem section. */
  mem?: Uint8Array;
  memFile?: string;
  /** Expected r0 (all 64 bits, unsigned). */
  result?: bigint;
  /** Expected failure text: the last non-blank line, '' when the section is present but empty. */
  error?: string;
  /** uBPF `-- error pattern`: a regular expression for uBPF's message. */
  errorPattern?: string;
  /** uBPF `-- no jit`: why the test must not run under a JIT. */
  noJit?: string;
  description?: string;
  /** uBPF `-- pyelf`: Python statements mutating uBPF's ELF template ('' for the unmodified template). */
  pyelf?: string;
  /** uBPF `-- reload`: load the code twice and expect the second load to fail. */
  reload: boolean;
  /** uBPF `-- unload`: unload and reload before running. */
  unload: boolean;
  /** `-- c`: the C source the asm came from (documentation only). */
  c?: string;
  /** `-- no register offset`: legacy uBPF marker with its reason (documentation only). */
  noRegisterOffset?: string;
}

export interface DataFile extends DataSections {
  /** The program: from `-- raw` if present (it overrides `-- asm`), else the assembled `-- asm`. */
  program: Uint8Array;
  programSource: 'raw' | 'asm' | 'none';
}

export interface ParseDataOptions {
  /** Path of the `.data` file: names it in errors and anchors `@ file` references. */
  file?: string;
  /** Reads `@ file` references (default: the file system). */
  readFile?: (path: string) => string;
}

/** FormatError whose message starts with the place it concerns. */
function formatError(
  code: 'DATA_FORMAT' | 'BAD_HEX',
  message: string,
  location: { file?: string; line?: number; column?: number },
): FormatError {
  return new FormatError(code, `${locationPrefix(location)}${message}`, location);
}

interface Line {
  /** 1-based line number in the file the text came from. */
  line: number;
  text: string;
}

interface Section {
  kind: SectionKind;
  header: Line;
  /** Argument after `@` in `-- asm @ file` / `-- mem @ file`. */
  ref?: string;
  lines: Line[];
}

/** Splits text into lines with `#` comments and trailing `\r` removed (FORMAT.md §1). */
function lexLines(text: string): Line[] {
  return text.split('\n').map((raw, i) => {
    const hash = raw.indexOf('#');
    return { line: i + 1, text: (hash >= 0 ? raw.slice(0, hash) : raw).replace(/\r$/, '') };
  });
}

function headerKind(text: string): SectionKind | undefined {
  for (const [keyword, kind] of HEADERS) if (text.includes(keyword)) return kind;
  return undefined;
}

function splitSections(text: string, file: string | undefined): Section[] {
  const sections: Section[] = [];
  let current: Section | undefined;
  for (const l of lexLines(text)) {
    if (l.text.includes('--')) {
      const kind = headerKind(l.text);
      if (kind === undefined) {
        throw formatError('DATA_FORMAT', `unknown section header "${l.text.trim()}"`, {
          file,
          line: l.line,
        });
      }
      const ref = /@\s*(\S+)/.exec(l.text)?.[1];
      current = { kind, header: l, ref, lines: [] };
      sections.push(current);
    } else if (current && l.text.trim() !== '') {
      current.lines.push(l);
    }
    // Lines before the first header are ignored (FORMAT.md §1).
  }
  return sections;
}

/** Text of a documentation section: its lines joined, trimmed. */
function bodyText(lines: readonly Line[]): string {
  return lines
    .map((l) => l.text.trim())
    .join('\n')
    .trim();
}

/** The last non-blank line, as `-- result` and `-- error` are read. */
function lastLine(lines: readonly Line[]): Line | undefined {
  return lines[lines.length - 1];
}

function parseResult(l: Line, file: string | undefined): bigint {
  const text = l.text.trim();
  // Hex if it contains 0x (upper- or lowercase digits), else unsigned decimal (FORMAT.md §2).
  const m = /^(-?)(?:0[xX]([0-9a-fA-F]+)|([0-9]+))$/.exec(text);
  if (!m) {
    throw formatError('DATA_FORMAT', `result "${text}" is neither 0x-hex nor decimal`, {
      file,
      line: l.line,
    });
  }
  const magnitude = m[2] !== undefined ? BigInt(`0x${m[2]}`) : BigInt(m[3]);
  if (magnitude >= 1n << 64n) {
    throw formatError('DATA_FORMAT', `result "${text}" does not fit in 64 bits`, { file, line: l.line });
  }
  return BigInt.asUintN(64, m[1] === '-' ? -magnitude : magnitude);
}

/**
 * `-- raw`: each whitespace-separated number is one 64-bit slot, hex if `0x…`, else decimal.
 * Extension: a line of exactly eight 2-digit hex groups (`07 00 01 00 01 00 00 00`, as in
 * bpf_conformance/negative/unused-*) is one slot written byte by byte.
 */
function parseRaw(lines: readonly Line[], file: string | undefined): Uint8Array {
  const slots: Uint8Array[] = [];
  for (const l of lines) {
    const tokens = l.text.trim().split(/\s+/);
    if (tokens.length === 8 && tokens.every((t) => /^[0-9a-fA-F]{2}$/.test(t))) {
      slots.push(parseHexBytes(l.text, { file, line: l.line }));
      continue;
    }
    for (const m of l.text.matchAll(/\S+/g)) {
      const token = m[0];
      const value = /^0[xX][0-9a-fA-F]+$/.test(token) || /^[0-9]+$/.test(token) ? BigInt(token) : undefined;
      const location = { file, line: l.line, column: (m.index ?? 0) + 1 };
      if (value === undefined) {
        throw formatError('BAD_HEX', `raw slot "${token}" is not a 0x-hex or decimal number`, location);
      }
      if (value >= 1n << 64n) {
        throw formatError('DATA_FORMAT', `raw slot "${token}" does not fit in 64 bits`, location);
      }
      const slot = new Uint8Array(8);
      new DataView(slot.buffer).setBigUint64(0, value, true);
      slots.push(slot);
    }
  }
  const bytes = new Uint8Array(slots.length * 8);
  slots.forEach((s, i) => {
    bytes.set(s, i * 8);
  });
  return bytes;
}

/** `-- mem`: hex bytes; text up to a `:` on a line is an address (tcpdump -xx dumps) and is skipped. */
function parseMem(lines: readonly Line[], file: string | undefined): Uint8Array {
  const parts = lines.map((l) => {
    const colon = l.text.indexOf(':');
    return parseHexBytes(colon >= 0 ? ' '.repeat(colon + 1) + l.text.slice(colon + 1) : l.text, {
      file,
      line: l.line,
    });
  });
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Reads the sections of a `.data` file. Throws FormatError (DATA_FORMAT / BAD_HEX) with the line. */
export function parseDataSections(text: string, options: ParseDataOptions = {}): DataSections {
  const file = options.file;
  const readFile = options.readFile ?? readText;
  const baseDir = file === undefined ? process.cwd() : dirname(file);
  const out: DataSections = { reload: false, unload: false };
  if (file !== undefined) out.file = file;
  const asmLines: Line[] = [];
  const rawLines: Line[] = [];
  const memLines: Line[] = [];

  /** Body of a `-- x @ file` section, as lines of that file. */
  const external = (s: Section): { path: string; lines: Line[] } => {
    if (s.lines.length > 0) {
      throw formatError(
        'DATA_FORMAT',
        `section "${s.header.text.trim()}" takes its body from ${s.ref} and cannot also have lines`,
        { file, line: s.lines[0].line },
      );
    }
    const path = resolve(baseDir, s.ref ?? '');
    // Blank lines are kept so that assembler errors carry the line numbers of that file.
    return { path, lines: lexLines(readFile(path)) };
  };

  for (const s of splitSections(text, file)) {
    switch (s.kind) {
      case 'asm':
        if (s.ref !== undefined) {
          const ext = external(s);
          out.asmFile = ext.path;
          out.asm = ext.lines.map((l) => l.text).join('\n');
        } else {
          asmLines.push(...s.lines);
        }
        break;
      case 'raw':
        rawLines.push(...s.lines);
        break;
      case 'mem':
        if (s.ref !== undefined) {
          const ext = external(s);
          out.memFile = ext.path;
          out.mem = parseMem(ext.lines, ext.path);
        } else {
          memLines.push(...s.lines);
          out.mem = new Uint8Array(0);
        }
        break;
      case 'result': {
        const l = lastLine(s.lines);
        if (l) out.result = parseResult(l, file);
        break;
      }
      case 'error':
        out.error = lastLine(s.lines)?.text.trim() ?? '';
        break;
      case 'error pattern':
        out.errorPattern = lastLine(s.lines)?.text.trim() ?? '';
        break;
      case 'no jit':
        out.noJit = bodyText(s.lines);
        break;
      case 'description':
        out.description = bodyText(s.lines);
        break;
      case 'pyelf':
        out.pyelf = bodyText(s.lines);
        break;
      case 'c':
        out.c = bodyText(s.lines);
        break;
      case 'no register offset':
        out.noRegisterOffset = bodyText(s.lines);
        break;
      case 'reload':
        out.reload = true;
        break;
      case 'unload':
        out.unload = true;
        break;
    }
  }
  if (asmLines.length > 0 && out.asm === undefined) {
    // Line-aligned with the .data file so assembler errors carry the right line numbers.
    const aligned: string[] = new Array(asmLines[asmLines.length - 1].line).fill('');
    for (const l of asmLines) aligned[l.line - 1] = l.text;
    out.asm = aligned.join('\n');
  }
  if (rawLines.length > 0) out.raw = parseRaw(rawLines, file);
  if (memLines.length > 0) out.mem = parseMem(memLines, file);
  return out;
}

/** Encodes `-- asm` (uBPF syntax) without validating it, as the bpf_conformance assembler does. */
export function assembleDataAsm(sections: DataSections): Uint8Array | undefined {
  if (sections.asm === undefined || sections.asm.trim() === '') return undefined;
  // Unchecked: tests such as uBPF's err-invalid-reg-dst encode invalid programs on purpose so that the
  // loader (decodeProgram) rejects them with its own typed error; syntax errors still throw AsmError.
  return assembleUnchecked(sections.asm, { syntax: 'ubpf', file: sections.asmFile ?? sections.file });
}

/** Program bytes of a parsed file: `-- raw` overrides `-- asm`. Throws AsmError for bad syntax. */
export function buildDataProgram(sections: DataSections): Pick<DataFile, 'program' | 'programSource'> {
  if (sections.raw !== undefined && sections.raw.length > 0) {
    return { program: sections.raw, programSource: 'raw' };
  }
  const program = assembleDataAsm(sections);
  if (program !== undefined) return { program, programSource: 'asm' };
  return { program: new Uint8Array(0), programSource: 'none' };
}

/** Parses a `.data` file completely, assembling its program. Throws FormatError or AsmError. */
export function parseDataFile(text: string, options: ParseDataOptions = {}): DataFile {
  const sections = parseDataSections(text, options);
  return { ...sections, ...buildDataProgram(sections) };
}

/** Reads and parses a `.data` file from disk. */
export function loadDataFile(path: string): DataFile {
  return parseDataFile(readText(path), { file: path });
}
