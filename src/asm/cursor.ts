/**
 * A cursor over the tokens of one line, with the parsing primitives both syntaxes share: punctuation,
 * signed numbers with field range checks, jump targets, and errors that say what was expected and
 * what was found.
 */
import type { AsmError } from '../errors.js';
import { MAX_ENCODABLE_REGISTER } from './builders.js';
import { asmError, type SourcePos, type Token } from './lexer.js';
import { fieldExpectation, fieldValue, type NumberLiteral, type NumericField } from './numbers.js';

/** A jump/call destination: a label to resolve later, or an explicit slot offset. */
export type Target =
  | { readonly kind: 'label'; readonly name: string; readonly pos: SourcePos }
  | { readonly kind: 'offset'; readonly literal: NumberLiteral };

export class Cursor {
  private index = 0;

  constructor(
    readonly tokens: readonly Token[],
    /** Column just past the end of the line, where "found end of line" errors point. */
    private readonly endColumn: number,
    readonly line: number,
    readonly file: string | undefined,
  ) {}

  peek(ahead = 0): Token | undefined {
    return this.tokens[this.index + ahead];
  }

  next(): Token | undefined {
    const t = this.tokens[this.index];
    if (t !== undefined) this.index++;
    return t;
  }

  atEnd(): boolean {
    return this.index >= this.tokens.length;
  }

  /** Position of the current token, or of the end of the line. */
  pos(): SourcePos {
    const t = this.peek();
    return t ?? { line: this.line, column: this.endColumn };
  }

  isPunct(text: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t?.kind === 'punct' && t.text === text;
  }

  isIdent(text?: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t?.kind === 'ident' && (text === undefined || t.text === text);
  }

  acceptPunct(text: string): Token | undefined {
    return this.isPunct(text) ? this.next() : undefined;
  }

  expectPunct(text: string, expected = `"${text}"`): Token {
    return this.acceptPunct(text) ?? this.failExpected(expected);
  }

  expectIdent(text: string, expected = `"${text}"`): Token {
    return this.isIdent(text) ? this.next()! : this.failExpected(expected);
  }

  expectEnd(expected = 'end of line'): void {
    if (!this.atEnd()) this.failExpected(expected);
  }

  /** Error at a position (default: the current token). */
  error(message: string, expected?: string, at: SourcePos = this.pos()): AsmError {
    return asmError(at, this.file, message, expected);
  }

  /** `expected X, found "Y"` at the current token. */
  failExpected(expected: string, token: Token | undefined = this.peek()): never {
    const at = token ?? this.pos();
    throw this.error(`expected ${expected}, found ${describe(token)}`, expected, at);
  }

  /** True when the current token starts a (possibly signed) number. */
  atNumber(): boolean {
    const t = this.peek();
    if (t?.kind === 'number') return true;
    return (this.isPunct('-') || this.isPunct('+')) && this.peek(1)?.kind === 'number';
  }

  /** A number with an optional `+`/`-` sign (which may be separated by spaces, as in `- 0x8`). */
  number(expected: string): NumberLiteral {
    const first = this.peek();
    let negative = false;
    let explicitSign = false;
    if (this.isPunct('-') || this.isPunct('+')) {
      negative = first!.text === '-';
      explicitSign = true;
      this.next();
    }
    const t = this.peek();
    if (t?.kind !== 'number') this.failExpected(expected, explicitSign ? t : first);
    this.next();
    return {
      value: negative ? -t.value! : t.value!,
      hex: t.hex!,
      explicitSign,
      text: `${explicitSign ? first!.text : ''}${t.text}`,
      line: first!.line,
      column: first!.column,
    };
  }

  /** Converts a literal to a field value, or fails with the field's accepted range. */
  field(literal: NumberLiteral, field: NumericField, what: string): bigint {
    const v = fieldValue(field, literal);
    if (v === undefined) {
      const expected = fieldExpectation(field);
      throw this.error(`${what} ${literal.text} is out of range; expected ${expected}`, expected, literal);
    }
    return v;
  }

  imm32(literal: NumberLiteral, what = 'immediate'): number {
    return Number(this.field(literal, 'imm32', what));
  }

  off16(literal: NumberLiteral, what = 'offset'): number {
    return Number(this.field(literal, 'off16', what));
  }

  /** Checks the number of a register token (`%r12`, `w3`) against the 4-bit register field. */
  registerNumber(token: Token, num: number, family: string): number {
    if (num > MAX_ENCODABLE_REGISTER) {
      throw this.error(
        `register ${token.text} does not exist; eBPF has ${family}`,
        `a register ${family}`,
        token,
      );
    }
    return num;
  }

  /** A jump target: a label name, or a slot offset relative to the next instruction (`+0x3`, `-2`). */
  target(): Target {
    const t = this.peek();
    if (t?.kind === 'ident') {
      this.next();
      return { kind: 'label', name: t.text, pos: t };
    }
    if (this.atNumber()) return { kind: 'offset', literal: this.number('a slot offset') };
    return this.failExpected('a label or a slot offset like +0x3');
  }
}

export function describe(token: Token | undefined): string {
  if (token === undefined) return 'end of line';
  return token.kind === 'annotation' ? `"<${token.text}>"` : `"${token.text}"`;
}
