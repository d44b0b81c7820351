/**
 * IN.json of `bpfbox run OBJ.o --input IN.json`: parsed once (the same object is given to every
 * repeated run so the loader resets one context), and its `rodata` section applied to the object's
 * globals before load, like `skel->rodata->NAME = value`. The context keys (packet, task, args, regs…)
 * are validated by the loader's context parser.
 */
import type { OpenObject } from '../elf/open.js';
import { FormatError, UsageError } from '../errors.js';
import { childPath, expectInteger, expectObject, type JsonObject } from '../runtime/contexts/json.js';
import { readText } from '../util/files.js';
import type { CliIo } from './io.js';
import { objectGlobals } from './object-globals.js';

/** The input object of `path` (`-` reads stdin), `{}` without one. */
export async function readRunInput(path: string | undefined, io: CliIo): Promise<JsonObject> {
  if (path === undefined) return {};
  const text = path === '-' ? await io.readStdin() : readText(path);
  const name = path === '-' ? 'stdin' : path;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new FormatError('DATA_FORMAT', `${name} is not valid JSON: ${e instanceof Error ? e.message : e}`, {
      file: name,
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FormatError(
      'DATA_FORMAT',
      `${name} must hold a JSON object such as {"packet": "…"} or {"task": {…}, "args": {…}}`,
      { file: name },
    );
  }
  return value as JsonObject;
}

/**
 * Sets the globals of `input.rodata` on `object`: numbers or integer strings ("0x…", "-1") for
 * integer variables, strings for char arrays, booleans as 1/0.
 */
export function applyRodata(object: OpenObject, input: JsonObject): void {
  if (input.rodata === undefined) return;
  const values = expectObject(input.rodata, 'rodata');
  const globals = new Map(objectGlobals(object).map((g) => [g.name, g]));
  for (const [name, value] of Object.entries(values)) {
    const path = childPath('rodata', name);
    const global = globals.get(name);
    if (global === undefined) {
      throw new UsageError(
        `${path}: the object has no global variable ${name} (globals: ${[...globals.keys()].join(', ') || 'none'})`,
      );
    }
    if (typeof value === 'string' && global.array) object.setGlobal(name, value);
    else if (typeof value === 'boolean') object.setGlobal(name, value ? 1 : 0);
    else if (typeof value === 'number' || typeof value === 'string') {
      const bits = global.size === 1 || global.size === 2 || global.size === 4 ? global.size * 8 : 64;
      object.setGlobal(name, expectInteger(value, path, bits as 8 | 16 | 32 | 64));
    } else {
      throw new FormatError(
        'DATA_FORMAT',
        `${path}: expected a number, an integer string ("0x…") or a string for a char array`,
      );
    }
  }
}
