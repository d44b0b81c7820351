/** `bpfbox run FILE`: runs a program once with the conformance calling convention and prints r0. */
import { type Command, Option } from 'commander';
import { DEFAULT_ENGINE, ENGINE_NAMES, getEngine } from '../../conformance/engines.js';
import { conformanceHelpers } from '../../conformance/helpers.js';
import { BpfError, Trap } from '../../errors.js';
import { readBytes } from '../../util/files.js';
import { hex64, parseHexBytes } from '../../util/hex.js';
import {
  type CliIo,
  EXIT_FAILURE,
  isSetupError,
  loadProgramInput,
  parseNonNegativeInt,
  parsePositiveInt,
} from '../io.js';

interface RunFlags {
  mem?: string;
  memFile?: string;
  engine: string;
  maxInsns?: number;
  gasLimit?: number;
  json?: boolean;
}

export function registerRun(program: Command, io: CliIo): void {
  program
    .command('run')
    .description('run a program (.s, .bin or .data) and print r0; r1 = input bytes, r2 = their length')
    .argument('<file>', 'assembly (.s/.asm, syntax auto-detected), raw instructions (.bin) or a test (.data)')
    .addOption(new Option('--mem <hex>', 'input bytes as hex, e.g. "01 02 0a" (overrides a .data -- mem)'))
    .addOption(new Option('--mem-file <file>', 'input bytes from a binary file').conflicts('mem'))
    .option('--engine <name>', `execution engine (${ENGINE_NAMES.join(', ')})`, DEFAULT_ENGINE)
    .option('--max-insns <n>', 'instruction budget', (v) => parsePositiveInt(v, '--max-insns'))
    .option('--gas-limit <n>', 'gas limit (1 per instruction); --json then adds "gas_used"', (v) =>
      parseNonNegativeInt(v, '--gas-limit'),
    )
    .option('--json', 'print {"ok":true,"r0":"0x…","instructions":N} or {"ok":false,"error":{…}}')
    .action((file: string, flags: RunFlags) => {
      const engine = getEngine(flags.engine);
      const mem =
        flags.mem !== undefined
          ? parseHexBytes(flags.mem, { file: '--mem' })
          : flags.memFile !== undefined
            ? readBytes(flags.memFile)
            : undefined;
      try {
        const input = loadProgramInput(file);
        const result = engine.run(input.program, {
          mem: mem ?? input.mem,
          helpers: conformanceHelpers(),
          maxInstructions: flags.maxInsns,
          gasLimit: flags.gasLimit,
        });
        const gas = flags.gasLimit === undefined ? {} : { gas_used: result.gasUsed };
        if (flags.json)
          io.out(
            JSON.stringify({ ok: true, r0: hex64(result.r0), instructions: result.instructions, ...gas }),
          );
        else io.out(hex64(result.r0));
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
