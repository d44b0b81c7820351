/**
 * `bpfbox run OBJ.o`: loads an object file (maps, globals, helpers) on the interpreter or the JIT,
 * builds the program's context from IN.json and runs it `--repeat` times like that many events on
 * persistent maps. Prints r0, printk, ring buffer and perf records, the packet and context fields
 * after the last run, the maps, and with `--repeat` the timing (run-timing.ts). The program, and the
 * programs it can tail-call, are verified first unless `--no-verify` (run-verify.ts).
 */
import { OpenObject } from '../../elf/open.js';
import { BpfError, type BpfErrorJson, Trap, UsageError } from '../../errors.js';
import type { ContextResult } from '../../runtime/contexts/context.js';
import type { JsonObject } from '../../runtime/contexts/json.js';
import { contextResultJson, toHex } from '../../runtime/contexts/result-json.js';
import type { RedirectTarget } from '../../runtime/helpers/runtime.js';
import {
  type LoadedObject,
  loadBpfObject,
  type ObjectEngine,
  type ProgramRun,
} from '../../runtime/loader.js';
import type { MapEntryJson } from '../../runtime/maps/host-api.js';
import type { PerfRecord } from '../../runtime/maps/perf-event-array.js';
import { hex64 } from '../../util/hex.js';
import { type CliIo, EXIT_FAILURE, isSetupError } from '../io.js';
import { mapDisplayNames } from '../object-names.js';
import { applyRodata, readRunInput } from '../run-input.js';
import { type RunTiming, timedRuns, timingText } from '../run-timing.js';
import { ProgramRejected, reportRejection, verifyBeforeRun } from '../run-verify.js';

/** The first bytes of every ELF file. */
const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];

export function isElf(bytes: Uint8Array): boolean {
  return ELF_MAGIC.every((b, i) => bytes[i] === b);
}

export interface ObjectRunFlags {
  program?: string;
  input?: string;
  repeat?: number;
  maxInsns?: number;
  gasLimit?: number;
  cpus?: number;
  seed?: number;
  json?: boolean;
  engine?: ObjectEngine;
  /** false with `--no-verify`: run without the verifier's check (run-verify.ts). */
  verify?: boolean;
}

/** What all runs together produced: events accumulated, the rest from the last run. */
export interface RunSummary {
  readonly runs: number;
  readonly last: ProgramRun;
  readonly printk: readonly string[];
  readonly ringbuf: readonly Uint8Array[];
  readonly perf: readonly PerfRecord[];
  readonly maps: Record<string, MapEntryJson[]>;
  /** With `--repeat`: median time per run and the time to build the programs' executors. */
  readonly timing?: RunTiming;
}

export async function runObject(
  file: string,
  bytes: Uint8Array,
  flags: ObjectRunFlags,
  io: CliIo,
): Promise<void> {
  try {
    const { open, program, input } = await openForRun(bytes, flags, io);
    const loaded = loadBpfObject(open, { cpus: flags.cpus, seed: flags.seed, engine: flags.engine });
    const summary = {
      ...runRepeatedly(loaded, program, input, flags, io),
      maps: namedMaps(open, loaded, file),
    };
    if (flags.json) io.out(JSON.stringify(runJson(summary, gasUsedField(flags, summary.last.gasUsed))));
    else io.out(runText(summary));
  } catch (e) {
    reportRunFailure(e, flags, io);
  }
}

/** `"gas_used"` for JSON outputs when a gas limit was given. */
export function gasUsedField(flags: { gasLimit?: number }, used: number): { gas_used?: number } {
  return flags.gasLimit === undefined ? {} : { gas_used: used };
}

/**
 * The steps `run` and `trace` share before loading: IN.json read, the program chosen, `rodata`
 * applied, and the program with its tail-call targets verified unless `--no-verify`.
 */
export async function openForRun(
  bytes: Uint8Array,
  flags: Pick<ObjectRunFlags, 'input' | 'program' | 'verify'>,
  io: CliIo,
): Promise<{ open: OpenObject; program: string; input: JsonObject }> {
  const input = await readRunInput(flags.input, io);
  const open = OpenObject.open(bytes);
  const program = chooseProgram(open, flags.program);
  applyRodata(open, input);
  if (flags.verify !== false) verifyBeforeRun(open, program);
  return { open, program, input };
}

/**
 * Reports what stopped an object run: a verifier rejection as the verifier prints it, a load error or
 * trap as `{"ok":false,"error":{…}}` with `--json` (exit 1); anything else is rethrown for the CLI's
 * one-line form (setup errors: exit 2; without --json: `error[CODE]`).
 */
export function reportRunFailure(
  e: unknown,
  flags: Pick<ObjectRunFlags, 'json' | 'gasLimit'>,
  io: CliIo,
): void {
  if (e instanceof ProgramRejected && reportRejection(e, flags.json, io)) return;
  if (!flags.json || !(e instanceof BpfError) || isSetupError(e)) throw e;
  const error: BpfErrorJson = e.toJSON();
  io.out(JSON.stringify({ ok: false, error, ...gasUsedField(flags, e instanceof Trap ? e.gasUsed : 0) }));
  io.exitCode = EXIT_FAILURE;
}

/** The maps' contents under the names `bpfbox run` shows (libbpf's internal map names). */
export function namedMaps(
  open: OpenObject,
  loaded: LoadedObject,
  file: string,
): Record<string, MapEntryJson[]> {
  const names = mapDisplayNames(open, file);
  const rename = new Map(open.maps.map((m, i) => [m.name, names[i]]));
  const maps: Record<string, MapEntryJson[]> = {};
  for (const [name, entries] of Object.entries(loaded.maps.dump())) maps[rename.get(name) ?? name] = entries;
  return maps;
}

/** `--program NAME`, or the only program; a UsageError that lists the programs otherwise. */
export function chooseProgram(open: OpenObject, wanted: string | undefined): string {
  const names = open.programSummaries().map((p) => p.name);
  const list = names.join(', ') || 'none';
  if (wanted !== undefined) {
    if (names.includes(wanted)) return wanted;
    throw new UsageError(`the object has no program named ${wanted} (programs: ${list})`);
  }
  if (names.length === 1) return names[0];
  throw new UsageError(
    names.length === 0
      ? 'the object has no programs (no executable SEC("…") sections)'
      : `the object has ${names.length} programs; choose one with --program NAME (programs: ${list})`,
  );
}

/**
 * Runs `--repeat` times on the same input object, so the loader resets one context between runs.
 * Timing covers each `loaded.run` (context reset and event collection included); compile time is
 * that of every program of the object, since tail calls may reach any of them.
 */
function runRepeatedly(
  loaded: LoadedObject,
  program: string,
  input: JsonObject,
  flags: ObjectRunFlags,
  io: CliIo,
): Omit<RunSummary, 'maps'> {
  const runs = flags.repeat ?? 1;
  const printk: string[] = [];
  const ringbuf: Uint8Array[] = [];
  const perf: PerfRecord[] = [];
  let timed: { last: ProgramRun; medianNs: number };
  try {
    timed = timedRuns(runs, () => {
      const run = loaded.run(program, input, { maxInstructions: flags.maxInsns, gasLimit: flags.gasLimit });
      printk.push(...run.printk);
      ringbuf.push(...run.ringbuf);
      perf.push(...run.perf);
      return run;
    });
  } catch (e) {
    // What the program printed before it trapped helps to find why; JSON output keeps its contract.
    const printed = [...printk, ...loaded.runtime.printk];
    if (!flags.json && e instanceof Trap && printed.length > 0) io.out(section('printk', printed));
    throw e;
  }
  const compileNs = [...loaded.programs.values()].reduce((sum, p) => sum + p.compileNs, 0);
  const timing =
    flags.repeat === undefined ? undefined : { ns_per_run_median: timed.medianNs, compile_ns: compileNs };
  return { runs, last: timed.last, printk, ringbuf, perf, timing };
}

export function runJson(summary: RunSummary, gas: { gas_used?: number }): Record<string, unknown> {
  const { last } = summary;
  return {
    ok: true,
    r0: hex64(last.r0),
    instructions: last.instructions,
    ...gas,
    ...summary.timing,
    printk: summary.printk,
    ringbuf: summary.ringbuf.map(toHex),
    perf: summary.perf.map((r) => toHex(r.data)),
    ...contextResultJson(last.result),
    ...(last.redirect === undefined ? {} : { redirect: last.redirect }),
    maps: summary.maps,
  };
}

export function runText(summary: RunSummary): string {
  const { last } = summary;
  const lines = [`r0: ${hex64(last.r0)}${outcome(last.result)}`];
  if (summary.runs > 1) lines.push(`runs: ${summary.runs} (r0, instructions and packet of the last)`);
  lines.push(`instructions: ${last.instructions}`);
  if (summary.timing !== undefined) lines.push(timingText(summary.runs, summary.timing));
  if (summary.printk.length > 0) lines.push(section('printk', summary.printk));
  if (summary.ringbuf.length > 0) lines.push(section('ringbuf', summary.ringbuf.map(toHex)));
  if (summary.perf.length > 0)
    lines.push(
      section(
        'perf',
        summary.perf.map((r) => `cpu ${r.cpu} index ${r.index}: ${toHex(r.data)}`),
      ),
    );
  const result = contextResultJson(last.result);
  for (const [key, value] of Object.entries(result)) {
    if (key === 'action' || key === 'verdict' || key === 'keep') continue;
    if (typeof value !== 'object') lines.push(`${key}: ${value === '' ? '(empty)' : value}`);
    else
      lines.push(
        section(
          key,
          Object.entries(value).map(([k, v]) => `${k} = ${v}`),
        ),
      );
  }
  if (last.redirect !== undefined) lines.push(`redirect: ${redirectText(last.redirect)}`);
  lines.push(
    section(
      'maps',
      Object.entries(summary.maps).flatMap(([name, entries]) => [
        `${name} (${entries.length} ${entries.length === 1 ? 'entry' : 'entries'})`,
        ...entries.map((e) => `  ${e.key}: ${Array.isArray(e.value) ? e.value.join(' | ') : e.value}`),
      ]),
    ),
  );
  return lines.join('\n');
}

/** ` (XDP_PASS)`-style suffix naming what r0 means for network programs. */
function outcome(result: ContextResult): string {
  switch (result.kind) {
    case 'xdp':
      return ` (XDP_${result.action ?? 'ABORTED: not an XDP action'})`;
    case 'skb':
      if (result.verdict === 'UNKNOWN') return ' (not a TC_ACT_* verdict)';
      if (result.verdict !== undefined) return ` (TC_ACT_${result.verdict})`;
      return result.keep === undefined ? '' : ` (keep ${result.keep} bytes)`;
    case 'tracing':
      return '';
  }
}

function redirectText(target: RedirectTarget): string {
  return target.kind === 'ifindex'
    ? `ifindex ${target.ifindex} flags ${target.flags}`
    : `map ${target.map} key ${target.key} flags ${target.flags}`;
}

export function section(title: string, items: readonly string[]): string {
  return [`${title}:`, ...(items.length === 0 ? ['  (none)'] : items.map((i) => `  ${i}`))].join('\n');
}
