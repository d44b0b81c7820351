/**
 * `bpfbox run FILE`: runs a program once with the conformance calling convention and prints r0; an
 * object file (ELF magic) runs as a loaded BPF object instead (see run-object.ts), verified first unless
 * `--no-verify` (run-verify.ts); raw programs have no program type and are never verified.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { DEFAULT_ENGINE, ENGINE_NAMES, getEngine } from '../../conformance/engines.js';
import { conformanceHelpers } from '../../conformance/helpers.js';
import { BpfError, Trap, UsageError } from '../../errors.js';
import { readBytes } from '../../util/files.js';
import { hex64 } from '../../util/hex.js';
import {
  type CliIo,
  EXIT_FAILURE,
  isSetupError,
  loadProgramInput,
  memFromFlags,
  parseNonNegativeInt,
  parsePositiveInt,
} from '../io.js';
import { prepareProgram, timedRuns, timingText } from '../run-timing.js';
import { isElf, type ObjectRunFlags, runObject } from './run-object.js';

interface RunFlags extends Omit<ObjectRunFlags, 'engine'> {
  mem?: string;
  memFile?: string;
  engine: string;
}

/** Flags that only apply to one kind of input, to reject instead of silently ignoring. */
const OBJECT_ONLY = ['program', 'input', 'cpus', 'seed', 'verify'] as const;
const RAW_ONLY = ['mem', 'memFile'] as const;

export function registerRun(program: Command, io: CliIo): void {
  program
    .command('run')
    .description(
      'run a program (.s, .bin or .data: r1 = input bytes, r2 = their length) or a program of an object file (.o) on a context from --input',
    )
    .argument(
      '<file>',
      'assembly (.s/.asm, syntax auto-detected), raw instructions (.bin), a test (.data) or an object file (clang -target bpf)',
    )
    .addOption(new Option('--mem <hex>', 'input bytes as hex, e.g. "01 02 0a" (overrides a .data -- mem)'))
    .addOption(new Option('--mem-file <file>', 'input bytes from a binary file').conflicts('mem'))
    .option('--engine <name>', `execution engine (${ENGINE_NAMES.join(', ')})`, DEFAULT_ENGINE)
    .option('--max-insns <n>', 'instruction budget', (v) => parsePositiveInt(v, '--max-insns'))
    .option('--gas-limit <n>', 'gas limit (1 per instruction); --json then adds "gas_used"', (v) =>
      parseNonNegativeInt(v, '--gas-limit'),
    )
    .option('--json', 'print {"ok":true,"r0":"0x…","instructions":N,…} or {"ok":false,"error":{…}}')
    .option('--program <name>', 'object files: the program to run (optional when there is only one)')
    .option(
      '--input <file>',
      'object files: IN.json with the context ({"packet":"hex"}, {"task":{…},"args":{…}}, "regs", "rodata"); - reads stdin',
    )
    .option(
      '--repeat <n>',
      'run N times on one compiled program (object files: N events on persistent maps, events accumulate); prints the median time per run and the compile time (--json: "ns_per_run_median", "compile_ns")',
      (v) => parsePositiveInt(v, '--repeat'),
    )
    .option('--cpus <n>', 'object files: simulated CPUs for per-CPU maps (default 1)', (v) =>
      parsePositiveInt(v, '--cpus'),
    )
    .option(
      '--no-verify',
      'object files: run without the verifier (by default the program, and the PROG_ARRAY programs it can tail-call, must pass it as in a kernel load; a rejection prints the diagnostic and exits 1); a usage error on .s/.bin/.data, which are never verified',
    )
    .option('--seed <n>', 'object files: seed of bpf_get_prandom_u32 (default 0)', (v) =>
      parseNonNegativeInt(v, '--seed'),
    )
    .action(async (file: string, flags: RunFlags, command: Command) => {
      const given = (name: string) => {
        const source = command.getOptionValueSource(name);
        return source !== undefined && source !== 'default';
      };
      if (startsWithElfMagic(file)) {
        const wrong = RAW_ONLY.find(given);
        if (wrong !== undefined) {
          throw new UsageError(
            `--${kebab(wrong)} does not apply to object files; give the context with --input IN.json`,
          );
        }
        const engine = getEngine(flags.engine);
        await runObject(file, readBytes(file), { ...flags, engine: engine.jit ? 'jit' : 'interp' }, io);
        return;
      }
      const wrong = OBJECT_ONLY.find(given);
      if (wrong !== undefined) {
        throw new UsageError(`${flagName(wrong)} applies to object files (.o) only, not to ${file}`);
      }
      const engine = getEngine(flags.engine);
      const mem = memFromFlags(flags);
      try {
        const input = loadProgramInput(file);
        const prepared = prepareProgram(engine, input.program, {
          mem: mem ?? input.mem,
          helpers: conformanceHelpers(),
          maxInstructions: flags.maxInsns,
          gasLimit: flags.gasLimit,
        });
        const runs = flags.repeat ?? 1;
        const { last: result, medianNs } = timedRuns(runs, () => prepared.run());
        const gas = flags.gasLimit === undefined ? {} : { gas_used: result.gasUsed };
        const timing =
          flags.repeat === undefined
            ? undefined
            : { ns_per_run_median: medianNs, compile_ns: prepared.compileNs };
        if (flags.json)
          io.out(
            JSON.stringify({
              ok: true,
              r0: hex64(result.r0),
              instructions: result.instructions,
              ...gas,
              ...timing,
            }),
          );
        else
          io.out(
            timing === undefined ? hex64(result.r0) : `${hex64(result.r0)}\n${timingText(runs, timing)}`,
          );
      } catch (e) {
        // Setup errors (unreadable file, bad hex, …) keep their one-line stderr form and exit 2.
        if (!flags.json || !(e instanceof BpfError) || isSetupError(e)) throw e;
        // Gas used until a trap (a load error happens before any gas is used).
        const gas = flags.gasLimit === undefined ? {} : { gas_used: e instanceof Trap ? e.gasUsed : 0 };
        io.out(JSON.stringify({ ok: false, error: e.toJSON(), ...gas }));
        io.exitCode = EXIT_FAILURE;
      }
    });
}

/** True when `path` can be read and starts with the ELF magic (other read errors are reported later). */
function startsWithElfMagic(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const head = new Uint8Array(4);
    return readSync(fd, head, 0, 4, 0) === 4 && isElf(head);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The flag as typed: `verify` is given as --no-verify. */
function flagName(flag: string): string {
  return flag === 'verify' ? '--no-verify' : `--${kebab(flag)}`;
}

function kebab(flag: string): string {
  return flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
