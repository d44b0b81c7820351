/** `bpfbox conformance PATH…`: runs `.data` tests and summarises. */
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { DEFAULT_ENGINE, ENGINE_NAMES, getEngine } from '../../conformance/engines.js';
import { findDataFiles, type Outcome, runDataFile } from '../../conformance/runner.js';
import { hex64 } from '../../util/hex.js';
import { type CliIo, EXIT_FAILURE, parsePositiveInt } from '../io.js';

interface ConformanceFlags {
  engine: string;
  maxInsns?: number;
  json?: boolean;
}

export function registerConformance(program: Command, io: CliIo): void {
  program
    .command('conformance')
    .description('run conformance .data tests (directories are searched recursively)')
    .argument('<paths...>', '.data files or directories')
    .option('--engine <name>', `execution engine (${ENGINE_NAMES.join(', ')})`, DEFAULT_ENGINE)
    .option('--max-insns <n>', 'instruction budget per test', (v) => parsePositiveInt(v, '--max-insns'))
    .option('--json', 'print one JSON object with every result and the totals')
    .action((paths: string[], flags: ConformanceFlags) => {
      const engine = getEngine(flags.engine);
      const files = findDataFiles(paths);
      const bar = io.stderrIsTTY
        ? new SingleBar({
            stream: io.stderr,
            format: 'conformance [{bar}] {value}/{total} {file}',
            clearOnComplete: true,
          })
        : undefined;
      bar?.start(files.length, 0, { file: '' });
      const results: { file: string; outcome: Outcome }[] = [];
      try {
        for (const file of files) {
          bar?.increment(0, { file });
          results.push({ file, outcome: runDataFile(file, { engine, maxInstructions: flags.maxInsns }) });
          bar?.increment(1);
        }
      } finally {
        bar?.stop();
      }
      const count = (s: Outcome['status']) => results.filter((r) => r.outcome.status === s).length;
      const totals = { passed: count('pass'), failed: count('fail'), skipped: count('skip') };
      if (flags.json) {
        io.out(
          JSON.stringify({
            ...totals,
            results: results.map(({ file, outcome: o }) => ({
              file,
              status: o.status,
              reason: o.reason,
              ...(o.r0 === undefined ? {} : { r0: hex64(o.r0) }),
              ...(o.expected === undefined ? {} : { expected: hex64(o.expected) }),
              ...(o.errorCode === undefined ? {} : { code: o.errorCode }),
            })),
          }),
        );
      } else {
        for (const { file, outcome } of results) {
          if (outcome.status !== 'pass') io.out(`${outcome.status.toUpperCase()} ${file}: ${outcome.reason}`);
        }
        io.out(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
      }
      if (totals.failed > 0) io.exitCode = EXIT_FAILURE;
    });
}
