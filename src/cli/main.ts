#!/usr/bin/env node
/** Entry point of the `bpfbox` command (bin/bpfbox.js imports the compiled form of this file). */
import { runCli } from './program.js';

process.exitCode = await runCli(process.argv.slice(2));
