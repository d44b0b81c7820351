#!/usr/bin/env node
/** Entry point of the `bpfbox` command (bin/bpfbox.js imports the compiled form of this file). */
import { runCli } from './program.js';

// A reader that goes away (`bpfbox trace … | head`) is not an error of ours: stop quietly, as
// Unix tools do, instead of dying on an unhandled EPIPE.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(process.exitCode ?? 0);
});

process.exitCode = await runCli(process.argv.slice(2));
