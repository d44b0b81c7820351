/**
 * Mutation test of the whole loader (reader → object model → linker → decoder): seeded corruptions of
 * real clang-19 objects (and a hand-made one when clang is missing) must each end in a clean load or a
 * BpfError — never another exception, never a hang. Mutations aim at structure more than at debug
 * bytes: header and section-header fields, symbol and relocation entries, code, truncation.
 * BPFBOX_MUTATIONS=N raises the number of variants (default 10,000, split across the objects).
 */
import { describe, expect, it } from 'vitest';
import { linkObject } from '../../src/elf/linker.js';
import { isCodeSection, loadObject } from '../../src/elf/object.js';
import { readElf, SHT_REL, SHT_SYMTAB } from '../../src/elf/reader.js';
import { BpfError } from '../../src/errors.js';
import { prng } from '../support/prng.js';
import { buildElf } from './build-elf.js';
import { clangAvailable, compileBpf, MULTI_SOURCE, TAILCALL_SOURCE, TYPES_SOURCE } from './compile.js';

const TOTAL = Number(process.env.BPFBOX_MUTATIONS ?? 10_000);

interface Region {
  start: number;
  length: number;
  /** Field size to overwrite: structured regions are mutated a field at a time. */
  stride: number;
}

/** Regions worth corrupting, from the valid object's own layout. */
function regionsOf(bytes: Uint8Array): Region[] {
  const elf = readElf(bytes);
  const shoff = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(40, true));
  const regions: Region[] = [
    { start: 0, length: 64, stride: 2 },
    { start: shoff, length: 64 * elf.sections.length, stride: 4 },
  ];
  for (const s of elf.sections) {
    if (s.type === SHT_SYMTAB) regions.push({ start: s.offset, length: s.size, stride: 2 });
    if (s.type === SHT_REL) regions.push({ start: s.offset, length: s.size, stride: 4 });
    if (isCodeSection(s) && s.size > 0) regions.push({ start: s.offset, length: s.size, stride: 1 });
    if (s.type === SHT_REL && s.name === '.rel.maps')
      regions.push({ start: s.offset, length: s.size, stride: 1 });
    if (s.name === 'maps') regions.push({ start: s.offset, length: s.size, stride: 4 });
  }
  return regions.filter((r) => r.length > 0);
}

const INTERESTING = [0, 1, 2, 7, 8, 0x10, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0xffffffff];

function mutate(original: Uint8Array, regions: readonly Region[], random: () => number): Uint8Array {
  let bytes = original.slice();
  const pick = (n: number) => Math.floor(random() * n);
  const count = 1 + pick(4);
  for (let k = 0; k < count; k++) {
    const choice = random();
    if (choice < 0.08) {
      bytes = bytes.slice(0, pick(bytes.length));
      continue;
    }
    if (bytes.length === 0) break;
    if (choice < 0.3) {
      // Any byte, any value.
      bytes[pick(bytes.length)] = pick(256);
      continue;
    }
    const region = regions[pick(regions.length)];
    const field = region.start + pick(Math.max(1, Math.floor(region.length / region.stride))) * region.stride;
    const value = random() < 0.5 ? INTERESTING[pick(INTERESTING.length)] : pick(0x100000000);
    const view = new DataView(bytes.buffer);
    if (field + region.stride > bytes.length) continue;
    if (region.stride === 1) bytes[field] = random() < 0.5 ? value & 0xff : bytes[field] ^ (1 << pick(8));
    else if (region.stride === 2) view.setUint16(field, value & 0xffff, true);
    else view.setUint32(field, value >>> 0, true);
  }
  return bytes;
}

function handMade(): Uint8Array {
  // The smallest object with a program, a subprogram call and a data relocation (see bad-input.test.ts).
  const code = new Uint8Array([
    0x18, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xb7, 0, 0, 0, 0, 0, 0, 0, 0x85, 0x10, 0, 0, 0xff,
    0xff, 0xff, 0xff, 0x95, 0, 0, 0, 0, 0, 0, 0,
  ]);
  return buildElf({
    sections: [
      { name: 'xdp', type: 1, flags: 6, data: code },
      {
        name: '.text',
        type: 1,
        flags: 6,
        data: new Uint8Array([0xb7, 0, 0, 0, 7, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]),
      },
      { name: '.data', type: 1, flags: 3, data: new Uint8Array(8) },
    ],
    symbols: [
      { name: 'sub', type: 2, bind: 0, shndx: 2, value: 0, size: 16 },
      { name: 'prog', type: 2, bind: 1, shndx: 1, value: 0, size: 40 },
      { name: 'v', type: 1, bind: 1, shndx: 3, value: 0, size: 8 },
    ],
    relocations: [
      {
        target: 1,
        entries: [
          { offset: 0, type: 1, symbol: 3 },
          { offset: 24, type: 10, symbol: 1 },
        ],
      },
    ],
  });
}

describe('mutated objects', () => {
  const objects: [string, Uint8Array][] = [['hand-made', handMade()]];
  if (clangAvailable) {
    objects.push(['multi', compileBpf(MULTI_SOURCE)]);
    objects.push(['types -mcpu=v4', compileBpf(TYPES_SOURCE, ['-mcpu=v4'])]);
    objects.push(['types -mcpu=v3', compileBpf(TYPES_SOURCE, ['-mcpu=v3'])]);
    objects.push(['tail calls', compileBpf(TAILCALL_SOURCE)]);
  } else {
    console.warn('[test/elf/mutation] clang-19 not found: mutating only the hand-made object.');
  }

  for (const [index, [name, original]] of objects.entries()) {
    it(`${name}: every variant loads cleanly or fails with a BpfError`, () => {
      // The unmutated object loads.
      expect(linkObject(loadObject(original)).length).toBeGreaterThan(0);
      const regions = regionsOf(original);
      const random = prng(0x5eed + index);
      const variants = Math.ceil(TOTAL / objects.length);
      const outcomes = new Map<string, number>();
      let slowest = 0;
      for (let i = 0; i < variants; i++) {
        const bytes = mutate(original, regions, random);
        const started = performance.now();
        let outcome = 'ok';
        try {
          linkObject(loadObject(bytes));
        } catch (e) {
          if (!(e instanceof BpfError)) {
            throw new Error(`variant ${i} of ${name} threw a foreign exception: ${String(e)}`, { cause: e });
          }
          outcome = e.code;
        }
        slowest = Math.max(slowest, performance.now() - started);
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
      if (process.env.BPFBOX_MUTATIONS_REPORT) console.log(name, Object.fromEntries(outcomes));
      // Never a hang: no variant takes long (a clean load of these objects is well under 1 ms).
      expect(slowest).toBeLessThan(1000);
      // The mutations reach past the header checks: several distinct outcomes, including clean loads.
      expect(outcomes.size).toBeGreaterThan(3);
      expect(outcomes.get('ok') ?? 0).toBeGreaterThan(0);
    });
  }
});
