/**
 * The ELF reader against an independent reader: every section header, symbol and relocation of the
 * example objects must equal what `llvm-readobj-19 --elf-output-style=JSON` reports.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { symbolName } from '../../src/elf/object.js';
import { readElf, STT_SECTION } from '../../src/elf/reader.js';
import { clangAvailable, compileBpf, MULTI_SOURCE, TAILCALL_SOURCE, TYPES_SOURCE } from './compile.js';

const READOBJ = 'llvm-readobj-19';
const available = clangAvailable && spawnSync(READOBJ, ['--version']).status === 0;
if (!available) console.warn(`[test/elf/readobj] SKIPPED: ${READOBJ} or clang-19 not found (CI has both).`);

interface Named {
  Name: string;
  Value: number;
}
interface ReadobjOutput {
  Sections: {
    Section: {
      Index: number;
      Name: Named;
      Type: Named;
      Flags: { Value: number };
      Offset: number;
      Size: number;
      Link: number;
      Info: number;
      EntrySize: number;
    };
  }[];
  Symbols: {
    Symbol: {
      Name: Named;
      Value: number;
      Size: number;
      Binding: Named;
      Type: Named;
      Section: Named;
    };
  }[];
  Relocations: {
    SectionIndex: number;
    Relocs: { Relocation: { Offset: number; Type: Named; Symbol: Named } }[];
  }[];
}

function readobj(bytes: Uint8Array): ReadobjOutput {
  const dir = mkdtempSync(join(tmpdir(), 'bpfbox-readobj-'));
  try {
    const file = join(dir, 'prog.o');
    writeFileSync(file, bytes);
    const r = spawnSync(READOBJ, ['--elf-output-style=JSON', '-S', '-s', '-r', file], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    if (r.status !== 0) throw new Error(r.stderr);
    return (JSON.parse(r.stdout) as ReadobjOutput[])[0];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.skipIf(!available)('reader vs llvm-readobj-19', () => {
  const objects: [string, Uint8Array][] = available
    ? [
        ['multi', compileBpf(MULTI_SOURCE)],
        ['multi -mcpu=v4', compileBpf(MULTI_SOURCE, ['-mcpu=v4'])],
        ['types -mcpu=v3', compileBpf(TYPES_SOURCE, ['-mcpu=v3'])],
        ['tail calls', compileBpf(TAILCALL_SOURCE)],
      ]
    : [];

  for (const [name, bytes] of objects) {
    it(`${name}: sections, symbols and relocations agree`, () => {
      const ours = readElf(bytes);
      const theirs = readobj(bytes);
      expect(
        ours.sections.map((s) => [
          s.index,
          s.name,
          s.type,
          s.flags,
          s.offset,
          s.size,
          s.link,
          s.info,
          s.entsize,
        ]),
      ).toEqual(
        theirs.Sections.map(({ Section: s }) => [
          s.Index,
          s.Name.Name,
          s.Type.Value,
          s.Flags.Value,
          s.Offset,
          s.Size,
          s.Link,
          s.Info,
          s.EntrySize,
        ]),
      );
      expect(
        ours.symbols.map((s) => [
          s.type === STT_SECTION ? symbolName(ours, s) : s.name,
          s.value,
          s.size,
          s.bind,
          s.type,
          s.shndx,
        ]),
      ).toEqual(
        theirs.Symbols.map(({ Symbol: s }) => [
          s.Name.Name,
          s.Value,
          s.Size,
          s.Binding.Value,
          s.Type.Value,
          s.Section.Value,
        ]),
      );
      expect(
        ours.relocationSections.map((rs) => [
          rs.section.index,
          rs.relocations.map((r) => [r.offset, r.type, r.symbol]),
        ]),
      ).toEqual(
        theirs.Relocations.map((rs) => [
          rs.SectionIndex,
          rs.Relocs.map(({ Relocation: r }) => [r.Offset, r.Type.Value, r.Symbol.Value]),
        ]),
      );
    });
  }
});
