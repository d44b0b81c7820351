/**
 * The `maps` key of a demo event: what user space writes to maps before the run, as
 * `bpf_map_update_elem` from the host would. `{"maps": {"samples": [5, 17, 0]}}` fills keys 0, 1, 2;
 * `{"maps": {"calls": {"42": "0a00…"}}}` sets key 42. Keys (object keys are strings of integers) and
 * values given as JSON numbers are stored little-endian in the map's key/value size (at most 8 bytes);
 * a value given as a string is hex of exactly the value size.
 */
import { UsageError } from '../../errors.js';
import {
  childPath,
  expectHex,
  expectInteger,
  expectObject,
  formatError,
  type JsonObject,
} from '../../runtime/contexts/json.js';
import type { LoadedObject } from '../../runtime/loader.js';

/** Writes `input.maps` into `obj`'s maps and returns the input without it (the context's part). */
export function fillMaps(obj: LoadedObject, input: JsonObject): JsonObject {
  if (input.maps === undefined) return input;
  const { maps, ...rest } = input;
  for (const [name, entries] of Object.entries(expectObject(maps, 'maps'))) {
    const path = childPath('maps', name);
    const map = obj.maps.byName(name);
    if (map === undefined) {
      const names = obj.maps.maps.map((m) => m.name).join(', ') || 'none';
      throw new UsageError(`${path}: the object has no map named ${name} (maps: ${names})`);
    }
    const pairs: [string, unknown][] = Array.isArray(entries)
      ? entries.map((v, i) => [String(i), v])
      : Object.entries(expectObject(entries, path));
    for (const [key, value] of pairs) {
      const at = Array.isArray(entries) ? `${path}[${key}]` : childPath(path, key);
      const err = map.update(
        intBytes(key, map.def.keySize, `${at} (key)`),
        bytesOf(value, map.def.valueSize, at),
      );
      if (err !== 0) throw new UsageError(`${at}: the map refused the update (error ${err})`);
    }
  }
  return rest;
}

function bytesOf(value: unknown, size: number, path: string): Uint8Array {
  if (typeof value === 'string') {
    const bytes = expectHex(value, path);
    if (bytes.length !== size) throw formatError(path, `expected ${size} bytes of hex, got ${bytes.length}`);
    return bytes;
  }
  return intBytes(value, size, path);
}

/** An integer (JSON number or integer string) little-endian in `size` bytes. */
function intBytes(value: unknown, size: number, path: string): Uint8Array {
  if (size > 8) throw formatError(path, `a ${size}-byte value must be given as a hex string`);
  const bits = size === 1 || size === 2 || size === 4 ? ((size * 8) as 8 | 16 | 32) : 64;
  let n = expectInteger(value, path, bits);
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++, n >>= 8n) out[i] = Number(n & 0xffn);
  return out;
}
