/**
 * What `Module.fromElf` makes of a clang object file: every non-static function linked into one
 * program (the entry first, so it is pc 0), calls to undefined functions imported by name (their
 * immediate is the murmur3-32 hash of the name, so the Linker's name resolution applies unchanged),
 * and the global data sections laid out in the contract memory map — `.rodata*` in the read-only data
 * region, `.data*`/`.bss*` in the read-write one — with every lddw of a global rewritten to the plain
 * 64-bit guest address it refers to.
 */
import type { BtfLineInfo } from '../elf/btf-ext.js';
import { coreFailureText } from '../elf/core.js';
import type { BpfFunction, InternalMap, ObjectMap } from '../elf/object.js';
import { symbolName, symbolSection } from '../elf/object.js';
import { OpenObject, type RunnableCode } from '../elf/open.js';
import { R_BPF_64_ABS32, R_BPF_64_ABS64, R_BPF_NONE } from '../elf/reader.js';
import { LoadError, UsageError } from '../errors.js';
import { LDDW_IMM64 } from '../isa/opcodes.js';
import { MAX_REGION_SIZE, Slot, slotBase } from '../vm/memory/layout.js';
import { murmur3_32 } from './murmur3.js';

export interface ElfModuleOptions {
  /**
   * The default entry (pc 0): a function name, or a section name (`contract`, `SEC("...")`) whose
   * first non-static function is taken. Default: the first non-static function in section order.
   */
  entry?: string;
  /** Initial values of globals before linking (`const volatile` parameters), by variable name. */
  globals?: Readonly<Record<string, number | bigint | string | Uint8Array>>;
}

/** The parts a Module is built from. */
export interface ElfModuleParts {
  /** The entry function's name. */
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly rodata: Uint8Array | undefined;
  readonly data: Uint8Array | undefined;
  readonly exports: Record<string, number>;
  /** Import name per call immediate (murmur3-32 of the name, as a signed int32). */
  readonly importNames: ReadonlyMap<number, string>;
  /** Source line per pc (empty without `.BTF.ext`). */
  readonly lines: readonly (BtfLineInfo | undefined)[];
}

/** Where each global data section landed: guest address of its first byte, by internal map index. */
type Placement = Map<number, number>;

export function elfModuleParts(bytes: Uint8Array, options: ElfModuleOptions = {}): ElfModuleParts {
  const open = OpenObject.open(bytes, { programSections: 'any' });
  for (const [name, value] of Object.entries(options.globals ?? {})) open.setGlobal(name, value);
  const object = open.object;
  const roots = entryFunctions(object.functions, options.entry);
  const names = new Map<number, string>();
  const linked = open.linkFunctions(roots[0].name, roots, {
    externalCall: (name) => {
      const imm = murmur3_32(name) | 0;
      const other = names.get(imm);
      if (other !== undefined) {
        throw new LoadError(
          'UNSUPPORTED_ELF',
          `host functions ${other} and ${name} have the same murmur3-32 hash 0x${(imm >>> 0).toString(16)}, so calls to them cannot be told apart`,
          {},
          { hint: 'rename one of the two functions' },
        );
      }
      names.set(imm, name);
      return imm;
    },
  });
  if (linked.coreFailures.size > 0) {
    const [pc, failed] = [...linked.coreFailures][0];
    throw new LoadError(
      'UNSUPPORTED_ELF',
      `pc ${pc}: ${coreFailureText(failed, 'a contract, which has no kernel types')}`,
      { pc },
      { hint: 'contracts have no kernel types; do not use BPF_CORE_READ or __builtin_preserve_access_index' },
    );
  }
  const internal = object.maps.filter((m): m is InternalMap => m.kind === 'internal');
  const placement: Placement = new Map();
  const rodata = layoutRegion(
    'rodata',
    internal.filter((m) => m.readonly),
    slotBase(Slot.RODATA),
    placement,
  );
  const data = layoutRegion(
    'data',
    internal.filter((m) => !m.readonly),
    slotBase(Slot.DATA),
    placement,
  );
  applyDataRelocations(open, internal, placement, rodata, data);

  const code = globalAddresses(linked, object.maps, placement);

  const exports: Record<string, number> = {};
  const rootSet = new Set(roots);
  for (const { function: fn, start } of linked.functions) {
    if (rootSet.has(fn)) exports[fn.name] = start;
  }
  for (const { function: fn, start } of linked.functions) {
    const section = fn.section.name;
    if (rootSet.has(fn) && section !== '.text' && !Object.hasOwn(exports, section)) exports[section] = start;
  }
  return { name: roots[0].name, bytes: code, rodata, data, exports, importNames: names, lines: linked.lines };
}

/** The linked code with every lddw of a global (map_idx_value) turned into its plain guest address. */
function globalAddresses(linked: RunnableCode, maps: readonly ObjectMap[], placement: Placement): Uint8Array {
  const code = linked.bytes.slice();
  const view = new DataView(code.buffer);
  for (const insn of linked.program.insns) {
    if (insn.kind !== 'lddw' || insn.source === 'imm64' || insn.source === 'code_addr') continue;
    const base = insn.source === 'map_idx_value' ? placement.get(insn.imm) : undefined;
    if (base === undefined) {
      const map = maps[insn.imm];
      throw new LoadError(
        'UNSUPPORTED_ELF',
        `lddw at pc ${insn.pc} refers to map ${map?.name ?? insn.imm}; contracts have no maps`,
        { pc: insn.pc },
        { hint: 'keep contract state in host storage through host functions (get/set), not in BPF maps' },
      );
    }
    // Now a plain 64-bit constant: the global's guest address (below 4 GiB, so the high word is 0).
    code[insn.pc * 8 + 1] = (LDDW_IMM64 << 4) | insn.dst;
    view.setUint32(insn.pc * 8 + 4, base + insn.imm2, true);
    view.setUint32(insn.pc * 8 + 12, 0, true);
  }
  return code;
}

/** The entry first, then every other non-static function in section order. */
function entryFunctions(functions: readonly BpfFunction[], entry: string | undefined): BpfFunction[] {
  const globals = functions.filter((f) => f.global);
  if (entry === undefined) {
    if (globals.length === 0) {
      throw new LoadError(
        'EMPTY_PROGRAM',
        'the object has no non-static function to call',
        {},
        { hint: 'remove `static` from the contract entry points, or name one with the entry option' },
      );
    }
    return globals;
  }
  const fn =
    functions.find((f) => f.name === entry) ??
    globals.find((f) => f.section.name === entry) ??
    functions.find((f) => f.section.name === entry);
  if (fn === undefined) {
    const sections = [...new Set(functions.map((f) => f.section.name))];
    throw new UsageError(
      `the object has no function or section named "${entry}"`,
      {},
      {
        hint: `functions: ${functions.map((f) => f.name).join(', ') || '(none)'}; sections: ${sections.join(', ') || '(none)'}`,
      },
    );
  }
  return [fn, ...globals.filter((f) => f !== fn)];
}

/** Packs the sections of one region, each at its alignment (at least 8), and records their addresses. */
function layoutRegion(
  region: string,
  maps: readonly InternalMap[],
  base: number,
  placement: Placement,
): Uint8Array | undefined {
  if (maps.length === 0) return undefined;
  let size = 0;
  const offsets = maps.map((m) => {
    const align = Math.max(8, m.section.addralign);
    size = Math.ceil(size / align) * align;
    const at = size;
    size += m.data.length;
    return at;
  });
  if (size > MAX_REGION_SIZE) {
    throw new LoadError(
      'UNSUPPORTED_ELF',
      `the ${region} sections (${maps.map((m) => m.name).join(', ')}) need ${size} bytes; a region holds at most ${MAX_REGION_SIZE}`,
    );
  }
  const bytes = new Uint8Array(size);
  maps.forEach((m, i) => {
    bytes.set(m.data, offsets[i]);
    placement.set(m.index, base + offsets[i]);
  });
  return bytes;
}

/**
 * Pointers inside global data (`const char *names[] = {"a", "b"}`): R_BPF_64_ABS64/ABS32 relocations
 * of a data section against another data symbol get that symbol's guest address plus the addend
 * stored in place (SHT_REL).
 */
function applyDataRelocations(
  open: OpenObject,
  internal: readonly InternalMap[],
  placement: Placement,
  rodata: Uint8Array | undefined,
  data: Uint8Array | undefined,
): void {
  const elf = open.object.elf;
  for (const rs of elf.relocationSections) {
    const holder = internal.find((m) => m.section === rs.target);
    if (holder === undefined) continue;
    const holderBase = placement.get(holder.index) ?? 0;
    const bytes = holder.readonly ? rodata : data;
    if (bytes === undefined) continue;
    const regionBase = slotBase(holder.readonly ? Slot.RODATA : Slot.DATA);
    const view = new DataView(bytes.buffer);
    rs.relocations.forEach((r, i) => {
      if (r.type === R_BPF_NONE) return;
      const where = { section: rs.section.name, offset: rs.section.offset + i * 16 };
      const symbol = elf.symbols[r.symbol];
      const section = symbol === undefined ? undefined : symbolSection(elf, symbol);
      const target = internal.find((m) => m.section === section);
      const targetBase = target === undefined ? undefined : placement.get(target.index);
      if (symbol === undefined || targetBase === undefined) {
        throw new LoadError(
          'UNSUPPORTED_ELF',
          `${holder.name} holds a pointer to ${symbol === undefined ? `symbol ${r.symbol}` : symbolName(elf, symbol)}, which is not global data`,
          where,
          { hint: 'contracts may store pointers to globals and string literals only (no function pointers)' },
        );
      }
      const at = holderBase - regionBase + r.offset;
      const address = targetBase + symbol.value;
      if (r.type === R_BPF_64_ABS64 && at + 8 <= bytes.length) {
        view.setBigUint64(at, BigInt.asUintN(64, view.getBigUint64(at, true) + BigInt(address)), true);
      } else if (r.type === R_BPF_64_ABS32 && at + 4 <= bytes.length) {
        view.setUint32(at, (view.getUint32(at, true) + address) >>> 0, true);
      } else {
        throw new LoadError(
          'BAD_RELOCATION',
          `relocation type ${r.type} at offset ${r.offset} of ${holder.name} is not a 64- or 32-bit pointer inside the section`,
          where,
        );
      }
    });
  }
}
