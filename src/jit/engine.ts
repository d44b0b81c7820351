/**
 * The JIT engine entry: compiles a decoded program to WebAssembly once (control-flow.ts, codegen.ts,
 * wasm-encoder.ts), instantiates it on the guest's `WebAssembly.Memory`, and runs it with the
 * interpreter's contract: same options, same `RunResult`, same traps with the same pc, instruction
 * count and gas. The imports below are the compiled code's only way out: faults, budget stops, call
 * depth, helpers and callx resolution.
 */
import {
  BadCallTarget,
  CallDepthExceeded,
  HelperError,
  LoadError,
  OutOfGas,
  Trap,
  UsageError,
} from '../errors.js';
import { decodeProgram } from '../isa/decoder.js';
import type { Program } from '../isa/instruction.js';
import { gasPricer } from '../vm/gas.js';
import type { HelperDefinition, TailCallTarget } from '../vm/helpers.js';
import {
  DEFAULT_MAX_INSTRUCTIONS,
  helperFailure,
  helperResultInto,
  Interpreter,
  type InterpreterOptions,
  isThenable,
  MAX_TAIL_CALLS,
  type RunOptions,
  type RunResult,
} from '../vm/interpreter/interpreter.js';
import { INTERRUPT_POLL_INSTRUCTIONS, type InterruptSignal, interruptedAt } from '../vm/interrupt.js';
import { createExecutorMachine, type ExecutorMachine, type MachineOptions } from '../vm/machine.js';
import { GuestMemory } from '../vm/memory/guest-memory.js';
import { Slot, slotBase } from '../vm/memory/layout.js';
import { BlockCounts } from './block-counts.js';
import { JitCallContext, type JitHost } from './call-context.js';
import { type CodegenInput, generateModule, TRAP_CALL_DEPTH } from './codegen.js';
import { analyze, type ProgramLayout } from './control-flow.js';

/** Same options as the interpreter (memory, helpers, lddw resolver, packet slot, gas costs). */
export interface JitOptions extends InterpreterOptions {
  /** Instructions per wasm function before a function is split into parts (tests use tiny ones). */
  partSize?: number;
}

interface JitExports {
  run(k: number, ...registers: bigint[]): bigint;
  /** The countdowns (i32): instructions (and gas, when it moves with them), gas otherwise (f64 if wide). */
  leftN: WebAssembly.Global;
  leftGas: WebAssembly.Global;
  /** i32: the instruction (gas) countdown value below which poll sites poll. */
  pollAt: WebAssembly.Global;
  gasPollAt: WebAssembly.Global;
  depth: WebAssembly.Global;
  retHi: WebAssembly.Global;
  tailPending: WebAssembly.Global;
  /** r0 and r6..r9 at the current helper call. */
  r0: WebAssembly.Global;
  r6: WebAssembly.Global;
  r7: WebAssembly.Global;
  r8: WebAssembly.Global;
  r9: WebAssembly.Global;
}

/** Unwinds the compiled code when the program ends early (helper terminate, LD_ABS out of bounds). */
class Exit {
  lo = 0;
  hi = 0;
}

/** Unwinds the compiled code of a bpf_tail_call: the run continues in `target` with `registers`. */
class TailCall {
  constructor(
    readonly target: JitProgram,
    readonly registers: bigint[],
  ) {}
}

/** Traps whose counters are final. */
const counted = new WeakSet<Trap>();
/** Gas granted to an i32 gas countdown at a time (within codegen's MAX_SLACK bounds, see `grant`). */
const GAS_CHUNK = 2 ** 30;

/** Time spent compiling, in nanoseconds: our code generation and V8's wasm compilation. */
export interface CompileStats {
  codegenNs: number;
  wasmNs: number;
  wasmBytes: number;
}

/**
 * Compiled once per process for codegen's `shapeAnchor`: `r0 = 0; *(u64 *)(r10 - 8) = r0;
 * if r0 > r0 goto +1; r1 = *(u64 *)(r10 - 8); if r1 > r0 goto +2; r0 += 3; r0 += 3; r0 += 3; exit`
 * (9 slots: not a multiple of 32, for BlockCounts' tail).
 */
export const ANCHOR_PROGRAM = new Uint8Array([
  0xb7, 0x00, 0x00, 0x00, 0, 0, 0, 0, 0x7b, 0x0a, 0xf8, 0xff, 0, 0, 0, 0, 0x2d, 0x00, 0x01, 0x00, 0, 0, 0, 0,
  0x79, 0xa1, 0xf8, 0xff, 0, 0, 0, 0, 0x2d, 0x01, 0x02, 0x00, 0, 0, 0, 0, 0x07, 0x00, 0x00, 0x00, 3, 0, 0, 0,
  0x07, 0x00, 0x00, 0x00, 3, 0, 0, 0, 0x07, 0x00, 0x00, 0x00, 3, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0,
]);
/**
 * Splits ANCHOR_PROGRAM in three parts (pcs 0–2, 3–6, 7–8), one jump landing inside a later part and
 * one at a part's start: the code that only functions longer than the part size run (cutParts, the
 * parts' dispatch tables, jumps between parts) gets type feedback in the first compile, before V8
 * optimizes the compiler, instead of deoptimizing it at the first big program (and re-optimizing it
 * during the next compiles).
 */
export const ANCHOR_PART_SIZE = 3;
let shapesAnchored = false;
/** The anchor's BlockCounts, alive for the same reason as codegen's `shapeAnchor` (its class is timed too). */
const anchorBlocks: BlockCounts[] = [];

/**
 * Compiles a tiny program of our own on a small memory of our own once, keeping the compiler's
 * objects alive (codegen.ts `shapeAnchor`), so garbage collections between compiles leave the
 * compiler optimized. A user's program would do too, but would keep its memory alive.
 */
function anchorCompilerShapes(): void {
  if (shapesAnchored) return;
  shapesAnchored = true;
  const memory = new GuestMemory({ maxBytes: 1 << 20 });
  memory.mapStack();
  const program = decodeProgram(ANCHOR_PROGRAM);
  const layout = analyze(program, undefined, ANCHOR_PART_SIZE);
  anchorBlocks.push(new BlockCounts(program, layout.leader, undefined, layout.charges));
  generateModule(codegenInput(program, layout, memory, [], undefined, Slot.INPUT), false, true);
}

/** generateModule's input, built in one place: the anchor's must have the same hidden class. */
function codegenInput(
  program: Program,
  layout: ProgramLayout,
  memory: GuestMemory,
  helpers: readonly (HelperDefinition | undefined)[],
  resolveLddw: CodegenInput['resolveLddw'],
  packetSlot: number,
): CodegenInput {
  return { program, layout, memory, helpers, resolveLddw, packetSlot };
}

/** A program compiled to WebAssembly, ready to run repeatedly on its guest memory. */
export class JitProgram implements TailCallTarget, JitHost {
  readonly memory: GuestMemory;
  readonly stats: CompileStats;
  /** Function starts and block counts for traps (the layout is the code generator's only). */
  private readonly blocks: BlockCounts;
  private readonly helperTable: (HelperDefinition | undefined)[];
  private readonly exports: JitExports;
  private readonly context: JitCallContext;
  private readonly maxFrames: number;
  private readonly exit = new Exit();
  private readonly result = new Int32Array(2);
  /** What the RET_HI global holds: only `callHelper` writes it. */
  private retHi = 0;
  private readonly options: JitOptions;
  /** Interpreter for blocks the budget cannot pay in full (see budgetStop). */
  private stepper: Interpreter | undefined;
  private limit = DEFAULT_MAX_INSTRUCTIONS;
  private gasLimit = Number.POSITIVE_INFINITY;
  /**
   * The absolute counts are `nEnd − leftN` and `gasEnd − leftGas` (`gasEnd − leftN` with unit gas):
   * the compiled code only counts down, the engine refills (see `grant`).
   */
  private nEnd = 0;
  private gasEnd = 0;
  private readonly unitGas: boolean;
  /** See codegen's `pollSlack`. */
  private readonly slack: number;
  /** See codegen's `gasSlack` (0 with unit gas) and `wideGas`. */
  private readonly gasSlack: number;
  private readonly wideGas: boolean;
  /** `RunOptions.interrupt` of the current run. */
  private signal: InterruptSignal | undefined;
  private pendingExit = false;
  private pendingTail: JitProgram | undefined;
  /** The program executing the current run: this one, or the target of the last tail call. */
  private running: JitProgram = this;
  /** Tail calls made so far in the current run (the kernel allows MAX_TAIL_CALLS). */
  private tailCalls = 0;
  private busy = false;
  private interruptRequested = false;

  constructor(
    readonly program: Program,
    options: JitOptions,
  ) {
    this.options = options;
    this.memory = options.memory;
    this.maxFrames = options.memory.stackMaxFrames;
    if (this.maxFrames === 0) throw new LoadError('INVALID_FIELD', 'the guest memory has no stack mapped');
    this.helperTable = options.helpers?.toTable() ?? [];
    // performance.now, not process.hrtime: the JIT runs in browsers too.
    const t0 = performance.now();
    const price = options.gasCosts ? gasPricer(options.gasCosts) : undefined;
    const layout = analyze(program, price, options.partSize);
    this.blocks = new BlockCounts(program, layout.leader, price, layout.charges);
    // Borrowed bytes: WebAssembly.Module copies them, so a copy of our own would be wasted.
    const packetSlot =
      options.packetSlot ?? (options.memory.region(Slot.PACKET) !== undefined ? Slot.PACKET : Slot.INPUT);
    const { bytes, release, directHelpers, meters } = generateModule(
      codegenInput(program, layout, this.memory, this.helperTable, options.resolveLddw, packetSlot),
      true,
    );
    this.unitGas = meters.unitGas;
    this.slack = meters.slack;
    this.gasSlack = meters.gasSlack;
    this.wideGas = meters.wideGas;
    const t1 = performance.now();
    const wasmBytes = bytes.length;
    let module: WebAssembly.Module;
    try {
      module = new WebAssembly.Module(bytes);
    } finally {
      release();
    }
    const instance = new WebAssembly.Instance(module, {
      env: {
        memory: this.memory.wasm,
        fault: (pc: number, address: bigint, size: number, write: number) => {
          // A function called without moving the stack window ran on its caller's (codegen's
          // windowFreeFunctions): name the window of the faulting frame, as the interpreter does.
          this.memory.setStackDepth(this.exports.depth.value as number);
          const fault = this.memory.fault(BigInt.asUintN(64, address), size, write ? 'write' : 'read', pc);
          throw this.count(fault, pc);
        },
        budget: this.budgetStop.bind(this),
        trap: (pc: number, kind: number) => {
          if (kind === TRAP_CALL_DEPTH) throw this.count(new CallDepthExceeded(this.maxFrames, pc), pc);
          this.exit.lo = 0;
          this.exit.hi = 0;
          throw this.exit;
        },
        helper: this.callHelper.bind(this),
        callx: this.resolveCallx.bind(this),
        tail: (_pc: number, ...registers: bigint[]) => {
          const target = this.pendingTail;
          if (!target) throw new Error('internal: tail import without a pending tail call');
          this.pendingTail = undefined;
          this.exports.tailPending.value = 0;
          throw new TailCall(target, registers);
        },
        meter: this.meter.bind(this),
        ...Object.fromEntries(directHelpers.map((id) => [`direct${id}`, this.helperTable[id]?.direct])),
      },
    });
    this.exports = instance.exports as unknown as JitExports;
    this.stats = {
      codegenNs: Math.round((t1 - t0) * 1e6),
      wasmNs: Math.round((performance.now() - t1) * 1e6),
      wasmBytes,
    };
    this.context = new JitCallContext(this);
    anchorCompilerShapes(); // once per process, after the timed part
  }

  /**
   * The program that was executing when the last run ended or trapped: this one, or the target of
   * its last tail call (a trap's pc refers to it), as `Interpreter.activeProgram`.
   */
  get activeProgram(): Program {
    return this.running.program;
  }

  /** Runs from `entry` (a function start, default 0) with r1..r5 = `args`. */
  run(options: RunOptions = {}): RunResult {
    if (this.busy) throw new UsageError('this JIT program is already running');
    if (options.trace) throw new UsageError('tracing is only available on the interpreter');
    const entry = options.entry ?? 0;
    const k = entry >= 0 && entry < this.program.slotCount ? this.blocks.functionAt(entry) : -1;
    if (k < 0) {
      throw new LoadError('JUMP_OUT_OF_RANGE', `entry pc ${entry} is not the start of a function`, {
        pc: entry,
      });
    }
    const gasLimit = options.gasLimit ?? Number.POSITIVE_INFINITY;
    if (!(gasLimit >= 0)) throw new UsageError(`gas limit ${gasLimit} must be a non-negative number`);
    let registers = [0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n];
    const args = options.args ?? [];
    for (let i = 0; i < args.length && i < 5; i++) registers[i + 1] = BigInt.asIntN(64, BigInt(args[i]));
    const limit = options.maxInstructions ?? DEFAULT_MAX_INSTRUCTIONS;
    const signal = options.interrupt;
    if (signal?.requested) throw interruptedAt(entry);
    this.memory.clearStack();
    this.memory.setStackDepth(0);
    this.busy = true;
    let active: JitProgram = this;
    this.running = this;
    this.interruptRequested = false;
    let n = 0;
    let gas = 0;
    let tailCalls = 0;
    try {
      // One iteration per program: the entry one, then each bpf_tail_call target.
      for (let fn = k; ; fn = 0) {
        active.enter(n, gas, limit, gasLimit, tailCalls, signal);
        const x = active.exports;
        try {
          const r0 = x.run(fn, ...registers);
          return {
            r0: BigInt.asUintN(64, r0),
            instructions: active.instructions(),
            gasUsed: active.gasUsed(),
          };
        } catch (e) {
          if (e instanceof Exit) return active.exitResult();
          if (!(e instanceof TailCall)) {
            if (e instanceof Trap && !counted.has(e)) {
              // Raised outside an import that knows its pc (none expected): the run so far.
              e.instructions = active.instructions();
              e.gasUsed = active.gasUsed();
            }
            throw e;
          }
          n = active.instructions();
          gas = active.gasUsed();
          registers = e.registers;
          if (active !== this) active.busy = false;
          active = e.target;
          this.running = active;
          active.interruptRequested = this.interruptRequested;
          tailCalls++;
        }
      }
    } finally {
      this.busy = false;
      active.busy = false;
    }
  }

  /** Resets the meters and run state to continue a run (from its start or after a tail call). */
  private enter(
    n: number,
    gas: number,
    limit: number,
    gasLimit: number,
    tailCalls: number,
    signal: InterruptSignal | undefined,
  ): void {
    this.limit = limit;
    this.gasLimit = gasLimit;
    this.tailCalls = tailCalls;
    this.signal = signal;
    this.grant(n, gas);
    const x = this.exports;
    x.depth.value = 0;
    x.tailPending.value = 0;
    this.pendingExit = false;
    this.pendingTail = undefined;
    this.busy = true;
  }

  /**
   * The Executor contract of the host API. The JIT cannot suspend, so this runs synchronously; a
   * helper returning a Promise is a HelperError, as under `run`.
   */
  async runAsync(options: RunOptions = {}): Promise<RunResult> {
    return this.run(options);
  }

  /**
   * Stops the guest with an `Interrupted` trap after the current helper call (or at the next poll,
   * see `RunOptions.interrupt`). No effect when idle.
   */
  interrupt(): void {
    if (!this.busy) return;
    this.interruptRequested = true;
    // After tail calls another program runs: it checks its own flag.
    if (this.running !== this) this.running.interruptRequested = true;
  }

  private exitResult(): RunResult {
    const { lo, hi } = this.exit;
    const r0 = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    return { r0, instructions: this.instructions(), gasUsed: this.gasUsed() };
  }

  /** Instructions counted so far (the compiled code's meters must be synced out). */
  private instructions(): number {
    return this.nEnd - (this.exports.leftN.value as number);
  }

  /** Gas counted so far (the compiled code's meters must be synced out). */
  private gasUsed(): number {
    return this.gasEnd - ((this.unitGas ? this.exports.leftN.value : this.exports.leftGas.value) as number);
  }

  /**
   * Sets the countdowns for the counts `n` and `gas` (within the budget). The instruction countdown
   * goes below pollAt = 0 at the next interrupt poll (after `poll` instructions) and below −slack
   * exactly at the budget (see codegen's `charge`); within the last `poll` + slack instructions
   * pollAt is −slack, so poll sites stop polling rather than call the meter at every visit. The gas
   * countdown does the same with gasPollAt and gasSlack, refilled every GAS_CHUNK; a wide one is
   * exact: below 0 at the gas limit.
   */
  private grant(n: number, gas: number, poll = INTERRUPT_POLL_INSTRUCTIONS): void {
    const x = this.exports;
    // Gas counts stay exact below 2^53: gasEnd = gas + gasLeft must not round.
    const gasLeft = Math.min(Math.floor(this.gasLimit - gas), 2 ** 52);
    let budget = Math.floor(this.limit - n);
    if (this.unitGas) budget = Math.min(budget, gasLeft);
    const far = budget - this.slack > poll;
    const left = far ? poll : budget - this.slack;
    x.pollAt.value = far ? 0 : -this.slack;
    if (this.unitGas) {
      this.gasEnd = gas + left;
    } else if (this.wideGas) {
      x.leftGas.value = gasLeft;
      this.gasEnd = gas + gasLeft;
    } else {
      const farGas = gasLeft - this.gasSlack > GAS_CHUNK;
      const leftGas = farGas ? GAS_CHUNK : gasLeft - this.gasSlack;
      x.gasPollAt.value = farGas ? 0 : -this.gasSlack;
      x.leftGas.value = leftGas;
      this.gasEnd = gas + leftGas;
    }
    x.leftN.value = left;
    this.nEnd = n + left;
  }

  /** Sets a trap's counters from the meters, which hold the whole block of `pc`: refund the rest. */
  private count(trap: Trap, pc: number): Trap {
    if (counted.has(trap)) return trap;
    trap.instructions = this.instructions() - this.blocks.insnsAfter(pc);
    trap.gasUsed = this.gasUsed() - this.blocks.gasAfter(pc);
    counted.add(trap);
    return trap;
  }

  /** `interrupt()` was called or the run's signal is raised. */
  private interruptPending(): boolean {
    return this.interruptRequested || this.signal?.requested === true;
  }

  /**
   * A countdown ran out at the poll site `pc` (its block charged). Over the real budget: 1, the
   * block goes to budgetStop. Else this is an interrupt poll: stop before the block, or refill the
   * countdowns and let the block run (0, with the registers as they were).
   */
  private meter(pc: number, ...registers: bigint[]): (number | bigint)[] {
    const n = this.instructions();
    const gas = this.gasUsed();
    if (n > this.limit || gas > this.gasLimit) return [1, ...registers];
    if (this.interruptPending()) {
      const trap = interruptedAt(pc);
      trap.instructions = n - this.blocks.blockInsns(pc);
      trap.gasUsed = gas - this.blocks.blockGas(pc);
      counted.add(trap);
      throw trap;
    }
    this.grant(n, gas);
    return [0, ...registers];
  }

  /**
   * The budget cannot pay the block at `pc` (the meters hold it and everything before): the interpreter
   * runs the block's affordable prefix and traps at the first instruction it cannot pay, so the
   * effects, pc and counters are its own. Created on first use; most programs never get here.
   */
  private budgetStop(pc: number, ...registers: bigint[]): never {
    this.stepper ??= new Interpreter(this.program, this.options);
    const x = this.exports;
    let result: RunResult;
    try {
      result = this.stepper.continueRun(pc, x.depth.value as number, registers, {
        // The compiled code charged the whole block before finding it unaffordable.
        instructions: this.instructions() - this.blocks.blockInsns(pc),
        gasUsed: this.gasUsed() - this.blocks.blockGas(pc),
        maxInstructions: this.limit,
        gasLimit: this.gasLimit,
      });
    } catch (e) {
      // The interpreter set the counters of its traps.
      if (e instanceof Trap) counted.add(e);
      throw e;
    }
    throw new Error(
      `internal: the block at pc ${pc} ran to its end on a budget that could not pay it (${result.instructions} instructions)`,
    );
  }

  private callHelper(
    pc: number,
    id: number,
    a: number,
    b: number,
    c: number,
    d: number,
    e: number,
    f: number,
    g: number,
    h: number,
    i: number,
    j: number,
  ): number {
    // No `direct` attempt here: `call imm` sites call it through their own import first (codegen's
    // callHelperId); callx, rare, goes straight to `call`, which has the same result.
    const ctx = this.context;
    const R = ctx.registers;
    R[2] = a;
    R[3] = b;
    R[4] = c;
    R[5] = d;
    R[6] = e;
    R[7] = f;
    R[8] = g;
    R[9] = h;
    R[10] = i;
    R[11] = j;
    ctx.pc = pc;
    const helper = this.helperTable[id];
    let result: unknown;
    try {
      if (helper === undefined) {
        throw new BadCallTarget(`call at pc ${pc} to helper ${id}, which is not registered`, { pc });
      }
      result = helper.call(ctx);
      if (isThenable(result)) {
        throw new HelperError(
          `helper ${helper.name} (${helper.id}) at pc ${pc} returned a Promise; the JIT runs synchronously`,
          { pc },
        );
      }
      helperResultInto(this.result, result, helper, pc);
    } catch (err) {
      if (err instanceof Exit || err instanceof TailCall) throw err;
      throw this.count(helperFailure(err, helper, pc), pc);
    }
    if (this.pendingExit) {
      this.pendingExit = false;
      throw this.exit;
    }
    return this.helperReturn(pc, this.result[0], this.result[1]);
  }

  /** Ends a helper call at `pc` that returned r0 = (lo, hi): RET_HI gets `hi`, the code gets `lo`. */
  private helperReturn(pc: number, lo: number, hi: number): number {
    if (this.interruptPending()) throw this.count(interruptedAt(pc + 1), pc);
    // Setting a WebAssembly.Global from JS is a slow API call; most results keep the high half.
    if (hi !== this.retHi) {
      this.retHi = hi;
      this.exports.retHi.value = hi;
    }
    return lo;
  }

  /** callx: a code address of a function start → its index; a registered helper id → -1. */
  private resolveCallx(pc: number, lo: number, hi: number): number {
    const codePc = (lo >>> 0) - slotBase(Slot.CODE);
    const { insnAt, slotCount } = this.program;
    if (hi === 0 && codePc >= 0 && codePc % 8 === 0 && codePc / 8 < slotCount && insnAt[codePc / 8] >= 0) {
      const k = this.blocks.functionAt(codePc / 8);
      if (k >= 0) return k;
      throw this.count(
        new BadCallTarget(
          `callx at pc ${pc} to pc ${codePc / 8}, which is not the start of a function (the JIT only calls functions)`,
          { pc },
        ),
        pc,
      );
    }
    if (hi === 0 && lo >= 0 && this.helperTable[lo] !== undefined) return -1;
    const value = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    throw this.count(
      new BadCallTarget(
        `callx at pc ${pc} to 0x${value.toString(16)}, which is neither a code address nor a registered helper id`,
        { pc },
      ),
      pc,
    );
  }

  // ------------------------------------------------------------------------------ JitHost

  /** bpf_tail_call into another JIT program on this memory, from depth 0, at most MAX_TAIL_CALLS. */
  requestTailCall(target: TailCallTarget): boolean {
    if (!(target instanceof JitProgram) || target.memory !== this.memory) return false;
    if ((this.exports.depth.value as number) !== 0 || this.tailCalls >= MAX_TAIL_CALLS) return false;
    this.pendingTail = target;
    this.exports.tailPending.value = 1;
    return true;
  }

  requestTerminate(lo: number, hi: number): void {
    this.exit.lo = lo;
    this.exit.hi = hi;
    this.pendingExit = true;
  }

  consumeGas(amount: number, pc: number): void {
    if (!Number.isSafeInteger(amount) || amount < 0) {
      throw new HelperError(`consumeGas(${amount}) at pc ${pc}: the amount must be a non-negative integer`, {
        pc,
      });
    }
    const used = this.gasUsed();
    if (used + amount > this.gasLimit) throw this.count(new OutOfGas(this.gasLimit, pc), pc);
    // Same poll point: helpers charging gas often must not postpone interrupt polls.
    this.grant(this.instructions(), used + amount, this.exports.leftN.value as number);
  }

  callFunction(target: bigint, args: readonly bigint[], callPc: number): bigint {
    const offset = target - BigInt(slotBase(Slot.CODE));
    const entry = Number(offset / 8n);
    const k =
      offset >= 0n && offset % 8n === 0n && entry < this.program.slotCount
        ? this.blocks.functionAt(entry)
        : -1;
    if (k < 0) {
      throw new BadCallTarget(
        `callback at pc ${callPc} to 0x${target.toString(16)}, which is not the start of a function`,
        { pc: callPc },
      );
    }
    const x = this.exports;
    const depth = x.depth.value as number;
    if (depth + 1 >= this.maxFrames) throw new CallDepthExceeded(this.maxFrames, callPc);
    // Like the interpreter's shared register file: the callback starts with the caller's r0 and
    // r6..r9, and its r0 stays in r0 for the next callback of the same helper call.
    const a = [x.r0.value, 0n, 0n, 0n, 0n, 0n, x.r6.value, x.r7.value, x.r8.value, x.r9.value];
    for (let i = 0; i < 5; i++) a[i + 1] = BigInt.asIntN(64, args[i] ?? 0n);
    x.depth.value = depth + 1;
    this.memory.setStackDepth(depth + 1);
    let r0 = 0n;
    try {
      r0 = BigInt.asUintN(64, x.run(k, ...a));
    } catch (e) {
      // A helper ending the program inside a callback ends the callback, as in the interpreter.
      if (!(e instanceof Exit)) throw e;
      r0 = this.exitResult().r0;
    } finally {
      x.depth.value = depth;
      this.memory.setStackDepth(depth);
    }
    x.r0.value = BigInt.asIntN(64, r0);
    x.r6.value = a[6];
    x.r7.value = a[7];
    x.r8.value = a[8];
    x.r9.value = a[9];
    return r0;
  }
}

export type JitMachineOptions = MachineOptions;

/** The conformance calling convention on the JIT (see vm/machine.ts). */
export function createJitMachine(
  code: Program | Uint8Array,
  options: JitMachineOptions = {},
): ExecutorMachine<JitProgram> & { readonly jit: JitProgram } {
  const machine = createExecutorMachine(code, options, (p, o) => new JitProgram(p, o));
  return { ...machine, jit: machine.executor };
}
