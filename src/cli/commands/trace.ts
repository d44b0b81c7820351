/**
 * `bpfbox trace FILE`: runs a program like `run` and prints every executed instruction with the
 * registers it changed and the memory it accessed. With --json, one JSON object per step. Object
 * files (ELF magic) run like `bpfbox run OBJ.o` and add source lines from their debug info
 * (see trace-object.ts).
 */
import { type Command, Option } from 'commander';
import { conformanceHelpers } from '../../conformance/helpers.js';
import { BpfError, UsageError } from '../../errors.js';
import { readBytes } from '../../util/files.js';
import { hex64 } from '../../util/hex.js';
import { createMachine } from '../../vm/machine.js';
import { type CliIo, EXIT_FAILURE, loadProgramInput, memFromFlags, parsePositiveInt } from '../io.js';
import { type ObjectTraceFlags, traceObject } from '../trace-object.js';
import { StepPrinter } from '../trace-steps.js';
import { isElf } from './run-object.js';

interface TraceFlags extends ObjectTraceFlags {
  mem?: string;
  memFile?: string;
}

/** Flags that only apply to one kind of input, to reject instead of silently ignoring. */
const OBJECT_ONLY = { program: '--program', input: '--input', verify: '--no-verify' } as const;
const RAW_ONLY = { mem: '--mem', memFile: '--mem-file' } as const;

export function registerTrace(program: Command, io: CliIo): void {
  program
    .command('trace')
    .description(
      'run a program (.s, .bin, .data or an object file) and print each executed instruction and its effects',
    )
    .argument(
      '<file>',
      'assembly (.s/.asm), raw instructions (.bin), a test (.data) or an object file (clang -target bpf; source lines from -g)',
    )
    .addOption(new Option('--mem <hex>', 'input bytes as hex (overrides a .data -- mem)'))
    .addOption(new Option('--mem-file <file>', 'input bytes from a binary file').conflicts('mem'))
    .option('--max-insns <n>', 'instruction budget', (v) => parsePositiveInt(v, '--max-insns'))
    .option('--gas-limit <n>', 'gas limit', (v) => parsePositiveInt(v, '--gas-limit'))
    .option('--json', 'one JSON object per executed instruction, then the result')
    .option('--program <name>', 'object files: the program to trace (optional when there is only one)')
    .option('--input <file>', 'object files: IN.json with the context, as for `bpfbox run`; - reads stdin')
    .option(
      '--no-verify',
      'object files: trace without verifying the programs first (as `bpfbox run`); a usage error on .s/.bin/.data',
    )
    .action(async (file: string, flags: TraceFlags, command: Command) => {
      const object = readObject(file);
      const given = (name: string) => {
        const source = command.getOptionValueSource(name);
        return source !== undefined && source !== 'default';
      };
      const wrong = Object.entries(object ? RAW_ONLY : OBJECT_ONLY).find(([key]) => given(key));
      if (wrong !== undefined) {
        throw new UsageError(
          object
            ? `${wrong[1]} does not apply to object files; give the context with --input IN.json`
            : `${wrong[1]} applies to object files (.o) only, not to ${file}`,
        );
      }
      if (object) await traceObject(file, object, flags, io);
      else traceRaw(file, flags, io);
    });
}

/** The file's bytes when it is an object file; undefined otherwise or unreadable (reported later). */
function readObject(path: string): Uint8Array | undefined {
  try {
    const bytes = readBytes(path);
    return isElf(bytes) ? bytes : undefined;
  } catch {
    return undefined;
  }
}

/** .s/.bin/.data with the conformance convention (r1 = input, r2 = its length). */
function traceRaw(file: string, flags: TraceFlags, io: CliIo): void {
  const input = loadProgramInput(file);
  const mem = memFromFlags(flags) ?? input.mem;
  const machine = createMachine(input.program, { mem, helpers: conformanceHelpers() });
  const printer = new StepPrinter(io, flags.json === true);
  try {
    const result = machine.interpreter.run({
      args: machine.args,
      maxInstructions: flags.maxInsns,
      gasLimit: flags.gasLimit,
      trace: printer.step,
    });
    printer.finish(machine.interpreter.registers());
    const summary = {
      ok: true,
      r0: hex64(result.r0),
      instructions: result.instructions,
      gas_used: result.gasUsed,
    };
    io.out(
      flags.json ? JSON.stringify(summary) : `r0 = ${summary.r0} after ${result.instructions} instructions`,
    );
  } catch (e) {
    printer.finish(machine.interpreter.registers());
    if (!(e instanceof BpfError) || !flags.json) throw e;
    io.out(JSON.stringify({ ok: false, error: e.toJSON() }));
    io.exitCode = EXIT_FAILURE;
  }
}
