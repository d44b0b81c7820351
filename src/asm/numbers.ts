/**
 * Range rules for numeric literals, shared by both syntaxes (bpf_conformance FORMAT.md §4):
 * decimal literals must fit the field as a signed number, hex literals may also spell the field's raw
 * unsigned bit pattern (`0xffffffff` is imm -1, `0xffff` is offset -1).
 */

/** The instruction fields a literal can go into. */
export type NumericField = 'imm32' | 'off16' | 'imm64';

/** A literal as written: value (sign applied), whether it was hex, whether a sign was written. */
export interface NumberLiteral {
  readonly value: bigint;
  readonly hex: boolean;
  readonly explicitSign: boolean;
  readonly text: string;
  readonly line: number;
  readonly column: number;
}

interface FieldSpec {
  readonly bits: number;
  /** Smallest accepted value (same for decimal and hex). */
  readonly min: bigint;
  readonly maxDecimal: bigint;
  readonly maxHex: bigint;
  /** What to tell the user when a literal does not fit. */
  readonly expected: string;
}

const FIELDS: Record<NumericField, FieldSpec> = {
  imm32: {
    bits: 32,
    min: -(1n << 31n),
    maxDecimal: (1n << 31n) - 1n,
    maxHex: (1n << 32n) - 1n,
    expected: 'a 32-bit immediate: decimal -2147483648..2147483647 or hex up to 0xffffffff',
  },
  off16: {
    bits: 16,
    min: -(1n << 15n),
    maxDecimal: (1n << 15n) - 1n,
    maxHex: (1n << 16n) - 1n,
    expected: 'a 16-bit offset: decimal -32768..32767 or hex up to 0xffff',
  },
  imm64: {
    bits: 64,
    min: -(1n << 63n),
    maxDecimal: (1n << 64n) - 1n,
    maxHex: (1n << 64n) - 1n,
    expected:
      'a 64-bit immediate: -9223372036854775808..18446744073709551615 or hex up to 0xffffffffffffffff',
  },
};

/** Human description of the values a field accepts, for error messages. */
export function fieldExpectation(field: NumericField): string {
  return FIELDS[field].expected;
}

/**
 * The field's value as a signed integer of the field's width, or undefined when the literal is out of
 * range. (imm64 results are signed 64-bit; callers split them into two imm32 halves.)
 */
export function fieldValue(
  field: NumericField,
  literal: Pick<NumberLiteral, 'value' | 'hex'>,
): bigint | undefined {
  const spec = FIELDS[field];
  const max = literal.hex ? spec.maxHex : spec.maxDecimal;
  if (literal.value < spec.min || literal.value > max) return undefined;
  return BigInt.asIntN(spec.bits, literal.value);
}

/** Splits a 64-bit value into the low and high imm32 halves of an lddw (each as a signed int32). */
export function splitImm64(value: bigint): { imm: number; imm2: number } {
  const u = BigInt.asUintN(64, value);
  return { imm: Number(BigInt.asIntN(32, u)), imm2: Number(BigInt.asIntN(32, u >> 32n)) };
}

/** Joins the halves of an lddw back into a 64-bit value (unsigned). */
export function joinImm64(imm: number, imm2: number): bigint {
  return (BigInt(imm2 >>> 0) << 32n) | BigInt(imm >>> 0);
}
