/**
 * bpf_conformance/negative: programs a conforming toolchain must reject. `unused-*` files carry raw
 * instructions with a reserved field set, which the decoder must refuse; `invalid_*` files carry
 * assembly the assembler must refuse. The rest test the runner itself (wrong results, empty files).
 */
import { basename, join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseDataFile, parseDataSections } from '../../src/conformance/data-file.js';
import { findDataFiles, runDataFile } from '../../src/conformance/runner.js';
import { AsmError, FormatError, LoadError } from '../../src/errors.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { readText } from '../../src/util/files.js';
import { BPF_CONFORMANCE_NEGATIVE } from './paths.js';

const files = findDataFiles([BPF_CONFORMANCE_NEGATIVE]);
const unused = files.filter((f) => basename(f).startsWith('unused-'));
const invalid = files.filter((f) => basename(f).startsWith('invalid_'));
const load = (file: string) => parseDataFile(readText(file), { file });

/** What a call throws (fails the test if it does not throw). */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an exception');
}

describe('negative/unused-*: rejected by the decoder', () => {
  test('there are 45', () => {
    expect(unused).toHaveLength(45);
  });

  test.each(unused.map((f) => [basename(f), f]))('%s', (_name, file) => {
    const test = load(file);
    expect(test.programSource).toBe('raw');
    expect(test.program).toHaveLength(16);
    const e = thrown(() => decodeProgram(test.program));
    expect(e).toBeInstanceOf(LoadError);
    expect(e).toMatchObject({ code: 'INVALID_FIELD', pc: 0 });
  });
});

describe('negative/invalid_*: rejected by the assembler', () => {
  const assemblyErrors = invalid.filter((f) => !f.endsWith('invalid_unknown_directive.data'));

  test.each(assemblyErrors.map((f) => [basename(f), f]))('%s', (_name, file) => {
    const e = thrown(() => load(file));
    expect(e).toBeInstanceOf(AsmError);
    expect(e).toMatchObject({ code: 'ASM_SYNTAX', file, line: expect.any(Number) });
    // Lines are those of the .data file: each of these files has one bad instruction, the first code line.
    const lines = readText(file).split('\n');
    const first = lines.findIndex(
      (l, i) => i > lines.indexOf('-- asm') && l.trim() !== '' && !l.startsWith('#'),
    );
    expect((e as AsmError).line).toBe(first + 1);
  });

  test('invalid_unknown_directive.data is rejected by the .data parser', () => {
    const file = join(BPF_CONFORMANCE_NEGATIVE, 'invalid_unknown_directive.data');
    const e = thrown(() => parseDataSections(readText(file), { file }));
    expect(e).toBeInstanceOf(FormatError);
    expect(e).toMatchObject({ code: 'DATA_FORMAT', line: 4 });
  });
});

describe('negative/ runner self-tests', () => {
  const outcome = (name: string) => runDataFile(join(BPF_CONFORMANCE_NEGATIVE, name));

  test('empty files are skipped', () => {
    expect(outcome('empty.data')).toMatchObject({ status: 'skip' });
    expect(outcome('empty_instructions.data')).toMatchObject({ status: 'skip', reason: 'no instructions' });
  });

  test('a wrong expected result is a failure', () => {
    expect(outcome('incorrect_return_value_high_bits.data')).toMatchObject({
      status: 'fail',
      r0: 0x8877665544332211n,
      expected: 0x8977665544332211n,
    });
  });

  test('a valid program in a file expecting an error is a failure', () => {
    // `or %r0, %r10` is valid (r0 = the frame pointer); the file tests that the runner notices.
    expect(outcome('error.data')).toMatchObject({
      status: 'fail',
      reason: expect.stringContaining('expected an error'),
    });
  });

  test('every file is covered', () => {
    const named = [
      'empty.data',
      'empty_instructions.data',
      'incorrect_return_value_high_bits.data',
      'error.data',
    ];
    expect(unused.length + invalid.length + named.length).toBe(files.length);
  });
});
