/**
 * The C part of `bpfbox demo`: compiles each `*.bpf.c`, loads it with `loadBpfObject` and runs the
 * events of its header (`demo:` lines, see c-header.ts) on one loaded object, so maps carry over from
 * one event to the next as they would between real events.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { OpenObject } from '../../elf/open.js';
import { BpfError } from '../../errors.js';
import { expectHex, type JsonObject } from '../../runtime/contexts/json.js';
import { type LoadedObject, loadBpfObject } from '../../runtime/loader.js';
import { readText } from '../../util/files.js';
import { applyRodata } from '../run-input.js';
import { type DemoEvent, parseCExampleHeader } from './c-header.js';
import { compileBpfC } from './clang.js';
import { describeRun, mismatches } from './describe-run.js';
import { fillMaps } from './map-fill.js';

export interface CEventRow {
  readonly ok: boolean;
  readonly program: string;
  readonly type: string;
  readonly event: string;
  readonly result: string;
}

export interface CExampleReport {
  readonly name: string;
  readonly what: string;
  readonly rows: readonly CEventRow[];
}

/** Runs the examples `names` of `dir`; compiles them concurrently, runs them one by one. */
export async function runCExamples(
  dir: string,
  names: readonly string[],
  clang: string,
): Promise<CExampleReport[]> {
  const objects = await mapLimited(names, availableParallelism(), (name) =>
    compileBpfC(clang, join(dir, name)).then(
      (bytes) => ({ bytes }),
      (error: unknown) => ({ error }),
    ),
  );
  return names.map((name, i) => {
    const file = join(dir, name);
    let what = '';
    try {
      const header = parseCExampleHeader(readText(file), file);
      what = header.what;
      const compiled = objects[i];
      if ('error' in compiled) throw compiled.error;
      if (header.events.length === 0)
        return { name, what, rows: [failure('-', 'no "demo:" lines in its header comment')] };
      return { name, what, rows: runEvents(compiled.bytes, header.events) };
    } catch (e) {
      if (!(e instanceof BpfError)) throw e;
      return { name, what, rows: [failure('-', `error[${e.code}]: ${e.message}`)] };
    }
  });
}

function runEvents(bytes: Uint8Array, events: readonly DemoEvent[]): CEventRow[] {
  const open = OpenObject.open(bytes);
  // `rodata` is set before load (skel->rodata), so every event's values apply to the whole object.
  for (const event of events) applyRodata(open, event.input);
  const obj = loadBpfObject(open);
  const types = new Map(open.programSummaries().map((p) => [p.name, p.type as string]));
  return events.map((event) => {
    const base = { program: event.program, type: types.get(event.program) ?? '?', event: label(event) };
    try {
      return { ...base, ...runEvent(obj, event) };
    } catch (e) {
      if (!(e instanceof BpfError)) throw e;
      return { ...base, ok: false, result: `error[${e.code}]: ${e.message}` };
    }
  });
}

function runEvent(obj: LoadedObject, event: DemoEvent): { ok: boolean; result: string } {
  const input = fillMaps(obj, event.input);
  const before = obj.maps.dump();
  const run = obj.run(event.program, input);
  const result = describeRun(run, packetOf(input), before, obj.maps.dump());
  const missing = mismatches(run, event.expect);
  if (missing.length === 0) return { ok: true, result };
  return { ok: false, result: `${result} (expected ${missing.join(', ')})` };
}

function packetOf(input: JsonObject): Uint8Array | undefined {
  return typeof input.packet === 'string' ? expectHex(input.packet, 'packet') : undefined;
}

/** The event's label, or its IN.json cut short. */
function label(event: DemoEvent): string {
  if (event.label !== '') return event.label;
  const json = JSON.stringify(event.input);
  return json.length > 32 ? `${json.slice(0, 31)}…` : json;
}

function failure(program: string, result: string): CEventRow {
  return { ok: false, program, type: '-', event: '-', result };
}

/** `fn` over `items` with at most `limit` calls pending, results in order. */
async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
