/**
 * The BPF object model, following libbpf's conventions for what each ELF section means: programs by
 * SEC name, static subprograms in `.text`, maps in `.maps` (BTF-defined) and `maps` (legacy
 * `struct bpf_map_def`), global data in `.rodata*`/`.data*`/`.bss*` (each one "internal map"), and
 * the `license` string.
 *
 * Map index space (the imm of lddw src=5/6 after linking): every map symbol of `.maps` and `maps` in
 * symbol-table order gets 0, 1, …; then each non-empty data section gets the next index, in
 * section-header order (e.g. `.rodata`, `.data`, `.bss`, `.rodata.str1.1`). `BpfObject.maps[i].index`
 * is always `i`.
 */
import { LoadError, UsageError } from '../errors.js';
import { INSN_SIZE } from '../isa/opcodes.js';
import { type MapDefinition, MapType, mapTypeName } from '../runtime/maps/map-def.js';
import {
  type ElfFile,
  type ElfSection,
  type ElfSymbol,
  R_BPF_64_ABS64,
  readElf,
  SHF_ALLOC,
  SHF_EXECINSTR,
  SHN_LORESERVE,
  SHN_UNDEF,
  SHT_NOBITS,
  SHT_PROGBITS,
  STB_LOCAL,
  STT_FUNC,
  STT_SECTION,
} from './reader.js';

export type ProgramType =
  | 'socket_filter'
  | 'xdp'
  | 'sched_cls'
  | 'sched_act'
  | 'tracepoint'
  | 'raw_tracepoint'
  | 'kprobe'
  | 'tracing'
  | 'perf_event'
  | 'syscall';

/** How a `tracing` program attaches (libbpf's expected_attach_type). */
export type TracingAttachKind = 'fentry' | 'fexit' | 'fmod_ret' | 'tp_btf';

/** What a SEC name says about a program. */
export interface SectionSpec {
  readonly type: ProgramType;
  /** The part after the prefix: `syscalls/sys_enter_execve`, `do_sys_open`, `ingress`, … */
  readonly attachTo?: string;
  /** kretprobe / uretprobe. */
  readonly retprobe?: boolean;
  /** uprobe / uretprobe rather than kprobe / kretprobe. */
  readonly user?: boolean;
  /** Only for `tracing`. */
  readonly attachKind?: TracingAttachKind;
  /** `xdp.frags`: the program accepts multi-buffer packets. */
  readonly frags?: boolean;
  /** `fentry.s/…`, `uprobe.s/…`: the program may sleep (BPF_F_SLEEPABLE). */
  readonly sleepable?: boolean;
}

interface SectionRule {
  /** Section name (exact) or, with `slash`, a prefix that may be followed by `/target`. */
  readonly name: string;
  readonly slash: boolean;
  readonly spec: Omit<SectionSpec, 'attachTo'>;
}

const rule = (name: string, slash: boolean, spec: SectionRule['spec']): SectionRule => ({
  name,
  slash,
  spec,
});

/** libbpf's section_defs for the program types bpfbox runs. */
export const SECTION_RULES: readonly SectionRule[] = [
  rule('socket', false, { type: 'socket_filter' }),
  rule('xdp', false, { type: 'xdp' }),
  rule('xdp.frags', false, { type: 'xdp', frags: true }),
  rule('tc', true, { type: 'sched_cls' }), // tc, tc/ingress, tc/egress
  rule('classifier', false, { type: 'sched_cls' }),
  rule('tcx', true, { type: 'sched_cls' }),
  rule('action', false, { type: 'sched_act' }),
  rule('tracepoint', true, { type: 'tracepoint' }),
  rule('tp', true, { type: 'tracepoint' }),
  rule('raw_tracepoint', true, { type: 'raw_tracepoint' }),
  rule('raw_tp', true, { type: 'raw_tracepoint' }),
  rule('kprobe', true, { type: 'kprobe', retprobe: false, user: false }),
  rule('kretprobe', true, { type: 'kprobe', retprobe: true, user: false }),
  rule('uprobe', true, { type: 'kprobe', retprobe: false, user: true }),
  rule('uretprobe', true, { type: 'kprobe', retprobe: true, user: true }),
  rule('uprobe.s', true, { type: 'kprobe', retprobe: false, user: true, sleepable: true }),
  rule('uretprobe.s', true, { type: 'kprobe', retprobe: true, user: true, sleepable: true }),
  rule('fentry', true, { type: 'tracing', attachKind: 'fentry' }),
  rule('fexit', true, { type: 'tracing', attachKind: 'fexit' }),
  rule('fmod_ret', true, { type: 'tracing', attachKind: 'fmod_ret' }),
  rule('fentry.s', true, { type: 'tracing', attachKind: 'fentry', sleepable: true }),
  rule('fexit.s', true, { type: 'tracing', attachKind: 'fexit', sleepable: true }),
  rule('fmod_ret.s', true, { type: 'tracing', attachKind: 'fmod_ret', sleepable: true }),
  rule('tp_btf', true, { type: 'tracing', attachKind: 'tp_btf' }),
  rule('perf_event', false, { type: 'perf_event' }),
  rule('syscall', false, { type: 'syscall' }),
];

/** Program type and attach target of a SEC name, or undefined when libbpf would not know it either. */
export function parseSectionName(name: string): SectionSpec | undefined {
  for (const r of SECTION_RULES) {
    if (name === r.name) return r.spec;
    if (r.slash && name.startsWith(`${r.name}/`))
      return { ...r.spec, attachTo: name.slice(r.name.length + 1) };
  }
  return undefined;
}

/** A function: a FUNC symbol in an executable section. Positions are in instruction slots. */
export interface BpfFunction {
  readonly name: string;
  readonly symbol: ElfSymbol;
  readonly section: ElfSection;
  /** First slot in the section. */
  readonly start: number;
  /** Length in slots. */
  readonly slots: number;
  readonly global: boolean;
}

export interface BpfProgramDef extends SectionSpec {
  readonly name: string;
  /** SEC name, e.g. `tracepoint/syscalls/sys_enter_execve`. */
  readonly sectionName: string;
  readonly function: BpfFunction;
}

/** A named object inside a data section (a global variable). */
export interface DataSymbol {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  readonly global: boolean;
}

export type DataSectionKind = 'rodata' | 'data' | 'bss';

interface MapBase {
  /** Position in the map index space (= position in `BpfObject.maps`). */
  readonly index: number;
  readonly name: string;
  readonly section: ElfSection;
}

/** A map declared in `.maps`; its attributes come from BTF (parsed elsewhere). */
export interface BtfMap extends MapBase {
  readonly kind: 'btf';
  readonly symbol: ElfSymbol;
  /** Byte offset of the map's struct in `.maps`. */
  readonly offset: number;
}

/** A map declared as `struct bpf_map_def` in the legacy `maps` section. */
export interface LegacyMap extends MapBase {
  readonly kind: 'legacy';
  readonly symbol: ElfSymbol;
  readonly offset: number;
  readonly definition: MapDefinition;
}

/** A data section as a single-element array map, like libbpf's `.rodata`/`.data`/`.bss` maps. */
export interface InternalMap extends MapBase {
  readonly kind: 'internal';
  readonly dataKind: DataSectionKind;
  /** Programs may not write it (`.rodata*`); `const volatile` values are set before load. */
  readonly readonly: boolean;
  /** Initial contents, a copy the caller may modify before load (zeros for `.bss`). */
  readonly data: Uint8Array;
  readonly symbols: readonly DataSymbol[];
  readonly definition: MapDefinition;
}

export type ObjectMap = BtfMap | LegacyMap | InternalMap;

/**
 * A pointer in a `.maps` definition's `values` array (`.values = { [1] = &prog }` of a prog_array,
 * `&inner_map` of a map of maps), from the `.rel.maps` relocations. BTF says which slot `offset` is.
 */
export interface MapInitializer {
  /** Index of the map whose definition holds the pointer. */
  readonly map: number;
  /** Byte offset of the pointer inside that map's definition. */
  readonly offset: number;
  readonly target:
    | { readonly kind: 'program'; readonly name: string }
    | { readonly kind: 'map'; readonly index: number };
}

export interface BpfObject {
  readonly elf: ElfFile;
  /** The `license` section's string, or undefined without one. */
  readonly license?: string;
  readonly programs: readonly BpfProgramDef[];
  /** Every function of every executable section (programs and subprograms), by section then start. */
  readonly functions: readonly BpfFunction[];
  readonly maps: readonly ObjectMap[];
  readonly mapInitializers: readonly MapInitializer[];
}

export const TEXT_SECTION = '.text';
export const MAPS_SECTION = '.maps';
export const LEGACY_MAPS_SECTION = 'maps';
export const LICENSE_SECTION = 'license';

/** BPF_F_RDONLY_PROG and BPF_F_MMAPABLE, the flags libbpf gives internal maps. */
const BPF_F_RDONLY_PROG = 1 << 7;
const BPF_F_MMAPABLE = 1 << 10;
/** A data section becomes guest memory in one 256 MiB slot (docs/ARCHITECTURE.md). */
export const MAX_DATA_SECTION_SIZE = 1 << 28;
/** Size of `struct bpf_map_def`: type, key_size, value_size, max_entries, map_flags (u32 each). */
export const BPF_MAP_DEF_SIZE = 20;

/** The kind of data section by libbpf's naming rule, or undefined for other sections. */
export function dataSectionKind(name: string): DataSectionKind | undefined {
  for (const kind of ['rodata', 'data', 'bss'] as const) {
    if (name === `.${kind}` || name.startsWith(`.${kind}.`)) return kind;
  }
  return undefined;
}

/** True for sections whose symbols are maps. */
export function isMapSection(section: ElfSection): boolean {
  return section.name === MAPS_SECTION || section.name === LEGACY_MAPS_SECTION;
}

/** Executable PROGBITS: program sections and `.text`. */
export function isCodeSection(section: ElfSection): boolean {
  return section.type === SHT_PROGBITS && (section.flags & SHF_EXECINSTR) !== 0;
}

export interface BuildOptions {
  /**
   * `libbpf` (default): a global function in a section whose name is no known program type is an
   * UNSUPPORTED_ELF error. `any`: such functions are plain functions, not programs (contracts use
   * `SEC("contract")` or any name and pick their entries by function name).
   */
  readonly programSections?: 'libbpf' | 'any';
}

/** Reads an object file: ELF structure, then the libbpf object model. Throws `LoadError`. */
export function loadObject(bytes: Uint8Array, options: BuildOptions = {}): BpfObject {
  return buildObject(readElf(bytes), options);
}

/** The object model of an already parsed ELF file. Throws `LoadError`. */
export function buildObject(elf: ElfFile, options: BuildOptions = {}): BpfObject {
  const functions = collectFunctions(elf);
  const programs = collectPrograms(functions, options.programSections === 'any');
  const maps = collectMaps(elf);
  const licenseSection = elf.sections.find((s) => s.name === LICENSE_SECTION);
  let license: string | undefined;
  if (licenseSection !== undefined) {
    const end = licenseSection.data.indexOf(0);
    license = new TextDecoder().decode(licenseSection.data.subarray(0, end < 0 ? undefined : end));
  }
  const mapInitializers = collectMapInitializers(elf, maps, programs);
  return { elf, license, programs, functions, maps, mapInitializers };
}

/** The section a symbol is defined in, or undefined for undefined/absolute/common symbols. */
export function symbolSection(elf: ElfFile, symbol: ElfSymbol): ElfSection | undefined {
  if (symbol.shndx === SHN_UNDEF || symbol.shndx >= SHN_LORESERVE) return undefined;
  return elf.sections[symbol.shndx];
}

/** A symbol's name for messages; section symbols are nameless, so they go by their section's name. */
export function symbolName(elf: ElfFile, symbol: ElfSymbol): string {
  if (symbol.name !== '') return symbol.name;
  const section = symbol.type === STT_SECTION ? symbolSection(elf, symbol) : undefined;
  return section?.name ?? `symbol ${symbol.index}`;
}

function collectFunctions(elf: ElfFile): BpfFunction[] {
  const functions: BpfFunction[] = [];
  for (const symbol of elf.symbols) {
    if (symbol.type !== STT_FUNC) continue;
    const section = symbolSection(elf, symbol);
    if (section === undefined) continue; // an extern function; calls to it are reported by the linker
    const where = { section: section.name, offset: symbol.value };
    if (!isCodeSection(section)) {
      throw new LoadError(
        'BAD_ELF',
        `function ${symbol.name} is in section ${section.name}, which is not executable`,
        where,
      );
    }
    if (symbol.value % INSN_SIZE !== 0 || symbol.size % INSN_SIZE !== 0 || symbol.size === 0) {
      throw new LoadError(
        'BAD_ELF',
        `function ${symbol.name} at offset ${symbol.value} with size ${symbol.size} is not a whole number of 8-byte instructions`,
        where,
      );
    }
    if (symbol.value + symbol.size > section.size) {
      throw new LoadError(
        'BAD_ELF',
        `function ${symbol.name} [${symbol.value}, ${symbol.value + symbol.size}) extends past the end of section ${section.name} (${section.size} bytes)`,
        where,
      );
    }
    functions.push({
      name: symbol.name,
      symbol,
      section,
      start: symbol.value / INSN_SIZE,
      slots: symbol.size / INSN_SIZE,
      global: symbol.bind !== STB_LOCAL,
    });
  }
  functions.sort((a, b) => a.section.index - b.section.index || a.start - b.start);
  return functions;
}

function collectPrograms(functions: readonly BpfFunction[], anySection: boolean): BpfProgramDef[] {
  const programs: BpfProgramDef[] = [];
  for (const fn of functions) {
    if (!fn.global || fn.section.name === TEXT_SECTION) continue;
    const spec = parseSectionName(fn.section.name);
    if (spec === undefined) {
      if (anySection) continue;
      throw new LoadError(
        'UNSUPPORTED_ELF',
        `program ${fn.name} is in section "${fn.section.name}", which is not a known program type`,
        { section: fn.section.name, offset: fn.symbol.value },
        {
          hint: `name the section with a libbpf SEC prefix: ${SECTION_RULES.map((r) => (r.slash ? `${r.name}[/…]` : r.name)).join(', ')}`,
        },
      );
    }
    programs.push({ ...spec, name: fn.name, sectionName: fn.section.name, function: fn });
  }
  return programs;
}

function collectMaps(elf: ElfFile): ObjectMap[] {
  const maps: ObjectMap[] = [];
  for (const symbol of elf.symbols) {
    if (symbol.type === STT_SECTION || symbol.index === 0) continue;
    const section = symbolSection(elf, symbol);
    if (section === undefined || !isMapSection(section)) continue;
    const where = { section: section.name, offset: symbol.value };
    if (section.type !== SHT_PROGBITS) {
      throw new LoadError(
        'BAD_ELF',
        `map section ${section.name} has no contents (type ${section.type})`,
        where,
      );
    }
    if (symbol.value >= section.size) {
      throw new LoadError(
        'BAD_ELF',
        `map ${symbol.name} at offset ${symbol.value} is outside section ${section.name}`,
        where,
      );
    }
    if (section.name === MAPS_SECTION) {
      maps.push({
        kind: 'btf',
        index: maps.length,
        name: symbol.name,
        section,
        symbol,
        offset: symbol.value,
      });
    } else {
      maps.push({
        kind: 'legacy',
        index: maps.length,
        name: symbol.name,
        section,
        symbol,
        offset: symbol.value,
        definition: legacyDefinition(symbol, section),
      });
    }
  }
  for (const section of elf.sections) {
    const dataKind = dataSectionKind(section.name);
    if (dataKind === undefined || section.size === 0) continue;
    if (section.type !== SHT_PROGBITS && section.type !== SHT_NOBITS) continue;
    if ((section.flags & SHF_ALLOC) === 0) continue;
    if (section.size > MAX_DATA_SECTION_SIZE) {
      throw new LoadError(
        'UNSUPPORTED_ELF',
        `data section ${section.name} has ${section.size} bytes, more than the ${MAX_DATA_SECTION_SIZE} a global data region holds`,
        { section: section.name, offset: section.offset },
      );
    }
    const symbols: DataSymbol[] = [];
    for (const s of elf.symbols) {
      if (s.shndx !== section.index || s.type === STT_SECTION || s.index === 0) continue;
      if (s.value + s.size > section.size) {
        throw new LoadError(
          'BAD_ELF',
          `variable ${s.name} [${s.value}, ${s.value + s.size}) extends past the end of section ${section.name} (${section.size} bytes)`,
          { section: section.name, offset: s.value },
        );
      }
      symbols.push({ name: s.name, offset: s.value, size: s.size, global: s.bind !== STB_LOCAL });
    }
    const readonly = dataKind === 'rodata';
    maps.push({
      kind: 'internal',
      index: maps.length,
      name: section.name,
      section,
      dataKind,
      readonly,
      data: section.type === SHT_NOBITS ? new Uint8Array(section.size) : section.data.slice(),
      symbols,
      definition: {
        name: section.name,
        type: 'array',
        keySize: 4,
        valueSize: section.size,
        maxEntries: 1,
        flags: readonly ? BPF_F_RDONLY_PROG | BPF_F_MMAPABLE : BPF_F_MMAPABLE,
      },
    });
  }
  return maps;
}

function collectMapInitializers(
  elf: ElfFile,
  maps: readonly ObjectMap[],
  programs: readonly BpfProgramDef[],
): MapInitializer[] {
  const initializers: MapInitializer[] = [];
  for (const rs of elf.relocationSections) {
    if (rs.target.name !== MAPS_SECTION) continue;
    rs.relocations.forEach((r, i) => {
      const where = { section: rs.section.name, offset: rs.section.offset + i * 16 };
      const symbol = elf.symbols[r.symbol];
      const name = symbolName(elf, symbol);
      if (r.type !== R_BPF_64_ABS64) {
        throw new LoadError(
          'BAD_RELOCATION',
          `relocation type ${r.type} in ${MAPS_SECTION}; map slots use R_BPF_64_ABS64 (2)`,
          where,
        );
      }
      const map = maps.find(
        (m): m is BtfMap =>
          m.kind === 'btf' &&
          m.section === rs.target &&
          r.offset >= m.offset &&
          r.offset < m.offset + m.symbol.size,
      );
      if (map === undefined) {
        throw new LoadError(
          'BAD_RELOCATION',
          `relocation at offset ${r.offset} of ${MAPS_SECTION} is inside no map`,
          where,
        );
      }
      const section = symbolSection(elf, symbol);
      if (section === undefined) {
        throw new LoadError(
          'MISSING_SYMBOL',
          `map ${map.name} refers to ${name}, which is not defined in this object`,
          where,
        );
      }
      const program = programs.find((p) => p.function.symbol === symbol);
      const inner = maps.find((m) => m.kind === 'btf' && m.symbol === symbol);
      const target = program
        ? { kind: 'program' as const, name: program.name }
        : inner
          ? { kind: 'map' as const, index: inner.index }
          : undefined;
      if (target === undefined) {
        throw new LoadError(
          'BAD_RELOCATION',
          `map ${map.name} refers to ${name}, which is neither a program nor a map`,
          where,
        );
      }
      initializers.push({ map: map.index, offset: r.offset - map.offset, target });
    });
  }
  return initializers;
}

function legacyDefinition(symbol: ElfSymbol, section: ElfSection): MapDefinition {
  const where = { section: section.name, offset: symbol.value };
  if (symbol.value + BPF_MAP_DEF_SIZE > section.size) {
    throw new LoadError(
      'BAD_ELF',
      `legacy map ${symbol.name} at offset ${symbol.value} needs ${BPF_MAP_DEF_SIZE} bytes (struct bpf_map_def) but section ${section.name} has ${section.size}`,
      where,
    );
  }
  const view = new DataView(section.data.buffer, section.data.byteOffset + symbol.value, BPF_MAP_DEF_SIZE);
  const typeId = view.getUint32(0, true);
  const type = mapTypeName(typeId);
  if (type === undefined) {
    throw new LoadError(
      'UNSUPPORTED_ELF',
      `legacy map ${symbol.name} has unknown map type ${typeId}`,
      where,
      {
        hint: `supported map types: ${Object.entries(MapType)
          .map(([name, id]) => `${name} (${id})`)
          .join(', ')}`,
      },
    );
  }
  return {
    name: symbol.name,
    type,
    keySize: view.getUint32(4, true),
    valueSize: view.getUint32(8, true),
    maxEntries: view.getUint32(12, true),
    flags: view.getUint32(16, true),
  };
}

/** The global variable `name` and the internal map holding it, or undefined. */
export function findVariable(
  object: BpfObject,
  name: string,
): { map: InternalMap; variable: DataSymbol } | undefined {
  for (const map of object.maps) {
    if (map.kind !== 'internal') continue;
    const variable = map.symbols.find((s) => s.name === name);
    if (variable !== undefined) return { map, variable };
  }
  return undefined;
}

/**
 * Sets a global's initial value before load, like assigning `skel->rodata->NAME` in a libbpf skeleton
 * (the way to set `const volatile` parameters). Integers are stored little-endian in the variable's
 * size (1, 2, 4 or 8 bytes); byte arrays must have the variable's exact size.
 */
export function setVariable(object: BpfObject, name: string, value: number | bigint | Uint8Array): void {
  const found = findVariable(object, name);
  if (found === undefined) {
    const known = object.maps.flatMap((m) => (m.kind === 'internal' ? m.symbols.map((s) => s.name) : []));
    throw new UsageError(
      `the object has no global variable ${name}`,
      {},
      { hint: `globals: ${known.join(', ') || '(none)'}` },
    );
  }
  const { map, variable } = found;
  if (value instanceof Uint8Array) {
    if (value.length !== variable.size) {
      throw new UsageError(`${name} has ${variable.size} bytes but the value has ${value.length}`);
    }
    map.data.set(value, variable.offset);
    return;
  }
  const bits = BigInt(variable.size * 8);
  const big = BigInt(value);
  if (![1, 2, 4, 8].includes(variable.size) || big < -(1n << (bits - 1n)) || big >= 1n << bits) {
    throw new UsageError(
      `${value} does not fit ${name}, a ${variable.size}-byte variable`,
      {},
      {
        hint: 'pass the bytes as a Uint8Array for variables that are not 1, 2, 4 or 8 bytes',
      },
    );
  }
  const view = new DataView(map.data.buffer, map.data.byteOffset + variable.offset, variable.size);
  for (let i = 0; i < variable.size; i++) view.setUint8(i, Number((big >> BigInt(8 * i)) & 0xffn));
}
