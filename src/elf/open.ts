/**
 * Opening an object file the way libbpf's `bpf_object__open` does: ELF structure, the libbpf object
 * model, `.BTF` and `.BTF.ext`, BTF-defined map definitions and CO-RE relocations applied against a
 * target BTF (the built-in vmlinux by default). Globals can then be set (skeleton style) before
 * `link()` produces runnable programs with a pc → `file:line` table each.
 */
import { LoadError, UsageError } from '../errors.js';
import type { MapDefinition } from '../runtime/maps/map-def.js';
import { type Btf, parseBtf } from './btf.js';
import { type BtfExt, type BtfFuncInfo, type BtfLineInfo, parseBtfExt } from './btf-ext.js';
import { type BtfDefinedMap, decodeBtfMaps } from './btf-maps.js';
import { applyCoreRelocations, type FailedCoreRelo } from './core.js';
import {
  type LinkedCode,
  type LinkedProgram,
  type LinkOptions,
  linkFunctions,
  linkObject,
} from './linker.js';
import {
  type BpfFunction,
  type BpfObject,
  type BpfProgramDef,
  type BtfMap,
  type BuildOptions,
  buildObject,
  findVariable,
  isCodeSection,
  type ObjectMap,
  setVariable,
} from './object.js';
import { type ElfFile, type ElfSection, readElf } from './reader.js';
import { vmlinuxBtf } from './vmlinux.js';

export interface OpenOptions extends BuildOptions {
  /** BTF CO-RE relocations are resolved against (default: the built-in vmlinux of the simulated kernel). */
  readonly targetBtf?: Btf;
}

/** A program of an opened object as `bpfbox inspect` lists it. */
export interface ProgramSummary {
  readonly name: string;
  readonly section: string;
  /** Kernel `enum bpf_prog_type` name without the prefix, e.g. `xdp`, `kprobe`. */
  readonly type: string;
  /** Instruction slots of the program's own function (lddw counts twice, as in the kernel's insn_cnt). */
  readonly insns: number;
}

/** Linked code with its source position per pc. */
export interface RunnableCode extends LinkedCode {
  /** Line info per pc (undefined where the compiler recorded none, or without `.BTF.ext`). */
  readonly lines: readonly (BtfLineInfo | undefined)[];
  /** CO-RE relocations of this program the target could not satisfy (their instructions trap). */
  readonly coreFailures: ReadonlyMap<number, FailedCoreRelo>;
  /** The object's `.BTF`, which `funcInfo` type ids refer to (undefined without `.BTF`). */
  readonly btf: Btf | undefined;
  /** Per linked function with `.BTF.ext` func info: its first pc and FUNC type (the kernel's func_info). */
  readonly funcInfo: readonly BtfFuncInfo[];
}

/** A program after linking, with its source position per pc. */
export interface RunnableProgram extends RunnableCode, LinkedProgram {}

export class OpenObject {
  private linked: readonly RunnableProgram[] | undefined;

  private constructor(
    readonly object: BpfObject,
    readonly btf: Btf | undefined,
    readonly btfExt: BtfExt | undefined,
    /** One definition per map, in the object's map index order (the lddw immediates). */
    readonly mapDefinitions: readonly MapDefinition[],
    private readonly btfMaps: ReadonlyMap<string, BtfDefinedMap>,
    /** Per code section: CO-RE relocations the target could not satisfy, by instruction index. */
    private readonly coreFailures: ReadonlyMap<number, ReadonlyMap<number, FailedCoreRelo>>,
  ) {}

  /** Parses `bytes`; every defect is a LoadError naming the section and offset. */
  static open(bytes: Uint8Array, options: OpenOptions = {}): OpenObject {
    let elf = readElf(bytes);
    const btfSection = elf.sections.find((s) => s.name === '.BTF');
    const btf = btfSection === undefined ? undefined : parseBtf(btfSection.data);
    const extSection = elf.sections.find((s) => s.name === '.BTF.ext');
    const btfExt =
      extSection === undefined || btf === undefined ? undefined : parseBtfExt(extSection.data, btf);
    const failures = new Map<number, Map<number, FailedCoreRelo>>();
    if (btf !== undefined && btfExt !== undefined) {
      elf = applyCore(elf, btf, btfExt, options.targetBtf ?? vmlinuxBtf(), failures);
    }
    const object = buildObject(elf, options);
    const btfMaps = decodeObjectBtfMaps(object, btf);
    return new OpenObject(
      object,
      btf,
      btfExt,
      mapDefinitions(object, btfMaps),
      new Map(btfMaps.map((m) => [m.name, m])),
      failures,
    );
  }

  get programs(): readonly BpfProgramDef[] {
    return this.object.programs;
  }

  get maps(): readonly ObjectMap[] {
    return this.object.maps;
  }

  /** What `bpfbox inspect` prints for each program. */
  programSummaries(): ProgramSummary[] {
    return this.object.programs.map((p) => ({
      name: p.name,
      section: p.sectionName,
      type: p.type,
      insns: p.function.slots,
    }));
  }

  /** True when the object has a global variable `name` (in `.rodata`, `.data` or `.bss`). */
  hasGlobal(name: string): boolean {
    return findVariable(this.object, name) !== undefined;
  }

  /**
   * Sets a global's initial value before load, like `skel->rodata->NAME = value` (the way to give
   * `const volatile` parameters). Strings are stored NUL-padded in a char array of the variable's size.
   */
  setGlobal(name: string, value: number | bigint | Uint8Array | string): void {
    if (typeof value !== 'string') {
      setVariable(this.object, name, value);
      return;
    }
    const found = findVariable(this.object, name);
    const bytes = new TextEncoder().encode(value);
    if (found !== undefined && bytes.length >= found.variable.size) {
      throw new UsageError(
        `"${value}" needs ${bytes.length + 1} bytes with its NUL but ${name} has ${found.variable.size}`,
      );
    }
    const padded = new Uint8Array(found?.variable.size ?? 0);
    padded.set(bytes);
    setVariable(this.object, name, padded);
  }

  /**
   * The `values` slot an initializer at byte `offset` of map `index`'s definition fills
   * (`.values = { [2] = &prog }` → 2), or undefined when the offset is not in the `values` array.
   */
  valuesSlot(index: number, offset: number): number | undefined {
    const map = this.object.maps[index];
    const decoded = map === undefined ? undefined : this.btfMaps.get(map.name);
    if (decoded?.valuesOffset === undefined) return undefined;
    const rel = offset - decoded.valuesOffset;
    return rel >= 0 && rel % 8 === 0 ? rel / 8 : undefined;
  }

  /**
   * Links every program (subprograms appended, map and global references resolved). Linking depends
   * on nothing `setGlobal` changes, so it is done once: a verify-then-load (`bpfbox run`) shares it.
   */
  link(): readonly RunnableProgram[] {
    this.linked ??= linkObject(this.object).map((linked) => ({ ...linked, ...this.sourceOf(linked) }));
    return this.linked;
  }

  /**
   * Links `roots` (functions of this object, any section) into one program named `name`, roots first
   * in the given order; `options.externalCall` imports calls to undefined functions.
   */
  linkFunctions(name: string, roots: readonly BpfFunction[], options: LinkOptions = {}): RunnableCode {
    const linked = linkFunctions(this.object, name, roots, options);
    return { ...linked, ...this.sourceOf(linked) };
  }

  /** Line info and CO-RE failures per pc of linked code, and func info per linked function. */
  private sourceOf(linked: LinkedCode): Pick<RunnableCode, 'lines' | 'coreFailures' | 'btf' | 'funcInfo'> {
    const lines: (BtfLineInfo | undefined)[] = new Array(linked.originSection.length);
    const failures = new Map<number, FailedCoreRelo>();
    for (let pc = 0; pc < lines.length; pc++) {
      const section = this.object.elf.sections[linked.originSection[pc]];
      const slot = linked.originSlot[pc];
      lines[pc] = this.btfExt?.lineAt(section.name, slot);
      const failed = this.coreFailures.get(section.index)?.get(slot);
      if (failed !== undefined) failures.set(pc, failed);
    }
    const funcInfo: BtfFuncInfo[] = [];
    for (const f of linked.functions) {
      const info = this.btfExt
        ?.section(f.function.section.name)
        .funcInfo.find((x) => x.insn === f.function.start);
      if (info !== undefined) funcInfo.push({ ...info, insn: f.start });
    }
    return { lines, coreFailures: failures, btf: this.btf, funcInfo };
  }
}

/** The ELF file with CO-RE relocations applied to every code section's instructions. */
function applyCore(
  elf: ElfFile,
  btf: Btf,
  btfExt: BtfExt,
  target: Btf,
  failures: Map<number, Map<number, FailedCoreRelo>>,
): ElfFile {
  let patched = false;
  const sections = elf.sections.map((section): ElfSection => {
    const relos = btfExt.sections.get(section.name)?.coreRelos ?? [];
    if (relos.length === 0 || !isCodeSection(section)) return section;
    const result = applyCoreRelocations(section.data, relos, btf, target, {
      section: section.name,
      lineAt: (insn) => btfExt.lineAt(section.name, insn),
    });
    if (result.failed.length > 0) failures.set(section.index, new Map(result.failed.map((f) => [f.insn, f])));
    patched = true;
    return { ...section, data: result.bytes };
  });
  if (!patched) return elf;
  const byIndex = (s: ElfSection): ElfSection => sections[s.index] ?? s;
  return {
    ...elf,
    sections,
    relocationSections: elf.relocationSections.map((r) => ({ ...r, target: byIndex(r.target) })),
  };
}

/** The `.maps` definitions BTF describes (none when the object has no BTF-defined maps). */
function decodeObjectBtfMaps(object: BpfObject, btf: Btf | undefined): BtfDefinedMap[] {
  if (!object.maps.some((m) => m.kind === 'btf')) return [];
  return decodeBtfMaps(requireBtf(btf), {
    symbolOffset: (name) => object.maps.find((m): m is BtfMap => m.kind === 'btf' && m.name === name)?.offset,
  });
}

/** Map definitions in index order: BTF-defined maps from `.BTF`, the others from the object model. */
function mapDefinitions(object: BpfObject, btfMaps: readonly BtfDefinedMap[]): MapDefinition[] {
  const byName = new Map(btfMaps.map((m) => [m.name, m.definition]));
  return object.maps.map((m) => {
    if (m.kind !== 'btf') return m.definition;
    const definition = byName.get(m.name);
    if (definition === undefined) {
      throw new LoadError(
        'BAD_BTF',
        `map ${m.name} is in .maps but .BTF's .maps section has no variable of that name`,
        { section: '.maps', offset: m.offset },
        { hint: 'compile with clang -g so the map definitions are described in BTF' },
      );
    }
    return definition;
  });
}

function requireBtf(btf: Btf | undefined): Btf {
  if (btf === undefined) {
    throw new LoadError(
      'BAD_BTF',
      'the object defines maps in .maps but has no .BTF section to describe them',
      { section: '.maps' },
      { hint: 'compile with clang -g (BTF-defined maps need debug info)' },
    );
  }
  return btf;
}
