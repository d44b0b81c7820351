/**
 * The tokenizer shared by both assembly syntaxes. It works one line at a time (every statement of both
 * syntaxes fits on one line) and records the 1-based line and column of every token so that parse
 * errors can point at the exact character.
 */
import { AsmError } from '../errors.js';

export type TokenKind =
  /** Word: mnemonic, label, keyword, LLVM register (`r1`, `w1`). */
  | 'ident'
  /** Unsigned decimal or `0x` hex literal; a sign is a separate `+`/`-` token. */
  | 'number'
  /** uBPF register spelled `%word` (validated by the parser so `%x1` gets a precise message). */
  | 'percent'
  /** Operator or punctuation, longest match first (`s>>=`, `+=`, `[`, …). */
  | 'punct'
  /** `<…>` target annotation as printed by llvm-objdump (`<LBB0_2>`, `<f+0x68>`); text excludes `<>`. */
  | 'annotation';

export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly line: number;
  readonly column: number;
  /** Value of a number token. */
  readonly value?: bigint;
  /** Whether a number token was written in hex. */
  readonly hex?: boolean;
}

/** A place in the source text. */
export interface SourcePos {
  readonly line: number;
  readonly column: number;
}

/** Builds the one kind of error the assembler throws: `line 3, column 9: expected …, found "…"`. */
export function asmError(
  pos: SourcePos,
  file: string | undefined,
  message: string,
  expected?: string,
): AsmError {
  const where = `line ${pos.line}, column ${pos.column}`;
  return new AsmError(
    `${file === undefined ? '' : `${file}: `}${where}: ${message}`,
    { line: pos.line, column: pos.column, file },
    expected,
  );
}

/**
 * Operators of the LLVM syntax plus the punctuation of both syntaxes. Ordered so that a longer operator
 * is tried before its prefixes. The signed forms start with `s` and are only taken at a token start, so
 * identifiers like `skb` are unaffected.
 */
const PUNCT: readonly string[] = [
  's>>=',
  '<<=',
  '>>=',
  's>=',
  's<=',
  's/=',
  's%=',
  's>',
  's<',
  '+=',
  '-=',
  '*=',
  '/=',
  '|=',
  '&=',
  '%=',
  '^=',
  '==',
  '!=',
  '>=',
  '<=',
  '=',
  '<',
  '>',
  '&',
  '+',
  '-',
  '*',
  '(',
  ')',
  '[',
  ']',
  ',',
  ':',
];

const IDENT = /^[A-Za-z_.$][A-Za-z0-9_.$]*/;
const NUMBER = /^(0[xX][0-9a-fA-F]+|[0-9]+)/;
const WORD_CHAR = /[A-Za-z0-9_.$]/;
// An annotation starts right after `<` with something that cannot start an operator (`<=`, `<<=`, `< x`).
const ANNOTATION = /^<([^\s<>=][^\s<>]*)>/;

/** Splits one line into tokens. Comments (`#`, `//`, `;`) run to the end of the line. */
export function tokenizeLine(text: string, line: number, file?: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    const column = i + 1;
    if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\v' || ch === '\f') {
      i++;
      continue;
    }
    if (ch === '#' || ch === ';' || text.startsWith('//', i)) break;
    const rest = text.slice(i);
    const number = NUMBER.exec(rest);
    if (number) {
      const end = i + number[0].length;
      if (end < text.length && WORD_CHAR.test(text[end])) {
        const bad = /^[A-Za-z0-9_.$]+/.exec(rest)![0];
        throw asmError(
          { line, column },
          file,
          `malformed number "${bad}"`,
          'a decimal or 0x-prefixed hex number',
        );
      }
      const hex = number[0].length > 1 && (number[0][1] === 'x' || number[0][1] === 'X');
      tokens.push({ kind: 'number', text: number[0], line, column, value: BigInt(number[0]), hex });
      i = end;
      continue;
    }
    if (ch === '%' && /[A-Za-z0-9_]/.test(text[i + 1] ?? '')) {
      const word = /^%[A-Za-z0-9_.$]*/.exec(rest)![0];
      tokens.push({ kind: 'percent', text: word, line, column });
      i += word.length;
      continue;
    }
    const signed = ch === 's' ? PUNCT.find((p) => p[0] === 's' && rest.startsWith(p)) : undefined;
    if (signed === undefined) {
      const ident = IDENT.exec(rest);
      if (ident) {
        tokens.push({ kind: 'ident', text: ident[0], line, column });
        i += ident[0].length;
        continue;
      }
    }
    if (ch === '<') {
      const annotation = ANNOTATION.exec(rest);
      if (annotation) {
        tokens.push({ kind: 'annotation', text: annotation[1], line, column });
        i += annotation[0].length;
        continue;
      }
    }
    const punct = signed ?? PUNCT.find((p) => rest.startsWith(p));
    if (punct !== undefined) {
      tokens.push({ kind: 'punct', text: punct, line, column });
      i += punct.length;
      continue;
    }
    throw asmError({ line, column }, file, `unexpected character "${ch}"`);
  }
  return tokens;
}
