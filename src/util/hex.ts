/**
 * The one hex-bytes parser: `--mem` arguments, `-- mem` sections, tcpdump dumps, plugin stdin and
 * `.data` byte-form raw slots all go through it, so they accept and reject exactly the same text.
 */
import { FormatError } from '../errors.js';
import { locationPrefix } from './location.js';

export interface TextLocation {
  file?: string;
  /** 1-based line of the first line of `text` (default 1). */
  line?: number;
}

/**
 * Parses whitespace-separated groups of hex digits into bytes, in order. A group must have an even
 * number of digits and may start with `0x` (so `00 a0 cc`, `0026 622f` and `0x0102` all work).
 * Throws FormatError BAD_HEX naming line and column of the offending group.
 */
export function parseHexBytes(text: string, location: TextLocation = {}): Uint8Array {
  const out: number[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    for (const m of lines[i].matchAll(/\S+/g)) {
      const token = m[0];
      const digits = /^0[xX]/.test(token) ? token.slice(2) : token;
      if (digits.length === 0 || digits.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(digits)) {
        const where = { file: location.file, line: (location.line ?? 1) + i, column: (m.index ?? 0) + 1 };
        throw new FormatError(
          'BAD_HEX',
          `${locationPrefix(where)}"${token}" is not hex bytes (expected pairs of hex digits such as "0a" or "0026")`,
          where,
        );
      }
      for (let k = 0; k < digits.length; k += 2) out.push(Number.parseInt(digits.slice(k, k + 2), 16));
    }
  }
  return Uint8Array.from(out);
}

/** Formats a 64-bit value as `0x…` in lowercase hex, as every r0 is printed. */
export function hex64(value: bigint): string {
  return `0x${BigInt.asUintN(64, value).toString(16)}`;
}

/** Bytes as lower-case hex pairs without separators (`0a0b`), the form of JSON outputs. */
export function bytesToHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}
