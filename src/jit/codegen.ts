/**
 * eBPF → WebAssembly code generation, one pass over the decoded instructions. One wasm function per
 * subprogram (or per part of a long one, see control-flow.ts); registers r0..r9 are its i64 parameters (r0..r5 come back as results, so a caller sees
 * exactly what the interpreter's shared register file would hold), r10 a local fixed at entry.
 *
 * Memory accesses go through the region table in the control block of the imported memory, with the
 * same outcome as the check of layout.ts; only r10-relative accesses inside the own frame skip it (r10
 * is read-only, so the address is provably inside the stack window of every depth), and accesses that
 * earlier checks of the same register value prove (checked-ranges.ts).
 */
import { LoadError } from '../errors.js';
import type { AluInsn, Insn, JumpInsn, Program } from '../isa/instruction.js';
import { BPF_MAX_LOOPS } from '../isa/opcodes.js';
import type { HelperDefinition } from '../vm/helpers.js';
import { lddwValue } from '../vm/interpreter/interpreter.js';
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
import { CheckedRanges } from './checked-ranges.js';
import { type FunctionLayout, type ProgramLayout, type Region, recycleLayout } from './control-flow.js';
import { borrowWork, releaseWork, WorkPool } from './scratch.js';
import {
  type ByteWriter,
  F64,
  type FuncType,
  I32,
  I64,
  type ModuleHeader,
  ModuleWriter,
  Op,
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

/** Largest slack of a countdown: from +2^30 (a refill) down to −slack − one block stays in i32. */
const MAX_SLACK = 2 ** 30;

/**
 * How far below 0 the instruction countdown may go between two poll sites (see `charge`): at most
 * one forward path per frame runs between polls, since loop headers, other backward-jump targets and
 * function entries all poll.
 */
export function pollSlack(layout: ProgramLayout, maxFrames: number): number {
  let longest = 0;
  for (const f of layout.functions) longest = Math.max(longest, f.last - f.first + 1);
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
export function unitGas(layout: ProgramLayout): boolean {
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
export function gasSlack(program: Program, layout: ProgramLayout, maxFrames: number): number {
  const { blockGas } = layout;
  let most = 0;
  for (const f of layout.functions) {
    let sum = 0;
    // blockGas is 0 where no block starts.
    for (let i = f.first; i <= f.last; i++) sum += blockGas[program.insns[i].pc];
    most = Math.max(most, sum);
  }
  return maxFrames * most;
}

/** See `gasSlack`. */
export function wideGas(slack: number): boolean {
  return slack > MAX_SLACK;
}

const T_SUB = 0;
const TYPES: FuncType[] = [
  { params: Array(10).fill(I64), results: Array(6).fill(I64) },
  { params: [I32, I64, I32, I32], results: [] }, // fault
  { params: [I32], results: [] }, // (unused)
  { params: [I32, ...Array(10).fill(I64)], results: [] }, // budget
  { params: [I32, I32], results: [] }, // trap
  { params: Array(12).fill(I32), results: [I32] }, // helper
  { params: [I32, I32, I32], results: [I32] }, // callx
  { params: [I32, ...Array(10).fill(I64)], results: [I64] }, // run
  { params: Array(10).fill(I64), results: Array(10).fill(I64) }, // part of a split function
  { params: [I32, ...Array(10).fill(I64)], results: [I32, ...Array(10).fill(I64)] }, // meter
];
const T_PART = 8;

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

/** The buffer modules are written into (generateModule returns a copy of the right size). */
const moduleMemory = new WorkPool();

/** Compiles the whole program to a wasm module (bytes). Exports `run`, the counters and `depth`. */
export function generateModule(input: CodegenInput): Uint8Array<ArrayBuffer> {
  const { layout } = input;
  const fnCount = layout.functions.length;
  const firstSub = IMPORT_COUNT;
  const runFn = firstSub + fnCount;
  const slackOfGas = unitGas(layout) ? 0 : gasSlack(input.program, layout, input.memory.stackMaxFrames);
  // Everything goes into one buffer, sized for the typical ≈ 18 bytes per instruction and ≈ 400 per
  // function (prologue, metering exit); it doubles when a program needs more.
  const out = new ModuleWriter(
    moduleHeader(layout, firstSub, runFn, wideGas(slackOfGas)),
    20 * input.program.slotCount + 400 * fnCount + 2048,
    moduleMemory,
  );
  const gen = new FunctionGen(input, firstSub, out, slackOfGas);
  try {
    let nextPartFn = runFn + 1;
    for (const f of layout.functions) {
      gen.compile(f, nextPartFn);
      if (f.parts.length > 1) nextPartFn += f.parts.length;
    }
    const at = out.beginBody();
    runBody(out.w);
    out.endBody(at, []);
    for (const f of layout.functions) if (f.parts.length > 1) gen.compileParts(f);
  } catch (e) {
    out.release();
    throw e;
  } finally {
    gen.release();
    recycleLayout(layout);
  }
  return out.finish();
}

/**
 * The module without its bodies. Functions: one per subprogram (its code, or the driver of its
 * parts), run, then every part.
 */
function moduleHeader(layout: ProgramLayout, firstSub: number, runFn: number, wide: boolean): ModuleHeader {
  const fnCount = layout.functions.length;
  const functions = layout.functions.map(() => T_SUB);
  functions.push(7);
  for (const f of layout.functions) if (f.parts.length > 1) for (const _ of f.parts) functions.push(T_PART);
  return {
    types: TYPES,
    imports: [
      { module: 'env', name: 'memory', kind: 'memory' },
      { module: 'env', name: 'fault', kind: 'func', type: 1 },
      { module: 'env', name: 'budget', kind: 'func', type: 3 },
      { module: 'env', name: 'trap', kind: 'func', type: 4 },
      { module: 'env', name: 'helper', kind: 'func', type: 5 },
      { module: 'env', name: 'callx', kind: 'func', type: 6 },
      { module: 'env', name: 'tail', kind: 'func', type: 3 },
      { module: 'env', name: 'meter', kind: 'func', type: 9 },
    ],
    functions,
    tableSize: fnCount,
    elements: layout.functions.map((_, k) => firstSub + k),
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
    ],
    exports: [{ name: 'run', func: runFn }],
  };
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

/**
 * The function body of a split function: a loop calling part G_PART (starting with part 0, entry 0)
 * until a part returns with G_PART = -1.
 */
function driverBody(w: ByteWriter, parts: number, firstPartFn: number, mayGoto: boolean): void {
  const saved = 10; // i32 local after the params: the caller's G_LOOPS
  if (mayGoto) {
    w.op2(Op.global_get, G_LOOPS);
    w.op2(Op.local_set, saved);
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
  if (mayGoto) {
    w.op2(Op.local_get, saved);
    w.op2(Op.global_set, G_LOOPS);
  }
  for (let r = 0; r <= 5; r++) w.op2(Op.local_get, r);
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

/** run(k, r0..r9): calls subprogram k with these registers and returns r0. */
function runBody(w: ByteWriter): void {
  for (let r = 0; r <= 9; r++) w.op2(Op.local_get, r + 1);
  w.op2(Op.local_get, 0);
  w.byte(Op.call_indirect);
  w.u32(T_SUB);
  w.byte(0);
  for (let k = 0; k < 5; k++) w.byte(Op.drop);
  w.byte(Op.end);
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
 * Per function: 1 when neither it nor anything it calls reads the stack window of the region table
 * (only own-frame accesses, no helpers or callx, which may hand stack pointers to the host), so a
 * call to it need not move the window — the caller's stays valid for everything the callee does. (A
 * stale window is the caller's, smaller than the callee's: it could never grant more access.)
 * Computed at the first local call: a program without one is not read a second time.
 */
function windowFreeFunctions(program: Program, layout: ProgramLayout, frameSize: number): Uint8Array {
  const { insns } = program;
  const count = layout.functions.length;
  const windowFree = new Uint8Array(count);
  const callees: number[][] = [];
  for (const f of layout.functions) {
    let ok = 1;
    const calls: number[] = [];
    for (let i = f.first; i <= f.last; i++) {
      const insn = insns[i];
      switch (insn.kind) {
        case 'load':
          if (!inOwnFrame(insn.src, insn.off, insn.size, frameSize)) ok = 0;
          break;
        case 'store':
        case 'atomic':
          if (!inOwnFrame(insn.dst, insn.off, insn.size, frameSize)) ok = 0;
          break;
        case 'call':
          if (insn.op === 'local') calls.push(layout.functionAt[insn.target]);
          else ok = 0;
          break;
        case 'packet_load':
          ok = 0; // its slot is configurable
          break;
      }
    }
    windowFree[f.index] = ok;
    callees.push(calls);
  }
  // A function calling one that needs the window needs it too: iterate to the fixed point.
  for (let changed = true; changed; ) {
    changed = false;
    for (let k = 0; k < count; k++) {
      if (windowFree[k] === 1 && callees[k].some((c) => windowFree[c] === 0)) {
        windowFree[k] = 0;
        changed = true;
      }
    }
  }
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
  /**
   * Open wasm constructs, innermost last: a `br` to entry k has depth `length − 1 − k`. The per-pc
   * indices below are set while the construct is open and reset to -1 when it closes.
   */
  private ctrl: number[] = [];
  private readonly openBlock: Int32Array;
  private readonly openLoop: Int32Array;
  /** Pooled memory behind openBlock and openLoop (see scratch.ts); `release` when done. */
  private readonly work: Int32Array;
  private openDispatch: number[] = [];
  /** Memory checks proven in the straight-line code being emitted. */
  private readonly checked = new CheckedRanges();
  private readonly frameSize: number;
  private readonly maxFrames: number;
  private readonly fpGuestTop: number;
  private readonly fpHostTop: number;
  /** See `unitGas`: the gas countdown is not kept. */
  private readonly unitGas: boolean;
  /** See windowFreeFunctions (undefined until the first local call). */
  private windowFree: Uint8Array | undefined;
  /** See `pollSlack`. */
  private readonly slack: number;
  /** See `gasSlack` (0 with unit gas) and `wideGas`. */
  private readonly wideGas: boolean;
  /** Loop header pc → control-stack index of the block its poll path follows (see `region`). */
  private readonly openPoll = new Map<number, number>();

  constructor(
    private readonly input: CodegenInput,
    private readonly firstSub: number,
    private readonly out: ModuleWriter,
    private readonly gasSlack: number,
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
    this.unitGas = unitGas(input.layout);
    this.wideGas = wideGas(gasSlack);
    this.slack = pollSlack(input.layout, this.maxFrames);
  }

  release(): void {
    releaseWork(this.work);
  }

  private windowFreeAt(k: number): number {
    this.windowFree ??= windowFreeFunctions(this.input.program, this.input.layout, this.frameSize);
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
    if (!this.split) {
      checkBodySize(f, this.compilePart(0));
      return;
    }
    const at = this.out.beginBody();
    driverBody(this.w, f.parts.length, firstPartFn, this.mayGoto);
    this.out.endBody(at, this.mayGoto ? [{ count: 1, type: I32 }] : []);
  }

  /** Writes one body per part of the split function `f`. */
  compileParts(f: FunctionLayout): void {
    this.f = f;
    this.split = true;
    this.mayGoto = this.input.layout.mayGoto[f.index] === 1;
    for (let p = 0; p < f.parts.length; p++) checkBodySize(f, this.compilePart(p));
  }

  /** Writes the body of part `p` of the current function; returns the size of its code. */
  private compilePart(p: number): number {
    const f = this.f;
    const part = f.parts[p];
    const w = this.w;
    const body = this.out.beginBody();
    this.part = p;
    this.regions = part.regions;
    this.ctrl = [];
    this.openDispatch = new Array(part.regions.length).fill(-1);
    this.checked.forgetAll();
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
    if (this.mayGoto && !this.split) {
      w.i32const(BPF_MAX_LOOPS);
      w.op2(Op.local_set, L_LOOPS);
    }
    this.syncIn();
    // Every block's budget check leaves this block with its pc in L_T: one shared slow path.
    this.open(Op.block, OTHER, 0);
    this.region(0);
    const { insns } = this.input.program;
    const tail = insns[part.last];
    if (this.split && !(tail.kind === 'exit' || (tail.kind === 'jump' && tail.op === 'ja'))) {
      this.toPart(insns[part.last + 1].pc); // falls through into the next part
    } else {
      w.byte(Op.unreachable);
    }
    this.close(OTHER, 0);
    this.syncOut();
    w.op2(Op.local_get, L_T);
    for (let r = 0; r <= 9; r++) w.op2(Op.local_get, r);
    w.byte(Op.call);
    w.u32(IMPORT_BUDGET);
    w.byte(Op.unreachable);
    w.byte(Op.end);
    return this.out.endBody(body, [
      { count: 3, type: I64 },
      { count: 6, type: I32 },
      { count: 1, type: this.wideGas ? I64 : I32 }, // L_LEFT_GAS
      { count: 1, type: I32 }, // L_POLL_AT
      { count: 11, type: I32 }, // L_HOST
      { count: 1, type: I32 }, // L_LOOPS
      { count: 1, type: I32 }, // L_GAS_POLL_AT
    ]);
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
    const at = this.ctrl.length;
    this.ctrl.push(kind);
    if (kind === BLOCK) this.openBlock[key] = at;
    else if (kind === LOOP) this.openLoop[key] = at;
    else if (kind === DISPATCH) this.openDispatch[key] = at;
  }

  private close(kind: number, key: number): void {
    this.w.byte(Op.end);
    this.ctrl.pop();
    if (kind === BLOCK) this.openBlock[key] = -1;
    else if (kind === LOOP) this.openLoop[key] = -1;
    else if (kind === DISPATCH) this.openDispatch[key] = -1;
  }

  private depthOf(at: number): number {
    return this.ctrl.length - 1 - at;
  }

  /** Emits region `r`: [loop] [dispatch loop] label blocks, then its code and child loops in order. */
  private region(r: number): void {
    const w = this.w;
    const R = this.regions[r];
    const { insns } = this.input.program;
    const { labelAt, labelRegion, loopAt, leader } = this.input.layout;
    const headerPc = insns[R.first].pc;
    if (R.isLoop) {
      // block $exit { loop $again { block $poll { loop $header … } br $exit } poll; br $again }
      this.open(Op.block, OTHER, 0);
      this.open(Op.loop, OTHER, 0);
      this.open(Op.block, OTHER, 0);
      this.openPoll.set(headerPc, this.ctrl.length - 1);
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
    for (let i = R.first; i <= R.last; ) {
      const insn = insns[i];
      const pc = insn.pc;
      if (labelAt[pc] >= 0 && labelRegion[pc] === r) this.close(BLOCK, pc);
      const child = loopAt[i];
      if (child >= 0 && child !== r) {
        this.region(child);
        i = this.regions[child].last + 1;
        continue;
      }
      if (leader[pc] === 1) this.charge(i);
      this.insn(insn);
      i++;
    }
    if (R.dispatch) this.close(DISPATCH, r);
    if (R.isLoop) {
      this.close(LOOP, headerPc);
      this.openPoll.delete(headerPc);
      w.byte(Op.br);
      w.u32(2); // $exit
      this.close(OTHER, 0);
      this.loopPoll(headerPc);
      this.close(OTHER, 0);
      this.close(OTHER, 0);
    }
  }

  // ------------------------------------------------------------------------------ metering

  /**
   * Charges the block starting at insns[i] on the countdowns: `left -= len` (and `leftGas -= cost`
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
  private charge(i: number): void {
    const w = this.w;
    const { layout, program } = this.input;
    const pc = program.insns[i].pc;
    const len = layout.blockInsns[pc];
    const gas = this.unitGas ? 0 : layout.blockGas[pc];
    const poll = layout.pollSite[pc] === 1;
    const wrapper = layout.loopAt[i] >= 0 ? this.openPoll.get(pc) : undefined; // only loop headers
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
      return;
    }
    w.op2(Op.local_get, L_LEFT_N);
    w.i32const(len);
    w.byte(Op.i32_sub);
    w.op2(Op.local_tee, L_LEFT_N);
    if (poll) w.op2(Op.local_get, L_POLL_AT);
    else w.i32const(-this.slack);
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
      return;
    }
    w.op2(Op.if, 0x40);
    this.stop(pc, poll);
    w.byte(Op.end);
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
    if (poll) w.op2(Op.local_get, pollAt);
    else w.i32const(floor);
    w.byte(Op.i32_lt_s);
  }

  /** A countdown ran out at the block `pc`, from inside one construct opened by `charge`. */
  private stop(pc: number, poll: boolean): void {
    const w = this.w;
    if (poll) {
      this.pollCall(pc, 1);
      return;
    }
    // Over the budget (the meters still include this block; the engine undoes it).
    w.i32const(pc);
    w.op2(Op.local_set, L_T);
    w.byte(Op.br);
    w.u32(this.ctrl.length); // the function-level block (ctrl[0]) seen from inside that construct
  }

  /**
   * Calls the meter import for the block at `pc`: it throws Interrupted, or refills and returns 0, or
   * returns 1 when the budget really cannot pay → the shared slow path. The registers go through the
   * import and back, so no value stays live across this rare call (V8 would spill them on the hot
   * path otherwise). `nested`: constructs opened since the current control stack (the `if` of
   * `charge`, or none).
   */
  private pollCall(pc: number, nested: number): void {
    const w = this.w;
    this.syncOut();
    w.i32const(pc);
    for (let r = 0; r <= 9; r++) w.op2(Op.local_get, r);
    w.byte(Op.call);
    w.u32(IMPORT_METER);
    for (let r = 9; r >= 0; r--) w.op2(Op.local_set, r);
    w.op2(Op.if, 0x40);
    w.i32const(pc);
    w.op2(Op.local_set, L_T);
    w.byte(Op.br);
    w.u32(this.ctrl.length + nested); // the function-level block (ctrl[0]) from inside the `if`
    w.byte(Op.end);
    this.syncIn();
  }

  /**
   * The poll path of the loop with header `pc`, in its `$again` loop: poll, give the header block's
   * charge back (the meters included it) and re-enter the loop, which charges it again.
   */
  private loopPoll(pc: number): void {
    const w = this.w;
    const { blockInsns, blockGas } = this.input.layout;
    this.pollCall(pc, 0);
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

  /** Meters to the globals, before anything that reads them (imports, calls, return). */
  private syncOut(): void {
    const w = this.w;
    w.op2(Op.local_get, L_LEFT_N);
    w.op2(Op.global_set, G_LEFT_N);
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
    w.op2(Op.global_get, G_POLL_AT);
    w.op2(Op.local_set, L_POLL_AT);
    if (this.unitGas) return;
    w.op2(Op.global_get, G_LEFT_GAS);
    if (this.wideGas) w.byte(Op.i64_trunc_f64_s);
    w.op2(Op.local_set, L_LEFT_GAS);
    if (this.wideGas) return;
    w.op2(Op.global_get, G_GAS_POLL_AT);
    w.op2(Op.local_set, L_GAS_POLL_AT);
  }

  /** Calls a throwing import with (pc, …ints) and marks the rest unreachable. */
  private call(fn: number, pc: number, ...ints: number[]): void {
    const w = this.w;
    this.syncOut();
    w.i32const(pc);
    for (const v of ints) w.i32const(v);
    w.byte(Op.call);
    w.u32(fn);
    w.byte(Op.unreachable);
  }

  // ------------------------------------------------------------------------------ instructions

  private insn(insn: Insn): void {
    // A jump target is reached from elsewhere: no check proven on the way here holds there.
    if (this.input.layout.labelAt[insn.pc] >= 0) this.checked.forgetAll();
    this.emit(insn);
    this.checked.after(insn);
  }

  private emit(insn: Insn): void {
    switch (insn.kind) {
      case 'alu':
        if (insn.is64) this.alu64(insn);
        else this.alu32(insn);
        return;
      case 'jump':
        this.jump(insn);
        if (insn.op === 'may_goto') this.loopCounter(-1); // fell through: one iteration used
        return;
      case 'lddw': {
        const v = lddwValue(insn, this.input.resolveLddw);
        this.w.i64const(Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0);
        this.w.op2(Op.local_set, insn.dst);
        return;
      }
      case 'load': {
        const at = this.address(insn.src, insn.off, insn.size, false, false, insn.pc);
        const op = insn.signExtend && insn.size < 8 ? LOAD_SX_OP[insn.size] : LOAD_OP[insn.size];
        this.w.mem(op, at);
        this.w.op2(Op.local_set, insn.dst);
        return;
      }
      case 'store': {
        const at = this.address(insn.dst, insn.off, insn.size, true, false, insn.pc);
        if (insn.useReg) this.w.op2(Op.local_get, insn.src);
        else this.w.i64const(insn.imm, insn.imm >> 31);
        this.w.mem(STORE_OP[insn.size], at);
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
        this.syncOut();
        if (this.split) {
          w.i32const(-1);
          w.op2(Op.global_set, G_PART);
        }
        for (let r = 0; r <= (this.split ? 9 : 5); r++) w.op2(Op.local_get, r);
        w.byte(Op.return);
        return;
      }
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
    const simple = simpleAlu(insn.op, true);
    if (simple !== undefined) {
      w.op2(Op.local_get, d);
      this.operand64(insn);
      w.byte(simple);
      w.op2(Op.local_set, d);
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

  /** Leaves dst's new value on the stack; false when dst does not change (modulo by constant 0). */
  private divide64(insn: AluInsn): boolean {
    const w = this.w;
    const d = insn.dst;
    const rem = insn.op === 'mod' || insn.op === 'smod';
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
      w.op2(Op.local_get, d);
      w.byte(Op.i32_wrap_i64);
      this.operand32(insn);
      w.byte(simple);
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
    const conditional = insn.op !== 'ja';
    if (insn.op === 'may_goto') {
      this.loopCounter(0);
      w.byte(Op.i32_eqz);
    } else if (conditional) {
      if (insn.is64) {
        w.op2(Op.local_get, insn.dst);
        this.operand64(insn);
        if (insn.op === 'jset') {
          w.byte(Op.i64_and);
          w.byte(Op.i64_eqz);
          w.byte(Op.i32_eqz);
        } else {
          w.byte(JUMP64[insn.op]);
        }
      } else {
        w.op2(Op.local_get, insn.dst);
        w.byte(Op.i32_wrap_i64);
        this.operand32(insn);
        w.byte(insn.op === 'jset' ? Op.i32_and : JUMP32[insn.op]);
      }
    }
    const t = insn.target;
    // Forward to an open block, or back to the header of an enclosing loop: one `br`.
    const direct = this.openBlock[t] >= 0 ? this.openBlock[t] : this.openLoop[t];
    if (direct >= 0) {
      w.byte(conditional ? Op.br_if : Op.br);
      w.u32(this.depthOf(direct));
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
    const [get, set, at] = this.split
      ? [Op.global_get, Op.global_set, G_LOOPS]
      : [Op.local_get, Op.local_set, L_LOOPS];
    w.op2(get, at);
    if (delta === 0) return;
    w.i32const(delta);
    w.byte(Op.i32_add);
    w.op2(set, at);
  }

  private callInsn(insn: Insn & { kind: 'call' }): void {
    const w = this.w;
    switch (insn.op) {
      case 'local': {
        const k = this.input.layout.functionAt[insn.target];
        this.localCall(
          insn.pc,
          () => {
            w.byte(Op.call);
            w.u32(this.firstSub + k);
          },
          this.windowFreeAt(k) === 0,
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
        this.helperCall(insn.pc, () => w.i32const(insn.imm));
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
        this.localCall(
          insn.pc,
          () => {
            w.op2(Op.local_get, L_T);
            w.byte(Op.call_indirect);
            w.u32(T_SUB);
            w.byte(0);
          },
          true,
        );
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
   * A bpf-to-bpf call: depth check (CallDepthExceeded at the kernel's limit), window (unless the
   * callee never reads it, see windowFreeFunctions: then only the depth moves), call, restore.
   */
  private localCall(pc: number, emitCall: () => void, window: boolean): void {
    const w = this.w;
    w.op2(Op.global_get, G_DEPTH);
    w.i32const(this.maxFrames - 1);
    w.byte(Op.i32_ge_s);
    w.op2(Op.if, 0x40);
    this.call(IMPORT_TRAP, pc, TRAP_CALL_DEPTH);
    w.byte(Op.end);
    this.moveDepth(1, window);
    this.syncOut();
    for (let r = 0; r <= 9; r++) w.op2(Op.local_get, r);
    emitCall();
    for (let r = 5; r >= 0; r--) w.op2(Op.local_set, r);
    this.syncIn();
    this.moveDepth(-1, window);
  }

  /** depth += delta, and (with `window`) the stack slot's table entry for the new depth (setWindow, inlined). */
  private moveDepth(delta: number, window: boolean): void {
    const w = this.w;
    w.op2(Op.global_get, G_DEPTH);
    w.i32const(delta);
    w.byte(Op.i32_add);
    if (!window) {
      w.op2(Op.global_set, G_DEPTH);
      return;
    }
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
    for (let r = 1; r <= 5; r++) {
      w.op2(Op.local_get, r);
      w.byte(Op.i32_wrap_i64);
      w.op2(Op.local_get, r);
      w.i64const(32, 0);
      w.byte(Op.i64_shr_u);
      w.byte(Op.i32_wrap_i64);
    }
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
    const delta = this.checked.lookup(base, off, size, write, alsoRead);
    if (delta !== undefined) return this.cachedHost(base, delta);
    // Proven for the other access kind (a read before a write to the same bytes): in the window and
    // at or above its start, so only this kind's end of the window remains to check.
    const inWindow = this.checked.lookupAnyKind(base, off, size);
    w.op2(Op.local_get, base);
    if (off !== 0) {
      w.i64const(off, off >> 31);
      w.byte(Op.i64_add);
    }
    w.op2(Op.local_tee, L_A);
    // Byte offset of the slot's table entry: (lo >>> SLOT_SHIFT) · TABLE_STRIDE · 4.
    w.byte(Op.i32_wrap_i64);
    w.i32const(SLOT_SHIFT - TABLE_SHIFT - 2);
    w.byte(Op.i32_shr_u);
    w.i32const((SLOT_COUNT - 1) << (TABLE_SHIFT + 2));
    w.byte(Op.i32_and);
    w.op2(Op.local_set, L_H);
    const aboveStart = inWindow !== undefined;
    this.windowCheck(size, write ? TABLE_LAST_WRITE : TABLE_LAST_READ, pc, write, aboveStart);
    if (alsoRead) this.windowCheck(size, TABLE_LAST_READ, pc, false, aboveStart);
    if (inWindow !== undefined) {
      this.checked.record(base, off, size, write, alsoRead, false);
      return this.cachedHost(base, inWindow);
    }
    // Accepted: host offset = low half of the address + the entry's delta.
    w.op2(Op.local_get, L_A);
    w.byte(Op.i32_wrap_i64);
    w.op2(Op.local_get, L_H);
    w.mem(Op.i32_load, TABLE_HOST_DELTA * 4);
    w.byte(Op.i32_add);
    w.op2(Op.local_tee, L_HOST + base);
    this.checked.record(base, off, size, write, alsoRead, true);
    return 0;
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

  /**
   * Faults unless absStart ≤ addr ≤ last (unsigned 64-bit) for this size and access kind: one pair of
   * compares tests the high half, the window start, the window end and the permission (layout.ts).
   * With `aboveStart` the first compare is already proven.
   */
  private windowCheck(size: number, field: number, pc: number, write: boolean, aboveStart: boolean): void {
    const w = this.w;
    w.op2(Op.block, 0x40);
    w.op2(Op.block, 0x40);
    if (!aboveStart) {
      w.op2(Op.local_get, L_A);
      w.op2(Op.local_get, L_H);
      w.mem(Op.i64_load32_u, TABLE_ABS_START * 4);
      w.byte(Op.i64_lt_u);
      w.op2(Op.br_if, 0);
    }
    w.op2(Op.local_get, L_A);
    w.op2(Op.local_get, L_H);
    w.mem(Op.i64_load32_u, (field + sizeIndex(size)) * 4);
    w.byte(Op.i64_le_u);
    w.op2(Op.br_if, 1);
    w.byte(Op.end);
    this.syncOut();
    w.i32const(pc);
    w.op2(Op.local_get, L_A);
    w.i32const(size);
    w.i32const(write ? 1 : 0);
    w.byte(Op.call);
    w.u32(IMPORT_FAULT);
    w.byte(Op.unreachable);
    w.byte(Op.end);
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
