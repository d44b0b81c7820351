/**
 * eBPF → WebAssembly code generation, one pass over the decoded instructions. One wasm function per
 * subprogram (or per part of a long one, see control-flow.ts); registers r0..r9 are i64 locals 0..9,
 * r10 a local fixed at entry. A call passes the registers the callee may read and gets back those a
 * caller may read after it (call-registers.ts, `subType`), so a caller sees exactly what the
 * interpreter's shared register file would hold; the frame and the countdowns cross it as params.
 *
 * Memory accesses go through the region table in the control block of the imported memory, with the
 * same outcome as the check of layout.ts; only r10-relative accesses inside the own frame skip it (r10
 * is read-only, so the address is provably inside the stack window of every depth), and accesses that
 * earlier checks of the same register value prove (checked-ranges.ts).
 */
import { LoadError } from '../errors.js';
import type { AluInsn, Insn, JumpInsn, Program } from '../isa/instruction.js';
import { BPF_MAX_LOOPS } from '../isa/opcodes.js';
import { indexInSorted } from '../util/sorted.js';
import type { HelperDefinition } from '../vm/helpers.js';
import { lddwValue } from '../vm/interpreter/interpreter.js';
import {
  type FixedLookupEntry,
  type FixedLookupWord,
  fixedLookupEntry,
  fixedLookupSlot,
  fixedLookupWord,
  HASH_FOLD,
  HASH_MUL1,
  HASH_MUL2,
  HASH_XSHIFT,
  LOOKUP_BASE,
  LOOKUP_ENTRY_SHIFT,
  LOOKUP_FIXED_BASE,
  LOOKUP_KIND,
  LOOKUP_LIMIT,
  LOOKUP_SHIFT,
  LOOKUP_STRIDE,
  LOOKUP_TABLE,
  LookupKind,
  type MapLookupTable,
} from '../vm/map-lookup.js';
import type { GuestMemory } from '../vm/memory/guest-memory.js';
import {
  SLOT_COUNT,
  SLOT_SHIFT,
  Slot,
  sizeIndex,
  TABLE_ABS_START,
  TABLE_HOST_BASE,
  TABLE_HOST_DELTA,
  TABLE_LAST_READ,
  TABLE_LAST_WRITE,
  TABLE_LEN_READ,
  TABLE_LEN_WRITE,
  TABLE_SHIFT,
  TABLE_STRIDE,
} from '../vm/memory/layout.js';
import { AddressForms } from './address-forms.js';
import { closeOver, longestCallChains } from './call-graph.js';
import { type CallRegisters, callRegisters } from './call-registers.js';
import { CheckedRanges } from './checked-ranges.js';
import { constantRegisters } from './constant-registers.js';
import {
  type FunctionLayout,
  midEntryLoop,
  type ProgramLayout,
  type Region,
  recycleLayout,
} from './control-flow.js';
import { provenFrameAccesses } from './frame-ranges.js';
import { type HoistPlan, planHoist } from './induction.js';
import { ALL_REGS, F_ENDS_BLOCK, F_EXIT, F_HOST, F_JA, F_LOCAL_CALL, WRITES_SHIFT } from './insn-facts.js';
import { provenValueAccesses } from './lookup-values.js';
import { NarrowRegisters } from './narrow-registers.js';
import { borrowWork, plainBuffer, releaseWork, WorkPool } from './scratch.js';
import { predictSlots, releasePrediction, type SlotPrediction } from './slot-prediction.js';
import { planTestFree } from './test-free-loops.js';
import {
  type ByteWriter,
  F64,
  FC_I32_TRUNC_SAT_F64_S,
  type FuncType,
  I32,
  I64,
  type LocalRun,
  localsLength,
  type ModuleHeader,
  ModuleWriter,
  Op,
  u32Length,
  type ValType,
} from './wasm-encoder.js';

// Imported functions (indices), implemented by the engine.
export const IMPORT_FAULT = 0; // (pc, address: i64, size, write) → throws MemoryFault
export const IMPORT_BUDGET = 1; // (block pc, r0..r9: i64), meters include the block → interpreter; throws
export const IMPORT_TRAP = 2; // (pc, kind) → throws (TRAP_* below)
export const IMPORT_HELPER = 3; // (pc, id, r1lo, r1hi, …, r5hi) → r0 low half; high half in global RET_HI
export const IMPORT_CALLX = 4; // (pc, lo, hi) → subprogram index, or -1 for a helper id; throws otherwise
export const IMPORT_TAIL = 5; // (pc, r0..r9: i64) → unwinds into the tail-called program
// (block pc, r0..r9) → (0: meters refilled, go on | 1: over the real budget, then IMPORT_BUDGET;
// r0..r9 unchanged); throws Interrupted. Called at poll sites when the countdown ran out (`charge`).
export const IMPORT_METER = 6;
const IMPORT_COUNT = 7;
// Then one import per helper with a `direct` entry that a `call imm` uses: `direct<id>`, the
// DirectHelper itself ((r1lo, r1hi, …, r5hi) → r0 as an int32, or NaN to take the helper import).
export const TRAP_CALL_DEPTH = 0;
export const TRAP_PACKET_EXIT = 1;

// Globals: the meters as countdowns (the engine keeps the absolute counts, see `charge`): i32
// instructions (gas too when it moves with them), gas left as i32 otherwise (f64 when `wideGas`).
const G_LEFT_N = 0;
const G_LEFT_GAS = 1;
const G_DEPTH = 2;
const G_RET_HI = 3;
const G_TAIL = 4; // 1 when the helper that just returned scheduled a tail call
// Split functions: the part to run next (-1: the function returned) and its entry index.
const G_PART = 5;
const G_ENTRY = 6;
// r0 and r6..r9 at the current helper call, for callbacks (which start with the caller's registers).
const G_R0 = 7;
const G_R6 = 8;
// The instruction countdown value below which poll sites call the meter import (see `charge`).
const G_POLL_AT = 12;
// The may_goto counter of the running frame of a split function (its parts are separate wasm functions).
const G_LOOPS = 13;
// The gas countdown's counterpart of G_POLL_AT.
const G_GAS_POLL_AT = 14;
// Written and never read: pins values computed at a loop's entry there (see `loadLimit`).
const G_PIN = 15;

// Locals of a subprogram function: params r0..r9, then these.
const R10 = 10;
const L_A = 11; // i64 address
const L_B = 12; // i64 scratch
const L_NEXT = 13; // i32 dispatch index
const L_FPH = 14; // i32 host offset of r10
const L_T = 15; // i32 scratch
const L_O = 16; // i32 offset in slot
const L_H = 17; // i32 host address
// The meter countdowns live in locals inside a function (i32 instructions, i32 gas or i64 when
// `wideGas`) and in the globals across calls and imports.
const L_LEFT_N = 18;
const L_LEFT_GAS = 19;
const L_POLL_AT = 20;
// i32 × 11: per register r0..r10, the host address of its last checked access (checked-ranges.ts).
const L_HOST = 21;
// i32: the frame's may_goto counter (BPF_MAX_LOOPS at entry); in a split function's driver, the
// caller's G_LOOPS, restored on return.
const L_LOOPS = 32;
const L_GAS_POLL_AT = 33;
// i32: the mid entry's pc while entering a rotated loop there (see Region.mid); 0 everywhere else.
const L_MID = 34;
// i32 scratch of inline map lookups (`inlineLookup`): the map's table entry, the 4-byte key (an
// 8-byte key goes in L_A), probe index and entry mask.
const L_ENTRY = 35;
const L_K0 = 36;
const L_PROBE = 37;
const L_MASK = 38;
// i32: the second probed entry's slot + 1 and whether the first ended the probe (`probe`).
const L_S1 = 39;
const L_DONE0 = 40;
// f64: a direct helper's result (NaN: take the helper import).
const L_DIRECT = 41;
// Then the window caches of call-free loops (see `loadWindows`), allocated per part as used.
const L_CACHE = 42;
/** At most this many cached window fields per loop (each is a register V8 keeps in the loop). */
const MAX_CACHED_FIELDS = 12;
/** Precharged loops whose body has at most this many instructions run UNROLL trips per test. */
const MAX_UNROLLED_BODY = 12;
const UNROLL = 4;

/** Largest slack of a countdown: from +2^30 (a refill) down to −slack − one block stays in i32. */
const MAX_SLACK = 2 ** 30;

/**
 * How far below 0 the instruction countdown may go between two poll sites (see `charge`): at most
 * one forward path per frame runs between polls, since loop headers, other backward-jump targets and
 * function entries all poll.
 */
function pollSlack(layout: ProgramLayout, maxFrames: number): number {
  // A function its callers charge (charged-calls.ts) polls at none of its entries: it runs as part of
  // its caller's forward path, which longestCharge counts.
  const longest = layout.longestCharge;
  const slack = maxFrames * longest;
  if (slack > MAX_SLACK) {
    throw new LoadError(
      'PROGRAM_TOO_LARGE',
      `${maxFrames} frames of a ${longest}-instruction function are too many for the JIT's meters`,
    );
  }
  return slack;
}

/**
 * True when every block's gas equals its instruction count (no cost table, or one of all ones): one
 * countdown then meters both, the other is unused.
 */
function unitGas(layout: ProgramLayout): boolean {
  const { blockGas, blockInsns } = layout;
  if (blockGas === blockInsns) return true;
  // Both are 0 where no block starts (no `leader` here: its memory is recycled after codegen).
  for (let pc = 0; pc < blockInsns.length; pc++) if (blockGas[pc] !== blockInsns[pc]) return false;
  return true;
}

/**
 * `pollSlack` for the gas countdown (unless `unitGas`): the most gas one forward path per frame can
 * charge. Beyond MAX_SLACK (huge costs), gas is counted exactly on an i64 instead (`wideGas`).
 */
function gasSlack(program: Program, layout: ProgramLayout, maxFrames: number): number {
  const { blockGas } = layout;
  let most = 0;
  for (const f of layout.functions) {
    let sum = 0;
    // blockGas is 0 where no block starts (and at an lddw's second slot): summed over the function's
    // pcs, without reading the instruction objects.
    const end = program.insns[f.last].pc;
    for (let pc = f.startPc; pc <= end; pc++) sum += blockGas[pc];
    most = Math.max(most, sum);
  }
  return maxFrames * most;
}

/** See `gasSlack`. */
function wideGas(slack: number): boolean {
  return slack > MAX_SLACK;
}

const T_SUB = 0;
/**
 * Types; T_SUB (a subprogram) depends on the meters (see `subType`): TYPES[0] is replaced per module.
 */
const TYPES: FuncType[] = [
  { params: [], results: [] }, // T_SUB, see subType
  { params: [I32, I64, I32, I32], results: [] }, // fault
  { params: [I32], results: [] }, // (unused)
  { params: [I32, ...Array(10).fill(I64)], results: [] }, // budget
  { params: [I32, I32], results: [] }, // trap
  { params: Array(12).fill(I32), results: [I32] }, // helper
  { params: [I32, I32, I32], results: [I32] }, // callx
  { params: [I32, ...Array(10).fill(I64)], results: [I64] }, // run
  { params: Array(10).fill(I64), results: Array(10).fill(I64) }, // part of a split function
  { params: [I32, ...Array(10).fill(I64)], results: [I32, ...Array(10).fill(I64)] }, // meter
  { params: Array(10).fill(I32), results: [F64] }, // direct helper
];
const T_PART = 8;
const T_DIRECT = 10;

/**
 * A subprogram's calling convention: registers r0..r(regs−1) (see call-registers.ts: what the callee
 * may read before writing), then the frame and the countdowns, which thus cross a call in registers
 * rather than through globals: an i64 "meta" param = host offset of the callee's r10 << 32 |
 * instruction countdown, and with a gas countdown an i64 param for it. They take the slots of locals
 * the callee does not read before setting them (the next registers, or R10 and L_A), which the
 * prologue fills from them. Results: r0..r(results−1) (what it may write), the instruction countdown
 * (i32) and the gas countdown (i32, or i64 when wide). T_SUB, the full convention (10 registers in,
 * 6 out), is what `run`, callx and the table use: a trimmed function is in the table as an adapter.
 */
function subType(regs: number, results: number, unit: boolean, wide: boolean, charged = false): FuncType {
  const params: number[] = Array(regs + (unit ? 1 : 2)).fill(I64);
  const out: number[] = Array(results).fill(I64);
  // A function its callers charge (charged-calls.ts) changes no countdown: it returns none. It still
  // takes them, for the meters a trap inside it reports.
  if (!charged) {
    out.push(I32);
    if (!unit) out.push(wide ? I64 : I32);
  }
  return { params: params as FuncType['params'], results: out as FuncType['results'] };
}

/** Wasm types and table entries of the subprograms (see subType). */
interface Signatures {
  readonly regs: CallRegisters;
  readonly types: FuncType[];
  /** Per subprogram: its type index. */
  readonly typeOf: Int32Array;
  /** Per subprogram: the function index of its full-convention adapter, -1 when it has none. */
  readonly adapterOf: Int32Array;
  readonly adapterCount: number;
}

function signatures(input: CodegenInput, firstAdapter: number, unit: boolean, wide: boolean): Signatures {
  const regs = callRegisters(input.program, input.layout);
  const count = input.layout.functions.length;
  const types = [subType(10, 6, unit, wide), ...TYPES.slice(1)];
  const typeOf = new Int32Array(count);
  const adapterOf = new Int32Array(count).fill(-1);
  // (params, results, charged) → type index, 0 until its type exists (params ≤ 10, results ≤ 6).
  const known = new Int32Array(11 * 8 * 2);
  const { chargedByCaller } = input.layout;
  let adapters = 0;
  for (let k = 0; k < count; k++) {
    const p = regs.params[k];
    const q = regs.results[k];
    const charged = chargedByCaller[k];
    // An entry-charged function has T_SUB's type, but needs its adapter (see `adapter`).
    if (p === 10 && q === 6 && charged === 0 && input.layout.entryChargedByCaller[k] === 0) continue;
    const key = (p * 8 + q) * 2 + charged;
    let t = known[key];
    if (t === 0) {
      t = types.length;
      types.push(subType(p, q, unit, wide, charged === 1));
      known[key] = t;
    }
    typeOf[k] = t;
    adapterOf[k] = firstAdapter + adapters++;
  }
  return { regs, types, typeOf, adapterOf, adapterCount: adapters };
}

export interface CodegenInput {
  readonly program: Program;
  readonly layout: ProgramLayout;
  readonly memory: GuestMemory;
  readonly helpers: readonly (HelperDefinition | undefined)[];
  readonly resolveLddw?: (insn: Insn & { kind: 'lddw' }) => bigint;
  readonly packetSlot: number;
}

const STACK_ENTRY = Slot.STACK * TABLE_STRIDE * 4;
/** V8's (and the JS API spec's) limit on one function body. */
const MAX_FUNCTION_BYTES = 7_654_321;

/**
 * How the compiled code meters, which the engine's refills must match (see `charge`): computed once
 * per program, by generateModule.
 */
export interface Meters {
  /** See `unitGas`: one countdown meters both. */
  readonly unitGas: boolean;
  /** See `pollSlack`. */
  readonly slack: number;
  /** See `gasSlack` (0 with unit gas). */
  readonly gasSlack: number;
  /** See `wideGas`. */
  readonly wideGas: boolean;
}

function meters(program: Program, layout: ProgramLayout, maxFrames: number): Meters {
  const unit = unitGas(layout);
  const slackOfGas = unit ? 0 : gasSlack(program, layout, maxFrames);
  return {
    unitGas: unit,
    slack: pollSlack(layout, maxFrames),
    gasSlack: slackOfGas,
    wideGas: wideGas(slackOfGas),
  };
}

/**
 * A compiled module, the helpers whose direct entry it imports as `direct<id>` (in import order) and
 * how it meters.
 */
export interface GeneratedModule {
  /** The module; with `borrow` (see generateModule), valid only until `release()`. */
  readonly bytes: Uint8Array<ArrayBuffer>;
  /** Gives borrowed bytes back to the pool (nothing to do for a copy). */
  readonly release: () => void;
  readonly directHelpers: readonly number[];
  readonly meters: Meters;
}

/**
 * Helper ids with a `direct` entry that `call imm` instructions use, in first-use order: each gets its
 * own import, called without the helper import's id dispatch, spills and meter syncs.
 */
function directHelperIds(input: CodegenInput): number[] {
  const ids: number[] = [];
  if (!input.helpers.some((h) => h?.direct !== undefined)) return ids;
  const seen = new Set<number>();
  const { insns } = input.program;
  const { facts } = input.layout;
  for (let i = 0; i < insns.length; i++) {
    // Only instructions that may run host code (insn-facts.ts) can be helper calls: no other object is read.
    if ((facts[i] & F_HOST) === 0) continue;
    const insn = insns[i];
    if (insn.kind !== 'call' || insn.op !== 'helper' || seen.has(insn.imm)) continue;
    seen.add(insn.imm);
    if (input.helpers[insn.imm]?.direct !== undefined) ids.push(insn.imm);
  }
  return ids;
}

/** Whether `insn` is the load or store of `size` bytes at `base` + `off` (not an atomic). */
function isAccessOf(insn: Insn, base: number, off: number, size: number): boolean {
  if (insn.kind === 'load') return insn.src === base && insn.off === off && insn.size === size;
  return insn.kind === 'store' && insn.dst === base && insn.off === off && insn.size === size;
}

/** Helper calls the JIT runs wholly inline (codegen's `pureLookups`). */
interface PureLookups {
  readonly slots: Int8Array | undefined;
  readonly forward: Uint8Array | undefined;
  /** Per instruction index: the values slot a load or store provably reaches (lookup-values.ts), else 0. */
  readonly values: Int8Array | undefined;
}

const noRelease = (): void => {};

/** The buffer modules are written into (generateModule returns a copy of the right size, or lends it). */
const moduleMemory = new WorkPool(plainBuffer);

/**
 * The objects of one tiny compile (`keepShapes`), alive for the process's lifetime. V8 keeps the
 * hidden classes of our per-compile objects (the code generator, the module writer and what they
 * hold) only while some instance has them: a full GC between compiles would drop them, and with them
 * deoptimize every optimized function of the compiler specialized on them ("weak objects"), so the
 * next few compiles would run 10–40× slower. engine.ts makes that compile once per process.
 */
const shapeAnchor: object[] = [];

/**
 * Compiles the whole program to a wasm module. Exports `run`, the counters and `depth`. With
 * `borrow`, the bytes stay in the pooled module buffer (no copy) until the caller's `release()`: for
 * a caller that only hands them to WebAssembly.Module, which copies them anyway. With `keepShapes`,
 * this compile's objects become the `shapeAnchor` (for a tiny program of the caller's own).
 */
export function generateModule(input: CodegenInput, borrow = false, keepShapes = false): GeneratedModule {
  const { layout } = input;
  const fnCount = layout.functions.length;
  const directHelpers = directHelperIds(input);
  const firstSub = IMPORT_COUNT + directHelpers.length;
  const runFn = firstSub + fnCount;
  const m = meters(input.program, layout, input.memory.stackMaxFrames);
  let partCount = 0;
  const spans = layout.functionSpans;
  for (let k = 0; k < fnCount; k++) if (spans[3 * k + 2] > 1) partCount += spans[3 * k + 2];
  const fs = layout.functions;
  const sigs = signatures(input, runFn + 1 + partCount, m.unitGas, m.wideGas);
  // Everything goes into one buffer, sized for the typical ≈ 18 bytes per instruction and ≈ 400 per
  // function (prologue, metering exit); it doubles when a program needs more.
  const out = new ModuleWriter(
    moduleHeader(layout, firstSub, m.wideGas, sigs, directHelpers, partCount),
    20 * input.program.slotCount + 400 * fnCount + 2048,
    moduleMemory,
  );
  const directFn = new Map(directHelpers.map((id, j) => [id, IMPORT_COUNT + j]));
  const gen = new FunctionGen(input, firstSub, out, m, sigs.regs, directFn);
  try {
    let nextPartFn = runFn + 1;
    // Indexed loops over the functions (there may be 10^5): no iterator per loop step.
    for (let k = 0; k < fnCount; k++) {
      const f = fs[k];
      gen.compile(f, nextPartFn);
      if (f.parts.length > 1) nextPartFn += f.parts.length;
    }
    const at = out.beginBody();
    gen.runBody();
    out.endBody(at, []);
    if (partCount > 0) for (let k = 0; k < fnCount; k++) if (fs[k].parts.length > 1) gen.compileParts(fs[k]);
    for (let k = 0; k < fnCount; k++) if (sigs.adapterOf[k] >= 0) gen.adapter(k);
  } catch (e) {
    out.release();
    throw e;
  } finally {
    gen.release();
    recycleLayout(layout);
  }
  const bytes = out.finish(borrow);
  if (keepShapes) shapeAnchor.push(gen, out, input);
  return { bytes, release: borrow ? () => out.release() : noRelease, directHelpers, meters: m };
}

/**
 * The module without its bodies. Functions: one per subprogram (its code, or the driver of its
 * parts), run, every part, then the adapters of trimmed subprograms (see subType).
 */
function moduleHeader(
  layout: ProgramLayout,
  firstSub: number,
  wide: boolean,
  sigs: Signatures,
  directHelpers: readonly number[],
  partCount: number,
): ModuleHeader {
  const fnCount = layout.functions.length;
  // Sized up front and filled by index (Array.from would iterate the typed array).
  const functions: number[] = new Array(fnCount + 1 + partCount + sigs.adapterCount);
  let n = 0;
  for (let k = 0; k < fnCount; k++) functions[n++] = sigs.typeOf[k];
  functions[n++] = 7;
  const fs = layout.functions;
  for (let k = 0; k < fnCount && n < fnCount + 1 + partCount; k++) {
    const parts = fs[k].parts.length;
    if (parts > 1) for (let p = 0; p < parts; p++) functions[n++] = T_PART;
  }
  while (n < functions.length) functions[n++] = T_SUB;
  const elements: number[] = new Array(fnCount);
  for (let k = 0; k < fnCount; k++) elements[k] = sigs.adapterOf[k] >= 0 ? sigs.adapterOf[k] : firstSub + k;
  return {
    types: sigs.types,
    imports: [
      { module: 'env', name: 'memory', kind: 'memory' },
      { module: 'env', name: 'fault', kind: 'func', type: 1 },
      { module: 'env', name: 'budget', kind: 'func', type: 3 },
      { module: 'env', name: 'trap', kind: 'func', type: 4 },
      { module: 'env', name: 'helper', kind: 'func', type: 5 },
      { module: 'env', name: 'callx', kind: 'func', type: 6 },
      { module: 'env', name: 'tail', kind: 'func', type: 3 },
      { module: 'env', name: 'meter', kind: 'func', type: 9 },
      ...directHelpers.map((id) => ({
        module: 'env',
        name: `direct${id}`,
        kind: 'func' as const,
        type: T_DIRECT,
      })),
    ],
    functions,
    tableSize: fnCount,
    elements,
    globals: [
      { type: I32, mutable: true, init: 0, export: 'leftN' },
      { type: wide ? F64 : I32, mutable: true, init: 0, export: 'leftGas' },
      { type: I32, mutable: true, init: 0, export: 'depth' },
      { type: I32, mutable: true, init: 0, export: 'retHi' },
      { type: I32, mutable: true, init: 0, export: 'tailPending' },
      { type: I32, mutable: true, init: 0 },
      { type: I32, mutable: true, init: 0 },
      { type: I64, mutable: true, init: 0, export: 'r0' },
      { type: I64, mutable: true, init: 0, export: 'r6' },
      { type: I64, mutable: true, init: 0, export: 'r7' },
      { type: I64, mutable: true, init: 0, export: 'r8' },
      { type: I64, mutable: true, init: 0, export: 'r9' },
      { type: I32, mutable: true, init: 0, export: 'pollAt' },
      { type: I32, mutable: true, init: 0 },
      { type: I32, mutable: true, init: 0, export: 'gasPollAt' },
      { type: I64, mutable: true, init: 0 },
    ],
    exports: [{ name: 'run', func: firstSub + fnCount }],
  };
}

/** Typical code bytes per instruction, and per function besides (prologue, slow path). */
const INSN_BYTES = 18;
const BODY_BYTES = 200;

/**
 * The bytes a body's size and `locals` take in front of its code, for about `code` bytes of code: what
 * ModuleWriter.beginBody reserves so that the code need not move once the size is known.
 */
function bodyHeader(locals: readonly LocalRun[], code: number): number {
  const n = localsLength(locals);
  return u32Length(n + code) + n;
}

/** Refuses a function body over V8's limit (it would fail later, less clearly, in WebAssembly.Module). */
function checkBodySize(f: FunctionLayout, bytes: number): void {
  if (bytes > MAX_FUNCTION_BYTES) {
    throw new LoadError(
      'PROGRAM_TOO_LARGE',
      `the function at pc ${f.startPc} compiles to ${bytes} bytes of WebAssembly, over the engine limit of ${MAX_FUNCTION_BYTES} per function`,
      { pc: f.startPc },
      {
        hint: 'split the program into smaller functions (bpf-to-bpf calls), or run it on the interpreter',
      },
    );
  }
}

const JUMP64: Record<string, number> = {
  jeq: Op.i64_eq,
  jne: Op.i64_ne,
  jgt: Op.i64_gt_u,
  jge: Op.i64_ge_u,
  jlt: Op.i64_lt_u,
  jle: Op.i64_le_u,
  jsgt: Op.i64_gt_s,
  jsge: Op.i64_ge_s,
  jslt: Op.i64_lt_s,
  jsle: Op.i64_le_s,
};
const JUMP32: Record<string, number> = {
  jeq: Op.i32_eq,
  jne: Op.i32_ne,
  jgt: Op.i32_gt_u,
  jge: Op.i32_ge_u,
  jlt: Op.i32_lt_u,
  jle: Op.i32_le_u,
  jsgt: Op.i32_gt_s,
  jsge: Op.i32_ge_s,
  jslt: Op.i32_lt_s,
  jsle: Op.i32_le_s,
};
/**
 * The wasm opcode of a two-operand ALU op that is one wasm instruction, else undefined. A switch:
 * cheaper than a keyed lookup by op name, once per ALU instruction.
 */
function simpleAlu(op: string, wide: boolean): number | undefined {
  switch (op) {
    case 'add':
      return wide ? Op.i64_add : Op.i32_add;
    case 'sub':
      return wide ? Op.i64_sub : Op.i32_sub;
    case 'mul':
      return wide ? Op.i64_mul : Op.i32_mul;
    case 'or':
      return wide ? Op.i64_or : Op.i32_or;
    case 'and':
      return wide ? Op.i64_and : Op.i32_and;
    case 'xor':
      return wide ? Op.i64_xor : Op.i32_xor;
    case 'lsh':
      return wide ? Op.i64_shl : Op.i32_shl;
    case 'rsh':
      return wide ? Op.i64_shr_u : Op.i32_shr_u;
    case 'arsh':
      return wide ? Op.i64_shr_s : Op.i32_shr_s;
    default:
      return undefined;
  }
}
const LOAD_OP: Record<number, number> = {
  1: Op.i64_load8_u,
  2: Op.i64_load16_u,
  4: Op.i64_load32_u,
  8: Op.i64_load,
};
const LOAD_SX_OP: Record<number, number> = { 1: Op.i64_load8_s, 2: Op.i64_load16_s, 4: Op.i64_load32_s };
const STORE_OP: Record<number, number> = {
  1: Op.i64_store8,
  2: Op.i64_store16,
  4: Op.i64_store32,
  8: Op.i64_store,
};

/** True for an access inside the own stack frame: r10 is read-only, so no window check is needed. */
function inOwnFrame(base: number, off: number, size: number, frameSize: number): boolean {
  return base === R10 && off >= -frameSize && off + size <= 0;
}

/**
 * Per function: 1 when neither it nor anything it calls reaches host code (helpers, kfuncs, callx,
 * packet loads, which may hand stack pointers to the host or read the region table there), so a call
 * to it need not move the stack window: its own checks run on the caller's window, which is its own
 * minus its frame — it never grants more access, and the cold path of a failed check accepts the
 * frame's own window from r10 (see `windowCheck`), so the callee reaches exactly what the interpreter
 * lets it reach; a fault names the frame's window (the engine sets it from G_DEPTH), and a budget
 * stop's interpreter sets its own. Computed at the first local call: a program without one is not
 * read a second time.
 */
function windowFreeFunctions(layout: ProgramLayout): Uint8Array {
  const { facts, calls } = layout;
  const count = layout.functions.length;
  const needsWindow = new Uint16Array(count);
  const spans = layout.functionSpans;
  for (let k = 0; k < count; k++) {
    let needs = 0;
    for (let i = spans[3 * k]; i <= spans[3 * k + 1] && needs === 0; i++)
      if ((facts[i] & F_HOST) !== 0) needs = 1;
    needsWindow[k] = needs;
  }
  // A function calling one that needs the window needs it too.
  closeOver(needsWindow, calls.callees, calls.callers, 1);
  const windowFree = new Uint8Array(count);
  for (let k = 0; k < count; k++) windowFree[k] = 1 - needsWindow[k];
  return windowFree;
}

/** Kinds of open wasm constructs on the control stack. */
const BLOCK = 0;
const LOOP = 1;
const DISPATCH = 2;
const OTHER = 3;

class FunctionGen {
  private readonly w: ByteWriter;
  private f!: FunctionLayout;
  /** Regions of the part being compiled, its index, and whether it is a part of a split function. */
  private regions: readonly Region[] = [];
  private part = 0;
  private split = false;
  /** The function being compiled contains a may_goto (it then keeps a loop counter). */
  private mayGoto = false;
  /** Registers the function being compiled takes and returns (see subType); its meta param follows. */
  private params = 10;
  private results = 6;
  /** The function being compiled is charged by its callers (charged-calls.ts): no meters of its own. */
  private charged = false;
  /** Its callers charge the entry block of the function being compiled (charged-calls.ts). */
  private entryCharged = false;
  /** Registers the function being compiled may ever read (see `usedRegisters`); all when split. */
  private used = ALL_REGS;
  /** The current function's constant registers (constant-registers.ts), -1 until a poll needs them. */
  private constants = -1;
  /**
   * Open wasm constructs (only their number matters): a `br` to the one opened at index k has depth
   * `ctrlDepth − 1 − k`. The per-pc indices below are set while the construct is open and reset to
   * -1 when it closes.
   */
  private ctrlDepth = 0;
  private readonly openBlock: Int32Array;
  private readonly openLoop: Int32Array;
  /** Pooled memory behind openBlock and openLoop (see scratch.ts); `release` when done. */
  private readonly work: Int32Array;
  private openDispatch: number[] = [];
  /** Memory checks proven in the straight-line code being emitted. */
  private readonly checked = new CheckedRanges();
  private readonly narrow = new NarrowRegisters();
  private readonly forms = new AddressForms();
  private readonly frameSize: number;
  private readonly maxFrames: number;
  private readonly fpGuestTop: number;
  private readonly fpHostTop: number;
  /** See `unitGas`: the gas countdown is not kept. */
  private readonly unitGas: boolean;
  /** See windowFreeFunctions (undefined until the first local call). */
  private windowFree: Uint8Array | undefined;
  /** The function being compiled may run on its caller's stack window (see windowFreeFunctions). */
  private staleWindow = false;
  /** See `checksDepth`. */
  private depthChecks: Uint8Array | undefined;
  /** The local call whose frame-limit check the last block charge made (see `depthCallOf`), else -1. */
  private depthChecked = -1;
  /** See `pollSlack`. */
  private readonly slack: number;
  /** See `gasSlack` (0 with unit gas) and `wideGas`. */
  private readonly gasSlack: number;
  private readonly wideGas: boolean;
  /** Loop header pc → control-stack index of the block its poll path follows (see `region`). */
  private readonly openPoll = new Map<number, number>();
  /** See slot-prediction.ts: computed at the first loop (a program without loops never needs it). */
  private prediction: SlotPrediction | undefined;
  private pure: PureLookups | undefined;
  /** See frame-ranges.ts: computed at the first access through another register than r10; null: none. */
  private frameProofs: Uint8Array | null | undefined;
  /** `loadGroup`'s loads: pc, offset and size each. */
  private readonly group = new Int32Array(3 * 8);
  /** pc of an instruction already emitted together with the one before it (see `zeroExtension`). */
  private fusedPc = -1;
  /** The innermost open loop when it is call-free and caches windows (see `loadWindows`), else -1. */
  private cacheLoop = -1;
  /**
   * Window field (slot · TABLE_STRIDE + field) → its cache local in the current part, -1 if none; a
   * `last` field's local holds the limit derived from it (see `loadLimit`).
   */
  private readonly cacheLocal = new Int32Array(SLOT_COUNT * TABLE_STRIDE).fill(-1);
  /** Types of the cache locals L_CACHE… of the current part, in order. */
  private cacheTypes: ValType[] = [];
  /** Per window field: the last loop (region + 1) whose entry loads it, to load each once per loop. */
  private readonly loadedBy = new Int32Array(SLOT_COUNT * TABLE_STRIDE);
  /** Per loop region of the current part: the window fields its entry loads. */
  private loopFields: number[][] = [];
  /** In the checked-free copy of a loop (see `hoistedLoop`): pcs of its unchecked accesses. */
  private hoisted: number[] = [];
  /** Their host delta locals (low(disp) + the window's delta), in the same order. */
  private hoistedLocal: number[] = [];
  /** The induction register of that copy: its accesses' addresses are disp + v. */
  private hoistedIv = -1;
  /** The host delta locals of the current part (see `hoistedLoop`). */
  private hoistPool: number[] = [];
  /** Leader pcs whose budget test the loop copy being emitted leaves out (see `testFreeLoop`). */
  private testFree: Set<number> | undefined;
  /** Test-free loop copies allowed in the current part, and whether it has one. */
  private copyLoops = true;
  private copiedLoops = false;
  /** Two i64 locals of the current part for `prechargedLoop` (n, then v0 + n·K), -1 until used. */
  private tripLocal = -1;
  /** The locals of every adapter (see `adapter`). */
  private adapterLocals: readonly LocalRun[] | undefined;
  /** See `partLocals`. */
  private readonly localsByParams: (readonly LocalRun[] | undefined)[] = [];
  /** The layout's per-pc arrays the per-instruction code reads (one field load, not three). */
  private readonly labelAt: Int32Array;
  private readonly labelRegion: Int32Array;
  private readonly leader: Uint8Array;
  private readonly loopAt: Int32Array;
  private readonly blockLive: Uint16Array;
  private readonly tailCopy: Uint8Array;
  private readonly midOf: Int32Array;

  constructor(
    private readonly input: CodegenInput,
    private readonly firstSub: number,
    private readonly out: ModuleWriter,
    meters: Meters,
    private readonly regs: CallRegisters,
    /** Helper id → function index of its `direct` import. */
    private readonly directFn: ReadonlyMap<number, number>,
  ) {
    this.w = out.w;
    const memory = input.memory;
    const stack = memory.region(Slot.STACK);
    if (!stack) throw new LoadError('INVALID_FIELD', 'the guest memory has no stack mapped');
    this.frameSize = memory.stackFrameSize;
    this.maxFrames = memory.stackMaxFrames;
    this.fpGuestTop = stack.guestBase + stack.size;
    this.fpHostTop = stack.hostBase + stack.size;
    const slots = input.program.slotCount;
    this.work = borrowWork(2 * slots).fill(-1);
    this.openBlock = this.work.subarray(0, slots);
    this.openLoop = this.work.subarray(slots);
    this.unitGas = meters.unitGas;
    this.wideGas = meters.wideGas;
    this.slack = meters.slack;
    this.gasSlack = meters.gasSlack;
    const { layout } = input;
    this.labelAt = layout.labelAt;
    this.labelRegion = layout.labelRegion;
    this.leader = layout.leader;
    this.loopAt = layout.loopAt;
    this.blockLive = layout.blockLive;
    this.tailCopy = layout.tailCopy;
    this.midOf = layout.midOf;
  }

  release(): void {
    releaseWork(this.work);
    if (this.prediction !== undefined) releasePrediction(this.prediction);
  }

  /** Whether `f` may run on its caller's stack window: a local call to it does not move it. */
  private mayRunStale(f: FunctionLayout): boolean {
    return this.input.layout.calls.callers[f.index].length > 0 && this.windowFreeAt(f.index) === 1;
  }

  /**
   * Whether the local calls of function k must check the frame limit. Without host code (no
   * helper, callx or packet load: nothing can call back into the program or run it at a depth other
   * than 0), a function runs at most as deep as the longest call chain ending at it; when that stays
   * below the last frame and no recursion reaches it, no call of it can exceed the limit.
   */
  private checksDepth(k: number): boolean {
    if (this.depthChecks === undefined) {
      const { facts, functions, calls } = this.input.layout;
      const checks = new Uint8Array(functions.length).fill(1);
      if (!facts.some((x) => (x & F_HOST) !== 0)) {
        const chain = longestCallChains(calls, functions.length);
        for (let j = 0; j < checks.length; j++) {
          if (chain[j] >= 0 && chain[j] < this.maxFrames - 1) checks[j] = 0;
        }
      }
      this.depthChecks = checks;
    }
    return this.depthChecks[k] === 1;
  }

  private windowFreeAt(k: number): number {
    this.windowFree ??= windowFreeFunctions(this.input.layout);
    return this.windowFree[k];
  }

  /**
   * Writes the body of function `f`: its code, or for a split function the driver of its parts
   * (wasm functions `firstPartFn`…, written later by compileParts, after `run`).
   */
  compile(f: FunctionLayout, firstPartFn: number): void {
    this.f = f;
    this.split = f.parts.length > 1;
    this.mayGoto = this.input.layout.mayGoto[f.index] === 1;
    this.params = this.regs.params[f.index];
    this.results = this.regs.results[f.index];
    this.charged = this.input.layout.chargedByCaller[f.index] === 1;
    this.entryCharged = this.input.layout.entryChargedByCaller[f.index] === 1;
    this.staleWindow = this.mayRunStale(f);
    this.used = this.split ? ALL_REGS : this.usedRegisters(f);
    this.constants = this.split ? 0 : -1;
    if (!this.split) {
      checkBodySize(f, this.compilePart(0));
      return;
    }
    const at = this.out.beginBody();
    this.driverBody(f.parts.length, firstPartFn);
    this.out.endBody(at, [{ count: 2, type: I32 }]);
  }

  /**
   * The function body of a split function: a loop calling part G_PART (starting with part 0, entry 0)
   * until a part returns with G_PART = -1. Its parts keep the meters in the globals and take the
   * depth from G_DEPTH, restored on return (a caller that calls this function without moving the
   * window relies on it, see `localCall`).
   */
  private driverBody(parts: number, firstPartFn: number): void {
    const w = this.w;
    const meta = this.params; // 10: a split function takes every register
    const savedLoops = meta + (this.unitGas ? 1 : 2); // i32 locals after the params
    const savedDepth = savedLoops + 1;
    w.op2(Op.global_get, G_DEPTH);
    w.op2(Op.local_set, savedDepth);
    this.depthFromFrame(meta);
    w.op2(Op.local_get, meta);
    w.byte(Op.i32_wrap_i64);
    w.op2(Op.global_set, G_LEFT_N);
    if (!this.unitGas) {
      w.op2(Op.local_get, meta + 1);
      w.byte(this.wideGas ? Op.f64_convert_i64_s : Op.i32_wrap_i64);
      w.op2(Op.global_set, G_LEFT_GAS);
    }
    if (this.mayGoto) {
      w.op2(Op.global_get, G_LOOPS);
      w.op2(Op.local_set, savedLoops);
      w.i32const(BPF_MAX_LOOPS);
      w.op2(Op.global_set, G_LOOPS);
    }
    w.i32const(0);
    w.op2(Op.global_set, G_PART);
    w.i32const(0);
    w.op2(Op.global_set, G_ENTRY);
    w.op2(Op.loop, 0x40);
    w.op2(Op.global_get, G_PART);
    w.i32const(-1);
    w.byte(Op.i32_eq);
    w.op2(Op.if, 0x40);
    if (this.mayGoto) {
      w.op2(Op.local_get, savedLoops);
      w.op2(Op.global_set, G_LOOPS);
    }
    w.op2(Op.local_get, savedDepth);
    w.op2(Op.global_set, G_DEPTH);
    for (let r = 0; r <= 5; r++) w.op2(Op.local_get, r);
    w.op2(Op.global_get, G_LEFT_N);
    if (!this.unitGas) {
      w.op2(Op.global_get, G_LEFT_GAS);
      if (this.wideGas) w.byte(Op.i64_trunc_f64_s);
    }
    w.byte(Op.return);
    w.byte(Op.end);
    for (let p = 0; p < parts; p++) w.op2(Op.block, 0x40);
    w.op2(Op.global_get, G_PART);
    w.byte(Op.br_table);
    w.u32(parts);
    for (let p = 0; p < parts; p++) w.u32(p);
    w.u32(0);
    for (let p = 0; p < parts; p++) {
      w.byte(Op.end);
      for (let r = 0; r <= 9; r++) w.op2(Op.local_get, r);
      w.byte(Op.call);
      w.u32(firstPartFn + p);
      for (let r = 9; r >= 0; r--) w.op2(Op.local_set, r);
      w.byte(Op.br);
      w.u32(parts - 1 - p); // back to the loop
    }
    w.byte(Op.end);
    w.byte(Op.unreachable);
    w.byte(Op.end);
  }

  /** run(k, r0..r9): calls subprogram k at depth G_DEPTH with these registers and returns r0. */
  runBody(): void {
    const w = this.w;
    for (let r = 0; r <= 9; r++) w.op2(Op.local_get, r + 1);
    w.i32const(this.fpHostTop);
    w.op2(Op.global_get, G_DEPTH);
    w.i32const(this.frameSize);
    w.byte(Op.i32_mul);
    w.byte(Op.i32_sub);
    this.packMeta(Op.global_get, G_LEFT_N);
    if (!this.unitGas) {
      w.op2(Op.global_get, G_LEFT_GAS);
      w.byte(this.wideGas ? Op.i64_trunc_f64_s : Op.i64_extend_i32_u);
    }
    w.op2(Op.local_get, 0);
    w.byte(Op.call_indirect);
    w.u32(T_SUB);
    w.byte(0);
    if (!this.unitGas) {
      if (this.wideGas) w.byte(Op.f64_convert_i64_s);
      w.op2(Op.global_set, G_LEFT_GAS);
    }
    w.op2(Op.global_set, G_LEFT_N);
    for (let k = 0; k < 5; k++) w.byte(Op.drop);
    w.byte(Op.end);
  }

  /**
   * The full-convention adapter of trimmed subprogram k (see subType): passes its registers, and
   * returns the ones k does not return unchanged. A function its callers charge (charged-calls.ts),
   * or whose entry block they charge, is charged so here for the entries through the table (run,
   * callx, callbacks): see `chargeInAdapter`.
   */
  adapter(k: number): void {
    const w = this.w;
    const params = this.regs.params[k];
    const results = this.regs.results[k];
    const meta = 10;
    const extra = this.unitGas ? 1 : 2;
    const left = meta + extra; // locals after the params
    const gas = left + 1;
    this.adapterLocals ??= [
      { count: 1, type: I32 },
      { count: 1, type: this.wideGas ? I64 : I32 },
    ];
    const charged = this.input.layout.chargedByCaller[k] === 1;
    const entry = this.input.layout.entryChargedByCaller[k] === 1;
    const at = this.out.beginBody(bodyHeader(this.adapterLocals, charged || entry ? 192 : 64));
    if (charged || entry) {
      this.chargeInAdapter(this.input.layout.functions[k].startPc, meta, left, gas);
      for (let r = 0; r < params; r++) w.op2(Op.local_get, r);
      // The meta param with the charged countdown (the callee reports it at a fault).
      w.op2(Op.local_get, meta);
      w.i64const(0, -1); // 0xffffffff_00000000
      w.byte(Op.i64_and);
      w.op2(Op.local_get, left);
      w.byte(Op.i64_extend_i32_u);
      w.byte(Op.i64_or);
      if (!this.unitGas) {
        w.op2(Op.local_get, gas);
        if (!this.wideGas) w.byte(Op.i64_extend_i32_u);
      }
      w.byte(Op.call);
      w.u32(this.firstSub + k);
      if (entry) {
        if (!this.unitGas) w.op2(Op.local_set, gas);
        w.op2(Op.local_set, left);
      }
    } else {
      for (let r = 0; r < params; r++) w.op2(Op.local_get, r);
      for (let j = 0; j < extra; j++) w.op2(Op.local_get, meta + j);
      w.byte(Op.call);
      w.u32(this.firstSub + k);
      if (!this.unitGas) w.op2(Op.local_set, gas);
      w.op2(Op.local_set, left);
    }
    for (let r = results - 1; r >= 0; r--) w.op2(Op.local_set, r);
    for (let r = 0; r <= 5; r++) w.op2(Op.local_get, r);
    w.op2(Op.local_get, left);
    if (!this.unitGas) w.op2(Op.local_get, gas);
    w.byte(Op.end);
    this.out.endBody(at, this.adapterLocals);
  }

  /**
   * In the adapter of a charged function starting at `pc`: charges its total or entry block
   * (blockInsns/blockGas at `pc`) on the countdowns from the params (`meta`, `meta` + 1) into locals `left` and `gas`, as
   * `charge` would at a poll site: past a poll threshold the meter import polls, refills or finds the
   * budget spent, which hands the function to the interpreter (budget import) at its depth.
   */
  private chargeInAdapter(pc: number, meta: number, left: number, gas: number): void {
    const w = this.w;
    const { blockInsns, blockGas } = this.input.layout;
    w.op2(Op.local_get, meta);
    w.byte(Op.i32_wrap_i64);
    w.i32const(blockInsns[pc]);
    w.byte(Op.i32_sub);
    w.op2(Op.local_tee, left);
    w.op2(Op.global_get, G_POLL_AT);
    w.byte(Op.i32_lt_s);
    if (!this.unitGas) {
      w.op2(Op.local_get, meta + 1);
      if (!this.wideGas) w.byte(Op.i32_wrap_i64);
      this.gasConst(blockGas[pc]);
      w.byte(this.wideGas ? Op.i64_sub : Op.i32_sub);
      w.op2(Op.local_tee, gas);
      if (this.wideGas) {
        w.i64const(0, 0);
        w.byte(Op.i64_lt_s);
      } else {
        w.op2(Op.global_get, G_GAS_POLL_AT);
        w.byte(Op.i32_lt_s);
      }
      w.byte(Op.i32_or);
    }
    w.op2(Op.if, 0x40);
    w.op2(Op.local_get, left);
    w.op2(Op.global_set, G_LEFT_N);
    if (!this.unitGas) {
      w.op2(Op.local_get, gas);
      if (this.wideGas) w.byte(Op.f64_convert_i64_s);
      w.op2(Op.global_set, G_LEFT_GAS);
    }
    this.depthFromFrame(meta);
    w.i32const(pc);
    for (let r = 0; r <= 9; r++) w.op2(Op.local_get, r);
    w.byte(Op.call);
    w.u32(IMPORT_METER);
    for (let r = 9; r >= 0; r--) w.op2(Op.local_set, r);
    w.op2(Op.if, 0x40);
    w.i32const(pc);
    for (let r = 0; r <= 9; r++) w.op2(Op.local_get, r);
    w.byte(Op.call);
    w.u32(IMPORT_BUDGET);
    w.byte(Op.unreachable);
    w.byte(Op.end);
    w.op2(Op.global_get, G_LEFT_N);
    w.op2(Op.local_set, left);
    if (!this.unitGas) {
      w.op2(Op.global_get, G_LEFT_GAS);
      if (this.wideGas) w.byte(Op.i64_trunc_f64_s);
      w.op2(Op.local_set, gas);
    }
    w.byte(Op.end);
  }

  /** The callee's r10 host offset (i32) on the stack → its meta param, with the countdown from `get left`. */
  private packMeta(get: number, left: number, add = 0): void {
    const w = this.w;
    w.byte(Op.i64_extend_i32_u);
    w.i64const(32, 0);
    w.byte(Op.i64_shl);
    w.op2(get, left);
    if (add !== 0) {
      w.i32const(add);
      w.byte(Op.i32_add);
    }
    w.byte(Op.i64_extend_i32_u);
    w.byte(Op.i64_or);
  }

  /** Writes one body per part of the split function `f`. */
  compileParts(f: FunctionLayout): void {
    this.f = f;
    this.split = true;
    this.charged = false;
    this.entryCharged = false;
    this.staleWindow = this.mayRunStale(f);
    this.used = ALL_REGS;
    this.constants = 0;
    this.mayGoto = this.input.layout.mayGoto[f.index] === 1;
    for (let p = 0; p < f.parts.length; p++) checkBodySize(f, this.compilePart(p));
  }

  /**
   * Writes the body of part `p` of the current function; returns the size of its code. `copies`:
   * test-free loop copies allowed (see `testFreeLoop`).
   */
  private compilePart(p: number, copies = true): number {
    this.copyLoops = copies;
    this.copiedLoops = false;
    const f = this.f;
    const part = f.parts[p];
    const w = this.w;
    // Params (see subType) take the first slots of the i64 locals r0..L_B.
    const params = this.split ? 10 : this.params + (this.unitGas ? 1 : 2);
    const locals = this.partLocals(params);
    const body = this.out.beginBody(
      bodyHeader(locals, BODY_BYTES + INSN_BYTES * (part.last - part.first + 1)),
    );
    this.part = p;
    this.regions = part.regions;
    // Per-part state, reset without allocating (a program may have 10^5 small functions): every
    // construct of the last part was closed, which put its openDispatch entry back to -1.
    this.ctrlDepth = 0;
    while (this.openDispatch.length < part.regions.length) this.openDispatch.push(-1);
    this.forgetFacts();
    this.fusedPc = -1;
    if (this.cacheTypes.length > 0) {
      // The last part cached window fields (claimField always adds a type there at a first claim).
      this.cacheLocal.fill(-1);
      this.loadedBy.fill(0);
      this.cacheTypes = [];
      this.hoistPool = [];
    }
    this.tripLocal = -1;
    this.cacheLoop = -1;
    this.depthChecked = -1;
    if (this.loopFields.length > 0) this.loopFields = [];
    if (this.split) this.partPrologue();
    else this.prologue();
    // Every block's budget check leaves this block with its pc in L_T: one shared slow path.
    this.open(Op.block, OTHER, 0);
    this.region(0);
    if (this.split && (this.input.layout.facts[part.last] & (F_EXIT | F_JA)) === 0) {
      this.toPart(this.input.program.insns[part.last + 1].pc); // falls through into the next part
    } else {
      w.byte(Op.unreachable);
    }
    this.close(OTHER, 0);
    // Every branch here synced the meters first (see `stop`, `pollCall`): a countdown read here
    // would be live across the meter call, and V8 would spill it on the hot path.
    // The engine's interpreter continues at this depth (G_DEPTH is not kept in every function).
    this.depthFromFrame();
    w.op2(Op.local_get, L_T);
    for (let r = 0; r <= 9; r++) w.op2(Op.local_get, r);
    w.byte(Op.call);
    w.u32(IMPORT_BUDGET);
    w.byte(Op.unreachable);
    w.byte(Op.end);
    if (this.copiedLoops && w.length - body > MAX_FUNCTION_BYTES) {
      // The test-free copies took the part over V8's limit: once more without them.
      this.out.dropBody(body);
      return this.compilePart(p, false);
    }
    if (this.cacheTypes.length === 0) return this.out.endBody(body, locals);
    return this.out.endBody(body, [...locals, ...this.cacheTypes.map((type) => ({ count: 1, type }))]);
  }

  /** The locals of a part without cache locals (see compilePart), one list per param count. */
  private partLocals(params: number): readonly LocalRun[] {
    let locals = this.localsByParams[params];
    if (locals === undefined) {
      locals = [
        { count: 13 - params, type: I64 },
        { count: 6, type: I32 },
        { count: 1, type: this.wideGas ? I64 : I32 }, // L_LEFT_GAS
        { count: 1, type: I32 }, // L_POLL_AT
        { count: 11, type: I32 }, // L_HOST
        { count: 1, type: I32 }, // L_LOOPS
        { count: 1, type: I32 }, // L_GAS_POLL_AT
        { count: 1, type: I32 }, // L_MID
        { count: 6, type: I32 }, // L_ENTRY … L_DONE0
        { count: 1, type: F64 }, // L_DIRECT
      ];
      this.localsByParams[params] = locals;
    }
    return locals;
  }

  /**
   * Entry of a subprogram: frame and countdowns from the params after its registers (see subType),
   * r10 from its host offset (the guest and host tops differ by a constant). R10 is set last: it
   * may be the slot of a param.
   */
  private prologue(): void {
    const w = this.w;
    const meta = this.params;
    w.op2(Op.local_get, meta);
    w.byte(Op.i32_wrap_i64);
    w.op2(Op.local_set, L_LEFT_N);
    if (!this.unitGas) {
      w.op2(Op.local_get, meta + 1);
      if (!this.wideGas) w.byte(Op.i32_wrap_i64);
      w.op2(Op.local_set, L_LEFT_GAS);
    }
    w.op2(Op.local_get, meta);
    w.i64const(32, 0);
    w.byte(Op.i64_shr_u);
    w.byte(Op.i32_wrap_i64);
    w.op2(Op.local_tee, L_FPH);
    w.i32const((this.fpGuestTop - this.fpHostTop) | 0);
    w.byte(Op.i32_add);
    w.byte(Op.i64_extend_i32_u);
    w.op2(Op.local_set, R10);
    if (this.mayGoto) {
      w.i32const(BPF_MAX_LOOPS);
      w.op2(Op.local_set, L_LOOPS);
    }
    // With two countdowns the poll thresholds start at 0, not read from their globals: the engine
    // only lowers them (to −slack near the end of the budget, see `grant`), so 0 at worst polls
    // early, within the last `slack` instructions (gas), and that meter call reads the real ones
    // (`pollCall`). With one, every user reads the global (see `pollAt`).
    if (!this.unitGas) {
      w.i32const(0);
      w.op2(Op.local_set, L_POLL_AT);
    }
    if (!this.unitGas && !this.wideGas) {
      w.i32const(0);
      w.op2(Op.local_set, L_GAS_POLL_AT);
    }
  }

  /** Entry of a part of a split function: frame from G_DEPTH, meters from the globals. */
  private partPrologue(): void {
    const w = this.w;
    // r10 and its host offset for the current depth: top − depth · frameSize.
    w.op2(Op.global_get, G_DEPTH);
    w.i32const(this.frameSize);
    w.byte(Op.i32_mul);
    w.op2(Op.local_tee, L_T);
    w.i32const(this.fpHostTop);
    w.op2(Op.local_get, L_T);
    w.byte(Op.i32_sub);
    w.op2(Op.local_set, L_FPH);
    w.byte(Op.drop);
    w.i64const(this.fpGuestTop, 0);
    w.op2(Op.local_get, L_T);
    w.byte(Op.i64_extend_i32_u);
    w.byte(Op.i64_sub);
    w.op2(Op.local_set, R10);
    this.syncIn();
  }

  /** Leaves this part for the one holding `t`: the driver calls it with t's entry index. */
  private toPart(t: number): void {
    const w = this.w;
    const { insnAt } = this.input.program;
    const { partAt, labelAt, loopAt } = this.input.layout;
    const ti = insnAt[t];
    const target = partAt[ti];
    const start = this.input.program.insns[this.f.parts[target].first].pc;
    this.syncOut();
    w.i32const(target);
    w.op2(Op.global_set, G_PART);
    w.i32const(t === start && loopAt[ti] < 0 ? 0 : labelAt[t] + 1);
    w.op2(Op.global_set, G_ENTRY);
    for (let r = 0; r <= 9; r++) w.op2(Op.local_get, r);
    w.byte(Op.return);
  }

  private open(op: number, kind: number, key: number): void {
    this.w.op2(op, 0x40);
    const at = this.ctrlDepth++;
    if (kind === BLOCK) this.openBlock[key] = at;
    else if (kind === LOOP) this.openLoop[key] = at;
    else if (kind === DISPATCH) this.openDispatch[key] = at;
  }

  private close(kind: number, key: number): void {
    this.w.byte(Op.end);
    this.ctrlDepth--;
    if (kind === BLOCK) this.openBlock[key] = -1;
    else if (kind === LOOP) this.openLoop[key] = -1;
    else if (kind === DISPATCH) this.openDispatch[key] = -1;
  }

  private depthOf(at: number): number {
    return this.ctrlDepth - 1 - at;
  }

  /** Emits region `r`: [loop] [dispatch loop] label blocks, then its code and child loops in order. */
  private region(r: number): void {
    const w = this.w;
    const R = this.regions[r];
    const { insns } = this.input.program;
    const headerPc = insns[R.first].pc;
    const outerCacheLoop = this.cacheLoop;
    // A loop inside another with the same header takes the header's `br` and poll path over until
    // it ends (see Region.inner).
    const outerLoop = this.openLoop[headerPc];
    const outerPoll = this.openPoll.get(headerPc);
    if (R.isLoop) {
      // block $exit { loop $again { block $poll { loop $header … } br $exit } poll; br $again }
      this.open(Op.block, OTHER, 0);
      this.open(Op.loop, OTHER, 0);
      const cacheable = this.windowsCacheable(r);
      const plan = cacheable
        ? planHoist(this.input.program, this.input.layout, R, this.input.resolveLddw)
        : undefined;
      // A charged copy reads no cached window (its accesses are hoisted or in the own frame) and
      // leaves the loop when it ran every trip: the ordinary loop's windows are read after it,
      // not at every entry (sieve enters its inner loop ~43k times a run).
      const late = plan !== undefined && this.chargedTrips(r, plan);
      this.cacheLoop = -1;
      if (cacheable && !late) {
        this.loadWindows(r);
        this.cacheLoop = r;
      }
      this.open(Op.block, OTHER, 0);
      this.openPoll.set(headerPc, this.ctrlDepth - 1);
      // A plan without accesses is worth a copy only when the copy runs without countdowns.
      if (plan !== undefined && (plan.accesses.length > 0 || late)) {
        this.hoistedLoop(r, plan);
      } else if (!this.wideGas && this.copyLoops) {
        this.testFreeLoop(r);
      }
      if (late) {
        this.loadWindows(r);
        this.cacheLoop = r;
      }
      this.open(Op.loop, LOOP, headerPc);
    }
    if (R.dispatch) {
      // Entering normally (not by a dispatch jump) starts at the region's first instruction; a part
      // of a split function starts where the driver says.
      if (r === 0 && this.split) w.op2(Op.global_get, G_ENTRY);
      else w.i32const(0);
      w.op2(Op.local_set, L_NEXT);
      this.open(Op.loop, DISPATCH, r);
    }
    const labels = R.labels;
    for (let j = labels.length - 1; j >= 0; j--) this.open(Op.block, BLOCK, labels[j]);
    if (R.dispatch) {
      // Index 0 enters at the region's start, j + 1 at label j.
      this.open(Op.block, OTHER, 0);
      w.op2(Op.local_get, L_NEXT);
      w.byte(Op.br_table);
      w.u32(labels.length + 1);
      w.u32(0);
      for (let j = 0; j < labels.length; j++) w.u32(this.depthOf(this.openBlock[labels[j]]));
      w.u32(0);
      this.close(OTHER, 0);
    }
    if (R.mid >= 0) this.midEntryTest(r);
    this.body(r);
    if (R.dispatch) this.close(DISPATCH, r);
    if (R.isLoop) {
      this.close(LOOP, headerPc);
      this.openLoop[headerPc] = outerLoop;
      if (outerPoll === undefined) this.openPoll.delete(headerPc);
      else this.openPoll.set(headerPc, outerPoll);
      w.byte(Op.br);
      w.u32(2); // $exit
      this.close(OTHER, 0);
      this.loopPoll(headerPc, r);
      this.close(OTHER, 0);
      this.close(OTHER, 0);
    }
    this.cacheLoop = outerCacheLoop;
  }

  /** The loop region `r` holds that starts at instruction `i` (see Region.inner), -1 if none. */
  private loopStartingAt(r: number, i: number): number {
    const R = this.regions[r];
    const child = i === R.first && R.isLoop ? R.inner : this.loopAt[i];
    return child === r ? -1 : child;
  }

  /**
   * At the start of loop `r`, entered from outside at its mid entry when the flag is up: on to the
   * mid entry's block — or, when the mid entry lies in a loop inside `r` entered there too, to that
   * loop's start, which tests the flag again (only the innermost one clears it). The flag holds the
   * mid entry's pc: when a loop inside `r` starting at the same instruction has a mid entry too, its
   * entries pass here, so the test compares the pc.
   */
  private midEntryTest(r: number): void {
    const w = this.w;
    const R = this.regions[r];
    const { midOf } = this.input.layout;
    let shared = false;
    for (let x = R.inner; x >= 0 && !shared; x = this.regions[x].inner) shared = this.regions[x].mid >= 0;
    let c = midOf[R.mid];
    while (c !== r && this.regions[c].parent !== r) c = this.regions[c].parent;
    const { insns } = this.input.program;
    const start = this.regions[c].first;
    if (c !== r && start === R.first) return; // the inner loop starts right here and tests the flag
    w.op2(Op.local_get, L_MID);
    if (shared) {
      w.i32const(R.mid);
      w.byte(Op.i32_eq);
    }
    if (c === r) {
      this.open(Op.if, OTHER, 0);
      w.i32const(0);
      w.op2(Op.local_set, L_MID);
      w.byte(Op.br);
      w.u32(this.depthOf(this.openBlock[R.mid]));
      this.close(OTHER, 0);
      return;
    }
    w.byte(Op.br_if);
    w.u32(this.depthOf(this.openBlock[insns[start].pc]));
  }

  /** The code of region `r` and its child loops, in order (from instruction index `from`). */
  private body(r: number, from = this.regions[r].first): void {
    const R = this.regions[r];
    const { insns } = this.input.program;
    const { labelAt, labelRegion, leader, loopAt } = this;
    const last = R.last;
    for (let i = from; i <= last; ) {
      const insn = insns[i];
      const pc = insn.pc;
      if (labelAt[pc] >= 0 && labelRegion[pc] === r) this.close(BLOCK, pc);
      // Only a loop header or the region's first instruction may start a child loop.
      const child = loopAt[i] >= 0 || i === R.first ? this.loopStartingAt(r, i) : -1;
      if (child >= 0) {
        this.region(child);
        i = this.regions[child].last + 1;
        continue;
      }
      // A charged function, or entry block, was paid for by its caller (or adapter): see
      // charged-calls.ts.
      if (leader[pc] === 1 && !this.charged && !(this.entryCharged && pc === this.f.startPc)) {
        this.charge(i, pc);
      }
      this.insn(insn);
      i++;
    }
  }

  /**
   * Inside `$poll` of loop `r` (so a poll re-enters here): when the entry check of `plan` holds
   * (induction.ts), runs a copy of the loop whose planned accesses take their host address without a
   * check, then leaves the loop; else falls through to the ordinary loop.
   */
  private hoistedLoop(r: number, plan: HoistPlan): void {
    const w = this.w;
    const headerPc = this.input.program.insns[this.regions[r].first].pc;
    const exitAt = this.ctrlDepth - 3; // $exit: block $exit { loop $again { block $poll {
    // A one-block loop contains no other loop: every such loop of the part shares these locals.
    while (this.hoistPool.length < plan.accesses.length) {
      this.hoistPool.push(L_CACHE + this.cacheTypes.length);
      this.cacheTypes.push(I32);
    }
    const locals = this.hoistPool.slice(0, plan.accesses.length);
    if (this.tripLocal < 0) {
      this.tripLocal = L_CACHE + this.cacheTypes.length;
      this.cacheTypes.push(I64, I64);
    }
    const charged = this.chargedTrips(r, plan);
    this.hoistCheck(plan, locals);
    if (charged && plan.stepReg >= 0) {
      // A step of 0 never ends the loop: no trip count (and no division by it).
      w.op2(Op.local_get, plan.stepReg);
      w.i64const(0, 0);
      w.byte(Op.i64_ne);
      w.byte(Op.i32_and);
    }
    this.open(Op.if, OTHER, 0);
    this.hoisted = plan.accesses.map((a) => a.pc);
    this.hoistedLocal = locals;
    this.hoistedIv = plan.iv;
    this.forgetFacts();
    if (charged) {
      this.prechargedLoop(r, plan, exitAt);
    } else {
      this.open(Op.loop, LOOP, headerPc);
      this.body(r);
      this.close(LOOP, headerPc);
      w.op2(Op.br, this.depthOf(exitAt));
    }
    this.close(OTHER, 0);
    this.hoisted = [];
    this.hoistedLocal = [];
    this.forgetFacts();
  }

  /**
   * Inside `$poll` of loop `r` (so a poll re-enters here): when the meters' poll thresholds are high
   * enough that no test after the header's can fire in an iteration (test-free-loops.ts), runs a copy
   * of the loop whose blocks only count down, then leaves the loop; else (near the end of the budget,
   * until the next poll) falls through to the ordinary loop, which stops at the exact instruction.
   */
  private testFreeLoop(r: number): void {
    const R = this.regions[r];
    const slots = this.pureLookups().slots;
    const plan = planTestFree(
      this.input.program,
      this.input.layout,
      R,
      (i) => slots !== undefined && slots[i] !== 0,
    );
    if (plan === undefined) return;
    this.copiedLoops = true;
    const w = this.w;
    const headerPc = this.input.program.insns[R.first].pc;
    const exitAt = this.ctrlDepth - 3; // $exit: block $exit { loop $again { block $poll {
    // The header's test leaves left ≥ pollAt, and one iteration charges at most `rest` after it.
    this.pollAt(L_POLL_AT);
    w.i32const(plan.rest - this.slack);
    w.byte(Op.i32_ge_s);
    if (!this.unitGas) {
      w.op2(Op.local_get, L_GAS_POLL_AT);
      w.i32const(plan.restGas - this.gasSlack);
      w.byte(Op.i32_ge_s);
      w.byte(Op.i32_and);
    }
    if (R.mid >= 0) {
      // A mid entry's first iteration passes no header test: left pays it outright (an entry at
      // the header rarely fails this, and then runs the ordinary loop only until its next poll).
      w.op2(Op.local_get, L_LEFT_N);
      w.i32const(plan.restMid - this.slack);
      w.byte(Op.i32_ge_s);
      w.byte(Op.i32_and);
      if (!this.unitGas) {
        w.op2(Op.local_get, L_LEFT_GAS);
        w.i32const(plan.restMidGas - this.gasSlack);
        w.byte(Op.i32_ge_s);
        w.byte(Op.i32_and);
      }
    }
    this.open(Op.if, OTHER, 0);
    this.forgetFacts();
    this.testFree = new Set(plan.free);
    if (R.mid >= 0) this.peeledMid(r, exitAt);
    this.open(Op.loop, LOOP, headerPc);
    const labels = R.labels;
    for (let j = labels.length - 1; j >= 0; j--) this.open(Op.block, BLOCK, labels[j]);
    this.body(r);
    this.close(LOOP, headerPc);
    w.op2(Op.br, this.depthOf(exitAt));
    this.close(OTHER, 0);
    this.testFree = undefined;
    this.forgetFacts();
  }

  /**
   * Before the test-free copy of rotated loop `r`: entered at its mid entry, runs that first partial
   * iteration (mid entry to the loop's end) here, so the copy's loop needs no mid-entry test at its
   * top, which V8 would keep in every iteration. Its jumps to the header enter the copy's loop.
   */
  private peeledMid(r: number, exitAt: number): void {
    const w = this.w;
    const R = this.regions[r];
    const headerPc = this.input.program.insns[R.first].pc;
    this.open(Op.block, OTHER, 0); // the header: the copy's loop follows this block
    const outerLoop = this.openLoop[headerPc];
    this.openLoop[headerPc] = this.ctrlDepth - 1;
    w.op2(Op.local_get, L_MID);
    this.open(Op.if, OTHER, 0);
    w.i32const(0);
    w.op2(Op.local_set, L_MID);
    const labels = R.labels;
    for (let j = labels.length - 1; j >= 0 && labels[j] >= R.mid; j--) this.open(Op.block, BLOCK, labels[j]);
    this.body(r, this.input.program.insnAt[R.mid]);
    w.op2(Op.br, this.depthOf(exitAt)); // fell out of the loop's end
    this.close(OTHER, 0);
    this.openLoop[headerPc] = outerLoop;
    this.close(OTHER, 0);
    this.forgetFacts();
  }

  /**
   * True when the check-free copy of loop `r` may charge its iterations all at once at its entry
   * (see `prechargedLoop`): its step is not the constant 0, and
   * nothing in it can trap (the accesses `plan` leaves checked, r10-relative ones, stay in the own
   * frame), so every iteration it charges runs to its end. Not with the exact i64 gas countdown.
   */
  private chargedTrips(r: number, plan: HoistPlan): boolean {
    if (this.wideGas || (plan.stepReg < 0 && plan.step === 0)) return false;
    const R = this.regions[r];
    const { insns } = this.input.program;
    for (let i = R.first; i < R.last; i++) {
      const insn = insns[i];
      if (insn.kind !== 'load' && insn.kind !== 'store') continue;
      if (this.hoistedPc(plan, insn.pc)) continue;
      const base = insn.kind === 'load' ? insn.src : insn.dst;
      if (!inOwnFrame(base, insn.off, insn.size, this.frameSize)) return false;
    }
    return true;
  }

  private hoistedPc(plan: HoistPlan, pc: number): boolean {
    for (const a of plan.accesses) if (a.pc === pc) return true;
    return false;
  }

  /** Back to the innermost loop's start while the induction register `iv` is below local `end` (unsigned). */
  private repeatWhileBelow(iv: number, end: number): void {
    const w = this.w;
    w.op2(Op.local_get, iv);
    w.byte(Op.local_get);
    w.u32(end);
    w.byte(Op.i64_lt_u);
    w.op2(Op.br_if, 0);
  }

  /**
   * The copy of a one-block loop (see `chargedTrips`; with the leaving test, its `ja` block too)
   * inside the `if` of a passed entry check: its
   * trip count N = ⌈(B − v0 + [≤]) / K⌉ is known, so it charges n = min(N, what each countdown can pay
   * before its poll threshold) iterations at once, runs them with neither checks nor countdowns (its
   * test is v <u v0 + n·K) and leaves the loop when n = N. Else (n < N, or n = 0) the ordinary loop
   * follows: its next charge falls below the threshold that limited n, so it polls there (refill or
   * interrupt, or the exact stop at the budget's end) and re-enters here. The countdowns never pass
   * their thresholds, so the charges, stops and polls are those of the ordinary loop.
   */
  private prechargedLoop(r: number, plan: HoistPlan, exitAt: number): void {
    const w = this.w;
    const R = this.regions[r];
    const { insns } = this.input.program;
    const headerPc = insns[R.first].pc;
    const { blockInsns, blockGas } = this.input.layout;
    // clang's other layout: the test leaves the loop, a `ja` block (paid by no one else) goes back.
    const leaves = insns[R.last].kind === 'jump' && (insns[R.last] as JumpInsn).op === 'ja';
    const test = leaves ? R.last - 1 : R.last;
    const jaPc = insns[R.last].pc;
    const jaLen = leaves ? blockInsns[jaPc] : 0;
    const jaGas = leaves && !this.unitGas ? blockGas[jaPc] : 0;
    const len = blockInsns[headerPc] + jaLen;
    const gas = (this.unitGas ? 0 : blockGas[headerPc]) + jaGas;
    const n = this.tripLocal;
    const end = n + 1; // v0 + n·K
    const bound = () => {
      if (plan.boundReg >= 0) w.op2(Op.local_get, plan.boundReg);
      else w.i64const(plan.bound, plan.bound >> 31);
    };
    const step = () => {
      if (plan.stepReg >= 0) w.op2(Op.local_get, plan.stepReg);
      else w.i64const(plan.step, 0);
    };
    // N = q + 1 (see `hoistCheck`; K > 0), at most 2^32 + 1.
    w.byte(Op.local_get);
    w.u32(n);
    w.i64const(1, 0);
    w.byte(Op.i64_add);
    w.byte(Op.local_set);
    w.u32(n);
    this.fitTrips(n, L_LEFT_N, L_POLL_AT, len);
    if (gas !== 0) this.fitTrips(n, L_LEFT_GAS, L_GAS_POLL_AT, gas);
    w.byte(Op.local_get);
    w.u32(n);
    w.i64const(0, 0);
    w.byte(Op.i64_gt_s);
    this.open(Op.if, OTHER, 0);
    // n·len ≤ left − pollAt < 2^31: the i32 products are exact.
    this.chargeTrips(n, L_LEFT_N, len);
    if (gas !== 0) this.chargeTrips(n, L_LEFT_GAS, gas);
    w.op2(Op.local_get, plan.iv);
    w.byte(Op.local_get);
    w.u32(n);
    step();
    w.byte(Op.i64_mul);
    w.byte(Op.i64_add);
    w.byte(Op.local_set);
    w.u32(end);
    const unroll = test - R.first <= MAX_UNROLLED_BODY;
    if (unroll) {
      // block $rest { if n ≥ UNROLL { loop { body × UNROLL while v < v0 + ⌊n/UNROLL⌋·UNROLL·K }
      // v = end → $rest } loop { body while v < end } }: one test per UNROLL trips (V8 keeps every
      // test of the loops it unrolls itself), the last n mod UNROLL in the plain loop.
      this.open(Op.block, OTHER, 0);
      const restAt = this.ctrlDepth - 1;
      w.byte(Op.local_get);
      w.u32(n);
      w.i64const(UNROLL, 0);
      w.byte(Op.i64_ge_s);
      this.open(Op.if, OTHER, 0);
      // n is no longer needed: it holds the end of the unrolled trips.
      w.op2(Op.local_get, plan.iv);
      w.byte(Op.local_get);
      w.u32(n);
      w.i64const(-UNROLL, -1);
      w.byte(Op.i64_and);
      step();
      w.byte(Op.i64_mul);
      w.byte(Op.i64_add);
      w.byte(Op.local_set);
      w.u32(n);
      this.open(Op.loop, OTHER, 0);
      for (let k = 0; k < UNROLL; k++) {
        this.forgetFacts();
        for (let i = R.first; i < test; i++) this.insn(insns[i]);
      }
      this.repeatWhileBelow(plan.iv, n);
      this.close(OTHER, 0);
      w.op2(Op.local_get, plan.iv);
      w.byte(Op.local_get);
      w.u32(end);
      w.byte(Op.i64_ge_u);
      w.byte(Op.br_if);
      w.u32(this.depthOf(restAt));
      this.close(OTHER, 0);
      this.forgetFacts();
    }
    this.open(Op.loop, LOOP, headerPc);
    for (let i = R.first; i < test; i++) this.insn(insns[i]);
    // v grows by K > 0 from v0 without wrapping: below v0 + n·K for exactly n − 1 tests.
    this.repeatWhileBelow(plan.iv, end);
    this.close(LOOP, headerPc);
    if (unroll) this.close(OTHER, 0);
    // The loop's own test on the last v: leave when it fails (n = N).
    w.op2(Op.local_get, plan.iv);
    bound();
    w.byte(plan.exit === 'lt' ? Op.i64_lt_u : plan.exit === 'le' ? Op.i64_le_u : Op.i64_ne);
    w.byte(Op.i32_eqz);
    if (leaves) {
      // The last trip leaves before its `ja` block: give that charge back, then the test itself
      // jumps out (its target may be a tail copy or a mid entry: the ordinary jump handles them).
      this.open(Op.if, OTHER, 0);
      this.countDown(L_LEFT_N, -jaLen);
      if (jaGas !== 0) this.countDown(L_LEFT_GAS, -jaGas);
      this.close(OTHER, 0);
      this.insn(insns[test]);
    } else {
      w.byte(Op.br_if);
      w.u32(this.depthOf(exitAt));
    }
    this.close(OTHER, 0);
  }

  /** n = min(n, (left − pollAt) / per), as i64 (negative when the countdown is already past it). */
  private fitTrips(n: number, left: number, pollAt: number, per: number): void {
    const w = this.w;
    w.op2(Op.local_get, left);
    w.byte(Op.i64_extend_i32_s);
    this.pollAt(pollAt);
    w.byte(Op.i64_extend_i32_s);
    w.byte(Op.i64_sub);
    w.i64const(per, 0);
    w.byte(Op.i64_div_s);
    w.op2(Op.local_set, L_B);
    w.byte(Op.local_get);
    w.u32(n);
    w.op2(Op.local_get, L_B);
    w.byte(Op.local_get);
    w.u32(n);
    w.op2(Op.local_get, L_B);
    w.byte(Op.i64_lt_s);
    w.byte(Op.select);
    w.byte(Op.local_set);
    w.u32(n);
  }

  /** left −= n · per on an i32 countdown. */
  private chargeTrips(n: number, left: number, per: number): void {
    const w = this.w;
    w.op2(Op.local_get, left);
    w.byte(Op.local_get);
    w.u32(n);
    w.byte(Op.i32_wrap_i64);
    w.i32const(per);
    w.byte(Op.i32_mul);
    w.byte(Op.i32_sub);
    w.op2(Op.local_set, left);
  }

  /**
   * Leaves 1 when every iteration of the loop of `plan`, entered with the registers as they are,
   * keeps its planned accesses inside their windows (see induction.ts), else 0; sets each access's
   * host delta local (meaningful only with 1).
   */
  private hoistCheck(plan: HoistPlan, locals: number[]): void {
    const w = this.w;
    const bound = () => {
      if (plan.boundReg >= 0) w.op2(Op.local_get, plan.boundReg);
      else w.i64const(plan.bound, plan.bound >> 31);
    };
    // v0 <u B (≤u for ≤) and B ≤u 2^32 (<u for ≤): v stays below 2^32 and never wraps.
    w.op2(Op.local_get, plan.iv);
    bound();
    w.byte(plan.exit === 'le' ? Op.i64_le_u : Op.i64_lt_u);
    bound();
    w.i64const(0, 1);
    w.byte(plan.exit === 'le' ? Op.i64_lt_u : Op.i64_le_u);
    w.byte(Op.i32_and);
    if (plan.stepReg >= 0) {
      w.op2(Op.local_get, plan.stepReg);
      w.i64const(0, 1);
      w.byte(Op.i64_lt_u);
      w.byte(Op.i32_and);
    }
    if (plan.exit === 'ne') {
      // K divides B − v0: v meets B exactly instead of stepping over it.
      bound();
      w.op2(Op.local_get, plan.iv);
      w.byte(Op.i64_sub);
      w.i64const(plan.step, 0);
      w.byte(Op.i64_rem_u);
      w.byte(Op.i64_eqz);
      w.byte(Op.i32_and);
    }
    // q = ⌊(B − v0 − 1, − 0 for ≤) / K⌋ steps to the last v an iteration runs with, v0 + q·K (with
    // K = 0, v stays v0: divided by 1). Meaningful only when the checks above hold.
    bound();
    w.op2(Op.local_get, plan.iv);
    w.byte(Op.i64_sub);
    if (plan.exit !== 'le') {
      w.i64const(1, 0);
      w.byte(Op.i64_sub);
    }
    if (plan.stepReg >= 0) {
      w.op2(Op.local_get, plan.stepReg);
      w.op2(Op.local_get, plan.stepReg);
      w.byte(Op.i64_eqz);
      w.byte(Op.i64_extend_i32_u);
      w.byte(Op.i64_or);
    } else {
      w.i64const(Math.max(plan.step, 1), 0);
    }
    w.byte(Op.i64_div_u);
    w.byte(Op.local_set);
    w.u32(this.tripLocal);
    const hi = () => {
      w.op2(Op.local_get, plan.iv);
      w.byte(Op.local_get);
      w.u32(this.tripLocal);
      if (plan.stepReg >= 0) w.op2(Op.local_get, plan.stepReg);
      else w.i64const(plan.step, 0);
      w.byte(Op.i64_mul);
      w.byte(Op.i64_add);
    };
    for (let j = 0; j < plan.accesses.length; j++) {
      const a = plan.accesses[j];
      const last = (a.write ? TABLE_LAST_WRITE : TABLE_LAST_READ) + sizeIndex(a.size);
      const lo = Number(a.disp & 0xffffffffn) | 0;
      const hiHalf = Number(a.disp >> 32n) | 0;
      // disp + v0 and disp + hi: allowed starts in the window of the first one's slot.
      w.op2(Op.local_get, plan.iv);
      w.i64const(lo, hiHalf);
      w.byte(Op.i64_add);
      w.op2(Op.local_tee, L_A);
      this.locateEntry();
      hi();
      w.i64const(lo, hiHalf);
      w.byte(Op.i64_add);
      w.op2(Op.local_set, L_B);
      for (const at of [L_A, L_B]) {
        w.op2(Op.local_get, at);
        w.op2(Op.local_get, L_H);
        w.mem(Op.i64_load32_u, TABLE_ABS_START * 4);
        w.byte(Op.i64_ge_u);
        w.byte(Op.i32_and);
        w.op2(Op.local_get, at);
        w.op2(Op.local_get, L_H);
        w.mem(Op.i64_load32_u, last * 4);
        w.byte(Op.i64_le_u);
        w.byte(Op.i32_and);
      }
      // The host address less the low half of v (see `address`): low(disp) + the window's delta.
      w.op2(Op.local_get, L_H);
      w.mem(Op.i32_load, TABLE_HOST_DELTA * 4);
      if (lo !== 0) {
        w.i32const(lo);
        w.byte(Op.i32_add);
      }
      w.byte(Op.local_set);
      w.u32(locals[j]);
    }
  }

  /** Whether loop `r` may keep window fields in locals: it reaches no host code and calls no function. */
  private windowsCacheable(r: number): boolean {
    const R = this.regions[r];
    this.prediction ??= predictSlots(
      this.input.program,
      this.input.layout,
      this.input.resolveLddw,
      this.pureLookups().slots,
    );
    const { hostCallsBefore } = this.prediction;
    if (hostCallsBefore[R.first] !== hostCallsBefore[R.last + 1]) return false;
    return !this.callsLocally(r);
  }

  /**
   * At the entry of loop `r` (inside `$again`, so a poll re-reads them; after a charged copy, which
   * needs none), when `windowsCacheable`: reads what the checks of its own accesses with a predicted
   * slot need into cache locals (see slot-prediction.ts and `cachedCheck`): per slot the window start (i64) and its
   * host offset (i32), per slot, size and kind the number of addresses such an access may start at
   * (i64). Nested loops read their own.
   */
  private loadWindows(r: number): void {
    const R = this.regions[r];
    const { slotAt } = this.prediction as SlotPrediction;
    const { insns } = this.input.program;
    const loaded: number[] = [];
    this.loopFields[r] = loaded;
    for (let i = R.first; i <= R.last; i++) {
      const child = this.loopStartingAt(r, i);
      if (child >= 0) {
        i = this.regions[child].last;
        continue;
      }
      // Only loads, stores and atomics have a slot: the others' objects are not read.
      const slot = slotAt[i];
      if (slot < 0) continue;
      const insn = insns[i];
      if (insn.kind !== 'load' && insn.kind !== 'store') continue;
      const base = insn.kind === 'load' ? insn.src : insn.dst;
      if (inOwnFrame(base, insn.off, insn.size, this.frameSize)) continue;
      const at = slot * TABLE_STRIDE;
      const last = at + (insn.kind === 'store' ? TABLE_LAST_WRITE : TABLE_LAST_READ) + sizeIndex(insn.size);
      // An access's check needs all three fields: load them all or none.
      const start = at + TABLE_ABS_START;
      const host = at + TABLE_HOST_BASE;
      let needed = 0;
      for (const key of [start, host, last]) if (this.loadedBy[key] !== r + 1) needed++;
      if (loaded.length + needed > MAX_CACHED_FIELDS) continue;
      if (this.claimField(r, start, I64, loaded)) this.loadNegatedStart(start);
      if (this.claimField(r, host, I32, loaded)) this.loadField(host, I32);
      if (this.claimField(r, last, I64, loaded)) this.loadLimit(at, last);
    }
  }

  /**
   * True when loop `r` itself (its inner loops aside: each pass stays linear) makes a local call.
   * V8 keeps no value in a register across a wasm call, so cached window fields would be reloaded
   * from spill slots after every call: that measured slower than the table (parser: 3%).
   */
  private callsLocally(r: number): boolean {
    const R = this.regions[r];
    const { facts } = this.input.layout;
    for (let i = R.first; i <= R.last; i++) {
      const child = this.loopStartingAt(r, i);
      if (child >= 0) i = this.regions[child].last;
      else if ((facts[i] & F_LOCAL_CALL) !== 0) return true;
    }
    return false;
  }

  /**
   * Assigns window field `key` (slot · TABLE_STRIDE + field) a cache local of `type` for loop `r`;
   * returns false when the loop's entry already fills it.
   */
  private claimField(r: number, key: number, type: ValType, loaded: number[]): boolean {
    if (this.loadedBy[key] === r + 1) return false;
    this.loadedBy[key] = r + 1;
    loaded.push(key);
    if (this.cacheLocal[key] < 0) {
      this.cacheLocal[key] = L_CACHE + this.cacheTypes.length;
      this.cacheTypes.push(type);
    }
    return true;
  }

  /** Reads window field `key` into its cache local (i64 zero-extended or i32). */
  private loadField(key: number, type: ValType): void {
    const w = this.w;
    w.i32const(0);
    w.mem(type === I64 ? Op.i64_load32_u : Op.i32_load, key * 4);
    w.byte(Op.local_set);
    w.u32(this.cacheLocal[key]); // a LEB128: a part may cache more fields than fit one byte
  }

  /**
   * The cache local of window start field `key` gets −start (mod 2^64): `cachedCheck` adds it to an
   * address, which V8 folds with the address's own adds into one `lea` (a subtraction would not).
   */
  private loadNegatedStart(key: number): void {
    const w = this.w;
    w.i64const(0, 0);
    w.i32const(0);
    w.mem(Op.i64_load32_u, key * 4);
    w.byte(Op.i64_sub);
    w.byte(Op.local_set);
    w.u32(this.cacheLocal[key]);
  }

  /**
   * The cache local of `last` field `key` (of the window at word `at`) gets the number of addresses an
   * access of its size and kind may start at: last − start + 1, or 0 when none may (last is then 0,
   * below the start, layout.ts), so `addr − start <u limit` is the whole check.
   */
  private loadLimit(at: number, key: number): void {
    const w = this.w;
    const local = this.cacheLocal[key];
    w.i32const(0);
    w.mem(Op.i64_load32_u, key * 4);
    w.i32const(0);
    w.mem(Op.i64_load32_u, (at + TABLE_ABS_START) * 4);
    w.byte(Op.i64_sub);
    w.i64const(1, 0);
    w.byte(Op.i64_add);
    w.byte(Op.local_tee);
    w.u32(local);
    w.i64const(0, 0);
    w.byte(Op.local_get);
    w.u32(local);
    w.i64const(0, 0);
    w.byte(Op.i64_gt_s);
    w.byte(Op.select);
    w.byte(Op.local_tee);
    w.u32(local);
    w.op2(Op.global_set, G_PIN);
  }

  // ------------------------------------------------------------------------------ metering

  /**
   * Charges the block starting at insns[i] (at `pc`) on the countdowns: `left -= len` (and `leftGas -= cost`
   * unless gas moves with the count or the block is free), one compare. The engine sets `left` to
   * go below `pollAt` (0) at the next interrupt poll, every INTERRUPT_POLL_INSTRUCTIONS
   * instructions, but only poll sites (loop headers, other backward-jump targets, function entries)
   * test that: the meter import polls and refills there. Other blocks only stop below −slack, which
   * the engine makes the exact end of the budget (at most `slack` instructions run between polls;
   * within the last ones pollAt is −slack too): they hand the block to the interpreter (budget
   * import), which runs its affordable prefix and stops exactly at the first instruction the budget
   * cannot pay — no second copy of the block here. The gas countdown (i32) works the same way with
   * its own pollAt and `gasSlack`, refilled in chunks; only `wideGas` keeps an exact i64 (below 0
   * at the gas limit), since an i64 countdown costs V8 more on hot loops and calls (f64 syncs).
   */
  private charge(i: number, pc: number): void {
    const w = this.w;
    const { layout } = this.input;
    const len = layout.blockInsns[pc];
    const gas = this.unitGas ? 0 : layout.blockGas[pc];
    const poll = layout.pollSite[pc] === 1;
    const wrapper = layout.loopAt[i] >= 0 ? this.openPoll.get(pc) : undefined; // only loop headers
    if (this.testFree?.has(pc) === true) {
      // A test that cannot fire (see `testFreeLoop`): the count stays exact.
      this.countDown(L_LEFT_N, len);
      if (gas !== 0) this.countDown(L_LEFT_GAS, gas);
      this.depthChecked = -1;
      return;
    }
    const call = this.depthCallOf(i);
    this.depthChecked = call;
    if (gas !== 0 && !this.wideGas) {
      // Both i32 countdowns: a compare-and-branch each runs faster on V8 than one branch on an
      // `or` of the compares.
      this.countDown(L_LEFT_N, len);
      this.countDown(L_LEFT_GAS, gas);
      if (wrapper !== undefined) {
        this.below(L_LEFT_N, poll, L_POLL_AT, -this.slack);
        w.byte(Op.br_if);
        w.u32(this.depthOf(wrapper));
        this.below(L_LEFT_GAS, poll, L_GAS_POLL_AT, -this.gasSlack);
        w.byte(Op.br_if);
        w.u32(this.depthOf(wrapper));
        if (call >= 0) this.depthTest(pc, wrapper);
        return;
      }
      // block $go { block $stop { left < at → $stop; leftGas >= gasAt → $go } stop }
      w.op2(Op.block, 0x40);
      w.op2(Op.block, 0x40);
      this.below(L_LEFT_N, poll, L_POLL_AT, -this.slack);
      w.byte(Op.br_if);
      w.u32(0);
      this.below(L_LEFT_GAS, poll, L_GAS_POLL_AT, -this.gasSlack);
      w.byte(Op.i32_eqz);
      w.byte(Op.br_if);
      w.u32(1);
      w.byte(Op.end);
      this.stop(pc, poll);
      w.byte(Op.end);
      if (call >= 0) this.depthTest(pc, wrapper);
      return;
    }
    w.op2(Op.local_get, L_LEFT_N);
    w.i32const(len);
    w.op3(Op.i32_sub, Op.local_tee, L_LEFT_N);
    if (poll) this.pollAt(L_POLL_AT);
    else w.i32const(-this.slack);
    if (gas === 0 && wrapper === undefined) {
      // The common block: the compare and its `if` in one write.
      w.op3(Op.i32_lt_s, Op.if, 0x40);
      this.stop(pc, poll);
      w.byte(Op.end);
      if (call >= 0) this.depthTest(pc, wrapper);
      return;
    }
    w.byte(Op.i32_lt_s);
    if (gas !== 0) {
      // The wide (i64) gas countdown, exact: below 0 at the limit.
      w.op2(Op.local_get, L_LEFT_GAS);
      w.i64const((gas % 2 ** 32) | 0, Math.floor(gas / 2 ** 32));
      w.byte(Op.i64_sub);
      w.op2(Op.local_tee, L_LEFT_GAS);
      w.i64const(0, 0);
      w.byte(Op.i64_lt_s);
      w.byte(Op.i32_or);
    }
    if (wrapper !== undefined) {
      // A loop header: its poll path lies outside the loop (see `region`), which keeps the loop free
      // of calls that return into it (V8 neither unrolls such loops nor keeps values in registers).
      w.byte(Op.br_if);
      w.u32(this.depthOf(wrapper)); // a LEB128: nests can be deeper than 127
      if (call >= 0) this.depthTest(pc, wrapper);
      return;
    }
    w.op2(Op.if, 0x40);
    this.stop(pc, poll);
    w.byte(Op.end);
    if (call >= 0) this.depthTest(pc, wrapper);
  }

  /**
   * The local call that ends the block at insns[i] when its frame-limit check goes with the block's
   * charge (see `depthTest`), else -1: a `call` of a function that checks depth (see `checksDepth`).
   */
  private depthCallOf(i: number): number {
    if (!this.checksDepth(this.f.index)) return -1;
    const { facts } = this.input.layout;
    const pcs = this.input.program.columns.pc;
    for (let j = i; j < pcs.length; j++) {
      if (j > i && this.leader[pcs[j]] === 1) return -1;
      const x = facts[j];
      if ((x & F_ENDS_BLOCK) !== 0) return (x & F_LOCAL_CALL) !== 0 ? j : -1;
    }
    return -1;
  }

  /**
   * The frame-limit check of the local call ending the block at `pc`, made at the block's start
   * rather than at the call: at the last frame the whole block goes to the interpreter (the budget
   * stop's slow path, the meters holding the block), which runs it and traps CallDepthExceeded at the
   * call — or stops earlier, exactly as it would have. At the call the check would be a cold path
   * with the countdown live in the middle of the block, which V8 pays for on every call (spills);
   * here it shares the charge's branch target: a loop header's poll path (`wrapper`, see `loopPoll`,
   * which tests it again after its poll), else a stop path of its own.
   */
  private depthTest(pc: number, wrapper: number | undefined): void {
    const w = this.w;
    this.lastFrame();
    if (wrapper !== undefined) {
      w.byte(Op.br_if);
      w.u32(this.depthOf(wrapper));
      return;
    }
    w.op2(Op.if, 0x40);
    this.stop(pc, false);
    w.byte(Op.end);
  }

  /** Whether this frame is the last one (an i32): depth ≥ maxFrames − 1, on r10's host offset. */
  private lastFrame(): void {
    const w = this.w;
    w.op2(Op.local_get, L_FPH);
    w.i32const(this.fpHostTop - (this.maxFrames - 1) * this.frameSize);
    w.byte(Op.i32_le_u);
  }

  /** `local -= amount` on an i32 countdown. */
  private countDown(local: number, amount: number): void {
    const w = this.w;
    w.op2(Op.local_get, local);
    w.i32const(amount);
    w.byte(Op.i32_sub);
    w.op2(Op.local_set, local);
  }

  /** `left < pollAt` at a poll site (a local), else `left < floor` (−slack). */
  private below(left: number, poll: boolean, pollAt: number, floor: number): void {
    const w = this.w;
    w.op2(Op.local_get, left);
    if (poll) this.pollAt(pollAt);
    else w.i32const(floor);
    w.byte(Op.i32_lt_s);
  }

  /**
   * The poll threshold of a countdown (L_POLL_AT or L_GAS_POLL_AT). With one countdown it is read from
   * its global: as a local (the function's copy, set at entry and after calls) it is one more value
   * live around every call and loop, which V8 spills (recursion ~4% slower); with two countdowns the
   * locals measured faster. The local may be higher than the global (it starts at 0, see `prologue`),
   * never lower, so every user reads the same kind: test-free loop entries rely on poll sites' tests.
   */
  private pollAt(local: number): void {
    if (this.unitGas && local === L_POLL_AT) this.w.op2(Op.global_get, G_POLL_AT);
    else this.w.op2(Op.local_get, local);
  }

  /** A countdown ran out at the block `pc`, from inside one construct opened by `charge`. */
  private stop(pc: number, poll: boolean): void {
    const w = this.w;
    if (poll) {
      this.pollCall(pc, 1);
      return;
    }
    // Over the budget (the meters still include this block; the engine undoes it). Registers dead at
    // the block go to the shared slow path as 0, so their values need not live until here.
    this.syncOut();
    this.zeroDead(this.liveAt(pc));
    w.i32const(pc);
    w.op3(Op.local_set, L_T, Op.br);
    w.u32(this.ctrlDepth); // the function-level block (index 0) seen from inside that construct
  }

  /** `local.set r (i64.const 0)` for each register r0..r9 not in `live`, in ascending order. */
  private zeroDead(live: number): void {
    // Over the dead bits only, lowest first: no branch per live register (masks follow no pattern).
    for (let dead = ~live & ALL_REGS; dead !== 0; dead &= dead - 1) {
      this.w.op4(Op.i64_const, 0, Op.local_set, 31 - Math.clz32(dead & -dead));
    }
  }

  /**
   * Calls the meter import for the block at `pc`: it throws Interrupted, or refills and returns 0, or
   * returns 1 when the budget really cannot pay → the shared slow path. The registers go through the
   * import and back, so no value stays live across this rare call (V8 would spill them on the hot
   * path otherwise). `nested`: constructs opened since the current control stack (the `if` of
   * `charge`, or none).
   */
  private pollCall(pc: number, nested: number, constants = 0): void {
    const w = this.w;
    this.syncOut();
    w.i32const(pc);
    // Registers dead at the block go as 0: see `stop`.
    const live = this.liveAt(pc);
    for (let r = 0; r <= 9; r++) {
      if (live & (1 << r)) w.op2(Op.local_get, r);
      else w.op2(Op.i64_const, 0); // i64.const 0
    }
    w.byte(Op.call);
    w.u32(IMPORT_METER);
    // A dead register keeps its value rather than taking the import's 0: unobservable either way,
    // and V8 then merges no new value for it into the hot path (a register move there). Towards
    // the slow path it goes as 0 again, so its old value need not live until there. So do
    // `constants` (the import returns what it got): no phi for them at the loop header.
    const taken = live & ~constants;
    for (let r = 9; r >= 0; r--) {
      if (taken & (1 << r)) w.op2(Op.local_set, r);
      else w.byte(Op.drop);
    }
    w.op2(Op.if, 0x40);
    this.zeroDead(live);
    w.i32const(pc);
    w.op2(Op.local_set, L_T);
    w.byte(Op.br);
    w.u32(this.ctrlDepth + nested); // the function-level block (index 0) from inside the `if`
    w.byte(Op.end);
    this.syncIn();
  }

  /** The current function's constant registers, found on first use (functions without polls skip it). */
  private constantsOfFunction(): number {
    if (this.constants < 0) {
      const { facts, operands } = this.input.layout;
      const f = this.f;
      this.constants = constantRegisters(facts, operands, f.first, f.last, this.liveAt(f.startPc));
    }
    return this.constants;
  }

  /**
   * The poll path of the loop with header `pc` (region `r`), in its `$again` loop: poll, give the
   * header block's charge back (the meters included it) and re-enter the loop, which charges it again.
   * A loop that makes a local call keeps its constant registers out of the poll's results: V8 spills
   * every value around the call, so a phi of a constant costs a stack slot read per use; in a loop
   * without calls the phi stays in a register, which measured faster (parser) than the constant.
   */
  private loopPoll(pc: number, r: number): void {
    const w = this.w;
    const { blockInsns, blockGas } = this.input.layout;
    this.pollCall(pc, 0, this.callsLocally(r) ? this.constantsOfFunction() : 0);
    if (this.depthCallOf(this.input.program.insnAt[pc]) >= 0) {
      // The header's block ends in a call at the last frame (see `depthTest`). After the poll, so a
      // pending interrupt stops first, as it did when the check sat at the call; the meter's refill,
      // when only the depth led here, is harmless. The meters still hold the block.
      this.depthTest(pc, undefined);
    }
    w.op2(Op.local_get, L_LEFT_N);
    w.i32const(blockInsns[pc]);
    w.byte(Op.i32_add);
    w.op2(Op.local_set, L_LEFT_N);
    const gas = this.unitGas ? 0 : blockGas[pc];
    if (gas !== 0) {
      w.op2(Op.local_get, L_LEFT_GAS);
      this.gasConst(gas);
      w.byte(this.wideGas ? Op.i64_add : Op.i32_add);
      w.op2(Op.local_set, L_LEFT_GAS);
    }
    w.byte(Op.br);
    w.u32(0); // $again
  }

  /**
   * The registers function `f` may ever read: what its instructions read (host code: all), its
   * callees' live-in registers and its results. Any other register is dead throughout the function,
   * so it goes to no meter or budget import and comes back from none.
   */
  private usedRegisters(f: FunctionLayout): number {
    const { facts, calls } = this.input.layout;
    // The union of the facts, then one test: host code anywhere makes every register used.
    let all = 0;
    for (let i = f.first; i <= f.last; i++) all |= facts[i];
    let used = ((1 << this.regs.results[f.index]) - 1) | (all & F_HOST ? ALL_REGS : all & ALL_REGS);
    // Its own callee list, not every call site: a program may have 10^5 functions.
    const callees = calls.callees[f.index];
    for (let c = 0; c < callees.length; c++) used |= this.regs.live[callees[c]];
    return used;
  }

  /**
   * The registers (bits r0..r9) that may be live at the block starting at `pc`: all but those the
   * block itself certainly writes before reading (ProgramLayout.blockLive, found by the analysis' one
   * backward pass over the blocks), within what the function reads at all (`usedRegisters`). At the
   * function's entry only what the function may read before writing (call-registers.ts) is live: the
   * rest are its locals' zeros or meaningless params.
   */
  private liveAt(pc: number): number {
    const atEntry = !this.split && pc === this.f.startPc ? this.regs.live[this.f.index] : ALL_REGS;
    return this.blockLive[pc] & atEntry & this.used;
  }

  /** Meters to the globals, before anything that reads them (imports, calls, return). */
  private syncOut(): void {
    const w = this.w;
    w.op4(Op.local_get, L_LEFT_N, Op.global_set, G_LEFT_N);
    if (this.unitGas) return;
    w.op2(Op.local_get, L_LEFT_GAS);
    if (this.wideGas) w.byte(Op.f64_convert_i64_s);
    w.op2(Op.global_set, G_LEFT_GAS);
  }

  /** A gas amount in the type of the gas countdown. */
  private gasConst(gas: number): void {
    if (this.wideGas) this.w.i64const((gas % 2 ** 32) | 0, Math.floor(gas / 2 ** 32));
    else this.w.i32const(gas);
  }

  /** Meters from the globals, after anything that changed them (calls, helpers). */
  private syncIn(): void {
    const w = this.w;
    w.op2(Op.global_get, G_LEFT_N);
    w.op2(Op.local_set, L_LEFT_N);
    if (this.unitGas) return; // its poll threshold is read where used (see `pollAt`)
    w.op2(Op.global_get, G_POLL_AT);
    w.op2(Op.local_set, L_POLL_AT);
    w.op2(Op.global_get, G_LEFT_GAS);
    if (this.wideGas) w.byte(Op.i64_trunc_f64_s);
    w.op2(Op.local_set, L_LEFT_GAS);
    if (this.wideGas) return;
    w.op2(Op.global_get, G_GAS_POLL_AT);
    w.op2(Op.local_set, L_GAS_POLL_AT);
  }

  /** Calls a throwing import with (pc, arg) and marks the rest unreachable. */
  private call(fn: number, pc: number, arg: number): void {
    const w = this.w;
    this.syncOut();
    w.i32const(pc);
    w.i32const(arg);
    w.byte(Op.call);
    w.u32(fn);
    w.byte(Op.unreachable);
  }

  // ------------------------------------------------------------------------------ instructions

  private insn(insn: Insn): void {
    // A jump target is reached from elsewhere: no check proven on the way here holds there.
    if (this.labelAt[insn.pc] >= 0) this.forgetFacts();
    if (insn.pc === this.fusedPc) {
      this.fusedPc = -1; // emitted with the instruction before it
      this.checked.after(insn);
      this.narrow.after(insn);
      this.forms.after(insn);
    } else this.emit(insn);
  }

  /** What straight-line code proved about registers (checks passed, narrow values) no longer holds. */
  private forgetFacts(): void {
    this.checked.forgetAll();
    this.narrow.forgetAll();
    this.forms.forgetAll();
  }

  /**
   * The code of one instruction, then what it changes of the facts (checked ranges, narrow registers):
   * the common kinds update them here, where their kind is known, rather than by a second switch.
   */
  private emit(insn: Insn): void {
    switch (insn.kind) {
      case 'alu':
        if (insn.is64) this.alu64(insn);
        else this.alu32(insn);
        this.checked.forget(insn.dst);
        this.narrow.afterAlu(insn);
        this.forms.afterAlu(insn);
        return;
      case 'load': {
        const at = this.address(insn.src, insn.off, insn.size, false, false, insn.pc);
        const op = insn.signExtend && insn.size < 8 ? LOAD_SX_OP[insn.size] : LOAD_OP[insn.size];
        this.w.mem(op, at);
        this.w.op2(Op.local_set, insn.dst);
        this.checked.forget(insn.dst);
        this.narrow.afterLoad(insn);
        this.forms.after(insn);
        return;
      }
      case 'store':
        this.store(insn); // changes no register
        return;
      default:
        this.emitOther(insn);
        this.checked.after(insn);
        this.narrow.after(insn);
        this.forms.after(insn);
    }
  }

  private store(insn: Insn & { kind: 'store' }): void {
    const at = this.address(insn.dst, insn.off, insn.size, true, false, insn.pc);
    if (this.forwardKey(insn.pc) === 1) {
      // A lookup later in the block takes this as its key (see `pureLookups`).
      if (insn.useReg) {
        this.w.op2(Op.local_get, insn.src);
        this.w.byte(Op.i32_wrap_i64);
      } else this.w.i32const(insn.imm);
      this.w.op2(Op.local_tee, L_K0);
      this.w.mem(Op.i32_store, at);
      return;
    }
    if (insn.useReg) this.w.op2(Op.local_get, insn.src);
    else this.w.i64const(insn.imm, insn.imm >> 31);
    this.w.mem(STORE_OP[insn.size], at);
  }

  /** `emit` of the kinds other than alu, load and store. */
  private emitOther(insn: Insn): void {
    switch (insn.kind) {
      case 'jump':
        this.jump(insn);
        if (insn.op === 'may_goto') this.loopCounter(-1); // fell through: one iteration used
        return;
      case 'lddw': {
        const v = lddwValue(insn, this.input.resolveLddw);
        const lo = Number(v & 0xffffffffn) | 0;
        const hi = Number(v >> 32n) | 0;
        this.w.i64const(lo, hi);
        this.w.op2(Op.local_set, insn.dst);
        this.forms.constant(insn.dst, lo, hi);
        return;
      }
      case 'atomic':
        this.atomic(insn);
        return;
      case 'packet_load':
        this.packetLoad(insn);
        return;
      case 'call':
        this.callInsn(insn);
        return;
      case 'exit': {
        const w = this.w;
        if (this.split) {
          this.syncOut();
          w.i32const(-1);
          w.op2(Op.global_set, G_PART);
          for (let r = 0; r <= 9; r++) w.op2(Op.local_get, r);
        } else {
          for (let r = 0; r < this.results; r++) w.op2(Op.local_get, r);
          if (!this.charged) {
            w.op2(Op.local_get, L_LEFT_N);
            if (!this.unitGas) w.op2(Op.local_get, L_LEFT_GAS);
          }
        }
        w.byte(Op.return);
        return;
      }
    }
  }

  /** dst, then the operand (see operand64); a register pair in one write. */
  private dstAndOperand64(insn: AluInsn | JumpInsn): void {
    if (insn.useReg) this.w.op4(Op.local_get, insn.dst, Op.local_get, insn.src);
    else {
      this.w.op2(Op.local_get, insn.dst);
      this.w.i64const(insn.imm, insn.imm >> 31);
    }
  }

  private operand64(insn: AluInsn | JumpInsn): void {
    if (insn.useReg) this.w.op2(Op.local_get, insn.src);
    else this.w.i64const(insn.imm, insn.imm >> 31);
  }

  private operand32(insn: AluInsn | JumpInsn): void {
    if (insn.useReg) {
      this.w.op2(Op.local_get, insn.src);
      this.w.byte(Op.i32_wrap_i64);
    } else {
      this.w.i32const(insn.imm);
    }
  }

  private alu64(insn: AluInsn): void {
    const w = this.w;
    const d = insn.dst;
    if (insn.op === 'lsh' && !insn.useReg && insn.imm === 32 && this.zeroExtension(insn)) return;
    const simple = simpleAlu(insn.op, true);
    if (simple !== undefined) {
      // dst = dst op operand: the most common instruction, in as few writes as its bytes allow.
      this.dstAndOperand64(insn);
      w.op3(simple, Op.local_set, d);
      return;
    }
    switch (insn.op) {
      case 'mov':
        this.operand64(insn);
        break;
      case 'movsx':
        w.op2(Op.local_get, insn.src);
        w.byte(
          insn.width === 8 ? Op.i64_extend8_s : insn.width === 16 ? Op.i64_extend16_s : Op.i64_extend32_s,
        );
        break;
      case 'neg':
        w.i64const(0, 0);
        w.op2(Op.local_get, d);
        w.byte(Op.i64_sub);
        break;
      case 'div':
      case 'sdiv':
      case 'mod':
      case 'smod':
        if (!this.divide64(insn)) return;
        break;
      case 'le':
      case 'be':
      case 'bswap':
        if (!this.swap(insn)) return;
        break;
      default:
        throw new LoadError('UNKNOWN_OPCODE', `internal: no JIT code for alu64 ${insn.op}`, { pc: insn.pc });
    }
    w.op2(Op.local_set, d);
  }

  /**
   * `dst <<= 32; dst >>= 32` in one block (clang's zero extension of a 32-bit value): one wasm
   * wrap + extend, which V8 compiles to a single 32-bit move instead of two shifts. Returns false,
   * emitting nothing, when the next instruction is not that shift.
   */
  private zeroExtension(insn: AluInsn): boolean {
    const { insns, insnAt, slotCount } = this.input.program;
    const pc = insn.pc + 1;
    if (pc >= slotCount || this.leader[pc] === 1) return false;
    const next = insns[insnAt[pc]];
    if (next.kind !== 'alu' || !next.is64 || next.op !== 'rsh' || next.useReg || next.imm !== 32)
      return false;
    if (next.dst !== insn.dst) return false;
    const w = this.w;
    w.op2(Op.local_get, insn.dst);
    w.byte(Op.i32_wrap_i64);
    w.byte(Op.i64_extend_i32_u);
    w.op2(Op.local_set, insn.dst);
    this.fusedPc = pc;
    return true;
  }

  /** Leaves dst's new value on the stack; false when dst does not change (modulo by constant 0). */
  private divide64(insn: AluInsn): boolean {
    const w = this.w;
    const d = insn.dst;
    const rem = insn.op === 'mod' || insn.op === 'smod';
    const unsigned = insn.op === 'div' || insn.op === 'mod';
    if (unsigned && this.narrow.has(d) && (insn.useReg ? this.narrow.has(insn.src) : insn.imm > 0)) {
      // Both operands fit in 32 bits (narrow-registers.ts): the 32-bit division gives the same value.
      this.divide32(insn);
      w.byte(Op.i64_extend_i32_u);
      return true;
    }
    const signed = insn.op === 'sdiv' || insn.op === 'smod';
    const op = rem ? (signed ? Op.i64_rem_s : Op.i64_rem_u) : signed ? Op.i64_div_s : Op.i64_div_u;
    if (!insn.useReg) {
      // Division by 0 → 0, modulo by 0 keeps dst; sdiv by −1 negates (wasm would trap on INT64_MIN).
      if (insn.imm === 0) {
        if (rem) return false;
        w.i64const(0, 0);
      } else if (insn.imm === -1 && insn.op === 'sdiv') {
        w.i64const(0, 0);
        w.op2(Op.local_get, d);
        w.byte(Op.i64_sub);
      } else {
        w.op2(Op.local_get, d);
        w.i64const(insn.imm, insn.imm >> 31);
        w.byte(op);
      }
      return true;
    }
    const s = insn.src;
    w.op2(Op.local_get, s);
    w.byte(Op.i64_eqz);
    w.op2(Op.if, I64);
    if (rem) w.op2(Op.local_get, d);
    else w.i64const(0, 0);
    w.byte(Op.else);
    if (insn.op === 'sdiv') {
      w.op2(Op.local_get, s);
      w.i64const(-1, -1);
      w.byte(Op.i64_eq);
      w.op2(Op.if, I64);
      w.i64const(0, 0);
      w.op2(Op.local_get, d);
      w.byte(Op.i64_sub);
      w.byte(Op.else);
    }
    w.op2(Op.local_get, d);
    w.op2(Op.local_get, s);
    w.byte(op);
    if (insn.op === 'sdiv') w.byte(Op.end);
    w.byte(Op.end);
    return true;
  }

  private alu32(insn: AluInsn): void {
    const w = this.w;
    const d = insn.dst;
    const simple = simpleAlu(insn.op, false);
    if (simple !== undefined) {
      // See alu64.
      if (insn.useReg) {
        w.op4(Op.local_get, d, Op.i32_wrap_i64, Op.local_get);
        w.op3(insn.src, Op.i32_wrap_i64, simple);
      } else {
        w.op3(Op.local_get, d, Op.i32_wrap_i64);
        w.i32const(insn.imm);
        w.byte(simple);
      }
    } else {
      switch (insn.op) {
        case 'mov':
          this.operand32(insn);
          break;
        case 'movsx':
          w.op2(Op.local_get, insn.src);
          w.byte(Op.i32_wrap_i64);
          w.byte(insn.width === 8 ? Op.i32_extend8_s : Op.i32_extend16_s);
          break;
        case 'neg':
          w.i32const(0);
          w.op2(Op.local_get, d);
          w.byte(Op.i32_wrap_i64);
          w.byte(Op.i32_sub);
          break;
        case 'div':
        case 'sdiv':
        case 'mod':
        case 'smod':
          this.divide32(insn);
          break;
        case 'le':
        case 'be':
        case 'bswap':
          if (this.swap(insn)) w.op2(Op.local_set, d);
          return;
        default:
          throw new LoadError('UNKNOWN_OPCODE', `internal: no JIT code for alu32 ${insn.op}`, {
            pc: insn.pc,
          });
      }
    }
    w.byte(Op.i64_extend_i32_u);
    w.op2(Op.local_set, d);
  }

  /** Leaves the 32-bit result on the stack (modulo by 0 keeps the low half, zero-extended). */
  private divide32(insn: AluInsn): void {
    const w = this.w;
    const d = insn.dst;
    const rem = insn.op === 'mod' || insn.op === 'smod';
    const signed = insn.op === 'sdiv' || insn.op === 'smod';
    const op = rem ? (signed ? Op.i32_rem_s : Op.i32_rem_u) : signed ? Op.i32_div_s : Op.i32_div_u;
    const dividend = () => {
      w.op2(Op.local_get, d);
      w.byte(Op.i32_wrap_i64);
    };
    if (!insn.useReg) {
      if (insn.imm === 0) {
        if (rem) dividend();
        else w.i32const(0);
      } else if (insn.imm === -1 && insn.op === 'sdiv') {
        w.i32const(0);
        dividend();
        w.byte(Op.i32_sub);
      } else {
        dividend();
        w.i32const(insn.imm);
        w.byte(op);
      }
      return;
    }
    w.op2(Op.local_get, insn.src);
    w.byte(Op.i32_wrap_i64);
    w.op2(Op.local_tee, L_T);
    w.byte(Op.i32_eqz);
    w.op2(Op.if, I32);
    if (rem) dividend();
    else w.i32const(0);
    w.byte(Op.else);
    if (insn.op === 'sdiv') {
      w.op2(Op.local_get, L_T);
      w.i32const(-1);
      w.byte(Op.i32_eq);
      w.op2(Op.if, I32);
      w.i32const(0);
      dividend();
      w.byte(Op.i32_sub);
      w.byte(Op.else);
    }
    dividend();
    w.op2(Op.local_get, L_T);
    w.byte(op);
    if (insn.op === 'sdiv') w.byte(Op.end);
    w.byte(Op.end);
  }

  /** le / be / bswap: leaves the new i64 value, or returns false when dst does not change (le64). */
  private swap(insn: AluInsn): boolean {
    const w = this.w;
    const d = insn.dst;
    const reverse = insn.op !== 'le';
    if (!reverse) {
      if (insn.width === 64) return false;
      w.op2(Op.local_get, d);
      w.i64const(insn.width === 16 ? 0xffff : -1, 0);
      w.byte(Op.i64_and);
      return true;
    }
    if (insn.width === 16) {
      w.op2(Op.local_get, d);
      w.byte(Op.i32_wrap_i64);
      w.op2(Op.local_tee, L_T);
      w.i32const(0xff);
      w.byte(Op.i32_and);
      w.i32const(8);
      w.byte(Op.i32_shl);
      w.op2(Op.local_get, L_T);
      w.i32const(8);
      w.byte(Op.i32_shr_u);
      w.i32const(0xff);
      w.byte(Op.i32_and);
      w.byte(Op.i32_or);
      w.byte(Op.i64_extend_i32_u);
    } else if (insn.width === 32) {
      w.op2(Op.local_get, d);
      w.byte(Op.i32_wrap_i64);
      this.bswap32();
      w.byte(Op.i64_extend_i32_u);
    } else {
      w.op2(Op.local_get, d);
      w.op2(Op.local_tee, L_B);
      w.i64const(8, 0);
      w.byte(Op.i64_shr_u);
      w.i64const(0x00ff00ff, 0x00ff00ff);
      w.byte(Op.i64_and);
      w.op2(Op.local_get, L_B);
      w.i64const(0x00ff00ff, 0x00ff00ff);
      w.byte(Op.i64_and);
      w.i64const(8, 0);
      w.byte(Op.i64_shl);
      w.byte(Op.i64_or);
      w.op2(Op.local_tee, L_B);
      w.i64const(16, 0);
      w.byte(Op.i64_shr_u);
      w.i64const(0xffff, 0xffff);
      w.byte(Op.i64_and);
      w.op2(Op.local_get, L_B);
      w.i64const(0xffff, 0xffff);
      w.byte(Op.i64_and);
      w.i64const(16, 0);
      w.byte(Op.i64_shl);
      w.byte(Op.i64_or);
      w.i64const(32, 0);
      w.byte(Op.i64_rotl);
    }
    return true;
  }

  /** Byte-reverses the i32 on the stack. */
  private bswap32(): void {
    const w = this.w;
    w.op2(Op.local_tee, L_T);
    w.i32const(8);
    w.byte(Op.i32_rotl);
    w.i32const(0x00ff00ff);
    w.byte(Op.i32_and);
    w.op2(Op.local_get, L_T);
    w.i32const(8);
    w.byte(Op.i32_rotr);
    w.i32const(0xff00ff00 | 0);
    w.byte(Op.i32_and);
    w.byte(Op.i32_or);
  }

  // ------------------------------------------------------------------------------ control flow

  private jump(insn: JumpInsn): void {
    const w = this.w;
    const op = insn.op;
    const conditional = op !== 'ja';
    if (op === 'may_goto') {
      this.loopCounter(0);
      w.byte(Op.i32_eqz);
    } else if (conditional) {
      if (insn.is64) {
        this.dstAndOperand64(insn);
        if (op === 'jset') {
          w.byte(Op.i64_and);
          w.byte(Op.i64_eqz);
          w.byte(Op.i32_eqz);
        } else {
          w.byte(JUMP64[op]);
        }
      } else {
        w.op2(Op.local_get, insn.dst);
        w.byte(Op.i32_wrap_i64);
        this.operand32(insn);
        w.byte(op === 'jset' ? Op.i32_and : JUMP32[op]);
      }
    }
    const t = insn.target;
    if (this.tailCopy[insn.pc] === 1) {
      if (conditional) this.open(Op.if, OTHER, 0);
      this.copyBlock(t);
      if (conditional) this.close(OTHER, 0);
      this.forgetFacts(); // what the copy proved holds on its own path only
      return;
    }
    const { insns, insnAt } = this.input.program;
    const entry = midEntryLoop(this.regions, this.midOf, t, insnAt[insn.pc]);
    if (entry >= 0) {
      // Into a rotated loop from outside: raise the flag, jump to its header (see `region`).
      if (conditional) this.open(Op.if, OTHER, 0);
      w.i32const(t);
      w.op2(Op.local_set, L_MID);
      this.jumpTo(insns[this.regions[entry].first].pc, false);
      if (conditional) this.close(OTHER, 0);
      return;
    }
    this.jumpTo(t, conditional);
  }

  /** A copy of the block at `t`, which ends in exit or a forward `ja` (see ProgramLayout.tailCopy). */
  private copyBlock(t: number): void {
    const { insns, insnAt } = this.input.program;
    let i = insnAt[t];
    this.charge(i, t);
    for (;;) {
      const insn = insns[i++];
      this.insn(insn);
      if (insn.kind === 'exit' || insn.kind === 'jump') return;
    }
  }

  /** The branch of a jump to `t` (taken when the condition on the stack holds, if `conditional`). */
  private jumpTo(t: number, conditional: boolean): void {
    const w = this.w;
    // Forward to an open block, or back to the header of an enclosing loop: one `br`.
    const direct = this.openBlock[t] >= 0 ? this.openBlock[t] : this.openLoop[t];
    if (direct >= 0) {
      w.opU32(conditional ? Op.br_if : Op.br, this.depthOf(direct));
      return;
    }
    const { labelAt, labelRegion, partAt } = this.input.layout;
    if (this.split && partAt[this.input.program.insnAt[t]] !== this.part) {
      if (conditional) this.open(Op.if, OTHER, 0);
      this.toPart(t);
      if (conditional) this.close(OTHER, 0);
      return;
    }
    // Any other backward jump re-enters its region through the dispatch table.
    const isLabel = labelAt[t] >= 0;
    const r = isLabel ? labelRegion[t] : 0;
    if (conditional) this.open(Op.if, OTHER, 0);
    w.i32const(isLabel ? labelAt[t] + 1 : 0);
    w.op2(Op.local_set, L_NEXT);
    w.byte(Op.br);
    w.u32(this.depthOf(this.openDispatch[r]));
    if (conditional) this.close(OTHER, 0);
  }

  /** Pushes the frame's may_goto counter (delta 0), or adds `delta` to it. */
  private loopCounter(delta: number): void {
    const w = this.w;
    const at = this.split ? G_LOOPS : L_LOOPS;
    w.op2(this.split ? Op.global_get : Op.local_get, at);
    if (delta === 0) return;
    w.i32const(delta);
    w.byte(Op.i32_add);
    w.op2(this.split ? Op.global_set : Op.local_set, at);
  }

  private callInsn(insn: Insn & { kind: 'call' }): void {
    const w = this.w;
    switch (insn.op) {
      case 'local': {
        const k = this.input.layout.functionAt[insn.target];
        this.localCall(
          insn.pc,
          k,
          this.windowFreeAt(k) === 0,
          this.regs.params[k],
          this.regs.results[k],
          this.regs.live[k],
        );
        return;
      }
      case 'helper':
        if (!this.input.helpers[insn.imm]) {
          throw new LoadError(
            'UNKNOWN_HELPER',
            `call to unknown helper ${insn.imm} at pc ${insn.pc}`,
            { pc: insn.pc },
            { hint: 'register the helper, or check the helper id' },
          );
        }
        if (this.inlineTable(insn.imm) !== undefined) this.inlineLookup(insn.pc, insn.imm);
        else this.callHelperId(insn.pc, insn.imm);
        return;
      case 'kfunc':
        throw new LoadError(
          'UNKNOWN_HELPER',
          `call to kfunc (BTF id ${insn.imm}) at pc ${insn.pc} is not supported`,
          { pc: insn.pc },
        );
      case 'callx': {
        const d = insn.dst;
        this.syncOut();
        w.i32const(insn.pc);
        w.op2(Op.local_get, d);
        w.byte(Op.i32_wrap_i64);
        w.op2(Op.local_get, d);
        w.i64const(32, 0);
        w.byte(Op.i64_shr_u);
        w.byte(Op.i32_wrap_i64);
        w.byte(Op.call);
        w.u32(IMPORT_CALLX);
        w.op2(Op.local_tee, L_T);
        w.i32const(0);
        w.byte(Op.i32_ge_s);
        w.op2(Op.if, 0x40);
        this.localCall(insn.pc, -1, true, 10, 6, ALL_REGS);
        w.byte(Op.else);
        this.helperCall(insn.pc, () => {
          w.op2(Op.local_get, d);
          w.byte(Op.i32_wrap_i64);
        });
        w.byte(Op.end);
        return;
      }
    }
  }

  /**
   * A bpf-to-bpf call: depth check (CallDepthExceeded at the kernel's limit; none where it cannot
   * fire, see `checksDepth`, nor where the block's charge made it, see `depthTest`), window (unless the callee never reads it, see windowFreeFunctions:
   * then only the depth moves), call, restore. `callee`: the function index, or -1 for the
   * full-convention function whose table index is in L_T. `live`: the params the callee may read (the
   * others go as 0, see CallRegisters.live).
   */
  private localCall(
    pc: number,
    callee: number,
    window: boolean,
    params: number,
    results: number,
    live: number,
  ): void {
    const w = this.w;
    const index = this.input.program.insnAt[pc];
    const checked = callee >= 0 && this.depthChecked === index;
    this.depthChecked = -1;
    if (!checked && this.checksDepth(this.f.index)) {
      this.lastFrame();
      w.op2(Op.if, 0x40);
      this.call(IMPORT_TRAP, pc, TRAP_CALL_DEPTH);
      w.byte(Op.end);
    }
    if (window) this.moveDepth(1);
    for (let r = 0; r < params; r++) {
      if (live & (1 << r)) w.op2(Op.local_get, r);
      else w.i64const(0, 0); // unobservable in the callee (CallRegisters.live)
    }
    w.op2(Op.local_get, L_FPH);
    w.i32const(this.frameSize);
    w.byte(Op.i32_sub);
    // A charged function's countdowns hold all of it: its callee (charged too) gets them without
    // what runs here after the call (charged-calls.ts), so that a trap there counts exactly.
    const { calls, charges } = this.input.layout;
    const site = this.charged ? indexInSorted(calls.sites, this.input.program.insnAt[pc]) : -1;
    const restN = site >= 0 ? charges.siteRest[site] : 0;
    const restGas = site >= 0 && !this.unitGas ? charges.siteRestGas[site] : 0;
    this.packMeta(Op.local_get, L_LEFT_N, restN);
    if (!this.unitGas) {
      w.op2(Op.local_get, L_LEFT_GAS);
      if (restGas !== 0) {
        this.gasConst(restGas);
        w.byte(this.wideGas ? Op.i64_add : Op.i32_add);
      }
      // Unsigned: the callee only wraps it back, and V8 emits nothing for it (a 32-bit result).
      if (!this.wideGas) w.byte(Op.i64_extend_i32_u);
    }
    if (callee >= 0) {
      w.byte(Op.call);
      w.u32(this.firstSub + callee);
    } else {
      w.op2(Op.local_get, L_T);
      w.byte(Op.call_indirect);
      w.u32(T_SUB);
      w.byte(0);
    }
    // A charged callee (charged-calls.ts) returns no countdowns: this block already paid for it.
    if (callee < 0 || this.input.layout.chargedByCaller[callee] === 0) {
      if (!this.unitGas) w.op2(Op.local_set, L_LEFT_GAS);
      w.op2(Op.local_set, L_LEFT_N);
    }
    for (let r = results - 1; r >= 0; r--) w.op2(Op.local_set, r);
    // The poll thresholds stay: the engine only lowers them (see `grant`), and a stale one costs
    // one early meter call.
    if (window) this.moveDepth(-1);
  }

  /**
   * G_DEPTH += delta and the stack slot's table entry for the new depth (setWindow, inlined). Only
   * functions that call such a callee keep G_DEPTH (see ProgramFacts.windowFree).
   */
  private moveDepth(delta: number): void {
    const w = this.w;
    w.op2(Op.global_get, G_DEPTH);
    w.i32const(delta);
    w.byte(Op.i32_add);
    w.op2(Op.local_tee, L_O);
    w.op2(Op.global_set, G_DEPTH);
    // len = (depth + 1) · frameSize; window start = top − len; host = hostBase + start. The window's
    // end, and so every `last` field, stays put (writeTableEntry, GuestMemory.mapStack).
    w.op2(Op.local_get, L_O);
    w.i32const(1);
    w.byte(Op.i32_add);
    w.i32const(this.frameSize);
    w.byte(Op.i32_mul);
    w.op2(Op.local_set, L_O);
    for (const field of [TABLE_LEN_READ, TABLE_LEN_WRITE]) {
      w.i32const(0);
      w.op2(Op.local_get, L_O);
      w.mem(Op.i32_store, STACK_ENTRY + field * 4);
    }
    w.i32const(0);
    w.i32const(this.fpGuestTop);
    w.op2(Op.local_get, L_O);
    w.byte(Op.i32_sub);
    w.mem(Op.i32_store, STACK_ENTRY + TABLE_ABS_START * 4);
    w.i32const(0);
    w.i32const(this.fpHostTop);
    w.op2(Op.local_get, L_O);
    w.byte(Op.i32_sub);
    w.mem(Op.i32_store, STACK_ENTRY + TABLE_HOST_BASE * 4);
  }

  /**
   * `call imm` of helper `id`: its direct import first, if it has one — no spills, no meter syncs,
   * no tail-call check, since a direct entry uses none of them (DirectHelper) — and the helper import
   * when that returns NaN. r0 = the int32 result, sign-extended, as in the interpreter.
   */
  private callHelperId(pc: number, id: number): void {
    const w = this.w;
    const fn = this.directFn.get(id);
    if (fn === undefined) {
      this.helperCall(pc, () => w.i32const(id));
      return;
    }
    this.open(Op.block, OTHER, 0); // $done
    this.open(Op.block, OTHER, 0); // $call
    this.halves();
    w.byte(Op.call);
    w.u32(fn);
    w.op2(Op.local_tee, L_DIRECT);
    w.op2(Op.local_get, L_DIRECT);
    w.byte(Op.f64_ne); // NaN
    w.op2(Op.br_if, 0);
    w.op2(Op.local_get, L_DIRECT);
    w.byte(Op.prefix_fc);
    w.u32(FC_I32_TRUNC_SAT_F64_S);
    w.byte(Op.i64_extend_i32_s);
    w.op2(Op.local_set, 0);
    w.op2(Op.br, 1);
    this.close(OTHER, 0);
    this.helperCall(pc, () => w.i32const(id));
    this.close(OTHER, 0);
  }

  /** Pushes r1..r5 as int32 halves (lo, hi, …). */
  private halves(): void {
    const w = this.w;
    for (let r = 1; r <= 5; r++) {
      w.op2(Op.local_get, r);
      w.byte(Op.i32_wrap_i64);
      w.op2(Op.local_get, r);
      w.i64const(32, 0);
      w.byte(Op.i64_shr_u);
      w.byte(Op.i32_wrap_i64);
    }
  }

  /** Calls the helper import with r1..r5 as int32 halves; r0 = result (high half from RET_HI). */
  private helperCall(pc: number, emitId: () => void): void {
    const w = this.w;
    this.syncOut();
    w.op2(Op.local_get, 0);
    w.op2(Op.global_set, G_R0);
    for (let r = 6; r <= 9; r++) {
      w.op2(Op.local_get, r);
      w.op2(Op.global_set, G_R6 + r - 6);
    }
    w.i32const(pc);
    emitId();
    this.halves();
    w.byte(Op.call);
    w.u32(IMPORT_HELPER);
    w.byte(Op.i64_extend_i32_u);
    w.op2(Op.global_get, G_RET_HI);
    w.byte(Op.i64_extend_i32_u);
    w.i64const(32, 0);
    w.byte(Op.i64_shl);
    w.byte(Op.i64_or);
    w.op2(Op.local_set, 0);
    this.syncIn();
    // bpf_tail_call: hand every register to the engine, which continues in the target program.
    w.op2(Op.global_get, G_TAIL);
    w.op2(Op.if, 0x40);
    w.i32const(pc);
    for (let r = 0; r <= 9; r++) w.op2(Op.local_get, r);
    w.byte(Op.call);
    w.u32(IMPORT_TAIL);
    w.byte(Op.unreachable);
    w.byte(Op.end);
  }

  /** The lookup table of helper `id` if the JIT may inline its lookups (same memory, some maps). */
  private inlineTable(id: number): MapLookupTable | undefined {
    const table = this.input.helpers[id]?.inlineLookup;
    return table !== undefined && table.memory === this.input.memory.wasm && table.count > 0
      ? table
      : undefined;
  }

  /**
   * bpf_map_lookup_elem (helper `id`) without leaving wasm where the map's table entry allows
   * (vm/map-lookup.ts): r1 a handle of a map with an inline kind, the key readable by the same
   * region-table check as any load. Anything else — another map, a bad handle, a key that would
   * fault — takes the helper call, which then does exactly what it always did (trap, fault or
   * result). r1..r5 and r6..r9 keep their values either way, as after a call. When an lddw earlier in
   * the block names the map, its entry's fixed words are compiled in (`lookupFixed`): no handle or
   * kind test, the hash's shift, mask, table and stride as immediates.
   */
  private inlineLookup(pc: number, id: number): void {
    const w = this.w;
    const table = this.inlineTable(id) as MapLookupTable;
    const fixed = this.knownMap(pc, table);
    if (fixed !== undefined && fixed.kind === LookupKind.CALL) {
      this.callHelperId(pc, id);
      return;
    }
    // The key: 4 bytes (8 for HASH8) readable at r2, in the own frame or by the check of `address`.
    const keySize = fixed === undefined ? 0 : fixed.kind === LookupKind.HASH8 ? 8 : 4;
    // A known map and a key in the own frame: nothing can take the helper call. `pureLookups` decides
    // (slot prediction and test-free loops rely on the same answer); the key is then at r10 + frameOff.
    const slots = this.pureLookups().slots;
    const pure = slots !== undefined && slots[this.input.program.insnAt[pc]] !== 0;
    const frameOff = pure ? (this.frameOffset(2, pc) as number) : 0;
    if (!pure) {
      this.open(Op.block, OTHER, 0); // $done
      this.open(Op.block, OTHER, 0); // $call
    }
    if (fixed === undefined) this.lookupHandle(table);
    else {
      w.i32const(fixed.entry);
      w.op2(Op.local_set, L_ENTRY);
    }
    // The key into L_K0 (L_A for a known HASH8 map; the generic code reads 8 bytes at L_H later):
    // left there by the block's store of it (see `pureLookups`), read in the own frame, or read
    // after the region-table check of `address`.
    if (pure) {
      if (this.forwardKey(pc) !== 2) {
        w.op2(Op.local_get, L_FPH); // r10's host offset: the key is at frameOff < 0 below it
        w.i32const(frameOff);
        w.byte(Op.i32_add);
        w.mem(keySize === 8 ? Op.i64_load : Op.i32_load);
        w.op2(Op.local_set, keySize === 8 ? L_A : L_K0);
      }
    } else {
      w.op2(Op.local_get, 2);
      w.op2(Op.local_tee, L_A);
      this.locateEntry();
      this.belowWindow();
      w.op2(Op.local_get, L_A);
      w.op2(Op.local_get, L_H);
      if (keySize === 0) {
        w.op2(Op.local_get, L_PROBE);
        w.i32const(LookupKind.HASH8);
        w.byte(Op.i32_eq);
        w.i32const(2); // the `last` field of size 8 follows that of size 4
        w.byte(Op.i32_shl);
        w.byte(Op.i32_add);
      }
      w.mem(Op.i64_load32_u, (TABLE_LAST_READ + sizeIndex(keySize === 8 ? 8 : 4)) * 4);
      w.byte(Op.i64_gt_u);
      w.op2(Op.br_if, 0);
      this.entryHost();
      w.op2(Op.local_tee, L_H); // the key's host address
      w.mem(keySize === 8 ? Op.i64_load : Op.i32_load);
      w.op2(Op.local_set, keySize === 8 ? L_A : L_K0);
    }
    if (fixed === undefined) {
      // ARRAY: base + index · stride, or NULL past max_entries.
      w.op2(Op.local_get, L_PROBE);
      w.i32const(LookupKind.ARRAY);
      w.byte(Op.i32_eq);
      w.op2(Op.if, 0x40);
      this.arrayLookup(undefined);
      w.op2(Op.br, 2); // $done
      w.byte(Op.end);
      // HASH4 / HASH8: the home entry of hash-index.ts (`probedHome`), then linear probing.
      w.op2(Op.local_get, L_PROBE);
      w.i32const(LookupKind.HASH4);
      w.byte(Op.i32_eq);
      w.op2(Op.if, 0x40);
      this.probe(4, undefined);
      w.byte(Op.else);
      w.op2(Op.local_get, L_H);
      w.mem(Op.i64_load);
      w.op2(Op.local_set, L_A); // the 8-byte key
      this.probe(8, undefined);
      w.byte(Op.end);
    } else if (fixed.kind === LookupKind.HASH8) this.probe(8, fixed);
    else if (fixed.kind === LookupKind.ARRAY) this.arrayLookup(fixed);
    else this.probe(4, fixed);
    if (pure) return;
    w.op2(Op.br, 1); // $done
    this.close(OTHER, 0);
    this.callHelperId(pc, id);
    this.close(OTHER, 0);
  }

  /**
   * The helper calls the JIT runs wholly inline — an lddw in the block names a map with an inline
   * kind and the key lies in the own frame, so no handle, kind or key check can fail and no helper
   * call is compiled — found once per module: per instruction index the slot of the map's values,
   * which the result points into or is NULL, 0 for every other instruction (slot-prediction.ts); and
   * the 4-byte keys the block stored last with `stxw`/`stw [r10 + off]`, which the store also keeps
   * in L_K0 so the lookup does not read them back (`forwardKey`); and the accesses through their
   * results that need no check (lookup-values.ts).
   */
  private pureLookups(): PureLookups {
    if (this.pure !== undefined) return this.pure;
    // No helper lookup to inline (no maps, or another memory): no pass over every instruction.
    const { helpers } = this.input;
    let inline = false;
    for (let id = 0; id < helpers.length && !inline; id++) inline = this.inlineTable(id) !== undefined;
    if (!inline) {
      this.pure = { slots: undefined, forward: undefined, values: undefined };
      return this.pure;
    }
    const { insns } = this.input.program;
    const { facts, leader } = this.input.layout;
    let slots: Int8Array | undefined;
    let spans: Int32Array | undefined;
    let forward: Uint8Array | undefined;
    for (let i = 0; i < insns.length; i++) {
      if ((facts[i] & F_HOST) === 0) continue;
      const insn = insns[i];
      if (insn.kind !== 'call' || insn.op !== 'helper') continue;
      const table = this.inlineTable(insn.imm);
      if (table === undefined || this.input.helpers[insn.imm] === undefined) continue;
      const fixed = this.knownMap(insn.pc, table);
      if (fixed === undefined || fixed.kind === LookupKind.CALL) continue;
      const off = this.frameOffset(2, insn.pc);
      const keySize = fixed.kind === LookupKind.HASH8 ? 8 : 4;
      if (off === undefined || !inOwnFrame(R10, off, keySize, this.frameSize)) continue;
      slots ??= new Int8Array(insns.length);
      spans ??= new Int32Array(insns.length);
      slots[i] = fixedLookupSlot(table, fixed);
      spans[i] = fixed.span;
      if (keySize !== 4 || leader[insn.pc] === 1) continue;
      // The block's last memory write before the call: the key's store, or no forwarding.
      for (let j = i - 1; j >= 0; j--) {
        const x = insns[j];
        if (x.kind === 'store' || x.kind === 'atomic') {
          if (x.kind === 'store' && x.dst === R10 && x.off === off && x.size === 4) {
            forward ??= new Uint8Array(insns.length);
            forward[j] = 1; // the store
            forward[i] = 2; // the lookup
          }
          break;
        }
        if (leader[x.pc] === 1) break;
      }
    }
    // Accesses through the results, once the lookups are known (lookup-values.ts).
    const { jumpTarget, functionAt } = this.input.layout;
    const values =
      slots === undefined || spans === undefined
        ? undefined
        : provenValueAccesses(insns, facts, leader, jumpTarget, functionAt, { slots, spans });
    this.pure = { slots, forward, values };
    return this.pure;
  }

  /** 1 at a store whose value a lookup later in its block takes as key, 2 at that lookup, else 0. */
  private forwardKey(pc: number): number {
    // Once per store: the computed answer without a call (see pureLookups).
    const f = (this.pure ?? this.pureLookups()).forward;
    return f === undefined ? 0 : f[this.input.program.insnAt[pc]];
  }

  /**
   * r1 (a map handle) → its entry's address in L_ENTRY and its kind in L_PROBE, or a branch to the
   * helper call (depth 0) for anything but a handle of an inline kind.
   */
  private lookupHandle(table: MapLookupTable): void {
    const w = this.w;
    // Handle → id: r1 − base below count << shift (unsigned 64-bit, so a high half fails), low bits 0.
    w.op2(Op.local_get, 1);
    w.i64const(table.handleBase | 0, 0);
    w.byte(Op.i64_sub);
    w.op2(Op.local_tee, L_A);
    w.i64const(
      (table.count * 2 ** table.handleShift) | 0,
      Math.floor((table.count * 2 ** table.handleShift) / 2 ** 32),
    );
    w.byte(Op.i64_ge_u);
    w.op2(Op.br_if, 0);
    w.op2(Op.local_get, L_A);
    w.byte(Op.i32_wrap_i64);
    w.op2(Op.local_tee, L_ENTRY);
    w.i32const(2 ** table.handleShift - 1);
    w.byte(Op.i32_and);
    w.op2(Op.br_if, 0);
    w.op2(Op.local_get, L_ENTRY);
    w.i32const(table.handleShift);
    w.byte(Op.i32_shr_u);
    w.i32const(LOOKUP_ENTRY_SHIFT);
    w.byte(Op.i32_shl);
    w.i32const(table.at);
    w.byte(Op.i32_add);
    w.op2(Op.local_tee, L_ENTRY);
    w.mem(Op.i32_load, LOOKUP_KIND * 4);
    w.op2(Op.local_tee, L_PROBE); // the kind, for now
    w.byte(Op.i32_eqz);
    w.op2(Op.br_if, 0);
  }

  /**
   * The fixed words of the entry of the map r1 names at helper call `pc` — the handle an lddw earlier
   * in the block loaded and no later instruction of the block rewrote — or undefined.
   */
  private knownMap(pc: number, table: MapLookupTable): FixedLookupEntry | undefined {
    const { insns, insnAt } = this.input.program;
    const { leader } = this.input.layout;
    if (leader[pc] === 1) return undefined;
    for (let i = insnAt[pc] - 1; i >= 0; i--) {
      const insn = insns[i];
      if (insn.kind === 'lddw' && insn.dst === 1) {
        try {
          return fixedLookupEntry(table, lddwValue(insn, this.input.resolveLddw));
        } catch {
          return undefined; // unresolvable: the lddw's own code generation reports it
        }
      }
      if (((this.input.layout.facts[i] >>> WRITES_SHIFT) & 2) !== 0 || leader[insn.pc] === 1)
        return undefined;
    }
    return undefined;
  }

  /**
   * The offset from r10 of the address register `r` holds at the call `pc`, when instructions earlier
   * in the block set it from r10 (`mov r, r10`, then `add`/`sub` of immediates); undefined otherwise.
   */
  private frameOffset(r: number, pc: number): number | undefined {
    const { insns, insnAt } = this.input.program;
    const { leader, facts } = this.input.layout;
    if (leader[pc] === 1) return undefined;
    let off = 0;
    for (let i = insnAt[pc] - 1; i >= 0; i--) {
      const insn = insns[i];
      if (((facts[i] >>> WRITES_SHIFT) & (1 << r)) !== 0) {
        if (insn.kind !== 'alu' || !insn.is64) return undefined;
        if (insn.op === 'mov' && insn.useReg && insn.src === R10) return off;
        if (insn.useReg || (insn.op !== 'add' && insn.op !== 'sub')) return undefined;
        off += insn.op === 'add' ? insn.imm : -insn.imm;
        if (Math.abs(off) > 2 ** 20) return undefined;
      }
      if (leader[insn.pc] === 1) return undefined;
    }
    return undefined;
  }

  /** ARRAY: r0 = base + index · stride, or NULL past max_entries (the u32 index in L_K0). */
  private arrayLookup(fixed: FixedLookupEntry | undefined): void {
    const w = this.w;
    this.valueBase(fixed);
    w.op2(Op.local_get, L_K0);
    this.fixedWord(fixed, LOOKUP_STRIDE);
    w.byte(Op.i32_mul);
    w.byte(Op.i32_add);
    w.i32const(0);
    w.op2(Op.local_get, L_K0);
    this.fixedWord(fixed, LOOKUP_LIMIT);
    w.byte(Op.i32_lt_u);
    w.byte(Op.select);
    w.byte(Op.i64_extend_i32_u);
    w.op2(Op.local_set, 0);
  }

  /**
   * Probes the open table of the entry in L_ENTRY (or `fixed`) for the key in L_K0 (in L_A for 8
   * bytes), as HashIndex.find does, and sets r0 to the value's guest address or 0.
   */
  private probe(keySize: 4 | 8, fixed: FixedLookupEntry | undefined): void {
    const w = this.w;
    // The home entry (vm/map-lookup.ts, hash-index.ts `probedHome`): an 8-byte key folds to
    // k0 ^ k1 · HASH_FOLD; x = k · HASH_MUL1; x ^= x >>> HASH_XSHIFT; (x · HASH_MUL2) >>> shift.
    if (keySize === 4) w.op2(Op.local_get, L_K0);
    else {
      w.op2(Op.local_get, L_A);
      w.byte(Op.i32_wrap_i64);
      w.op2(Op.local_get, L_A);
      w.i64const(32, 0);
      w.byte(Op.i64_shr_u);
      w.byte(Op.i32_wrap_i64);
      w.i32const(HASH_FOLD);
      w.byte(Op.i32_mul);
      w.byte(Op.i32_xor);
    }
    w.i32const(HASH_MUL1);
    w.byte(Op.i32_mul);
    w.op2(Op.local_tee, L_PROBE);
    w.op2(Op.local_get, L_PROBE);
    w.i32const(HASH_XSHIFT);
    w.byte(Op.i32_shr_u);
    w.byte(Op.i32_xor);
    w.i32const(HASH_MUL2);
    w.byte(Op.i32_mul);
    this.fixedWord(fixed, LOOKUP_SHIFT);
    w.byte(Op.i32_shr_u);
    w.op2(Op.local_set, L_PROBE);
    if (fixed === undefined) {
      this.lookupEntry(LOOKUP_LIMIT);
      w.op2(Op.local_set, L_MASK);
      this.lookupEntry(LOOKUP_TABLE);
      w.op2(Op.local_set, L_H);
    }
    const bytes = keySize === 4 ? 8 : 12;
    // The table is at most half full (a quarter up to hash-index.ts QUARTER_FULL_BYTES), so a free
    // entry (s = 0) ends a probe; a free entry's stale key may equal the key, and s = 0 still makes
    // that a miss, as it must be. The first two entries are read without a branch between them
    // (which entry a key sits in is random, so a branch per entry mispredicts often): T = s0 when
    // key0 equals, else s1 when key1 equals, else 0; done when T ≠ 0 or either entry is free (95% of
    // lookups a quarter full). Only then, rarely, a loop: e = (e + 1) & mask; key equal or s = 0 → done.
    const at = (): void => {
      if (fixed === undefined) w.op2(Op.local_get, L_H);
      else w.i32const(fixed.table);
      w.op2(Op.local_get, L_PROBE);
      w.i32const(bytes);
      w.byte(Op.i32_mul);
      w.byte(Op.i32_add);
      w.op2(Op.local_tee, L_O);
    };
    const keyEqual = (offset = 0): void => {
      w.op2(Op.local_get, L_O);
      if (keySize === 4) {
        w.mem(Op.i32_load, offset);
        w.op2(Op.local_get, L_K0);
        w.byte(Op.i32_eq);
      } else {
        w.mem(Op.i64_load, offset);
        w.op2(Op.local_get, L_A);
        w.byte(Op.i64_eq);
      }
    };
    const next = (): void => {
      w.op2(Op.local_get, L_PROBE);
      w.i32const(1);
      w.byte(Op.i32_add);
      if (fixed === undefined) w.op2(Op.local_get, L_MASK);
      else w.i32const(fixed.limit);
      w.byte(Op.i32_and);
      w.op2(Op.local_set, L_PROBE);
    };
    w.op2(Op.block, 0x40); // $found
    at();
    w.mem(Op.i32_load, bytes - 4);
    w.op2(Op.local_tee, L_T); // s0
    w.byte(Op.i32_eqz);
    w.op2(Op.local_set, L_DONE0); // s0 = 0
    keyEqual();
    w.op2(Op.local_set, L_S1); // key0 equal
    w.op2(Op.local_get, L_T); // s0 stays on the stack
    // The next entry lies right after, with no wrap: the table's last entry is followed by a copy of
    // entry 0 (hash-index.ts `mirror`).
    w.op2(Op.local_get, L_O);
    w.mem(Op.i32_load, 2 * bytes - 4);
    w.op2(Op.local_tee, L_T); // s1
    w.i32const(0);
    keyEqual(bytes);
    w.byte(Op.select);
    w.op2(Op.local_get, L_S1);
    w.byte(Op.select); // T = key0 equal ? s0 : key1 equal ? s1 : 0, always a word of the table
    w.op2(Op.local_get, L_T);
    w.byte(Op.i32_eqz);
    w.op2(Op.local_get, L_DONE0);
    w.byte(Op.i32_or);
    w.op2(Op.local_set, L_DONE0); // s0 = 0 | s1 = 0
    w.op2(Op.local_tee, L_T);
    // done = found | a free entry among the two: a key is never after a free entry of its run, and
    // a free entry's stale key may equal but its s = 0 keeps that a miss.
    w.op2(Op.local_get, L_DONE0);
    w.byte(Op.i32_or);
    w.op2(Op.br_if, 0);
    next(); // the loop goes on after the second entry
    w.op2(Op.loop, 0x40);
    next();
    at();
    w.mem(Op.i32_load, bytes - 4);
    w.op2(Op.local_set, L_T);
    keyEqual();
    w.op2(Op.br_if, 1);
    w.op2(Op.local_get, L_T);
    w.byte(Op.i32_eqz);
    w.op2(Op.br_if, 1);
    w.op2(Op.br, 0);
    w.byte(Op.end);
    w.byte(Op.end);
    // r0 = s, the value's address (or 0), where the index tags slots with them (LOOKUP_FIXED_BASE);
    // else r0 = s ? base + (s − 1) · stride : 0.
    if (fixed === undefined || fixed.fixedBase === 0) {
      if (fixed === undefined) w.op2(Op.local_get, L_T);
      this.valueBase(fixed);
      w.op2(Op.local_get, L_T);
      w.i32const(1);
      w.byte(Op.i32_sub);
      this.fixedWord(fixed, LOOKUP_STRIDE);
      w.byte(Op.i32_mul);
      w.byte(Op.i32_add);
      w.i32const(0);
      w.op2(Op.local_get, L_T);
      w.byte(Op.select);
      if (fixed === undefined) {
        this.lookupEntry(LOOKUP_FIXED_BASE);
        w.byte(Op.select);
      }
    } else w.op2(Op.local_get, L_T);
    w.byte(Op.i64_extend_i32_u);
    w.op2(Op.local_set, 0);
  }

  /** Pushes the map's value base: an immediate when the map is known and not per CPU, else its load. */
  private valueBase(fixed: FixedLookupEntry | undefined): void {
    if (fixed !== undefined && fixed.fixedBase !== 0) this.w.i32const(fixed.fixedBase);
    else this.lookupEntry(LOOKUP_BASE);
  }

  /** Pushes a fixed word of the map's entry: an immediate when the map is known, else its load. */
  private fixedWord(fixed: FixedLookupEntry | undefined, word: FixedLookupWord): void {
    if (fixed === undefined) this.lookupEntry(word);
    else this.w.i32const(fixedLookupWord(fixed, word));
  }

  /** Pushes word `word` of the map's lookup-table entry (its address in L_ENTRY). */
  private lookupEntry(word: number): void {
    this.w.op2(Op.local_get, L_ENTRY);
    this.w.mem(Op.i32_load, word * 4);
  }

  // ------------------------------------------------------------------------------ memory

  /**
   * Leaves the host address of `base + off` on the stack, or faults exactly like the interpreter;
   * returns the offset the memory instruction adds to it. With `alsoRead` (atomics) the read
   * permission is checked after the write permission.
   */
  private address(
    base: number,
    off: number,
    size: number,
    write: boolean,
    alsoRead: boolean,
    pc: number,
  ): number {
    const w = this.w;
    if (inOwnFrame(base, off, size, this.frameSize)) {
      // Inside the own frame, which every stack window of this depth contains.
      w.op2(Op.local_get, L_FPH);
      w.i32const(off);
      w.byte(Op.i32_add);
      return 0;
    }
    if (base !== R10 && this.inFrame(pc)) {
      // Proven inside the own frame (frame-ranges.ts): the stack's guest and host addresses differ
      // by a constant, so the host address is low(base) plus it, with the offset folded in.
      w.op2(Op.local_get, base);
      w.byte(Op.i32_wrap_i64);
      w.i32const((this.fpHostTop - this.fpGuestTop + off) | 0);
      w.byte(Op.i32_add);
      return 0;
    }
    const values = (this.pure ?? this.pureLookups()).values;
    if (values !== undefined) {
      const { insns, insnAt } = this.input.program;
      const slot = values[insnAt[pc]];
      if (slot !== 0 && isAccessOf(insns[insnAt[pc]], base, off, size)) {
        // Through a lookup's non-NULL result, within the value (lookup-values.ts): inside the
        // values region, so host = low(address) + that slot's host delta, and no check.
        w.op2(Op.local_get, base);
        w.byte(Op.i32_wrap_i64);
        w.i32const(0);
        w.mem(Op.i32_load, (slot * TABLE_STRIDE + TABLE_HOST_DELTA) * 4);
        w.byte(Op.i32_add);
        return off;
      }
    }
    const hoisted = this.hoisted.indexOf(pc);
    if (hoisted >= 0) {
      // Proven at the loop's entry (see `hoistedLoop`): base + off = disp + v here, so the host
      // address low(base + off) + delta is, mod 2^32, low(v) + (low(disp) + delta), whose second
      // term is loop-invariant: V8 forms one lea instead of a 64-bit add, a wrap and a 32-bit add.
      w.op2(Op.local_get, this.hoistedIv);
      w.byte(Op.i32_wrap_i64);
      w.byte(Op.local_get);
      w.u32(this.hoistedLocal[hoisted]);
      w.byte(Op.i32_add);
      return 0;
    }
    const delta = this.checked.lookup(base, off, size, write, alsoRead);
    if (delta !== undefined) return this.cachedHost(base, delta);
    // Proven for the other access kind (a read before a write to the same bytes): in the window and
    // at or above its start, so only this kind's end of the window remains to check.
    const inWindow = this.checked.lookupAnyKind(base, off, size);
    if (inWindow === undefined && !alsoRead && this.cachedCheck(base, off, size, write, pc)) {
      this.checked.record(base, off, size, write, alsoRead, true);
      return 0;
    }
    if (inWindow === undefined && !write && !alsoRead) {
      const lo = this.loadGroup(base, pc);
      if (lo !== undefined) return off - lo;
    }
    this.pushAddress(base, off);
    w.op2(Op.local_tee, L_A);
    this.locateEntry();
    const aboveStart = inWindow !== undefined;
    this.windowCheck(size, write ? TABLE_LAST_WRITE : TABLE_LAST_READ, pc, write, aboveStart);
    if (alsoRead) this.windowCheck(size, TABLE_LAST_READ, pc, false, aboveStart);
    if (inWindow !== undefined) {
      this.checked.record(base, off, size, write, alsoRead, false);
      return this.cachedHost(base, inWindow);
    }
    this.entryHost();
    w.op2(Op.local_tee, L_HOST + base);
    this.checked.record(base, off, size, write, alsoRead, true);
    return 0;
  }

  /** Whether the access at `pc` provably stays in the own frame (frame-ranges.ts). */
  private inFrame(pc: number): boolean {
    if (this.frameProofs === undefined) {
      const { program, layout } = this.input;
      this.frameProofs = provenFrameAccesses(program, layout, this.frameSize) ?? null;
    }
    return this.frameProofs !== null && this.frameProofs[this.input.program.insnAt[pc]] === 1;
  }

  /**
   * A load that the same block follows with more loads through the same, unchanged base and nothing
   * between them that may trap or write memory (ALU only): checks their hull [lo, hi) once, as one
   * access of the table size s ≥ hi − lo at base + lo, and leaves host(base + lo) on the stack;
   * returns lo, or undefined (emitting nothing) without such a group. A failed hull check runs each
   * load's own check in program order, so the first load that faults does, with its pc and address:
   * the interpreter would fault there too, after running only loads and ALU steps, which leave no
   * trace in a fault. Both paths prove the hull (every load passed, so both ends did), which
   * checked-ranges.ts then keeps for the later loads.
   */
  private loadGroup(base: number, pc: number): number | undefined {
    const { insns, insnAt } = this.input.program;
    const { leader } = this.input.layout;
    const g = this.group;
    let n = 0;
    for (let i = insnAt[pc]; i < insns.length && n < g.length / 3; i++) {
      const x = insns[i];
      if (i !== insnAt[pc] && leader[x.pc] === 1) break;
      if (x.kind === 'load' && x.src === base) {
        g[3 * n] = x.pc;
        g[3 * n + 1] = x.off;
        g[3 * n + 2] = x.size;
        n++;
        if (x.dst === base) break;
      } else if (x.kind === 'alu' && x.dst !== base) continue;
      else break;
    }
    if (n < 2) return undefined;
    let lo = g[1];
    let hi = g[1] + g[2];
    for (let k = 1; k < n; k++) {
      lo = Math.min(lo, g[3 * k + 1]);
      hi = Math.max(hi, g[3 * k + 1] + g[3 * k + 2]);
    }
    const span = hi - lo;
    if (span > 8) return undefined;
    const size = span <= 1 ? 1 : span <= 2 ? 2 : span <= 4 ? 4 : 8;
    const w = this.w;
    this.pushAddress(base, lo);
    w.op2(Op.local_tee, L_A);
    this.locateEntry();
    w.op2(Op.block, 0x40);
    w.op2(Op.block, 0x40);
    this.belowWindow();
    this.withinWindowEnd(size, TABLE_LAST_READ);
    w.op2(Op.br_if, 1);
    w.byte(Op.end);
    // Cold: each load's own check, in program order; then L_A and L_H for base + lo again.
    for (let k = 0; k < n; k++) {
      this.pushAddress(base, g[3 * k + 1]);
      w.op2(Op.local_tee, L_A);
      this.locateEntry();
      this.windowCheck(g[3 * k + 2], TABLE_LAST_READ, g[3 * k], false, false);
    }
    this.pushAddress(base, lo);
    w.op2(Op.local_tee, L_A);
    this.locateEntry();
    w.byte(Op.end);
    this.entryHost();
    w.op2(Op.local_tee, L_HOST + base);
    this.checked.record(base, lo, span, false, false, true);
    return lo;
  }

  /** Address (i64) on the stack → L_H = byte offset of its slot's table entry. */
  private locateEntry(): void {
    const w = this.w;
    // (lo >>> SLOT_SHIFT) · TABLE_STRIDE · 4.
    w.byte(Op.i32_wrap_i64);
    w.i32const(SLOT_SHIFT - TABLE_SHIFT - 2);
    w.byte(Op.i32_shr_u);
    w.i32const((SLOT_COUNT - 1) << (TABLE_SHIFT + 2));
    w.byte(Op.i32_and);
    w.op2(Op.local_set, L_H);
  }

  /** Pushes the host offset of an accepted access: low half of L_A + the entry's delta. */
  private entryHost(): void {
    const w = this.w;
    w.op2(Op.local_get, L_A);
    w.byte(Op.i32_wrap_i64);
    w.op2(Op.local_get, L_H);
    w.mem(Op.i32_load, TABLE_HOST_DELTA * 4);
    w.byte(Op.i32_add);
  }

  /** Pushes base + off (i64). */
  private pushAddress(base: number, off: number): void {
    const w = this.w;
    w.op2(Op.local_get, base);
    if (off !== 0) {
      w.i64const(off, off >> 31);
      w.byte(Op.i64_add);
    }
  }

  /**
   * For an access at base + off, in a call-free loop whose entry loaded the predicted slot's window
   * (see `loadWindows`): t = addr − start; host = low(t) + the window's host offset; only when
   * t ≥u limit (outside the window, below its start or a non-zero high half, or the kind not allowed)
   * the ordinary check, which accepts the access in its own region or faults. One compare and no
   * taken branch on the fast path. Leaves the host address in the register's L_HOST local and on the
   * stack and returns true; returns false, emitting nothing, when no cached window applies.
   */
  private cachedCheck(base: number, off: number, size: number, write: boolean, pc: number): boolean {
    if (this.cacheLoop < 0 || this.prediction === undefined) return false;
    const slot = this.prediction.slotAt[this.input.program.insnAt[pc]];
    if (slot < 0) return false;
    const at = slot * TABLE_STRIDE;
    const fields = this.loopFields[this.cacheLoop];
    const lastField = at + (write ? TABLE_LAST_WRITE : TABLE_LAST_READ) + sizeIndex(size);
    if (!fields.includes(lastField)) return false; // loaded together with the window's start and host
    const w = this.w;
    // t = base + off + (−start), all mod 2^64; with base = x + C (address-forms.ts) as
    // x + (−start + (C + off)), which V8 computes with one lea (and drops base's own add if unread).
    const x = this.forms.baseOf(base);
    if (x >= 0) w.op2(Op.local_get, x);
    else if (x === -2) w.op2(Op.local_get, base);
    w.byte(Op.local_get);
    w.u32(this.cacheLocal[at + TABLE_ABS_START]);
    if (x >= -1) {
      const lo = (this.forms.low(base) >>> 0) + (off >>> 0);
      w.i64const(lo | 0, (this.forms.high(base) + (off >> 31) + (lo > 0xffffffff ? 1 : 0)) | 0);
      w.byte(Op.i64_add);
    } else if (off !== 0) {
      w.i64const(off, off >> 31);
      w.byte(Op.i64_add);
    }
    if (x !== -1) w.byte(Op.i64_add);
    w.op2(Op.local_tee, L_B);
    w.byte(Op.i32_wrap_i64);
    w.byte(Op.local_get);
    w.u32(this.cacheLocal[at + TABLE_HOST_BASE]);
    w.byte(Op.i32_add);
    w.op2(Op.local_set, L_HOST + base);
    w.op2(Op.local_get, L_B);
    w.byte(Op.local_get);
    w.u32(this.cacheLocal[lastField]);
    w.byte(Op.i64_ge_u);
    this.open(Op.if, OTHER, 0);
    // Outside the predicted window: the ordinary check.
    this.pushAddress(base, off);
    w.op2(Op.local_tee, L_A);
    this.locateEntry();
    this.windowCheck(size, write ? TABLE_LAST_WRITE : TABLE_LAST_READ, pc, write, false);
    this.entryHost();
    w.op2(Op.local_set, L_HOST + base);
    this.close(OTHER, 0);
    w.op2(Op.local_get, L_HOST + base);
    return true;
  }

  /** Leaves the register's cached host address; returns the rest of `delta` for the memory offset. */
  private cachedHost(base: number, delta: number): number {
    const w = this.w;
    w.op2(Op.local_get, L_HOST + base);
    if (delta >= 0) return delta;
    w.i32const(delta);
    w.byte(Op.i32_add);
    return 0;
  }

  /** `br_if 0` when the address in L_A lies below the start of the window at L_H (region table). */
  private belowWindow(): void {
    const w = this.w;
    w.op2(Op.local_get, L_A);
    w.op2(Op.local_get, L_H);
    w.mem(Op.i64_load32_u, TABLE_ABS_START * 4);
    w.byte(Op.i64_lt_u);
    w.op2(Op.br_if, 0);
  }

  /**
   * Leaves 1 when the address in L_A is at most the window's last start for an access of `size` and
   * this kind (`field`) at L_H (region table), else 0.
   */
  private withinWindowEnd(size: number, field: number): void {
    const w = this.w;
    w.op2(Op.local_get, L_A);
    w.op2(Op.local_get, L_H);
    w.mem(Op.i64_load32_u, (field + sizeIndex(size)) * 4);
    w.byte(Op.i64_le_u);
  }

  /**
   * Faults unless absStart ≤ addr ≤ last (unsigned 64-bit) for this size and access kind: one pair of
   * compares tests the high half, the window start, the window end and the permission (layout.ts).
   * With `aboveStart` the first compare is already proven.
   */
  private windowCheck(size: number, field: number, pc: number, write: boolean, aboveStart: boolean): void {
    const w = this.w;
    w.op2(Op.block, 0x40);
    w.op2(Op.block, 0x40);
    if (!aboveStart) this.belowWindow();
    this.withinWindowEnd(size, field);
    w.op2(Op.br_if, 1);
    w.byte(Op.end);
    if (this.staleWindow) {
      // Called without moving the stack window (see windowFreeFunctions), the table may hold the
      // caller's, which lacks this frame: the interpreter's window for this frame starts at r10 − size.
      w.op2(Op.local_get, L_H);
      w.i32const(STACK_ENTRY);
      w.byte(Op.i32_eq);
      w.op2(Op.local_get, L_A);
      w.op2(Op.local_get, R10);
      w.i64const(this.frameSize, 0);
      w.byte(Op.i64_sub);
      w.byte(Op.i64_ge_u);
      w.byte(Op.i32_and);
      this.withinWindowEnd(size, field);
      w.byte(Op.i32_and);
      w.op2(Op.br_if, 0);
    }
    this.syncOut();
    // The engine names the window of this frame's depth in the fault (the table may hold a caller's).
    this.depthFromFrame();
    w.i32const(pc);
    w.op2(Op.local_get, L_A);
    w.i32const(size);
    w.i32const(write ? 1 : 0);
    w.byte(Op.call);
    w.u32(IMPORT_FAULT);
    w.byte(Op.unreachable);
    w.byte(Op.end);
  }

  /**
   * G_DEPTH = the depth of a frame, from its host offset (G_DEPTH is not kept in every function): this
   * function's frame (L_FPH), or with `meta`, the frame in the high half of that meta param.
   */
  private depthFromFrame(meta?: number): void {
    const w = this.w;
    w.i32const(this.fpHostTop);
    if (meta === undefined) w.op2(Op.local_get, L_FPH);
    else {
      w.op2(Op.local_get, meta);
      w.i64const(32, 0);
      w.byte(Op.i64_shr_u);
      w.byte(Op.i32_wrap_i64);
    }
    w.byte(Op.i32_sub);
    w.i32const(this.frameSize);
    w.byte(Op.i32_div_u);
    w.op2(Op.global_set, G_DEPTH);
  }

  /** Read-modify-write; the guest is single-threaded, so plain wasm loads and stores are atomic. */
  private atomic(insn: Insn & { kind: 'atomic' }): void {
    const w = this.w;
    const s = insn.src;
    const wide = insn.size === 8;
    const at = this.address(insn.dst, insn.off, insn.size, true, true, insn.pc);
    w.op2(Op.local_tee, L_H);
    w.op2(Op.local_get, L_H);
    w.mem(wide ? Op.i64_load : Op.i64_load32_u, at);
    w.op2(Op.local_tee, L_B); // old value
    switch (insn.op) {
      case 'add':
      case 'or':
      case 'and':
      case 'xor':
        w.op2(Op.local_get, s);
        w.byte(simpleAlu(insn.op, true) as number);
        break;
      case 'xchg':
        w.byte(Op.drop);
        w.op2(Op.local_get, s);
        break;
      case 'cmpxchg':
        // new = (r0 == old) ? src : old, comparing the access width.
        w.byte(Op.drop);
        w.op2(Op.local_get, s);
        w.op2(Op.local_get, L_B);
        w.op2(Op.local_get, 0);
        if (!wide) {
          w.i64const(-1, 0);
          w.byte(Op.i64_and);
        }
        w.op2(Op.local_get, L_B);
        w.byte(Op.i64_eq);
        w.byte(Op.select);
        break;
    }
    w.mem(wide ? Op.i64_store : Op.i64_store32, at);
    if (insn.op === 'cmpxchg') {
      w.op2(Op.local_get, L_B);
      w.op2(Op.local_set, 0);
    } else if (insn.fetch) {
      w.op2(Op.local_get, L_B);
      w.op2(Op.local_set, s);
    }
  }

  /**
   * LD_ABS / LD_IND: r0 = big-endian packet[imm (+ src)]; an out-of-bounds offset ends the program with
   * r0 = 0 (the trap import unwinds), as in the interpreter.
   */
  private packetLoad(insn: Insn & { kind: 'packet_load' }): void {
    const w = this.w;
    const entry = this.input.packetSlot * TABLE_STRIDE * 4;
    w.i32const(insn.imm);
    if (insn.indirect) {
      w.op2(Op.local_get, insn.src);
      w.byte(Op.i32_wrap_i64);
      w.byte(Op.i32_add);
    }
    w.op2(Op.local_tee, L_O);
    w.i32const(0);
    w.byte(Op.i32_lt_s);
    w.op2(Op.local_get, L_O);
    w.byte(Op.i64_extend_i32_s);
    w.i64const(insn.size, 0);
    w.byte(Op.i64_add);
    w.i32const(0);
    w.mem(Op.i32_load, entry + TABLE_LEN_READ * 4);
    w.byte(Op.i64_extend_i32_s);
    w.byte(Op.i64_gt_s);
    w.byte(Op.i32_or);
    w.op2(Op.if, 0x40);
    this.call(IMPORT_TRAP, insn.pc, TRAP_PACKET_EXIT);
    w.byte(Op.end);
    w.i32const(0);
    w.mem(Op.i32_load, entry + TABLE_HOST_BASE * 4);
    w.op2(Op.local_get, L_O);
    w.byte(Op.i32_add);
    if (insn.size === 1) {
      w.mem(Op.i32_load8_u);
    } else if (insn.size === 2) {
      w.mem(Op.i32_load16_u);
      w.op2(Op.local_tee, L_T);
      w.i32const(8);
      w.byte(Op.i32_shl);
      w.op2(Op.local_get, L_T);
      w.i32const(8);
      w.byte(Op.i32_shr_u);
      w.byte(Op.i32_or);
      w.i32const(0xffff);
      w.byte(Op.i32_and);
    } else {
      w.mem(Op.i32_load);
      this.bswap32();
    }
    w.byte(Op.i64_extend_i32_u);
    w.op2(Op.local_set, 0);
  }
}
