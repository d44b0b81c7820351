/** Test-only writer of small `.BTF` / `.BTF.ext` sections, for malformed-input tests. */
import { BTF_MAGIC, BtfKind } from '../../src/elf/btf.js';

/** Writes u32 words in either byte order. */
function words(values: readonly number[], little: boolean): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => {
    view.setUint32(i * 4, v >>> 0, little);
  });
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export class BtfBuilder {
  private readonly records: number[][] = [];
  private strings = '\0';

  /** Offset of `s` in the string section (added on first use). */
  str(s: string): number {
    if (s === '') return 0;
    const at = this.strings.indexOf(`\0${s}\0`);
    if (at >= 0) return at + 1;
    const off = this.strings.length;
    this.strings += `${s}\0`;
    return off;
  }

  /** Appends a type record: name offset, info word, size/type, then trailing u32 words. Returns its id. */
  raw(nameOff: number, info: number, sizeOrType: number, trailing: readonly number[]): number {
    this.records.push([nameOff, info, sizeOrType, ...trailing]);
    return this.records.length;
  }

  int(name: string, size: number, signed: boolean, bits = size * 8): number {
    return this.raw(this.str(name), BtfKind.int << 24, size, [((signed ? 1 : 0) << 24) | bits]);
  }
  ptr(type: number): number {
    return this.raw(0, BtfKind.ptr << 24, type, []);
  }
  typedef(name: string, type: number): number {
    return this.raw(this.str(name), BtfKind.typedef << 24, type, []);
  }
  array(type: number, indexType: number, nelems: number): number {
    return this.raw(0, BtfKind.array << 24, 0, [type, indexType, nelems]);
  }
  /** Members as [name, type, bitOffset, bitSize?]; any bitSize switches the struct to kind_flag form. */
  struct(name: string, size: number, members: readonly [string, number, number, number?][]): number {
    const kindFlag = members.some((m) => m[3] !== undefined);
    const trailing = members.flatMap(([n, type, off, bits]) => [
      this.str(n),
      type,
      kindFlag ? ((bits ?? 0) << 24) | off : off,
    ]);
    return this.raw(
      this.str(name),
      (kindFlag ? 0x80000000 : 0) | (BtfKind.struct << 24) | members.length,
      size,
      trailing,
    );
  }
  funcProto(ret: number, params: readonly [string, number][]): number {
    return this.raw(
      0,
      (BtfKind.func_proto << 24) | params.length,
      ret,
      params.flatMap(([n, t]) => [this.str(n), t]),
    );
  }
  func(name: string, proto: number): number {
    return this.raw(this.str(name), (BtfKind.func << 24) | 1, proto, []);
  }
  variable(name: string, type: number): number {
    return this.raw(this.str(name), BtfKind.var << 24, type, [1]);
  }
  datasec(name: string, vars: readonly [number, number, number][]): number {
    return this.raw(this.str(name), (BtfKind.datasec << 24) | vars.length, 0, vars.flat());
  }

  build(little = true): Uint8Array {
    const types = words(this.records.flat(), little);
    const strings = new TextEncoder().encode(this.strings);
    const header = new Uint8Array(24);
    const view = new DataView(header.buffer);
    view.setUint16(0, BTF_MAGIC, little);
    header[2] = 1;
    view.setUint32(4, 24, little);
    view.setUint32(8, 0, little);
    view.setUint32(12, types.length, little);
    view.setUint32(16, types.length, little);
    view.setUint32(20, strings.length, little);
    return concat([header, types, strings]);
  }
}

/** One `.BTF.ext` subsection: record size and, per ELF section name offset, its records (u32 words). */
export interface ExtSubsection {
  readonly recordSize: number;
  readonly sections: readonly {
    readonly nameOff: number;
    readonly records: readonly (readonly number[])[];
  }[];
}

/** Builds a `.BTF.ext` section with func_info, line_info and core_relo subsections (little-endian). */
export function buildBtfExt(
  funcInfo: ExtSubsection,
  lineInfo: ExtSubsection,
  coreRelo?: ExtSubsection,
): Uint8Array {
  // Without core_relo the header is the original 24-byte one.
  const headerSize = coreRelo === undefined ? 24 : 32;
  const encode = (sub: ExtSubsection): Uint8Array =>
    sub.sections.length === 0
      ? new Uint8Array(0)
      : words(
          [
            sub.recordSize,
            ...sub.sections.flatMap((s) => [s.nameOff, s.records.length, ...s.records.flat()]),
          ],
          true,
        );
  const parts = [funcInfo, lineInfo, ...(coreRelo === undefined ? [] : [coreRelo])].map(encode);
  const header = new Uint8Array(headerSize);
  const view = new DataView(header.buffer);
  view.setUint16(0, BTF_MAGIC, true);
  header[2] = 1;
  view.setUint32(4, headerSize, true);
  let off = 0;
  parts.forEach((p, i) => {
    view.setUint32(8 + i * 8, off, true);
    view.setUint32(12 + i * 8, p.length, true);
    off += p.length;
  });
  return concat([header, ...parts]);
}
