/**
 * `InstancePre`: a module whose imports a linker has resolved — the linked program and the helper
 * registry are built once, so `instantiate` only maps memory and binds an executor.
 */
import { LinkError } from '../errors.js';
import type { Insn, Program } from '../isa/instruction.js';
import { type HelperContext, HelperRegistry } from '../vm/helpers.js';
import type { GuestMemory } from '../vm/memory/guest-memory.js';
import type { Engine } from './engine.js';
import { Instance, type InstantiateOptions } from './instance.js';
import type { HostDefinition, Linker } from './linker.js';
import type { Module, ModuleImport } from './module.js';

/**
 * Helper ids the interpreter dispatches through a dense table; murmur3 hashes are 32-bit, so calls by
 * hash are relocated to free ids below this bound (as an ELF linker relocates call targets).
 */
const DENSE_IDS = 1 << 16;

export class InstancePre {
  /** The program with every hash-imported call renumbered to its local helper id. */
  readonly program: Program;
  /** Resolved imports, in the module's order. */
  readonly resolved: readonly { readonly import: ModuleImport; readonly definition: HostDefinition }[];
  private readonly helpers = new HelperRegistry();
  /** The instance each guest memory belongs to, so shared helper wrappers find their caller. */
  private readonly owners = new WeakMap<GuestMemory, Instance>();

  /** @internal Use `Linker.instantiatePre`. */
  constructor(
    readonly engine: Engine,
    readonly module: Module,
    linker: Linker,
  ) {
    const resolved: { import: ModuleImport; definition: HostDefinition }[] = [];
    const missing: ModuleImport[] = [];
    for (const imp of module.imports) {
      // A named import (object file) must find its own name: its hash could equal a helper id.
      const definition = imp.name === undefined ? linker.resolve(imp.imm) : linker.lookup(imp.name);
      if (definition) resolved.push({ import: imp, definition });
      else missing.push(imp);
    }
    if (missing.length > 0) {
      const pc = missing[0].pcs[0];
      const line = module.lineAt(pc);
      throw new LinkError(missing.map(describeImport), { pc, file: line?.file, line: line?.line });
    }
    this.resolved = Object.freeze(resolved.map((r) => Object.freeze(r)));

    const localIds = assignLocalIds(module.imports);
    const owners = this.owners;
    for (const { import: imp, definition } of resolved) {
      this.helpers.define(localIds.get(imp.imm) ?? imp.imm, definition.name, (ctx: HelperContext) => {
        // Every memory an executor of this InstancePre runs on is registered at instantiation.
        return owners.get(ctx.memory)!.hostCall(definition, ctx);
      });
    }
    this.program = relocate(module.program, localIds);
    Object.freeze(this);
  }

  instantiate(options: InstantiateOptions = {}): Instance {
    return new Instance(this, this.helpers, options, (memory, instance) => this.owners.set(memory, instance));
  }
}

/** One LinkError entry: the immediate as a helper id (when it can be one) and as a hash, then the call sites. */
function describeImport(imp: ModuleImport): string {
  const at = `at pc ${imp.pcs.join(', ')}`;
  if (imp.name !== undefined)
    return `${imp.name} (murmur3 0x${imp.hash.toString(16).padStart(8, '0')}) ${at}`;
  return imp.imm >= 0 && imp.imm < DENSE_IDS
    ? `helper ${imp.imm} (murmur3 0x${imp.hash.toString(16).padStart(8, '0')}) ${at}`
    : `murmur3 0x${imp.hash.toString(16).padStart(8, '0')} ${at}`;
}

/** Local ids for immediates outside the dense range, taken from the top of the range downwards. */
function assignLocalIds(imports: readonly ModuleImport[]): Map<number, number> {
  const taken = new Set(imports.map((i) => i.imm));
  const ids = new Map<number, number>();
  let next = DENSE_IDS - 1;
  for (const { imm } of imports) {
    if (imm >= 0 && imm < DENSE_IDS) continue;
    while (taken.has(next)) next--;
    ids.set(imm, next);
    taken.add(next);
  }
  return ids;
}

function relocate(program: Program, localIds: Map<number, number>): Program {
  if (localIds.size === 0) return program;
  const bytes = program.bytes.slice();
  const view = new DataView(bytes.buffer);
  // The bytes, the objects and the columns say the same (see ProgramColumns).
  const imm = program.columns.imm.slice();
  const insns = program.insns.map((insn, i): Insn => {
    const id = insn.kind === 'call' && insn.op === 'helper' ? localIds.get(insn.imm) : undefined;
    if (id === undefined) return insn;
    view.setInt32(insn.pc * 8 + 4, id, true);
    imm[i] = id;
    return { ...insn, imm: id };
  });
  return Object.freeze({ ...program, insns, bytes, columns: { ...program.columns, imm } });
}
