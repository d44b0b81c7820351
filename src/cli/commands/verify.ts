/**
 * `bpfbox verify FILE`: runs the static verifier on every program of an object file, or on one
 * assembled / raw program of the type `--type` names, and says why a program would be rejected.
 * Exit status 0 when every program is accepted, 1 when one is rejected or the file does not load,
 * 2 when the command is called wrongly.
 */
import type { Command } from 'commander';
import { BpfError } from '../../errors.js';
import { readBytes } from '../../util/files.js';
import { type CliIo, EXIT_FAILURE, isSetupError, parsePositiveInt } from '../io.js';
import { PROGRAM_TYPES } from '../program-type.js';
import { checkVerifyFlags, isObjectFile, type VerifyFlags, verifyFile } from '../verify-input.js';
import { verifyJson, verifyText } from '../verify-report.js';

interface Flags extends VerifyFlags {
  json?: boolean;
}

const HELP = `
Output:
  text   a block per rejection (code, file:line and source, values, path, witness, help), then
         "✓ NAME: accepted (…)" or "✗ NAME: rejected with CODE (…)" per program
  --json {"ok":bool,"errors":[{"code","pc","line","message","hint",…}],
          "stats":{"insns_processed":N,"states":N,"ms":X}}
         object files add "programs":{"NAME":{ok,errors,stats}} for each program; the top level then
         aggregates them: ok when all are accepted, every error with its "program", stats summed.
         A file that does not load prints {"ok":false,"error":{…}} as \`bpfbox run --json\` does.

Exit status: 0 all accepted, 1 a program rejected or the file does not load, 2 bad usage.`;

export function registerVerify(program: Command, io: CliIo): void {
  program
    .command('verify')
    .description('check programs with the static verifier and explain every rejection')
    .argument(
      '<file>',
      'object file (clang -target bpf, detected by its ELF magic), assembly (.s/.asm) or raw instructions (.bin)',
    )
    .option('--program <name>', 'object files: verify only this program (default: all of them)')
    .option(
      '--type <type>',
      `.s/.bin files (required): the program type: ${PROGRAM_TYPES.join(', ')}, or a SEC name`,
    )
    .option(
      '--allow-uninit-stack',
      'accept reads of unwritten stack bytes, as the kernel does for privileged loaders',
    )
    .option('--max-insns <n>', 'processed-instruction budget (default 1000000, like the kernel)', (v) =>
      parsePositiveInt(v, '--max-insns'),
    )
    .option('--json', 'print the result as JSON (see below)')
    .addHelpText('after', HELP)
    .action((file: string, flags: Flags) => {
      const bytes = readBytes(file);
      checkVerifyFlags(file, isObjectFile(file, bytes), flags);
      try {
        const verified = verifyFile(file, bytes, flags);
        io.out(flags.json ? JSON.stringify(verifyJson(verified)) : verifyText(verified));
        if (verified.programs.some((p) => !p.result.ok)) io.exitCode = EXIT_FAILURE;
      } catch (e) {
        // A file that does not load is reported like `run` reports it: one line on stderr, or JSON.
        if (!flags.json || !(e instanceof BpfError) || isSetupError(e)) throw e;
        io.out(JSON.stringify({ ok: false, error: e.toJSON() }));
        io.exitCode = EXIT_FAILURE;
      }
    });
}
