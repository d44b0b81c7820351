/**
 * The assembler against the shared test corpora: every bpf_conformance program round-trips through
 * both printers, `-- raw` sections match what the assembler produces, the runner's assembler-error
 * files are rejected, and the uBPF programs assemble (or fail exactly where uBPF's loader fails).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble, assembleUnchecked, disassemble } from '../../src/asm/index.js';
import { AsmError, LoadError } from '../../src/errors.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { CONFORMANCE, hexBytes, readDataFile, UBPF_TESTS } from './data.js';

/** uBPF's encoding tests are fragments without exit; the assembler accepts them too. */
const LOOSE = { checkStructure: false };

const testsDir = join(CONFORMANCE, 'tests');
const conformanceFiles = readdirSync(testsDir)
  .filter((f) => f.endsWith('.data'))
  .sort();

describe('bpf_conformance tests/*.data', () => {
  it('has the 313 files FORMAT.md describes', () => {
    expect(conformanceFiles).toHaveLength(313);
  });

  it.each(conformanceFiles)('%s: asm → bytes → ubpf text is a fixed point', (name) => {
    const path = join(testsDir, name);
    const { asm } = readDataFile(path);
    expect(asm).toBeDefined();
    const bytes1 = assemble(asm!, { syntax: 'ubpf', file: path });
    const text = disassemble(decodeProgram(bytes1, LOOSE), { syntax: 'ubpf' });
    const bytes2 = assemble(text, { syntax: 'ubpf' });
    expect(hexBytes(bytes2)).toBe(hexBytes(bytes1));
    expect(disassemble(decodeProgram(bytes2, LOOSE), { syntax: 'ubpf' })).toBe(text);
    // The same program through the LLVM syntax, and through syntax detection.
    const llvm = disassemble(decodeProgram(bytes1, LOOSE), { syntax: 'llvm' });
    expect(hexBytes(assemble(llvm, { syntax: 'llvm' }))).toBe(hexBytes(bytes1));
    expect(hexBytes(assemble(llvm))).toBe(hexBytes(bytes1));
    expect(hexBytes(assemble(asm!))).toBe(hexBytes(bytes1));
  });

  const withRaw = conformanceFiles.filter((f) => readDataFile(join(testsDir, f)).raw !== undefined);
  it.each(withRaw)('%s: assembling -- asm gives exactly the -- raw slots', (name) => {
    const { asm, raw } = readDataFile(join(testsDir, name));
    expect(hexBytes(assemble(asm!, { syntax: 'ubpf' }))).toBe(hexBytes(raw!));
  });
});

describe('bpf_conformance negative/*.data', () => {
  const negativeDir = join(CONFORMANCE, 'negative');
  const rejected = readdirSync(negativeDir)
    .filter((f) => f.startsWith('invalid_'))
    .sort();

  /** Our message for each file; the runner's own `-- error` texts only say "Invalid …". */
  const expectedMessages: Record<string, RegExp> = {
    'invalid_imm32_dec_range.data': /line \d+, column 12: immediate 2147483648 is out of range/,
    'invalid_imm32_hex_range.data': /line \d+, column 12: immediate 0x100000000 is out of range/,
    'invalid_label.data': /line \d+, column 4: undefined label "NOT_A_LABEL"/,
    'invalid_lock.data': /line \d+, column 17: wrong number of operands for lock/,
    'invalid_lock2.data': /line \d+, column 5: wrong number of operands for lock/,
    'invalid_mnemonic.data': /line \d+, column 1: unknown mnemonic "ldxq"/,
    'invalid_offset.data':
      /line \d+, column 11: expected a memory operand like \[%r1\+8\] as operand 2 of ldxb/,
    'invalid_offset_range.data': /line \d+, column 15: offset \+0x10000 is out of range/,
    'invalid_operand_count.data': /line \d+, column 9: wrong number of operands for lddw/,
    'invalid_register.data': /line \d+, column 9: register %r50 does not exist/,
    // The only "instruction" is the `-- Unknown directive` header, so the asm section is empty.
    'invalid_unknown_directive.data': /line 1, column 1: the program has no instructions/,
  };

  it('covers every assembler-error file', () => {
    expect(rejected).toEqual(Object.keys(expectedMessages).sort());
  });

  it.each(rejected)('%s is rejected with an AsmError', (name) => {
    const path = join(negativeDir, name);
    const { asm } = readDataFile(path);
    let thrown: unknown;
    try {
      assemble(asm ?? '', { syntax: 'ubpf', file: path });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(AsmError);
    const e = thrown as AsmError;
    expect(e.message).toMatch(expectedMessages[name]);
    expect(e.message.startsWith(`${path}: line ${e.line}, column ${e.column}: `)).toBe(true);
    // The line is the file's line of the offending instruction.
    if (asm !== undefined && asm.trim() !== '') expect(asm.split('\n')[e.line! - 1].trim()).not.toBe('');
    expect(e.file).toBe(path);
    expect(e.expected).toBeTruthy();
  });

  it('error.data is a runner self-test whose program is valid assembly', () => {
    // `or %r0, %r10` reads r10, which is allowed; the expected "Invalid" comes from the plugin run,
    // not from the assembler (bpf_conformance assembles it too).
    const { asm, error } = readDataFile(join(negativeDir, 'error.data'));
    expect(error).toBe('Invalid');
    expect(hexBytes(assemble(asm!, { syntax: 'ubpf' }))).toBe(
      '4f a0 00 00 00 00 00 00 95 00 00 00 00 00 00 00'.replace(/ /g, ''),
    );
  });
});

/** Every `.data` file under shared/ubpf_tests plus the stray `err-write-r10.dst`. */
function ubpfFiles(dir = UBPF_TESTS): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((d) => (d.isDirectory() ? ubpfFiles(join(dir, d.name)) : [join(dir, d.name)]))
    .filter((p) => p.endsWith('.data') || p.endsWith('.dst'))
    .sort();
}

/** uBPF files whose asm the decoder rejects, with the rule that rejects them. */
const UBPF_LOAD_ERRORS: Record<string, RegExp> = {
  'errors/err-invalid-reg-dst.data': /invalid destination register r11/,
  'errors/err-invalid-reg-src.data': /invalid source register r11/,
  'errors/err-jmp-lddw.data': /second half of an lddw/,
  'errors/err-jmp-out.data': /outside the program/,
  'err-write-r10.dst': /r10 .* read-only/,
  // An encoding test: ja +32767 / ja -32768 leave the program.
  'jmp.data': /outside the program/,
};

describe('ubpf_tests', () => {
  const files = ubpfFiles().map((p) => ({ path: p, rel: p.slice(UBPF_TESTS.length + 1) }));
  const withAsm = files.filter((f) => readDataFile(f.path).asm !== undefined);

  it.each(withAsm.map((f) => [f.rel, f.path]))(
    '%s assembles (or fails to load where uBPF does)',
    (rel, path) => {
      const { asm, raw } = readDataFile(path);
      const loadError = UBPF_LOAD_ERRORS[rel];
      if (loadError !== undefined) {
        expect(() => assemble(asm!, { syntax: 'ubpf', file: path })).toThrow(loadError);
        expect(() => assemble(asm!, { syntax: 'ubpf', file: path })).toThrow(LoadError);
      } else {
        const bytes = assemble(asm!, { syntax: 'ubpf', file: path });
        const text = disassemble(decodeProgram(bytes, LOOSE), { syntax: 'ubpf' });
        expect(hexBytes(assemble(text, { syntax: 'ubpf' }))).toBe(hexBytes(bytes));
      }
      // Files with both sections pin the encoding, even where the program is not loadable.
      if (raw !== undefined)
        expect(hexBytes(assembleUnchecked(asm!, { syntax: 'ubpf' }))).toBe(hexBytes(raw));
    },
  );

  it('the load-error list names real files', () => {
    for (const rel of Object.keys(UBPF_LOAD_ERRORS)) expect(withAsm.map((f) => f.rel)).toContain(rel);
  });
});
