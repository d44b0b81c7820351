import { Trap } from '../errors.js';
import { type LoadedObject, loadBpfObject } from '../runtime/loader.js';
import { Interpreter } from '../vm/interpreter/interpreter.js';
import {
  gasUsedField,
  namedMaps,
  openForRun,
  type RunSummary,
  reportRunFailure,
  runJson,
  runText,
  section,
} from './commands/run-object.js';
import type { CliIo } from './io.js';
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
  let printer: StepPrinter | undefined;
  let registers: () => readonly bigint[] = () => [];
  let loaded: LoadedObject | undefined;
  try {
    const { open, program, input } = await openForRun(bytes, flags, io);
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
    io.out(
      flags.json ? JSON.stringify(runJson(summary, gasUsedField(flags, run.gasUsed))) : runText(summary),
    );
  } catch (e) {
    // The trapping step is printed too: its header shows the source line of the trap.
    printer?.finish(registers());
    const printk = loaded?.runtime.printk ?? [];
    if (!flags.json && e instanceof Trap && printk.length > 0) io.out(section('printk', printk));
    reportRunFailure(e, flags, io);
  }
}
