/**
 * `bpfbox plugin [MEMHEX]`: the bpf_conformance plugin protocol (FORMAT.md §5). The program arrives on
 * stdin as space-separated hex bytes, the input memory as the first argument; r0 is printed in hex.
 * Options the runner passes after MEMHEX for other plugins are accepted and ignored.
 */
import type { Command } from 'commander';
import { DEFAULT_ENGINE, getEngine } from '../../conformance/engines.js';
import { conformanceHelpers } from '../../conformance/helpers.js';
import { BpfError, UsageError } from '../../errors.js';
import { hex64, parseHexBytes } from '../../util/hex.js';
import { type CliIo, exitCodeFor, oneLine } from '../io.js';

export function registerPlugin(program: Command, io: CliIo): void {
  program
    .command('plugin')
    .description('bpf_conformance plugin: program as hex bytes on stdin, input memory as hex argument')
    .argument('[memhex]', 'input memory as hex bytes')
    .argument('[options...]', 'other plugin options (ignored)')
    .option('--elf', 'the program on stdin is an ELF object (not supported yet)')
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (memhex: string | undefined, rest: string[], flags: { elf?: boolean }) => {
      if (flags.elf || rest.includes('--elf')) {
        throw new UsageError(
          'ELF input (--elf) is not supported yet; pass the program as hex bytes on stdin',
        );
      }
      // An option where MEMHEX would be means there is no memory.
      const memText = memhex?.startsWith('-') ? undefined : memhex;
      const mem = memText === undefined ? undefined : parseHexBytes(memText, { file: 'memory argument' });
      const program = parseHexBytes(await io.readStdin(), { file: 'stdin' });
      try {
        const result = getEngine(DEFAULT_ENGINE).run(program, { mem, helpers: conformanceHelpers() });
        io.out(hex64(result.r0));
      } catch (e) {
        // The runner compares the bare message with `-- error`, so print it without decoration.
        if (!(e instanceof BpfError)) throw e;
        io.err(oneLine(e.message));
        io.exitCode = exitCodeFor(e);
      }
    });
}
