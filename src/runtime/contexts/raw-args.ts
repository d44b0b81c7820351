/**
 * raw_tracepoint, raw_tp and the BTF-typed tracing programs (fentry, fexit, fmod_ret, tp_btf): r1 points
 * at an array of u64 arguments; fexit and fmod_ret find the return value right after the arguments.
 */
import { type ArgumentEncoder, encodeArgument } from './arguments.js';
import { childPath, expectArray, type JsonObject, usageError } from './json.js';
import { type ContextAccess, defineStruct, type FieldSpec, writeInt } from './layout.js';

/** MAX_BPF_FUNC_ARGS: traced functions take at most 12 arguments. */
export const MAX_TRACED_ARGS = 12;

/** The u64 array of `count` arguments (plus the return value slot when `withReturn`). */
export function rawArgsLayout(count: number, withReturn: boolean) {
  const specs: FieldSpec[] = Array.from({ length: count }, (_, i): FieldSpec => [`arg${i}`, 8]);
  if (withReturn) specs.push(['ret', 8]);
  return defineStruct('u64[]', specs);
}

/** raw_tp_prog_is_valid_access / btf_ctx_access: aligned reads of the arguments, no writes. */
export function rawArgsAccess(count: number, withReturn: boolean): ContextAccess {
  const layout = rawArgsLayout(count, withReturn);
  return { layout, readable: layout.fields, writable: [] };
}

/** IN.json: `args` as an array (each an integer, a string or a pointer array) and `ret` for fexit. */
export function rawArgsImage(input: JsonObject, withReturn: boolean, encode: ArgumentEncoder): Uint8Array {
  const args = input.args === undefined ? [] : expectArray(input.args, 'args');
  if (args.length > MAX_TRACED_ARGS) {
    throw usageError('args', `${args.length} arguments; traced functions take at most ${MAX_TRACED_ARGS}`);
  }
  if (!withReturn && input.ret !== undefined) {
    throw usageError('ret', 'only fexit and fmod_ret programs see a return value');
  }
  const layout = rawArgsLayout(args.length, withReturn);
  const b = new Uint8Array(Math.max(layout.size, 8));
  for (const [i, v] of args.entries()) writeInt(b, i * 8, 8, encodeArgument(v, childPath('args', i), encode));
  if (withReturn && input.ret !== undefined)
    writeInt(b, args.length * 8, 8, encodeArgument(input.ret, 'ret', encode));
  return b;
}
