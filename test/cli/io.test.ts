/** In-process checks of the shared CLI plumbing: exit statuses and error printing. */
import { describe, expect, test } from 'vitest';
import { type CliIo, EXIT_FAILURE, EXIT_INTERNAL, EXIT_USAGE, reportError } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/program.js';
import { FormatError, InstructionLimit, IoError, LoadError, UsageError } from '../../src/errors.js';

function captureIo(stdin = ''): CliIo & { lines: { out: string[]; err: string[] } } {
  const lines = { out: [] as string[], err: [] as string[] };
  return {
    lines,
    out: (t) => lines.out.push(t),
    err: (t) => lines.err.push(t),
    readStdin: async () => stdin,
    stderrIsTTY: false,
    stderr: process.stderr,
    exitCode: 0,
  };
}

describe('reportError', () => {
  test.each([
    [new UsageError('bad flag'), EXIT_USAGE],
    [new IoError('cannot read x'), EXIT_USAGE],
    [new FormatError('BAD_HEX', 'bad hex'), EXIT_USAGE],
    [new LoadError('UNKNOWN_OPCODE', 'unknown opcode'), EXIT_FAILURE],
    [new InstructionLimit(10, 3), EXIT_FAILURE],
  ])('%s → exit %i', (error, code) => {
    const io = captureIo();
    expect(reportError(error, io)).toBe(code);
    expect(io.lines.err[0]).toBe(`error[${error.code}]: ${error.message}`);
  });

  test('anything else is an internal error (exit 70), without a stack trace', () => {
    const io = captureIo();
    expect(reportError(new TypeError('x is undefined'), io)).toBe(EXIT_INTERNAL);
    expect(io.lines.err).toEqual(['internal error: x is undefined']);
  });
});

describe('runCli in-process', () => {
  test('plugin reads the program from the injected stdin', async () => {
    const io = captureIo('b7 00 00 00 07 00 00 00 95 00 00 00 00 00 00 00');
    expect(await runCli(['plugin'], io)).toBe(0);
    expect(io.lines.out).toEqual(['0x7']);
  });
});
