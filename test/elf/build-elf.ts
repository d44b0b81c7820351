/**
 * A tiny ELF64 little-endian writer for hand-made test objects, so the bad-input tests control every
 * field (and run without clang). Layout: header, section contents (8-aligned), section header table.
 * Sections are numbered from 1 in the order given; `.symtab`, `.strtab` and `.shstrtab` follow them.
 */

import { EM_BPF, ET_REL, SHT_NOBITS, SHT_REL, SHT_STRTAB, SHT_SYMTAB } from '../../src/elf/reader.js';
import { encodeProgram, type RawInsn } from '../../src/isa/encoder.js';

export interface SectionSpec {
  name: string;
  type: number;
  flags?: number;
  data?: Uint8Array;
  /** For SHT_NOBITS. */
  size?: number;
  link?: number;
  info?: number;
  entsize?: number;
}

export interface SymbolSpec {
  name: string;
  value?: number;
  size?: number;
  type: number;
  bind: number;
  shndx: number;
}

export interface RelocationSpec {
  offset: number;
  type: number;
  symbol: number;
}

export interface ElfSpec {
  sections: SectionSpec[];
  /** Symbol 0 (null) is added in front. */
  symbols?: SymbolSpec[];
  /** Relocations for the section with this index (1-based as in the output). */
  relocations?: { target: number; entries: RelocationSpec[] }[];
  machine?: number;
}

class StringTable {
  bytes: number[] = [0];
  add(s: string): number {
    const at = this.bytes.length;
    this.bytes.push(...new TextEncoder().encode(s), 0);
    return at;
  }
}

export function buildElf(spec: ElfSpec): Uint8Array {
  const strtab = new StringTable();
  const shstrtab = new StringTable();
  const symbols = spec.symbols ?? [];
  const sections: SectionSpec[] = [...spec.sections];
  const symtabIndex = sections.length + (spec.relocations?.length ?? 0) + 1;
  for (const r of spec.relocations ?? []) {
    const data = new Uint8Array(16 * r.entries.length);
    const view = new DataView(data.buffer);
    r.entries.forEach((e, i) => {
      view.setBigUint64(i * 16, BigInt(e.offset), true);
      view.setBigUint64(i * 16 + 8, (BigInt(e.symbol) << 32n) | BigInt(e.type), true);
    });
    sections.push({
      name: `.rel${sections[r.target - 1].name}`,
      type: SHT_REL,
      data,
      link: symtabIndex,
      info: r.target,
      entsize: 16,
    });
  }
  const symData = new Uint8Array(24 * (symbols.length + 1));
  const symView = new DataView(symData.buffer);
  symbols.forEach((s, i) => {
    const at = (i + 1) * 24;
    symView.setUint32(at, strtab.add(s.name), true);
    symView.setUint8(at + 4, (s.bind << 4) | s.type);
    symView.setUint16(at + 6, s.shndx, true);
    symView.setBigUint64(at + 8, BigInt(s.value ?? 0), true);
    symView.setBigUint64(at + 16, BigInt(s.size ?? 0), true);
  });
  sections.push({
    name: '.symtab',
    type: SHT_SYMTAB,
    data: symData,
    link: symtabIndex + 1,
    info: 1,
    entsize: 24,
  });
  sections.push({ name: '.strtab', type: SHT_STRTAB, data: new Uint8Array(strtab.bytes) });
  const names = sections.map((s) => shstrtab.add(s.name));
  const shstrName = shstrtab.add('.shstrtab');
  sections.push({ name: '.shstrtab', type: SHT_STRTAB, data: new Uint8Array(shstrtab.bytes) });
  names.push(shstrName);

  const align8 = (n: number) => (n + 7) & ~7;
  let at = 64;
  const offsets = sections.map((s) => {
    const o = align8(at);
    at = o + (s.type === SHT_NOBITS ? 0 : (s.data?.length ?? 0));
    return o;
  });
  const shoff = align8(at);
  const out = new Uint8Array(shoff + 64 * (sections.length + 1));
  const view = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  view.setUint16(16, ET_REL, true);
  view.setUint16(18, spec.machine ?? EM_BPF, true);
  view.setUint32(20, 1, true);
  view.setBigUint64(40, BigInt(shoff), true);
  view.setUint16(52, 64, true);
  view.setUint16(58, 64, true);
  view.setUint16(60, sections.length + 1, true);
  view.setUint16(62, sections.length, true);
  sections.forEach((s, i) => {
    const h = shoff + (i + 1) * 64;
    if (s.type !== SHT_NOBITS && s.data) out.set(s.data, offsets[i]);
    view.setUint32(h, names[i], true);
    view.setUint32(h + 4, s.type, true);
    view.setBigUint64(h + 8, BigInt(s.flags ?? 0), true);
    view.setBigUint64(h + 24, BigInt(offsets[i]), true);
    view.setBigUint64(h + 32, BigInt(s.type === SHT_NOBITS ? (s.size ?? 0) : (s.data?.length ?? 0)), true);
    view.setUint32(h + 40, s.link ?? 0, true);
    view.setUint32(h + 44, s.info ?? 0, true);
    view.setBigUint64(h + 48, 8n, true);
    view.setBigUint64(h + 56, BigInt(s.entsize ?? 0), true);
  });
  return out;
}

/** Instruction bytes from raw fields. */
export function code(...insns: RawInsn[]): Uint8Array {
  return encodeProgram(insns);
}
