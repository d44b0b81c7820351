/** `bpfbox disasm FILE`: decodes a program and prints it, one instruction per line. */
import { type Command, Option } from 'commander';
import { type AsmSyntax, disassemble } from '../../asm/index.js';
import { decodeProgram } from '../../isa/decoder.js';
import { type CliIo, loadProgramInput } from '../io.js';

export function registerDisasm(program: Command, io: CliIo): void {
  program
    .command('disasm')
    .description('disassemble raw instructions (.bin), a conformance test (.data) or assembly (.s)')
    .argument('<file>', 'program file')
    .addOption(new Option('--syntax <syntax>', 'output syntax').choices(['llvm', 'ubpf']).default('llvm'))
    .action((file: string, flags: { syntax: AsmSyntax }) => {
      const program = decodeProgram(loadProgramInput(file).program);
      io.out(disassemble(program, { syntax: flags.syntax }).replace(/\n$/, ''));
    });
}
