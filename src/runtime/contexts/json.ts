/**
 * Validation of the run input (IN.json) with the JSON path of every bad value in the message, so a user
 * sees `args.filename: expected a string` rather than a crash or a silently wrong context.
 */
import { FormatError, UsageError } from '../../errors.js';

export type JsonObject = { readonly [key: string]: unknown };

/** A path inside the input, printed as `task.parent.pid` or `args[2]`; '' is the document itself. */
export function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

function where(path: string): string {
  return path === '' ? 'input' : path;
}

/** The value has the wrong JSON type or form. */
export function formatError(path: string, message: string): FormatError {
  return new FormatError('DATA_FORMAT', `${where(path)}: ${message}`);
}

/** The value is well-formed but does not fit this program (a packet for a kprobe, an unknown field). */
export function usageError(path: string, message: string, hint?: string): UsageError {
  return new UsageError(`${where(path)}: ${message}`, {}, hint === undefined ? undefined : { hint });
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function expectObject(value: unknown, path: string): JsonObject {
  if (!isObject(value)) throw formatError(path, 'expected an object');
  return value;
}

export function expectString(value: unknown, path: string): string {
  if (typeof value !== 'string') throw formatError(path, 'expected a string');
  return value;
}

export function expectArray(value: unknown, path: string): readonly unknown[] {
  if (!Array.isArray(value)) throw formatError(path, 'expected an array');
  return value;
}

/** Rejects keys outside `allowed` (typos would otherwise be ignored silently). */
export function checkKeys(obj: JsonObject, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      throw usageError(childPath(path, key), 'unknown key', `known keys here: ${allowed.join(', ')}`);
    }
  }
}

/**
 * An integer as a JSON number (a safe integer) or a string (decimal, or 0x/0o/0b, optionally negative)
 * for values beyond 2^53. Accepts every value of `bits` bits, signed or unsigned, and returns it as
 * the unsigned two's-complement pattern.
 */
export function expectInteger(value: unknown, path: string, bits: 8 | 16 | 32 | 64 = 64): bigint {
  let n: bigint;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value))
      throw formatError(path, 'expected an integer (use a string beyond 2^53)');
    n = BigInt(value);
  } else if (typeof value === 'string') {
    const text = value.trim();
    const negative = text.startsWith('-');
    const digits = negative ? text.slice(1) : text;
    if (!/^(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|[0-9]+)$/.test(digits)) {
      throw formatError(path, `expected an integer, got "${value}"`);
    }
    n = negative ? -BigInt(digits) : BigInt(digits);
  } else {
    throw formatError(path, 'expected an integer');
  }
  const limit = 1n << BigInt(bits);
  if (n < -(limit >> 1n) || n >= limit) throw formatError(path, `${n} does not fit in ${bits} bits`);
  return BigInt.asUintN(bits, n);
}

/** expectInteger for fields a JS number holds exactly (at most 32 bits). */
export function expectU32(value: unknown, path: string, bits: 8 | 16 | 32 = 32): number {
  return Number(expectInteger(value, path, bits));
}

/** Hex bytes; whitespace, `:` and `-` separators (as tcpdump and Wireshark print them) are ignored. */
export function expectHex(value: unknown, path: string): Uint8Array {
  const text = expectString(value, path).replace(/[\s:-]/g, '');
  const bare = text.startsWith('0x') || text.startsWith('0X') ? text.slice(2) : text;
  if (bare.length % 2 !== 0) {
    throw new FormatError('BAD_HEX', `${where(path)}: odd number of hex digits (${bare.length})`);
  }
  const bad = bare.search(/[^0-9a-fA-F]/);
  if (bad >= 0) {
    throw new FormatError('BAD_HEX', `${where(path)}: "${bare[bad]}" at digit ${bad} is not a hex digit`);
  }
  const out = new Uint8Array(bare.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(bare.slice(2 * i, 2 * i + 2), 16);
  return out;
}
