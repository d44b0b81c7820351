/**
 * Turning IN.json argument values into 64-bit register/field values. Integers are numbers or integer
 * strings (decimal, 0x…); other values become pointers into the simulated user memory: a string is a
 * NUL-terminated string, `{"string": "…"}` forces one (for text that looks like a number), `{"hex":
 * "…"}` is raw bytes, and an array is a NULL-terminated pointer array (argv, envp).
 */
import {
  checkKeys,
  childPath,
  expectHex,
  expectInteger,
  expectString,
  formatError,
  isObject,
} from './json.js';
import type { UserMemoryBuilder } from './user-memory.js';

export type ArgumentEncoder = UserMemoryBuilder;

const INTEGER_TEXT = /^\s*-?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|[0-9]+)\s*$/;

/**
 * An argument of unknown C type. `as` narrows it: 'string' for `char *` fields (a string is always its
 * text), 'integer' for scalar fields (no pointers).
 */
export function encodeArgument(
  value: unknown,
  path: string,
  user: ArgumentEncoder,
  as: 'any' | 'string' | 'integer' = 'any',
): bigint {
  if (typeof value === 'number') return expectInteger(value, path);
  if (typeof value === 'string') {
    if (as === 'integer' || (as === 'any' && INTEGER_TEXT.test(value))) return expectInteger(value, path);
    return user.addString(value, path);
  }
  if (as === 'integer') throw formatError(path, 'expected an integer');
  if (Array.isArray(value)) {
    const items = value.map((v, i) =>
      encodeArgument(v, childPath(path, i), user, as === 'string' ? 'string' : 'any'),
    );
    return user.addPointerArray(items, path);
  }
  if (isObject(value)) {
    checkKeys(value, ['string', 'hex'], path);
    if (value.string !== undefined)
      return user.addString(expectString(value.string, childPath(path, 'string')), path);
    if (value.hex !== undefined) return user.add(expectHex(value.hex, childPath(path, 'hex')), path);
  }
  throw formatError(
    path,
    as === 'string'
      ? 'expected a string (or an integer address)'
      : 'expected an integer, a string, an array or {"string"|"hex": …}',
  );
}
