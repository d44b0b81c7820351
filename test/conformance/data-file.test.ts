/** The `.data` parser (FORMAT.md §1–§2 plus the uBPF sections) on small hand-written inputs. */
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseDataFile, parseDataSections } from '../../src/conformance/data-file.js';
import { FormatError } from '../../src/errors.js';
import { UBPF_TESTS } from './paths.js';

const EXIT = [0x95, 0, 0, 0, 0, 0, 0, 0];

function formatError(text: string): FormatError {
  try {
    parseDataSections(text, { file: 't.data' });
  } catch (e) {
    if (e instanceof FormatError) return e;
    throw e;
  }
  throw new Error('expected a FormatError');
}

describe('lexical rules', () => {
  test('comments, CRLF, blank lines and lines before the first header', () => {
    const t = parseDataFile(
      'ignored line\r\n# comment\r\n-- asm # trailing\r\nmov %r0, 1 # one\r\n\r\nexit\r\n-- result\r\n0x1 # r0\r\n',
    );
    expect(t.programSource).toBe('asm');
    expect(t.program).toEqual(Uint8Array.from([0xb7, 0, 0, 0, 1, 0, 0, 0, ...EXIT]));
    expect(t.result).toBe(1n);
  });

  test('headers are found by substring, in the documented order', () => {
    // "result" is tested before "mem", so this header is a result section.
    const t = parseDataSections('-- memorable result\n42\n');
    expect(t.result).toBe(42n);
    expect(t.mem).toBeUndefined();
  });

  test('an unknown header is a DATA_FORMAT error with its line', () => {
    const e = formatError('-- asm\nexit\n-- frobnicate\n');
    expect(e).toMatchObject({ code: 'DATA_FORMAT', file: 't.data', line: 3 });
    expect(e.message).toBe('t.data: line 3: unknown section header "-- frobnicate"');
  });
});

describe('sections', () => {
  test('-- raw overrides -- asm; hex and decimal slots', () => {
    const t = parseDataFile('-- asm\nmov %r0, 7\nexit\n-- raw\n0x000000070000' + '00b7 149\n');
    expect(t.programSource).toBe('raw');
    expect(t.program).toEqual(Uint8Array.from([0xb7, 0, 0, 0, 7, 0, 0, 0, ...EXIT]));
  });

  test('-- raw lines of eight byte pairs are one slot written byte by byte', () => {
    const t = parseDataFile('-- raw\nb7 00 00 00 07 00 00 00\n95 00 00 00 00 00 00 00\n');
    expect(t.program).toEqual(Uint8Array.from([0xb7, 0, 0, 0, 7, 0, 0, 0, ...EXIT]));
  });

  test('-- raw with a bad number', () => {
    expect(formatError('-- raw\n0x95 0xzz\n')).toMatchObject({ code: 'BAD_HEX', line: 2, column: 6 });
    expect(formatError('-- raw\n0x10000000000000000\n')).toMatchObject({ code: 'DATA_FORMAT', line: 2 });
  });

  test('-- mem: hex bytes over several lines', () => {
    const t = parseDataSections('-- mem\n00 a0 CC\nff\n');
    expect(t.mem).toEqual(Uint8Array.from([0, 0xa0, 0xcc, 0xff]));
  });

  test('-- mem: tcpdump lines with an address prefix and 4-digit groups', () => {
    const t = parseDataSections('-- mem\n0x0000:  0026 622f 4787\n0x0006:  00ff\n');
    expect(t.mem).toEqual(Uint8Array.from([0x00, 0x26, 0x62, 0x2f, 0x47, 0x87, 0x00, 0xff]));
  });

  test('-- mem: bad hex names line and column', () => {
    const e = formatError('-- asm\nexit\n-- mem\n00 11\n22 3g\n');
    expect(e).toMatchObject({ code: 'BAD_HEX', file: 't.data', line: 5, column: 4 });
  });

  test('an empty -- mem section is an empty input', () => {
    expect(parseDataSections('-- mem\n').mem).toEqual(new Uint8Array(0));
  });

  test('-- result: the last line; hex (any case) or decimal', () => {
    expect(parseDataSections('-- result\n1\n0xFFFFFFF6\n').result).toBe(0xfffffff6n);
    expect(parseDataSections('-- result\n18446744073709551615\n').result).toBe(2n ** 64n - 1n);
    expect(formatError('-- result\nlots\n')).toMatchObject({ code: 'DATA_FORMAT', line: 2 });
    expect(formatError('-- result\n0x1ffffffffffffffff\n')).toMatchObject({ code: 'DATA_FORMAT', line: 2 });
  });

  test('-- error: the last line; an empty section still expects an error', () => {
    expect(parseDataSections('-- error\nfirst\nFailed to load code: x\n').error).toBe(
      'Failed to load code: x',
    );
    expect(parseDataSections('-- raw\n0x95\n-- error\n').error).toBe('');
    expect(parseDataSections('-- raw\n0x95\n').error).toBeUndefined();
  });

  test('uBPF sections', () => {
    const t = parseDataSections(
      [
        '-- description',
        'Wrong ethertype',
        '-- error pattern',
        'uBPF error: .* at PC 1',
        '-- no jit',
        'not for the JIT',
        '-- pyelf',
        'ehdr.e_machine = 1',
        '-- reload',
        '-- unload',
        '-- c',
        'int main() { return 0; }',
        '-- no register offset',
        'call instruction',
      ].join('\n'),
    );
    expect(t).toMatchObject({
      description: 'Wrong ethertype',
      errorPattern: 'uBPF error: .* at PC 1',
      noJit: 'not for the JIT',
      pyelf: 'ehdr.e_machine = 1',
      reload: true,
      unload: true,
      c: 'int main() { return 0; }',
      noRegisterOffset: 'call instruction',
    });
    expect(t.error).toBeUndefined();
  });

  test('-- asm @ file and -- mem @ file are read relative to the .data file', () => {
    const file = join(UBPF_TESTS, 'tcp-sack/match.data');
    const read: string[] = [];
    const t = parseDataSections('-- asm @ tcp-sack.asm\n-- mem @ pkt-sack.hex\n-- result\n0x1\n', {
      file,
      readFile: (path) => {
        read.push(path);
        return path.endsWith('.asm') ? 'mov %r0, 1\nexit\n' : '0x0000:  0026 622f\n';
      },
    });
    expect(read).toEqual([
      join(UBPF_TESTS, 'tcp-sack/tcp-sack.asm'),
      join(UBPF_TESTS, 'tcp-sack/pkt-sack.hex'),
    ]);
    expect(t.asmFile).toBe(read[0]);
    expect(t.mem).toEqual(Uint8Array.from([0x00, 0x26, 0x62, 0x2f]));
  });

  test('an @ file section cannot also have lines', () => {
    const e = formatError('-- mem @ x.hex\n00\n');
    expect(e).toMatchObject({ code: 'DATA_FORMAT', line: 2 });
  });

  test('assembly errors carry the line of the .data file', () => {
    expect(() => parseDataFile('# one\n# two\n-- asm\nmov %r0, 1\nfrob\n', { file: 'x.data' })).toThrow(
      expect.objectContaining({ code: 'ASM_SYNTAX', file: 'x.data', line: 5 }),
    );
  });

  test('no program', () => {
    expect(parseDataFile('-- result\n0\n')).toMatchObject({
      programSource: 'none',
      program: new Uint8Array(0),
    });
  });
});
