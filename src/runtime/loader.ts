/**
 * An object file loaded the way libbpf's `bpf_object__load` does, on simulated kernel state: maps
 * created in guest memory (globals as array maps holding their initial data), every program linked,
 * CO-RE-relocated and lowered (or JIT-compiled: `LoadOptions.engine`) onto one shared memory,
 * PROG_ARRAY slots filled from `.maps` initializers, and the kernel and map helpers registered. `run()` then builds a program context from
 * an input (packet, task, arguments) and runs the program like one event; maps persist across runs.
 */
import type { BtfLineInfo } from '../elf/btf-ext.js';
import type { BtfValue } from '../elf/btf-value.js';
import { CORE_FAILURE_HINT, CORE_POISON_HELPER, coreFailureText } from '../elf/core.js';
import { OpenObject, type OpenOptions, type RunnableProgram } from '../elf/open.js';
import { formatSourceLine, knownLine, locateTrap } from '../elf/source-line.js';
import { CoreRelocationFailed, LoadError, Trap, UsageError } from '../errors.js';
import {
  type AnyExecutor,
  EXECUTOR_KINDS,
  EXECUTORS,
  type ExecutorKind,
  isExecutorKind,
} from '../executors.js';
import { decodeProgram } from '../isa/decoder.js';
import type { Program } from '../isa/instruction.js';
import { HelperRegistry, type TailCallTarget } from '../vm/helpers.js';
import type { InterpreterOptions, TraceStep } from '../vm/interpreter/interpreter.js';
import { GuestMemory } from '../vm/memory/guest-memory.js';
import { Slot } from '../vm/memory/layout.js';
import { createBoundContext } from './contexts/bind.js';
import type { ContextResult, ProgramContext } from './contexts/context.js';
import { isPacketProgramType, isSkbProgramType } from './contexts/skb-context.js';
import type { SimulatedTask } from './contexts/task.js';
import { registerKernelHelpers } from './helpers/index.js';
import { registerMapHelpers } from './helpers/maps.js';
import { kernelHelperName } from './helpers/names.js';
import { KernelRuntime, type KernelRuntimeOptions, type RedirectTarget } from './helpers/runtime.js';
import { ArrayMap } from './maps/array.js';
import { createMaps, type MapSet } from './maps/host-api.js';
import { u32Bytes } from './maps/map.js';
import { ArrayOfMaps, HashOfMaps } from './maps/map-of-maps.js';
import type { PerfRecord } from './maps/perf-event-array.js';
import { ProgArray } from './maps/prog-array.js';
import { TypedMap } from './maps/typed-map.js';

export interface LoadOptions extends OpenOptions, Omit<KernelRuntimeOptions, 'maps'> {
  /** Simulated CPUs for per-CPU maps (default 1). */
  readonly cpus?: number;
  /** Initial values of globals (`const volatile` parameters and others), by variable name. */
  readonly globals?: Readonly<Record<string, number | bigint | string | Uint8Array>>;
  /** Guest memory limit in bytes (default 1 GiB). */
  readonly maxMemory?: number;
  /** Execution engine of every program (default `interp`); tracing needs the interpreter. */
  readonly engine?: ObjectEngine;
}

export type ObjectEngine = ExecutorKind;

/** What runs one program: the interpreter or its compiled WebAssembly module. */
export type ObjectExecutor = AnyExecutor;

export interface RunOptions {
  /** Instruction budget of the run (default 10^7). */
  readonly maxInstructions?: number;
  /** Gas limit (default unlimited). */
  readonly gasLimit?: number;
  /** Per-instruction hook (see `Interpreter.run`). */
  readonly trace?: (step: TraceStep) => void;
}

/** What one run produced. */
export interface ProgramRun {
  readonly r0: bigint;
  readonly instructions: number;
  readonly gasUsed: number;
  /** Lines bpf_trace_printk / bpf_trace_vprintk wrote during the run. */
  readonly printk: readonly string[];
  /** Ring buffer records submitted during the run (all ring buffers, in order). */
  readonly ringbuf: readonly Uint8Array[];
  /** Perf event records output during the run. */
  readonly perf: readonly PerfRecord[];
  /** Packet and fields after the run (network types), the verdict or action. */
  readonly result: ContextResult;
  /** Where bpf_redirect / bpf_redirect_map sent the packet, if they were called. */
  readonly redirect: RedirectTarget | undefined;
}

/** One program of a loaded object. */
export interface LoadedProgram {
  readonly name: string;
  readonly linked: RunnableProgram;
  readonly vm: ObjectExecutor;
  /** Nanoseconds spent building `vm` (lowering, or code generation and WebAssembly compilation). */
  readonly compileNs: number;
}

/** Opens (when given bytes), sets `options.globals` and loads an object file. */
export function loadBpfObject(source: Uint8Array | OpenObject, options: LoadOptions = {}): LoadedObject {
  const open = source instanceof OpenObject ? source : OpenObject.open(source, options);
  for (const [name, value] of Object.entries(options.globals ?? {})) open.setGlobal(name, value);
  return new LoadedObject(open, options);
}

export class LoadedObject {
  readonly memory: GuestMemory;
  readonly maps: MapSet;
  readonly runtime: KernelRuntime;
  readonly programs: ReadonlyMap<string, LoadedProgram>;
  /** The task of runs whose input names none (`LoadOptions.task`). */
  private readonly defaultTask: SimulatedTask | undefined;
  /** The context of the last run, reused (reset) while the same input object is given again. */
  private context: { program: string; input: unknown; ctx: ProgramContext } | undefined;

  constructor(
    readonly object: OpenObject,
    options: LoadOptions = {},
  ) {
    this.defaultTask = options.task ?? undefined;
    this.memory = new GuestMemory({ maxBytes: options.maxMemory });
    this.memory.mapStack();
    this.maps = createMaps(object.mapDefinitions, this.memory, { cpus: options.cpus });
    this.fillGlobals();
    this.runtime = new KernelRuntime(this.memory, { ...options, maps: this.maps });
    const engine = options.engine ?? 'interp';
    if (!isExecutorKind(engine)) {
      throw new UsageError(
        `unknown engine "${engine}"`,
        {},
        { hint: `engines: ${EXECUTOR_KINDS.join(', ')}` },
      );
    }
    const build: (program: Program, options: InterpreterOptions) => ObjectExecutor = EXECUTORS[engine];
    const programs = new Map<string, LoadedProgram>();
    for (const linked of object.link()) {
      const helpers = this.helpersFor(linked);
      checkHelpers(linked, helpers);
      const program = withPoisonTrap(linked);
      const t0 = performance.now(); // not process.hrtime: the loader runs in browsers too
      const vm = build(program, {
        memory: this.memory,
        helpers,
        resolveLddw: this.maps.lddwResolver(),
        packetSlot: isSkbProgramType(linked.definition.type) ? Slot.PACKET : undefined,
      });
      const compileNs = Math.round((performance.now() - t0) * 1e6);
      programs.set(linked.name, { name: linked.name, linked, vm, compileNs });
    }
    this.programs = programs;
    this.fillInitializers();
  }

  /** The program called `name` (a UsageError listing the programs when there is none). */
  program(name: string): LoadedProgram {
    const p = this.programs.get(name);
    if (p === undefined) {
      throw new UsageError(
        `the object has no program named ${name}`,
        {},
        { hint: `programs: ${[...this.programs.keys()].join(', ') || '(none)'}` },
      );
    }
    return p;
  }

  /**
   * Map `name` with keys and values as JS values by its BTF types (bytes when it has none); `K` and
   * `V` name the shapes the caller expects (see src/elf/btf-value.ts).
   */
  typedMap<K = BtfValue, V = BtfValue>(name: string): TypedMap<K, V> {
    const map = this.maps.byName(name);
    if (map === undefined) {
      throw new UsageError(
        `the object has no map named ${name}`,
        {},
        { hint: `maps: ${this.maps.maps.map((m) => m.name).join(', ') || '(none)'}` },
      );
    }
    return new TypedMap<K, V>(map, this.object.btf);
  }

  /** Source line of `pc` in program `name` (from `.BTF.ext`), if the object has line info. */
  lineAt(name: string, pc: number): BtfLineInfo | undefined {
    return this.programs.get(name)?.linked.lines[pc];
  }

  /**
   * Runs program `name` once on a context built from `input` (IN.json's shape: packet, task, args,
   * regs…). Maps keep their contents between runs. Traps are thrown with `file` and `line` set when
   * line info is known.
   */
  run(name: string, input: unknown = {}, options: RunOptions = {}): ProgramRun {
    const program = this.program(name);
    const ctx = this.contextFor(program, input);
    this.runtime.useContext(ctx);
    this.runtime.beginRun();
    let r0: bigint;
    let instructions: number;
    let gasUsed: number;
    try {
      ({ r0, instructions, gasUsed } = program.vm.run({
        args: [ctx.r1],
        maxInstructions: options.maxInstructions,
        gasLimit: options.gasLimit,
        trace: options.trace,
      }));
    } catch (e) {
      // A trapped run leaves the context half-written: the next run builds a fresh one.
      this.context = undefined;
      this.maps.drainEvents();
      if (e instanceof Trap) this.locate(e, program);
      throw e;
    }
    const events = this.maps.drainEvents();
    return {
      r0,
      instructions,
      gasUsed,
      printk: this.runtime.printk,
      ringbuf: events.ringbuf,
      perf: events.perf,
      result: ctx.result(r0),
      redirect: this.runtime.redirect,
    };
  }

  /** A context for `input`: the previous one reset when the same input object runs the same program. */
  private contextFor(program: LoadedProgram, input: unknown): ProgramContext {
    const last = this.context;
    if (last !== undefined && last.program === program.name && last.input === input) {
      last.ctx.reset();
      return last.ctx;
    }
    this.memory.unmap(Slot.INPUT);
    this.memory.unmap(Slot.PACKET);
    this.runtime.user.clear();
    this.context = undefined;
    const ctx = createBoundContext(this.runtime, program.linked.definition, input, {
      defaultTask: this.defaultTask,
    });
    this.context = { program: program.name, input, ctx };
    return ctx;
  }

  /** Adds the source position to a trap from `entry`, or from the program it tail-called into. */
  private locate(trap: Trap, entry: LoadedProgram): void {
    if (trap.file !== undefined || trap.line !== undefined) return;
    const active = entry.vm.activeProgram;
    const program = [...this.programs.values()].find((p) => p.vm.program === active) ?? entry;
    if (program !== entry) trap.message += ` in tail-called program ${program.name}`;
    locateTrap(trap, program.linked.lines[trap.pc]);
  }

  /** Kernel helpers, map helpers and the CO-RE poison trap for one program. */
  private helpersFor(linked: RunnableProgram): HelperRegistry {
    const registry = registerKernelHelpers(new HelperRegistry(), this.runtime);
    registerMapHelpers(this.maps, registry, {
      packetBytes: isPacketProgramType(linked.definition.type)
        ? (length) => {
            const bytes = this.context?.ctx.packet?.bytes();
            return bytes !== undefined && bytes.length >= length ? bytes.slice(0, length) : undefined;
          }
        : undefined,
    });
    if (linked.coreFailures.size > 0) {
      registry.define(POISON_TRAP_HELPER, 'bpf_core_poison', (ctx) => {
        const failed = linked.coreFailures.get(ctx.pc);
        const what =
          failed === undefined ? 'a CO-RE relocation here cannot be satisfied' : coreFailureText(failed);
        throw new CoreRelocationFailed(`pc ${ctx.pc}: ${what}`, { pc: ctx.pc }, { hint: CORE_FAILURE_HINT });
      });
    }
    return registry;
  }

  /**
   * Writes each global data section's initial bytes into element 0 of its array map, through the
   * host-side update (which read-only `.rodata` maps accept, as the kernel's syscall does before freeze).
   */
  private fillGlobals(): void {
    for (const m of this.object.maps) {
      if (m.kind !== 'internal' || m.data.length === 0) continue;
      const map = this.maps.mapById(m.index);
      if (map instanceof ArrayMap) map.update(u32Bytes(0), m.data);
    }
  }

  /** Program and inner-map pointers of `.maps` definitions (`.values = { [2] = &prog }`). */
  private fillInitializers(): void {
    for (const init of this.object.object.mapInitializers) {
      const holder = this.maps.mapById(init.map);
      const slotIndex = this.object.valuesSlot(init.map, init.offset);
      if (holder === undefined || slotIndex === undefined) continue;
      const key = u32Bytes(slotIndex);
      if (init.target.kind === 'program' && holder instanceof ProgArray) {
        const target = this.programs.get(init.target.name);
        if (target !== undefined) (holder as ProgArray<TailCallTarget>).set(slotIndex, target.vm);
      } else if (init.target.kind === 'map') {
        const inner = this.maps.mapById(init.target.index);
        if (inner === undefined) continue;
        const status =
          holder instanceof ArrayOfMaps || holder instanceof HashOfMaps ? holder.setMap(key, inner) : -1;
        if (status !== 0) {
          throw new LoadError(
            'BAD_RELOCATION',
            `map ${holder.name} rejects inner map ${inner.name} at slot ${slotIndex} (error ${status})`,
            { section: '.maps' },
            {
              hint: "the inner map must match the outer map's inner definition and the slot must be below max_entries",
            },
          );
        }
      }
    }
  }
}

/**
 * Helper id the poisoned calls (imm CORE_POISON_HELPER, libbpf's 0xbad2310) are lowered to: helper
 * tables are dense below 2^16, and no kernel helper will reach this id.
 */
const POISON_TRAP_HELPER = 0xffff;
const CALL_OPCODE = 0x85;

/** The program to lower: poisoned CO-RE calls redirected to POISON_TRAP_HELPER, the rest as linked. */
function withPoisonTrap(linked: RunnableProgram): Program {
  if (linked.coreFailures.size === 0) return linked.program;
  const bytes = linked.bytes.slice();
  const view = new DataView(bytes.buffer);
  for (const pc of linked.coreFailures.keys()) {
    if (bytes[pc * 8] === CALL_OPCODE && view.getUint32(pc * 8 + 4, true) === CORE_POISON_HELPER) {
      view.setUint32(pc * 8 + 4, POISON_TRAP_HELPER, true);
    }
  }
  return decodeProgram(bytes, { section: linked.name });
}

/** Refuses a program that calls a helper nothing implements, naming it and the call's source line. */
function checkHelpers(linked: RunnableProgram, helpers: HelperRegistry): void {
  for (const insn of linked.program.insns) {
    if (insn.kind !== 'call' || insn.op !== 'helper' || helpers.has(insn.imm)) continue;
    if (insn.imm === CORE_POISON_HELPER && linked.coreFailures.has(insn.pc)) continue;
    const name = kernelHelperName(insn.imm);
    const line = knownLine(linked.lines[insn.pc]);
    const where = line === undefined ? '' : ` (${formatSourceLine(line)})`;
    throw new LoadError(
      'UNKNOWN_HELPER',
      name === undefined
        ? `program ${linked.name} calls helper ${insn.imm} at pc ${insn.pc}${where}, which is not a kernel helper id`
        : `program ${linked.name} calls ${name} (helper ${insn.imm}) at pc ${insn.pc}${where}, which bpfbox does not implement`,
      { pc: insn.pc, section: linked.definition.sectionName, file: line?.file, line: line?.line },
      {
        hint:
          name === undefined
            ? 'check the helper id (linux/bpf.h lists them)'
            : 'use a helper bpfbox implements (docs/unit-testing.md lists the simulated ones), or register your own in a HelperRegistry',
      },
    );
  }
}
