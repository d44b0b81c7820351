/**
 * `bpfbox trace OBJ.o`: loads the object, builds the context and verifies first (unless `--no-verify`)
 * exactly like `bpfbox run OBJ.o` (run-object.ts, run-input.ts, run-verify.ts), runs the program once
 * with every step printed, a source header whenever the line changes, then the result as `run` prints it.
 */
import { OpenObject } from '../elf/open.js';
import { BpfError, Trap } from '../errors.js';
import { type LoadedObject, loadBpfObject } from '../runtime/loader.js';
import type { MapEntryJson } from '../runtime/maps/host-api.js';
import { Interpreter } from '../vm/interpreter/interpreter.js';
import { chooseProgram, type RunSummary, runJson, runText, section } from './commands/run-object.js';
import { type CliIo, EXIT_FAILURE, isSetupError } from './io.js';
import { mapDisplayNames } from './object-names.js';
import { applyRodata, readRunInput } from './run-input.js';
import { ProgramRejected, reportRejection, verifyBeforeRun } from './run-verify.js';
import { ObjectStepNotes } from './trace-object-notes.js';
import { StepPrinter } from './trace-steps.js';

export interface ObjectTraceFlags {
  program?: string;
  input?: string;
  maxInsns?: number;
  gasLimit?: number;
  json?: boolean;
  /** false with `--no-verify`: trace without the verifier's check (run-verify.ts). */
  verify?: boolean;
}

export async function traceObject(
  file: string,
  bytes: Uint8Array,
  flags: ObjectTraceFlags,
  io: CliIo,
): Promise<void> {
  const gas = (used: number) => (flags.gasLimit === undefined ? {} : { gas_used: used });
  let printer: StepPrinter | undefined;
  let registers: () => readonly bigint[] = () => [];
  let loaded: LoadedObject | undefined;
  try {
    const input = await readRunInput(flags.input, io);
    const open = OpenObject.open(bytes);
    const program = chooseProgram(open, flags.program);
    applyRodata(open, input);
    if (flags.verify !== false) verifyBeforeRun(open, program);
    loaded = loadBpfObject(open);
    const notes = new ObjectStepNotes(loaded, program);
    const vm = notes.program.vm;
    // Objects load on the interpreter here: only it traces and keeps its registers.
    registers = () => (vm instanceof Interpreter ? vm.registers() : []);
    printer = new StepPrinter(io, flags.json === true, notes.notes);
    const run = loaded.run(program, input, {
      maxInstructions: flags.maxInsns,
      gasLimit: flags.gasLimit,
      trace: printer.step,
    });
    printer.finish(registers());
    const summary: RunSummary = {
      runs: 1,
      last: run,
      printk: run.printk,
      ringbuf: run.ringbuf,
      perf: run.perf,
      maps: namedMaps(open, loaded, file),
    };
    io.out(flags.json ? JSON.stringify(runJson(summary, gas(run.gasUsed))) : runText(summary));
  } catch (e) {
    // The trapping step is printed too: its header shows the source line of the trap.
    printer?.finish(registers());
    const printk = loaded?.runtime.printk ?? [];
    if (!flags.json && e instanceof Trap && printk.length > 0) io.out(section('printk', printk));
    if (e instanceof ProgramRejected && reportRejection(e, flags.json, io)) return;
    // Setup errors (flags, IN.json, unknown names) keep their one-line stderr form and exit 2.
    if (!flags.json || !(e instanceof BpfError) || isSetupError(e)) throw e;
    io.out(JSON.stringify({ ok: false, error: e.toJSON(), ...gas(e instanceof Trap ? e.gasUsed : 0) }));
    io.exitCode = EXIT_FAILURE;
  }
}

/** The maps' contents under the names `bpfbox run` shows (the same display names). */
function namedMaps(open: OpenObject, loaded: LoadedObject, file: string): Record<string, MapEntryJson[]> {
  const names = mapDisplayNames(open, file);
  const rename = new Map(open.maps.map((m, i) => [m.name, names[i]]));
  const maps: Record<string, MapEntryJson[]> = {};
  for (const [name, entries] of Object.entries(loaded.maps.dump())) maps[rename.get(name) ?? name] = entries;
  return maps;
}
