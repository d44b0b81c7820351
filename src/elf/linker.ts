/**
 * Turns each program of an object into a self-contained instruction array, as libbpf does before
 * loading: the program's function, then every subprogram it reaches through calls or code addresses
 * (depth-first in order of first reference, like libbpf's bpf_object__reloc_code), with
 * - `call local` and lddw code addresses (src=4) re-pointed at the new layout,
 * - lddw of a `.maps`/`maps` symbol → src=5 (BPF_PSEUDO_MAP_IDX), imm = map index,
 * - lddw of a global variable → src=6 (BPF_PSEUDO_MAP_IDX_VALUE), imm = the data section's map index,
 *   imm2 = byte offset in it,
 * where map indexes are those of `BpfObject.maps` (see object.ts). Helper calls stay as they are.
 * Calls to functions the object does not define are refused, unless `LinkOptions.externalCall` turns
 * them into `call imm` imports (contracts calling host functions by name).
 */
import { LoadError } from '../errors.js';
import { decodeProgram } from '../isa/decoder.js';
import { encodeProgram, type RawInsn, readRawInsn, slotsOf } from '../isa/encoder.js';
import type { Program } from '../isa/instruction.js';
import {
  BPF_JMP,
  CALL_LOCAL,
  INSN_SIZE,
  LDDW_CODE_ADDR,
  LDDW_IMM64,
  LDDW_MAP_IDX,
  LDDW_MAP_IDX_VALUE,
  LDDW_OPCODE,
} from '../isa/opcodes.js';
import { CALL_OP_CODE } from '../isa/operations.js';
import {
  type BpfFunction,
  type BpfObject,
  type BpfProgramDef,
  isCodeSection,
  isMapSection,
  type ObjectMap,
  symbolName,
  symbolSection,
} from './object.js';
import {
  type ElfRelocation,
  type ElfSection,
  R_BPF_64_32,
  R_BPF_64_64,
  R_BPF_64_ABS32,
  R_BPF_64_ABS64,
  R_BPF_64_NODYLD32,
  R_BPF_NONE,
  SHN_UNDEF,
} from './reader.js';

const CALL_OPCODE = BPF_JMP | CALL_OP_CODE;

export interface LinkOptions {
  /**
   * Imports calls to undefined functions (`extern long get(...)`: clang emits `call -1` with an
   * R_BPF_64_32 relocation against the undefined symbol) as `call imm` (src 0) with the returned
   * immediate. Without it such calls are a MISSING_SYMBOL LoadError, as in libbpf.
   */
  readonly externalCall?: (name: string) => number;
}

/** An external function a linked program calls, with the immediate its calls were given. */
export interface ExternalCall {
  readonly name: string;
  readonly imm: number;
  /** pcs of the call sites in the linked program, ascending. */
  readonly pcs: readonly number[];
}

/** Where a function of the object landed in a linked program. */
export interface LinkedFunction {
  readonly function: BpfFunction;
  /** First slot in the linked program. */
  readonly start: number;
}

/** Linked code: root functions and everything they reach, self-contained. */
export interface LinkedCode {
  readonly name: string;
  /** The linked code; passes `decodeProgram`. */
  readonly bytes: Uint8Array;
  readonly program: Program;
  /** The program's own function first (at 0), then subprograms in placement order. */
  readonly functions: readonly LinkedFunction[];
  /** Per slot of the linked program: the ELF section index it was copied from … */
  readonly originSection: Int32Array;
  /** … and its slot index in that section (for line info). */
  readonly originSlot: Int32Array;
  /** Indexes into `BpfObject.maps` the program refers to, ascending. */
  readonly maps: readonly number[];
  /** Calls to undefined functions imported through `LinkOptions.externalCall` (empty without it). */
  readonly externalCalls: readonly ExternalCall[];
}

export interface LinkedProgram extends LinkedCode {
  readonly definition: BpfProgramDef;
}

/** Links every program of the object. */
export function linkObject(object: BpfObject): LinkedProgram[] {
  const relocations = indexRelocations(object);
  return object.programs.map((p) => ({
    ...new ProgramLinker(object, relocations, p.name, [p.function]).link(),
    definition: p,
  }));
}

/**
 * Links several root functions (any functions of the object, e.g. every exported function of a
 * contract) into one program: each root in the given order, followed by the functions it reaches that
 * are not placed yet. The first root is at pc 0; every root's pc is its `functions` entry's `start`.
 */
export function linkFunctions(
  object: BpfObject,
  name: string,
  roots: readonly BpfFunction[],
  options: LinkOptions = {},
): LinkedCode {
  return new ProgramLinker(object, indexRelocations(object), name, roots, options).link();
}

/** Links one program, by name. */
export function linkProgram(object: BpfObject, name: string): LinkedProgram {
  const definition = object.programs.find((p) => p.name === name);
  if (definition === undefined) {
    throw new LoadError(
      'MISSING_SYMBOL',
      `the object has no program named ${name}`,
      {},
      {
        hint: `programs: ${object.programs.map((p) => p.name).join(', ') || '(none)'}`,
      },
    );
  }
  return {
    ...new ProgramLinker(object, indexRelocations(object), name, [definition.function]).link(),
    definition,
  };
}

/** Code-section relocations by section index, then byte offset. */
type RelocationIndex = Map<number, Map<number, ElfRelocation>>;

function indexRelocations(object: BpfObject): RelocationIndex {
  const index: RelocationIndex = new Map();
  for (const rs of object.elf.relocationSections) {
    if (!isCodeSection(rs.target)) continue; // .BTF, .BTF.ext, .debug_*, .maps: not code
    const byOffset = index.get(rs.target.index) ?? new Map<number, ElfRelocation>();
    index.set(rs.target.index, byOffset);
    rs.relocations.forEach((r, i) => {
      const where = { section: rs.section.name, offset: rs.section.offset + i * 16 };
      if (r.type === R_BPF_NONE) return;
      if (r.type === R_BPF_64_ABS64 || r.type === R_BPF_64_ABS32 || r.type === R_BPF_64_NODYLD32) {
        throw new LoadError(
          'BAD_RELOCATION',
          `relocation type ${r.type} (data relocation) applies to code section ${rs.target.name}; it belongs in debug and BTF sections only`,
          where,
        );
      }
      if (r.type !== R_BPF_64_64 && r.type !== R_BPF_64_32) {
        throw new LoadError(
          'BAD_RELOCATION',
          `unknown BPF relocation type ${r.type} in ${rs.section.name}`,
          where,
        );
      }
      if (r.offset % INSN_SIZE !== 0) {
        throw new LoadError(
          'BAD_RELOCATION',
          `relocation offset ${r.offset} in ${rs.target.name} is not at an instruction boundary`,
          where,
        );
      }
      if (byOffset.has(r.offset)) {
        throw new LoadError(
          'BAD_RELOCATION',
          `two relocations apply to offset ${r.offset} of ${rs.target.name}`,
          where,
        );
      }
      byOffset.set(r.offset, r);
    });
  }
  return index;
}

const owners = new WeakMap<BpfObject, Map<number, Int32Array>>();

/**
 * Per code section and slot: the index in `object.functions` of the first function (in their
 * section-then-start order) containing the slot, or -1. Replaces a scan of every function per call.
 */
function functionOwners(object: BpfObject): Map<number, Int32Array> {
  let bySection = owners.get(object);
  if (bySection !== undefined) return bySection;
  bySection = new Map();
  const covered = new Map<number, number>();
  object.functions.forEach((f, i) => {
    let owner = bySection.get(f.section.index);
    if (owner === undefined) {
      owner = new Int32Array(Math.floor(f.section.size / INSN_SIZE)).fill(-1);
      bySection.set(f.section.index, owner);
    }
    // Starts ascend, so earlier functions cover exactly [f.start, covered end) of this one's range.
    const end = f.start + f.slots;
    const from = Math.max(f.start, covered.get(f.section.index) ?? 0);
    if (from < end) owner.fill(i, from, end);
    covered.set(f.section.index, Math.max(end, covered.get(f.section.index) ?? 0));
  });
  owners.set(object, bySection);
  return bySection;
}

/** One instruction being copied: its raw fields (patched in place) and where it came from. */
interface Entry {
  readonly raw: RawInsn;
  readonly fn: BpfFunction;
  /** Slot in the source section. */
  readonly slot: number;
  /** Slot in the linked program. */
  readonly pc: number;
}

class ProgramLinker {
  private readonly entries: Entry[] = [];
  private readonly placed = new Map<BpfFunction, number>();
  private readonly order: LinkedFunction[] = [];
  private readonly usedMaps = new Set<number>();
  private readonly externals = new Map<string, { imm: number; pcs: number[] }>();
  /** Entries still to relocate, per placed function: the innermost one is relocated first. */
  private readonly pending: { next: number; end: number }[] = [];
  private slots = 0;

  constructor(
    private readonly object: BpfObject,
    private readonly relocations: RelocationIndex,
    private readonly name: string,
    private readonly roots: readonly BpfFunction[],
    private readonly options: LinkOptions = {},
  ) {}

  link(): LinkedCode {
    for (const root of this.roots) {
      if (this.placed.has(root)) continue;
      // Depth-first like libbpf, with an explicit stack so deep call chains cannot overflow ours.
      this.place(root);
      while (this.pending.length > 0) {
        const top = this.pending[this.pending.length - 1];
        if (top.next === top.end) this.pending.pop();
        else this.relocate(this.entries[top.next++]);
      }
    }
    const bytes = encodeProgram(this.entries.map((e) => e.raw));
    const program = decodeProgram(bytes, { section: this.name });
    const originSection = new Int32Array(this.slots);
    const originSlot = new Int32Array(this.slots);
    for (const e of this.entries) {
      for (let k = 0; k < slotsOf(e.raw); k++) {
        originSection[e.pc + k] = e.fn.section.index;
        originSlot[e.pc + k] = e.slot + k;
      }
    }
    return {
      name: this.name,
      bytes,
      program,
      functions: this.order,
      originSection,
      originSlot,
      maps: [...this.usedMaps].sort((a, b) => a - b),
      externalCalls: [...this.externals].map(([name, { imm, pcs }]) => ({
        name,
        imm,
        pcs: pcs.sort((a, b) => a - b),
      })),
    };
  }

  /** Appends `fn`'s instructions (relocated later, before the caller's next ones); returns its first slot. */
  private place(fn: BpfFunction): number {
    const start = this.slots;
    this.placed.set(fn, start);
    this.order.push({ function: fn, start });
    const view = new DataView(fn.section.data.buffer, fn.section.data.byteOffset, fn.section.data.byteLength);
    const first = this.entries.length;
    const end = fn.start + fn.slots;
    for (let slot = fn.start; slot < end; ) {
      const raw = readRawInsn(view, slot * INSN_SIZE);
      if (raw.opcode === LDDW_OPCODE && slot + 1 >= end) {
        throw new LoadError(
          'TRUNCATED_LDDW',
          `the lddw at the end of function ${fn.name} has no second slot`,
          { section: fn.section.name, offset: slot * INSN_SIZE },
        );
      }
      this.entries.push({ raw, fn, slot, pc: this.slots });
      this.slots += slotsOf(raw);
      slot += slotsOf(raw);
    }
    this.pending.push({ next: first, end: this.entries.length });
    return start;
  }

  private fail(code: 'BAD_RELOCATION' | 'MISSING_SYMBOL', e: Entry, message: string, hint?: string): never {
    throw new LoadError(
      code,
      `${message} (program ${this.name}, function ${e.fn.name}, instruction ${e.slot} of ${e.fn.section.name})`,
      { section: e.fn.section.name, offset: e.slot * INSN_SIZE },
      hint === undefined ? undefined : { hint },
    );
  }

  private relocate(e: Entry): void {
    const { raw } = e;
    const reloc = this.relocations.get(e.fn.section.index)?.get(e.slot * INSN_SIZE);
    if (raw.opcode === CALL_OPCODE) {
      if (reloc !== undefined) {
        if (reloc.type !== R_BPF_64_32)
          this.fail('BAD_RELOCATION', e, `call has relocation type ${reloc.type}, expected R_BPF_64_32 (10)`);
        if (this.importCall(e, reloc)) return;
        const { section, value } = this.definedSymbol(e, reloc);
        if (raw.src !== CALL_LOCAL)
          this.fail('BAD_RELOCATION', e, `relocated call has src ${raw.src}, expected 1 (local call)`);
        if (!isCodeSection(section) || value % INSN_SIZE !== 0) {
          this.fail('BAD_RELOCATION', e, `call refers to ${this.symbolName(reloc)}, which is not code`);
        }
        this.callTarget(e, section, value / INSN_SIZE + raw.imm + 1);
      } else if (raw.src === CALL_LOCAL) {
        this.callTarget(e, e.fn.section, e.slot + raw.imm + 1);
      }
      return;
    }
    if (raw.opcode === LDDW_OPCODE) {
      if (reloc === undefined) {
        if (raw.src !== LDDW_IMM64) {
          this.fail(
            'BAD_RELOCATION',
            e,
            `lddw with src ${raw.src} has no relocation`,
            'object files carry plain 64-bit constants or relocated lddw only',
          );
        }
        return;
      }
      if (reloc.type !== R_BPF_64_64)
        this.fail('BAD_RELOCATION', e, `lddw has relocation type ${reloc.type}, expected R_BPF_64_64 (1)`);
      if (raw.src !== LDDW_IMM64)
        this.fail('BAD_RELOCATION', e, `relocated lddw has src ${raw.src}, expected 0`);
      this.relocateLddw(e, reloc);
      return;
    }
    if (reloc !== undefined) {
      this.fail(
        'BAD_RELOCATION',
        e,
        `relocation type ${reloc.type} applies to opcode 0x${raw.opcode.toString(16)}, which is neither call nor lddw`,
      );
    }
  }

  private relocateLddw(e: Entry, reloc: ElfRelocation): void {
    const { raw } = e;
    const { section, value } = this.definedSymbol(e, reloc);
    const name = this.symbolName(reloc);
    const at = value + raw.imm;
    if (isMapSection(section)) {
      const map = this.object.maps.find(
        (m) => m.kind !== 'internal' && m.section === section && m.offset === at,
      );
      if (map === undefined)
        this.fail(
          'BAD_RELOCATION',
          e,
          `lddw refers to ${name}+${raw.imm} in ${section.name}, where no map starts`,
        );
      raw.src = LDDW_MAP_IDX;
      raw.imm = this.useMap(map);
      raw.imm2 = 0;
      return;
    }
    if (isCodeSection(section)) {
      if (at % INSN_SIZE !== 0)
        this.fail('BAD_RELOCATION', e, `code address ${name}+${raw.imm} is not at an instruction boundary`);
      this.callTarget(e, section, at / INSN_SIZE);
      raw.src = LDDW_CODE_ADDR;
      raw.imm2 = 0;
      return;
    }
    const data = this.object.maps.find((m) => m.kind === 'internal' && m.section === section);
    if (data === undefined) {
      this.fail(
        'BAD_RELOCATION',
        e,
        `lddw refers to ${name} in section ${section.name}, which is not a map, data or code section`,
      );
    }
    if (at < 0 || at > section.size) {
      this.fail(
        'BAD_RELOCATION',
        e,
        `lddw refers to offset ${at} of ${section.name}, which has ${section.size} bytes`,
      );
    }
    raw.src = LDDW_MAP_IDX_VALUE;
    raw.imm = this.useMap(data);
    raw.imm2 = at;
  }

  /** With `externalCall`, a call to an undefined function becomes `call imm`; true when it did. */
  private importCall(e: Entry, reloc: ElfRelocation): boolean {
    const externalCall = this.options.externalCall;
    const symbol = this.object.elf.symbols[reloc.symbol];
    if (externalCall === undefined || reloc.symbol === 0 || symbol.shndx !== SHN_UNDEF) return false;
    if (symbol.name === '')
      this.fail('BAD_RELOCATION', e, `call refers to the nameless undefined symbol ${symbol.index}`);
    let external = this.externals.get(symbol.name);
    if (external === undefined) {
      external = { imm: externalCall(symbol.name) | 0, pcs: [] };
      this.externals.set(symbol.name, external);
    }
    external.pcs.push(e.pc);
    e.raw.src = 0;
    e.raw.imm = external.imm;
    return true;
  }

  private useMap(map: ObjectMap): number {
    this.usedMaps.add(map.index);
    return map.index;
  }

  /** Points the call or code address `e` at slot `target` of `section`, placing its function if needed. */
  private callTarget(e: Entry, section: ElfSection, target: number): void {
    const owner = functionOwners(this.object).get(section.index);
    const fn =
      owner !== undefined && target >= 0 && target < owner.length
        ? this.object.functions[owner[target]]
        : undefined;
    if (fn === undefined) {
      this.fail(
        'BAD_RELOCATION',
        e,
        `call or code address targets instruction ${target} of ${section.name}, which is in no function`,
      );
    }
    const start = this.placed.get(fn) ?? this.place(fn);
    e.raw.src = e.raw.opcode === CALL_OPCODE ? CALL_LOCAL : LDDW_CODE_ADDR;
    e.raw.imm = start + (target - fn.start) - (e.pc + 1);
  }

  private symbolName(reloc: ElfRelocation): string {
    return symbolName(this.object.elf, this.object.elf.symbols[reloc.symbol]);
  }

  private definedSymbol(e: Entry, reloc: ElfRelocation): { section: ElfSection; value: number } {
    if (reloc.symbol === 0) this.fail('BAD_RELOCATION', e, 'relocation refers to the null symbol 0');
    const symbol = this.object.elf.symbols[reloc.symbol];
    const section = symbolSection(this.object.elf, symbol);
    if (section === undefined) {
      if (symbol.shndx === SHN_UNDEF) {
        this.fail(
          'MISSING_SYMBOL',
          e,
          `${this.symbolName(reloc)} is not defined in this object`,
          'externs (__ksym, __kconfig, functions of other files) are not supported; define the symbol in this file (Module.fromElf imports undefined functions as host functions)',
        );
      }
      this.fail(
        'BAD_RELOCATION',
        e,
        `relocation refers to ${this.symbolName(reloc)}, which has no section (shndx 0x${symbol.shndx.toString(16)})`,
      );
    }
    return { section, value: symbol.value };
  }
}
