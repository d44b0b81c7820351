/**
 * Malformed objects, hand-made with a small ELF writer so every field is under control (and the tests
 * run without clang): each ends in a LoadError with the right code, section and byte offset.
 */
import { describe, expect, it } from 'vitest';
import { alu, callHelper, callLocal, exit, lddw } from '../../src/asm/builders.js';
import { linkObject } from '../../src/elf/linker.js';
import { loadObject } from '../../src/elf/object.js';
import {
  R_BPF_64_32,
  R_BPF_64_64,
  R_BPF_64_ABS64,
  readElf,
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHF_WRITE,
  SHT_NOBITS,
  SHT_PROGBITS,
  STB_GLOBAL,
  STB_LOCAL,
  STT_FUNC,
  STT_OBJECT,
} from '../../src/elf/reader.js';
import { BpfError, LoadError } from '../../src/errors.js';
import { buildElf, code, type ElfSpec } from './build-elf.js';

const X = SHF_ALLOC | SHF_EXECINSTR;
const W = SHF_ALLOC | SHF_WRITE;

/** xdp: `r1 = &counter ll; r0 = 0; call sub; exit`, sub in .text; .bss counter; a legacy map. */
function validSpec(): ElfSpec {
  return {
    sections: [
      {
        name: 'xdp',
        type: SHT_PROGBITS,
        flags: X,
        data: code(lddw('imm64', 1, 0, 0), alu('mov', true, 0, { imm: 0 }), callLocal(-1), exit()),
      },
      { name: '.text', type: SHT_PROGBITS, flags: X, data: code(alu('mov', true, 0, { imm: 7 }), exit()) },
      { name: '.bss', type: SHT_NOBITS, flags: W, size: 8 },
      {
        name: 'maps',
        type: SHT_PROGBITS,
        flags: W,
        data: new Uint8Array([2, 0, 0, 0, 4, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]),
      },
    ],
    symbols: [
      { name: 'sub', type: STT_FUNC, bind: STB_LOCAL, shndx: 2, value: 0, size: 16 },
      { name: 'prog', type: STT_FUNC, bind: STB_GLOBAL, shndx: 1, value: 0, size: 40 },
      { name: 'counter', type: STT_OBJECT, bind: STB_GLOBAL, shndx: 3, value: 0, size: 8 },
      { name: 'legacy', type: STT_OBJECT, bind: STB_GLOBAL, shndx: 4, value: 0, size: 20 },
      { name: 'undefined_thing', type: STT_OBJECT, bind: STB_GLOBAL, shndx: 0 },
    ],
    relocations: [
      {
        target: 1,
        entries: [
          { offset: 0, type: R_BPF_64_64, symbol: 3 },
          { offset: 24, type: R_BPF_64_32, symbol: 1 },
        ],
      },
    ],
  };
}

function failure(f: () => unknown): LoadError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(LoadError);
    return e as LoadError;
  }
  throw new Error('expected a LoadError');
}

const load = (bytes: Uint8Array) => () => linkObject(loadObject(bytes));

function patched(bytes: Uint8Array, edit: (view: DataView) => void): Uint8Array {
  const copy = bytes.slice();
  edit(new DataView(copy.buffer));
  return copy;
}

/** File offset of section header `i` of a buildElf output. */
function shdr(bytes: Uint8Array, i: number): number {
  return Number(new DataView(bytes.buffer).getBigUint64(40, true)) + 64 * i;
}

describe('hand-made objects', () => {
  const valid = buildElf(validSpec());

  it('the valid base object loads and links', () => {
    const object = loadObject(valid);
    expect(object.programs.map((p) => [p.name, p.type])).toEqual([['prog', 'xdp']]);
    expect(object.maps.map((m) => [m.index, m.kind, m.name])).toEqual([
      [0, 'legacy', 'legacy'],
      [1, 'internal', '.bss'],
    ]);
    const [linked] = linkObject(object);
    expect(linked.program.insns.map((i) => [i.kind, i.src, i.imm])).toEqual([
      ['lddw', 6, 1],
      ['alu', 0, 0],
      ['call', 1, 1],
      ['exit', 0, 0],
      ['alu', 0, 7],
      ['exit', 0, 0],
    ]);
  });

  it('truncated headers', () => {
    for (const length of [0, 3, 10, 16, 40, 63]) {
      expect(failure(load(valid.subarray(0, length))).code, `length ${length}`).toBe('BAD_ELF');
    }
    // Without the section header table at the end.
    const e = failure(load(valid.subarray(0, valid.length - 64)));
    expect(e.code).toBe('BAD_ELF');
    expect(e.message).toContain('section header table');
  });

  it('wrong magic, class, endianness, version, machine and type', () => {
    expect(failure(load(patched(valid, (v) => v.setUint8(1, 0x46)))).code).toBe('BAD_ELF');
    const cls = failure(load(patched(valid, (v) => v.setUint8(4, 1))));
    expect([cls.code, cls.offset]).toEqual(['UNSUPPORTED_ELF', 4]);
    expect(cls.message).toContain('ELFCLASS32');
    const endian = failure(load(patched(valid, (v) => v.setUint8(5, 2))));
    expect([endian.code, endian.offset]).toEqual(['UNSUPPORTED_ELF', 5]);
    expect(endian.message).toContain('big-endian');
    expect(failure(load(patched(valid, (v) => v.setUint8(6, 0)))).code).toBe('UNSUPPORTED_ELF');
    const machine = failure(load(buildElf({ ...validSpec(), machine: 62 })));
    expect([machine.code, machine.offset]).toEqual(['UNSUPPORTED_ELF', 18]);
    expect(machine.message).toContain('e_machine is 62');
    expect(machine.message).toContain('247');
    const type = failure(load(patched(valid, (v) => v.setUint16(16, 2, true))));
    expect(type.code).toBe('UNSUPPORTED_ELF');
    expect(type.message).toContain('e_type is 2');
  });

  it('section header table and section contents past the end of the file', () => {
    const shoff = failure(load(patched(valid, (v) => v.setBigUint64(40, BigInt(valid.length), true))));
    expect(shoff.code).toBe('BAD_ELF');
    const past = failure(
      load(patched(valid, (v) => v.setBigUint64(shdr(valid, 1) + 24, BigInt(valid.length - 8), true))),
    );
    expect([past.code, past.section, past.offset]).toEqual(['BAD_ELF', 'xdp', valid.length - 8]);
    expect(past.message).toContain('section 1');
    const huge = failure(load(patched(valid, (v) => v.setBigUint64(shdr(valid, 1) + 32, 1n << 62n, true))));
    expect(huge.code).toBe('BAD_ELF');
    // A NOBITS section may have any offset.
    expect(() =>
      load(patched(valid, (v) => v.setBigUint64(shdr(valid, 3) + 24, 1n << 40n, true)))(),
    ).not.toThrow();
    const shstrndx = failure(load(patched(valid, (v) => v.setUint16(62, 200, true))));
    expect([shstrndx.code, shstrndx.offset]).toEqual(['BAD_ELF', 62]);
  });

  it('names outside their string table', () => {
    const e = failure(load(patched(valid, (v) => v.setUint32(shdr(valid, 1), 0xffff, true))));
    expect(e.code).toBe('BAD_ELF');
    expect(e.message).toContain('string table');
  });

  it('relocations to missing symbols, out of range, or of the wrong kind', () => {
    const spec = (entries: ElfSpec['relocations']) => buildElf({ ...validSpec(), relocations: entries });
    const missing = failure(
      load(spec([{ target: 1, entries: [{ offset: 0, type: R_BPF_64_64, symbol: 5 }] }])),
    );
    expect([missing.code, missing.section, missing.offset]).toEqual(['MISSING_SYMBOL', 'xdp', 0]);
    expect(missing.message).toContain('undefined_thing');
    expect(missing.message).toContain('prog');
    const nullSymbol = failure(
      load(spec([{ target: 1, entries: [{ offset: 0, type: R_BPF_64_64, symbol: 0 }] }])),
    );
    expect(nullSymbol.code).toBe('BAD_RELOCATION');
    const badIndex = failure(
      load(spec([{ target: 1, entries: [{ offset: 0, type: R_BPF_64_64, symbol: 99 }] }])),
    );
    expect([badIndex.code, badIndex.section]).toEqual(['BAD_RELOCATION', '.relxdp']);
    const outside = failure(
      load(spec([{ target: 1, entries: [{ offset: 40, type: R_BPF_64_64, symbol: 3 }] }])),
    );
    expect(outside.code).toBe('BAD_RELOCATION');
    expect(outside.message).toContain('outside section xdp');
    const abs = failure(
      load(spec([{ target: 1, entries: [{ offset: 0, type: R_BPF_64_ABS64, symbol: 3 }] }])),
    );
    expect(abs.code).toBe('BAD_RELOCATION');
    const notLddw = failure(
      load(spec([{ target: 1, entries: [{ offset: 16, type: R_BPF_64_64, symbol: 3 }] }])),
    );
    expect([notLddw.code, notLddw.offset]).toEqual(['BAD_RELOCATION', 16]);
    const misaligned = failure(
      load(spec([{ target: 1, entries: [{ offset: 4, type: R_BPF_64_64, symbol: 3 }] }])),
    );
    expect(misaligned.code).toBe('BAD_RELOCATION');
    const callToData = failure(
      load(spec([{ target: 1, entries: [{ offset: 24, type: R_BPF_64_32, symbol: 3 }] }])),
    );
    expect(callToData.code).toBe('BAD_RELOCATION');
    // Relocations in non-code sections (debug info) are read but not applied.
    const debug = buildElf({
      ...validSpec(),
      sections: [
        ...validSpec().sections,
        { name: '.debug_info', type: SHT_PROGBITS, data: new Uint8Array(16) },
      ],
      relocations: [
        ...(validSpec().relocations ?? []),
        { target: 5, entries: [{ offset: 8, type: R_BPF_64_ABS64, symbol: 1 }] },
      ],
    });
    expect(() => load(debug)()).not.toThrow();
  });

  it('an unrelocated call to no function, functions past their section, unknown legacy map types', () => {
    const noFn = buildElf({ ...validSpec(), relocations: [] });
    // call -1 without relocation targets itself, inside prog: fine. Point it past the end instead.
    const bad = patched(noFn, (v) => v.setInt32(shdrData(noFn, 1) + 24 + 4, 100, true));
    const e = failure(load(bad));
    expect(e.code).toBe('BAD_RELOCATION');
    expect(e.message).toContain('in no function');
    const spec = validSpec();
    spec.symbols![1].size = 48;
    expect(failure(load(buildElf(spec))).code).toBe('BAD_ELF');
    const mapSpec = validSpec();
    mapSpec.sections[3].data = new Uint8Array(20).fill(0x7f);
    const map = failure(load(buildElf(mapSpec)));
    expect([map.code, map.section]).toEqual(['UNSUPPORTED_ELF', 'maps']);
    expect(map.hint).toContain('hash (1)');
  });

  it('helper calls stay as they are', () => {
    const spec = validSpec();
    spec.sections[0].data = code(
      lddw('imm64', 1, 0, 0),
      alu('mov', true, 0, { imm: 0 }),
      callHelper(5),
      exit(),
    );
    spec.relocations = [{ target: 1, entries: [{ offset: 0, type: R_BPF_64_64, symbol: 3 }] }];
    const [linked] = linkObject(loadObject(buildElf(spec)));
    expect(linked.program.insns[2]).toMatchObject({ kind: 'call', op: 'helper', imm: 5 });
    expect(linked.functions).toHaveLength(1);
  });

  it('readElf alone validates structure', () => {
    expect(readElf(valid).sections.map((s) => s.name)).toEqual([
      '',
      'xdp',
      '.text',
      '.bss',
      'maps',
      '.relxdp',
      '.symtab',
      '.strtab',
      '.shstrtab',
    ]);
    expect(failure(() => readElf(new Uint8Array(100))) instanceof BpfError).toBe(true);
  });
});

/** File offset of the contents of section `i`. */
function shdrData(bytes: Uint8Array, i: number): number {
  return Number(new DataView(bytes.buffer).getBigUint64(shdr(bytes, i) + 24, true));
}
