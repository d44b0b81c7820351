/**
 * The `bpfbox` command line: builds the commander program and runs it to an exit status. Commander's
 * own errors are turned into one-line messages with exit status 2; BpfErrors are printed as
 * `error[CODE]: message`; anything else is an internal error (exit 70). No stack trace is ever printed.
 */
import { Command, CommanderError } from 'commander';
import { registerAsm } from './commands/asm.js';
import { registerConformance } from './commands/conformance.js';
import { registerDemo } from './commands/demo.js';
import { registerDisasm } from './commands/disasm.js';
import { registerInspect } from './commands/inspect.js';
import { registerPlugin } from './commands/plugin.js';
import { registerRun } from './commands/run.js';
import { registerTrace } from './commands/trace.js';
import { registerVerify } from './commands/verify.js';
import { type CliIo, EXIT_OK, EXIT_USAGE, oneLine, processIo, reportError } from './io.js';

export function buildProgram(io: CliIo): Command {
  const program = new Command('bpfbox')
    .description('eBPF anywhere JavaScript runs: assembler, disassembler, interpreter and conformance runner')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s.replace(/\n$/, '')),
      writeErr: (s) => io.err(s.replace(/\n$/, '')),
      // Errors are printed by runCli as one line; commander would add a second with suggestions.
      outputError: () => {},
    })
    .showSuggestionAfterError(true);
  registerAsm(program, io);
  registerDisasm(program, io);
  registerRun(program, io);
  registerInspect(program, io);
  registerTrace(program, io);
  registerVerify(program, io);
  registerConformance(program, io);
  registerPlugin(program, io);
  registerDemo(program, io);
  return program;
}

/** Runs the CLI with `args` (without node and script) and returns the exit status. */
export async function runCli(args: readonly string[], io: CliIo = processIo()): Promise<number> {
  try {
    await buildProgram(io).parseAsync([...args], { from: 'user' });
    return io.exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return EXIT_OK;
      // Help shown because no command was given has already been printed to stderr.
      if (e.code !== 'commander.help') io.err(`error[USAGE]: ${oneLine(e.message.replace(/^error: /, ''))}`);
      return EXIT_USAGE;
    }
    return reportError(e, io);
  }
}
