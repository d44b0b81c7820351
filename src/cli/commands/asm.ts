/** `bpfbox asm FILE.s`: assembles to raw instruction bytes. */
import { type Command, Option } from 'commander';
import type { AsmSyntax } from '../../asm/index.js';
import { UsageError } from '../../errors.js';
import { writeBytes } from '../../util/files.js';
import { type CliIo, inputKind, loadProgramInput } from '../io.js';

interface AsmFlags {
  output?: string;
  syntax?: AsmSyntax;
}

export function registerAsm(program: Command, io: CliIo): void {
  program
    .command('asm')
    .description('assemble a .s file (or the program of a .data file) to raw instructions')
    .argument('<file>', 'assembly source (.s/.asm) or conformance test (.data)')
    .option('-o, --output <file>', 'output file (default: the input with extension .bin)')
    .addOption(
      new Option('--syntax <syntax>', 'assembly syntax (default: auto-detect)').choices(['ubpf', 'llvm']),
    )
    .action((file: string, flags: AsmFlags) => {
      if (inputKind(file) === 'bin') throw new UsageError(`${file} is already raw instructions`);
      const { program: bytes } = loadProgramInput(file, flags.syntax ?? 'auto');
      const output = flags.output ?? `${file.replace(/\.[^./\\]*$/, '')}.bin`;
      writeBytes(output, bytes);
      io.out(`${file}: ${bytes.length / 8} slots (${bytes.length} bytes) written to ${output}`);
    });
}
