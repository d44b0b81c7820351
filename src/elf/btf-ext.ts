/**
 * The `.BTF.ext` section: per-ELF-section function info, line info and CO-RE relocation records
 * (kernel Documentation/bpf/btf.rst §4.2, libbpf's btf_ext). Offsets of instructions are stored in
 * bytes in object files; they are exposed here as instruction indexes (8-byte slots) of their section.
 * Strings (section names, file names, source lines, access strings) live in the `.BTF` string table.
 */
import type { LoadError } from '../errors.js';
import { type Btf, btfError, detectByteOrder, SectionView } from './btf.js';

const SECTION = '.BTF.ext';
/** Header up to line_info; core_relo_off/len follow when hdr_len allows (LLVM always emits them). */
const MIN_HEADER = 24;
const CORE_HEADER = 32;

export interface BtfFuncInfo {
  /** Instruction index inside the ELF section. */
  readonly insn: number;
  /** FUNC type id. */
  readonly typeId: number;
  readonly name: string;
}

export interface BtfLineInfo {
  readonly insn: number;
  readonly file: string;
  /** Source text of the line, as recorded by the compiler (may be empty). */
  readonly text: string;
  /** 1-based; 0 when unknown. */
  readonly line: number;
  readonly column: number;
}

/** `enum bpf_core_relo_kind`. */
export const CoreReloKind = {
  field_byte_offset: 0,
  field_byte_size: 1,
  field_exists: 2,
  field_signed: 3,
  field_lshift_u64: 4,
  field_rshift_u64: 5,
  type_id_local: 6,
  type_id_target: 7,
  type_exists: 8,
  type_size: 9,
  enumval_exists: 10,
  enumval_value: 11,
  type_matches: 12,
} as const;
export type CoreReloKindName = keyof typeof CoreReloKind;
const CORE_KIND_NAMES = Object.keys(CoreReloKind) as CoreReloKindName[];

export interface BtfCoreRelo {
  readonly insn: number;
  /** Local BTF type id of the root type of the access. */
  readonly typeId: number;
  /** Raw access string, e.g. `"0:1:2"`. */
  readonly accessString: string;
  /** Access string split into indexes (type-based relocations use `"0"`). */
  readonly access: readonly number[];
  readonly kind: CoreReloKindName;
}

/** Everything `.BTF.ext` says about one ELF section (e.g. `"xdp"`, `".text"`). */
export interface BtfExtSection {
  readonly funcInfo: readonly BtfFuncInfo[];
  readonly lineInfo: readonly BtfLineInfo[];
  readonly coreRelos: readonly BtfCoreRelo[];
}

export class BtfExt {
  /** By ELF section name. */
  readonly sections: ReadonlyMap<string, BtfExtSection>;

  private constructor(sections: Map<string, BtfExtSection>) {
    this.sections = sections;
  }

  static parse(bytes: Uint8Array, btf: Btf): BtfExt {
    const little = detectByteOrder(bytes, SECTION);
    const fail = (offset: number, message: string): LoadError => btfError(SECTION, offset, message);
    const v = new SectionView(bytes, little, fail);
    v.need(0, MIN_HEADER, 'header');
    if (v.u8(2) !== 1) throw fail(2, `unsupported .BTF.ext version ${v.u8(2)} (only version 1 exists)`);
    const hdrLen = v.u32(4);
    if (hdrLen < MIN_HEADER || hdrLen > bytes.length) {
      throw fail(4, `header length ${hdrLen} is outside [${MIN_HEADER}, ${bytes.length}]`);
    }
    const sections = new Map<
      string,
      { funcInfo: BtfFuncInfo[]; lineInfo: BtfLineInfo[]; coreRelos: BtfCoreRelo[] }
    >();
    const sectionOf = (name: string) => {
      let s = sections.get(name);
      if (s === undefined) {
        s = { funcInfo: [], lineInfo: [], coreRelos: [] };
        sections.set(name, s);
      }
      return s;
    };
    const str = (offset: number, where: number): string => {
      try {
        return btf.string(offset, where);
      } catch {
        throw fail(where, `string offset ${offset} is outside the .BTF string section`);
      }
    };
    const typeId = (id: number, where: number): number => {
      if (id >= btf.count)
        throw fail(where, `record refers to type id ${id}, but the last .BTF type id is ${btf.count - 1}`);
      return id;
    };
    const insnOf = (byteOff: number, where: number): number => {
      if (byteOff % 8 !== 0) throw fail(where, `instruction offset ${byteOff} is not a multiple of 8 bytes`);
      return byteOff / 8;
    };

    /** Walks one subsection: record size, then per ELF section {name_off, count, records…}. */
    const walk = (
      what: string,
      offField: number,
      minRecord: number,
      onRecord: (section: string, at: number) => void,
    ): void => {
      if (offField + 8 > hdrLen) return;
      const off = v.u32(offField);
      const len = v.u32(offField + 4);
      if (len === 0) return;
      const start = hdrLen + off;
      const end = start + len;
      if (off % 4 !== 0 || end > bytes.length) {
        throw fail(
          offField,
          `${what} [${off}, +${len}) lies outside the section (${bytes.length - hdrLen} bytes after the header)`,
        );
      }
      v.need(start, 4, `${what} record size`);
      const recSize = v.u32(start);
      if (recSize < minRecord || recSize % 4 !== 0) {
        throw fail(
          start,
          `${what} record size ${recSize} is invalid (at least ${minRecord}, a multiple of 4)`,
        );
      }
      let p = start + 4;
      while (p < end) {
        if (p + 8 > end) throw fail(p, `${what} section header is truncated`);
        const name = str(v.u32(p), p);
        const count = v.u32(p + 4);
        if (count === 0) throw fail(p, `${what} for section '${name}' has no records`);
        p += 8;
        if (count * recSize > end - p) {
          throw fail(
            p,
            `${what} for section '${name}' has ${count} records of ${recSize} bytes, more than the ${end - p} bytes left`,
          );
        }
        for (let i = 0; i < count; i++, p += recSize) onRecord(name, p);
      }
    };

    walk('func_info', 8, 8, (name, p) => {
      const id = typeId(v.u32(p + 4), p + 4);
      const fn = btf.get(id);
      if (fn.kind !== 'func')
        throw fail(p + 4, `func_info in '${name}' refers to type [${id}], a ${fn.kind}, not a function`);
      sectionOf(name).funcInfo.push({ insn: insnOf(v.u32(p), p), typeId: id, name: fn.name });
    });
    walk('line_info', 16, 16, (name, p) => {
      const lineCol = v.u32(p + 12);
      sectionOf(name).lineInfo.push({
        insn: insnOf(v.u32(p), p),
        file: str(v.u32(p + 4), p + 4),
        text: str(v.u32(p + 8), p + 8),
        line: lineCol >>> 10,
        column: lineCol & 0x3ff,
      });
    });
    if (hdrLen >= CORE_HEADER) {
      walk('core_relo', 24, 16, (name, p) => {
        const accessString = str(v.u32(p + 8), p + 8);
        const kindNum = v.u32(p + 12);
        const kind = CORE_KIND_NAMES[kindNum];
        if (kind === undefined)
          throw fail(p + 12, `CO-RE relocation in '${name}' has unknown kind ${kindNum}`);
        const access = accessString.split(':').map(Number);
        if (accessString === '' || access.some((n) => !Number.isInteger(n) || n < 0)) {
          throw fail(p + 8, `CO-RE relocation in '${name}' has malformed access string "${accessString}"`);
        }
        sectionOf(name).coreRelos.push({
          insn: insnOf(v.u32(p), p),
          typeId: typeId(v.u32(p + 4), p + 4),
          accessString,
          access,
          kind,
        });
      });
    }
    // Line lookups bisect; the compiler emits ascending offsets, a stable sort keeps that true for any input.
    for (const s of sections.values()) s.lineInfo.sort((a, b) => a.insn - b.insn);
    return new BtfExt(sections);
  }

  /** Records of one ELF section (empty when the section has none). */
  section(name: string): BtfExtSection {
    return this.sections.get(name) ?? EMPTY;
  }

  /**
   * The line record covering instruction `insn` of a section: the last record at or before it
   * (records are in ascending instruction order, one per statement start).
   */
  lineAt(section: string, insn: number): BtfLineInfo | undefined {
    const lines = this.section(section).lineInfo;
    let lo = 0;
    let hi = lines.length - 1;
    let best: BtfLineInfo | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (lines[mid].insn <= insn) {
        best = lines[mid];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best;
  }
}

const EMPTY: BtfExtSection = { funcInfo: [], lineInfo: [], coreRelos: [] };

/** Parses a `.BTF.ext` section against its `.BTF` (see `BtfExt.parse`). */
export function parseBtfExt(bytes: Uint8Array, btf: Btf): BtfExt {
  return BtfExt.parse(bytes, btf);
}
