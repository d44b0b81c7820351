/**
 * A strict reader of the ELF files clang produces for BPF: ELF64, little-endian, relocatable
 * (ET_REL), machine EM_BPF. It checks every offset and size it follows against the file, so any
 * malformed input ends in a `LoadError` with the section and byte offset concerned — never a
 * RangeError from the DataView. Pure DataView code: runs in browsers as well as in Node.
 */
import { LoadError, type LoadErrorCode } from '../errors.js';

export const EM_BPF = 247;
export const ET_REL = 1;

export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHT_SYMTAB_SHNDX = 18;

export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;

export const SHN_UNDEF = 0;
export const SHN_LORESERVE = 0xff00;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
export const SHN_XINDEX = 0xffff;

export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STT_FILE = 4;

export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;

/** BPF relocation types (llvm/BinaryFormat/ELFRelocs/BPF.def). */
export const R_BPF_NONE = 0;
export const R_BPF_64_64 = 1;
export const R_BPF_64_ABS64 = 2;
export const R_BPF_64_ABS32 = 3;
export const R_BPF_64_NODYLD32 = 4;
export const R_BPF_64_32 = 10;

const EHDR_SIZE = 64;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;
const REL_SIZE = 16;

export interface ElfSection {
  /** Index in the section header table. */
  readonly index: number;
  readonly name: string;
  readonly type: number;
  readonly flags: number;
  /** File offset of the contents (meaningless for SHT_NOBITS). */
  readonly offset: number;
  readonly size: number;
  readonly link: number;
  readonly info: number;
  readonly addralign: number;
  readonly entsize: number;
  /** The contents (a view into the file); empty for SHT_NOBITS, whose bytes are all zero. */
  readonly data: Uint8Array;
}

export interface ElfSymbol {
  /** Index in `.symtab`. */
  readonly index: number;
  readonly name: string;
  readonly value: number;
  readonly size: number;
  /** STT_* */
  readonly type: number;
  /** STB_* */
  readonly bind: number;
  readonly visibility: number;
  /** Section index, or SHN_UNDEF / SHN_ABS / SHN_COMMON. */
  readonly shndx: number;
}

export interface ElfRelocation {
  /** Byte offset in the target section. */
  readonly offset: number;
  /** R_BPF_* */
  readonly type: number;
  /** Index into `ElfFile.symbols`. */
  readonly symbol: number;
}

export interface ElfRelocationSection {
  /** The SHT_REL section holding the entries. */
  readonly section: ElfSection;
  /** The section the entries apply to. */
  readonly target: ElfSection;
  readonly relocations: readonly ElfRelocation[];
}

export interface ElfFile {
  readonly bytes: Uint8Array;
  readonly sections: readonly ElfSection[];
  /** `.symtab` entries including the null symbol 0; empty when there is no symbol table. */
  readonly symbols: readonly ElfSymbol[];
  /** SHT_REL sections in section order. */
  readonly relocationSections: readonly ElfRelocationSection[];
}

/** The section with this name, if any (names are unique in clang output; the first wins). */
export function findSection(elf: ElfFile, name: string): ElfSection | undefined {
  return elf.sections.find((s) => s.name === name);
}

const utf8 = new TextDecoder('utf-8');

class Reader {
  readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(code: LoadErrorCode, message: string, offset: number, section?: string, hint?: string): never {
    throw new LoadError(code, message, { section, offset }, hint === undefined ? undefined : { hint });
  }

  /** Checks that [offset, offset + size) lies in the file before anything reads it. */
  need(offset: number, size: number, what: string, section?: string): void {
    if (offset < 0 || size < 0 || offset + size > this.bytes.length) {
      this.fail(
        'BAD_ELF',
        `${what} at offset ${offset} (${size} bytes) extends past the end of the file (${this.bytes.length} bytes)`,
        offset,
        section,
        'the file is truncated or corrupted; recompile it',
      );
    }
  }

  /** 64-bit fields as numbers: anything above 2^53 cannot be a valid offset or size in a real file. */
  u64(at: number, what: string, section?: string): number {
    // Two u32 halves: BigInt reads dominated opening large objects. hi < 2^21 ⇔ value ≤ 2^53 − 1.
    const hi = this.view.getUint32(at + 4, true);
    if (hi >= 0x200000) {
      const v = this.view.getBigUint64(at, true);
      this.fail('BAD_ELF', `${what} 0x${v.toString(16)} is too large`, at, section);
    }
    return hi * 0x100000000 + this.view.getUint32(at, true);
  }
}

/** Parses the ELF structure of a BPF object file. Throws `LoadError` (BAD_ELF, UNSUPPORTED_ELF, …). */
export function readElf(bytes: Uint8Array): ElfFile {
  const r = new Reader(bytes);
  const { view } = r;
  checkIdent(r);
  r.need(0, EHDR_SIZE, 'the ELF header');
  const type = view.getUint16(16, true);
  const machine = view.getUint16(18, true);
  const version = view.getUint32(20, true);
  if (machine !== EM_BPF) {
    r.fail(
      'UNSUPPORTED_ELF',
      `e_machine is ${machine} but a BPF object has EM_BPF (${EM_BPF})`,
      18,
      undefined,
      'compile with clang -target bpf',
    );
  }
  if (type !== ET_REL) {
    r.fail(
      'UNSUPPORTED_ELF',
      `e_type is ${type} but a BPF object is relocatable (ET_REL = ${ET_REL})`,
      16,
      undefined,
      'load the object file produced by clang -c, not a linked file',
    );
  }
  if (version !== 1) r.fail('UNSUPPORTED_ELF', `e_version is ${version} but expected EV_CURRENT (1)`, 20);
  const shoff = r.u64(40, 'e_shoff');
  const ehsize = view.getUint16(52, true);
  const shentsize = view.getUint16(58, true);
  const shnum = view.getUint16(60, true);
  const shstrndx = view.getUint16(62, true);
  if (ehsize !== EHDR_SIZE) r.fail('BAD_ELF', `e_ehsize is ${ehsize} but an ELF64 header has 64 bytes`, 52);
  if (shoff === 0 || shnum === 0) {
    r.fail(
      'UNSUPPORTED_ELF',
      shoff === 0
        ? 'the file has no section header table'
        : 'e_shnum is 0 (extended section numbering is not supported)',
      shoff === 0 ? 40 : 60,
    );
  }
  if (shentsize !== SHDR_SIZE) {
    r.fail('BAD_ELF', `e_shentsize is ${shentsize} but ELF64 section headers have 64 bytes`, 58);
  }
  r.need(shoff, shnum * SHDR_SIZE, `the section header table (${shnum} entries)`);
  if (shstrndx === SHN_UNDEF || shstrndx >= shnum) {
    r.fail('BAD_ELF', `e_shstrndx ${shstrndx} is not a section index (there are ${shnum} sections)`, 62);
  }

  // Headers first (names need the section-name string table, which may come later in the table).
  const raw = [];
  for (let i = 0; i < shnum; i++) {
    const at = shoff + i * SHDR_SIZE;
    const where = `section header ${i}`;
    raw.push({
      at,
      nameOffset: view.getUint32(at, true),
      type: view.getUint32(at + 4, true),
      flags: r.u64(at + 8, `${where} sh_flags`),
      offset: r.u64(at + 24, `${where} sh_offset`),
      size: r.u64(at + 32, `${where} sh_size`),
      link: view.getUint32(at + 40, true),
      info: view.getUint32(at + 44, true),
      addralign: r.u64(at + 48, `${where} sh_addralign`),
      entsize: r.u64(at + 56, `${where} sh_entsize`),
    });
  }
  // The section-name table first, so every later message can name its section.
  const shstr = raw[shstrndx];
  if (shstr.type !== SHT_STRTAB) {
    r.fail('BAD_ELF', `e_shstrndx ${shstrndx} names a section of type ${shstr.type}, not SHT_STRTAB`, 62);
  }
  r.need(shstr.offset, shstr.size, 'the section name table', undefined);
  const shstrData = bytes.subarray(shstr.offset, shstr.offset + shstr.size);
  const sections: ElfSection[] = raw.map((h, index) => {
    const name = index === 0 ? '' : stringAt(r, shstrData, shstr.offset, h.nameOffset, `section ${index}`);
    const hasData = index !== 0 && h.type !== SHT_NOBITS && h.type !== SHT_NULL;
    if (hasData) r.need(h.offset, h.size, `the contents of section ${index} (${name})`, name);
    const data = hasData ? bytes.subarray(h.offset, h.offset + h.size) : new Uint8Array(0);
    const { nameOffset: _n, at: _a, ...rest } = h;
    return { index, name, data, ...rest };
  });

  const symtabs = sections.filter((s) => s.type === SHT_SYMTAB);
  for (const s of sections) {
    if (s.type === SHT_RELA) {
      r.fail(
        'UNSUPPORTED_ELF',
        `section ${s.name} has type SHT_RELA, which BPF objects never use`,
        s.offset,
        s.name,
      );
    }
    if (s.type === SHT_SYMTAB_SHNDX) {
      r.fail(
        'UNSUPPORTED_ELF',
        'extended section indexes (SHT_SYMTAB_SHNDX) are not supported',
        s.offset,
        s.name,
      );
    }
  }
  if (symtabs.length > 1) {
    r.fail(
      'BAD_ELF',
      `the file has ${symtabs.length} symbol tables; ELF allows one`,
      symtabs[1].offset,
      symtabs[1].name,
    );
  }
  const symbols = symtabs.length === 1 ? readSymbols(r, sections, symtabs[0]) : [];
  const relocationSections = sections
    .filter((s) => s.type === SHT_REL)
    .map((s) => readRelocations(r, sections, symtabs[0], symbols, s));
  return { bytes, sections, symbols, relocationSections };
}

function checkIdent(r: Reader): void {
  const b = r.bytes;
  if (b.length < 4 || b[0] !== 0x7f || b[1] !== 0x45 || b[2] !== 0x4c || b[3] !== 0x46) {
    r.fail(
      'BAD_ELF',
      'not an ELF file: the first 4 bytes are not \\x7fELF',
      0,
      undefined,
      'pass the .o file produced by clang -target bpf -c',
    );
  }
  r.need(0, 16, 'e_ident');
  if (b[4] !== 2) {
    r.fail(
      'UNSUPPORTED_ELF',
      `EI_CLASS is ${b[4]} (${b[4] === 1 ? 'ELFCLASS32' : 'unknown'}) but a BPF object is ELFCLASS64 (2)`,
      4,
    );
  }
  if (b[5] !== 1) {
    r.fail(
      'UNSUPPORTED_ELF',
      `EI_DATA is ${b[5]} (${b[5] === 2 ? 'big-endian' : 'unknown'}) but bpfbox reads little-endian objects (ELFDATA2LSB = 1)`,
      5,
      undefined,
      'compile with -target bpf or bpfel, not bpfeb',
    );
  }
  if (b[6] !== 1) r.fail('UNSUPPORTED_ELF', `EI_VERSION is ${b[6]} but expected EV_CURRENT (1)`, 6);
}

/** A NUL-terminated string at `at` in the string table `data` (whose file offset is `base`). */
function stringAt(
  r: Reader,
  data: Uint8Array,
  base: number,
  at: number,
  what: string,
  section?: string,
): string {
  if (at >= data.length) {
    r.fail(
      'BAD_ELF',
      `the name of ${what} starts at ${at}, past the end of its string table (${data.length} bytes)`,
      base,
      section,
    );
  }
  const end = data.indexOf(0, at);
  if (end < 0) r.fail('BAD_ELF', `the name of ${what} is not NUL-terminated`, base + at, section);
  return utf8.decode(data.subarray(at, end));
}

function readSymbols(r: Reader, sections: readonly ElfSection[], symtab: ElfSection): ElfSymbol[] {
  if (symtab.entsize !== SYM_SIZE || symtab.size % SYM_SIZE !== 0) {
    r.fail(
      'BAD_ELF',
      `symbol table entries must be ${SYM_SIZE} bytes (entsize ${symtab.entsize}, size ${symtab.size})`,
      symtab.offset,
      symtab.name,
    );
  }
  const strtab = sections[symtab.link];
  if (strtab === undefined || strtab.index === 0 || strtab.type !== SHT_STRTAB) {
    r.fail(
      'BAD_ELF',
      `the symbol table's sh_link ${symtab.link} is not a string table`,
      symtab.offset,
      symtab.name,
    );
  }
  const count = symtab.size / SYM_SIZE;
  const symbols: ElfSymbol[] = [];
  for (let index = 0; index < count; index++) {
    const at = symtab.offset + index * SYM_SIZE;
    const nameOffset = r.view.getUint32(at, true);
    const info = r.view.getUint8(at + 4);
    const visibility = r.view.getUint8(at + 5) & 3;
    const shndx = r.view.getUint16(at + 6, true);
    const value = r.u64(at + 8, `symbol ${index} st_value`, symtab.name);
    const size = r.u64(at + 16, `symbol ${index} st_size`, symtab.name);
    const name = stringAt(r, strtab.data, strtab.offset, nameOffset, `symbol ${index}`, strtab.name);
    if (shndx === SHN_XINDEX) {
      r.fail('UNSUPPORTED_ELF', `symbol ${name} uses an extended section index`, at, symtab.name);
    }
    if (shndx !== SHN_UNDEF && shndx < SHN_LORESERVE && shndx >= sections.length) {
      r.fail(
        'BAD_ELF',
        `symbol ${name} refers to section ${shndx}, but there are ${sections.length} sections`,
        at + 6,
        symtab.name,
      );
    }
    symbols.push({ index, name, value, size, type: info & 0xf, bind: info >> 4, visibility, shndx });
  }
  return symbols;
}

function readRelocations(
  r: Reader,
  sections: readonly ElfSection[],
  symtab: ElfSection | undefined,
  symbols: readonly ElfSymbol[],
  rel: ElfSection,
): ElfRelocationSection {
  if (rel.entsize !== REL_SIZE || rel.size % REL_SIZE !== 0) {
    r.fail(
      'BAD_ELF',
      `relocation entries must be ${REL_SIZE} bytes (entsize ${rel.entsize}, size ${rel.size})`,
      rel.offset,
      rel.name,
    );
  }
  if (symtab === undefined || rel.link !== symtab.index) {
    r.fail(
      'BAD_ELF',
      `relocation section's sh_link ${rel.link} is not the symbol table`,
      rel.offset,
      rel.name,
    );
  }
  const target = sections[rel.info];
  if (target === undefined || rel.info === 0 || target.type === SHT_NOBITS || target.type === SHT_NULL) {
    r.fail(
      'BAD_ELF',
      `relocation section's sh_info ${rel.info} is not a section with contents`,
      rel.offset,
      rel.name,
    );
  }
  const relocations: ElfRelocation[] = [];
  for (let at = rel.offset; at < rel.offset + rel.size; at += REL_SIZE) {
    const offset = r.u64(at, 'r_offset', rel.name);
    const type = r.view.getUint32(at + 8, true);
    const symbol = r.view.getUint32(at + 12, true);
    if (symbol >= symbols.length) {
      r.fail(
        'BAD_RELOCATION',
        `relocation refers to symbol ${symbol}, but the symbol table has ${symbols.length}`,
        at + 12,
        rel.name,
      );
    }
    if (offset >= target.size) {
      r.fail(
        'BAD_RELOCATION',
        `relocation offset ${offset} is outside section ${target.name} (${target.size} bytes)`,
        at,
        rel.name,
      );
    }
    relocations.push({ offset, type, symbol });
  }
  return { section: rel, target, relocations };
}
