/**
 * The eBPF interpreter. A decoded `Program` is lowered once into a packed Int32Array (4 words per slot)
 * and executed by one switch on the raw opcode byte. Registers are int32 (lo, hi) halves in an
 * Int32Array, so the hot path uses no BigInt and allocates nothing.
 */
import {
  type AccessKind,
  BadCallTarget,
  BpfError,
  CallDepthExceeded,
  HelperError,
  InstructionLimit,
  Interrupted,
  LoadError,
  OutOfGas,
  Trap,
  UsageError,
} from '../../errors.js';
import type { Insn, Program } from '../../isa/instruction.js';
import { BPF_MAX_LOOPS } from '../../isa/opcodes.js';
import { type GasCostTable, gasPricer } from '../gas.js';
import type { HelperDefinition, HelperRegistry, TailCallTarget } from '../helpers.js';
import { INTERRUPT_POLL_INSTRUCTIONS, type InterruptSignal, interruptedAt } from '../interrupt.js';
import { type GuestMemory, STACK_WINDOW_FP, STACK_WINDOW_STRIDE } from '../memory/guest-memory.js';
import {
  SLOT_SHIFT,
  Slot,
  slotBase,
  TABLE_ABS_START,
  TABLE_HOST_BASE,
  TABLE_LEN_READ,
  TABLE_LEN_WRITE,
  TABLE_SHIFT,
  TABLE_STRIDE,
} from '../memory/layout.js';
import { type HelperHost, RegisterHelperContext } from '../register-helper-context.js';
import { bswap16, bswap32, mul64, neg64, pairToBigInt, sdivmod64, udivmod64 } from './int64.js';

export const DEFAULT_MAX_INSTRUCTIONS = 10_000_000;
/** The kernel's limit on chained tail calls (MAX_TAIL_CALL_CNT). */
export const MAX_TAIL_CALLS = 33;

export interface InterpreterOptions {
  memory: GuestMemory;
  helpers?: HelperRegistry;
  /**
   * Resolves lddw forms other than a plain imm64 (map fd/idx, map values, variable addresses) to their
   * 64-bit value. The ELF loader supplies it; without it such programs are rejected at load.
   */
  resolveLddw?: (insn: Insn & { kind: 'lddw' }) => bigint;
  /** Slot whose region LD_ABS/LD_IND read (default: the packet region, else the input region). */
  packetSlot?: number;
  /** Gas price per instruction class (default 1 per instruction). */
  gasCosts?: GasCostTable;
}

export interface RunOptions {
  /** r1..r5 at entry. */
  args?: readonly (bigint | number)[];
  /** Instruction budget (default 10^7). */
  maxInstructions?: number;
  /** Gas limit (default: unlimited; gas is counted either way). */
  gasLimit?: number;
  /**
   * Called before every executed instruction. Costs nothing when absent: tracing reuses the stop
   * marker of partially paid runs, one instruction at a time.
   */
  trace?: (step: TraceStep) => void;
  /** Entry pc (default 0). */
  entry?: number;
  /**
   * Stops the run with an `Interrupted` trap (pc = the next instruction to run, counters exact) once
   * raised: checked when the run starts, after every helper call and about every
   * `INTERRUPT_POLL_INSTRUCTIONS` executed instructions, so it also stops endless loops, even from
   * another thread (see `InterruptSignal`). `interrupt()` on the executor works without it.
   */
  interrupt?: InterruptSignal;
}

/** What the tracer sees before an instruction executes. */
export interface TraceStep {
  pc: number;
  insn: Insn;
  /** r0..r10 before the instruction. */
  registers: readonly bigint[];
  /** Call depth (0 = the entry function). */
  depth: number;
  /** Instructions executed and gas used before this one. */
  instructions: number;
  gasUsed: number;
  /** The guest memory this instruction will access, for loads, stores and atomics. */
  access?: { address: bigint; size: number; kind: 'read' | 'write' | 'read-write' };
}

export interface RunResult {
  r0: bigint;
  /** Instructions executed, including the final exit. */
  instructions: number;
  /** Gas used: the exact sum of the executed instructions' costs plus helper charges. */
  gasUsed: number;
}

/** Traps whose counters are final (set by the innermost run that saw them). */
const counted = new WeakSet<Trap>();

/** Words per lowered slot: [opcode | dst*2 << 8 | src*2 << 16, off-or-target, imm, aux]. */
const W = 4;

/** Code addresses handed out by lddw src=4 and accepted by callx: CODE slot base + pc * 8. */
export function codeAddress(pc: number): number {
  return slotBase(Slot.CODE) + pc * 8;
}

/** A lowered, linked program ready to run repeatedly. */
export class Interpreter implements TailCallTarget, HelperHost {
  private readonly code: Int32Array;
  /** Instructions from each pc through the next control-flow instruction (see `runLengths`). */
  private readonly runs: Int32Array;
  /** Gas of the same runs, and of each single instruction. */
  private readonly runCosts: Float64Array;
  private readonly insnCosts: Float64Array;
  /** Meter state shared with helpers (`consumeGas`) during a call; the loop keeps its own copies. */
  private gasUsed = 0;
  private gasLimit = Number.POSITIVE_INFINITY;
  /**
   * A run that the budget cannot pay in full is cut short by swapping the first unaffordable
   * instruction for a stop marker (opcode 0x00, never valid eBPF), so the hot loop never checks the
   * budget per instruction. `stopPc` is that slot (-1 when none), restored when the run ends.
   */
  private stopPc = -1;
  private stopWord = 0;
  private stopTrap: 'instructions' | 'gas' | 'trace' = 'gas';
  /** Per-instruction hook of the current run (RunOptions.trace). */
  private tracer: ((step: TraceStep) => void) | undefined;
  private readonly helperTable: (HelperDefinition | undefined)[];
  /** @internal The guest memory (HelperHost); `guestMemory` is the public name. */
  readonly memory: GuestMemory;
  private readonly packetSlot: number;
  private readonly regs = new Int32Array(22);
  private readonly scratch = new Int32Array(2);
  /** Per frame: return pc, r6..r9 as 8 words. */
  private readonly frames: Int32Array;
  /**
   * Per frame: what its `may_goto`s have left, BPF_MAX_LOOPS when the frame is entered (the kernel
   * keeps it in a hidden stack slot; here it is outside guest memory). Deterministic: no timed variant.
   */
  private readonly loops: Int32Array;
  private readonly maxFrames: number;
  private readonly context: CallContext;
  /** The program executing now: this one, or the target of the last tail call. */
  private active: Interpreter = this;
  /** Call depth at the current helper call (tail calls are only allowed from depth 0). */
  private helperDepth = 0;
  /** Instructions executed when the current helper was called (callbacks continue the count). */
  private helperInstructions = 0;
  /** The instruction budget of the current run. */
  private instructionLimit = DEFAULT_MAX_INSTRUCTIONS;
  private tailCalls = 0;
  /** Action a helper requested, carried out when it returns. */
  private pending: 'none' | 'terminate' | 'tail_call' | 'suspend' | 'interrupt' = 'none';
  /** True between prepare() and the end of run/runAsync. */
  private busy = false;
  private asyncMode = false;
  private interruptRequested = false;
  /** `RunOptions.interrupt` of the current run. */
  private signal: InterruptSignal | undefined;
  /** The Promise a helper returned in runAsync, and where to resume when it settles. */
  private pendingPromise: PromiseLike<unknown> | undefined;
  private suspendedHelper: HelperDefinition | undefined;
  private suspended: {
    pc: number;
    depth: number;
    instructions: number;
    callPc: number;
    helper: HelperDefinition | undefined;
  } = { pc: 0, depth: 0, instructions: 0, callPc: 0, helper: undefined };
  private pendingTarget: Interpreter = this;
  private terminateLo = 0;
  private terminateHi = 0;

  constructor(
    readonly program: Program,
    options: InterpreterOptions,
  ) {
    this.memory = options.memory;
    this.helperTable = options.helpers?.toTable() ?? [];
    this.maxFrames = options.memory.stackMaxFrames;
    if (this.maxFrames === 0) throw new LoadError('INVALID_FIELD', 'the guest memory has no stack mapped');
    this.frames = new Int32Array(this.maxFrames * 9);
    this.loops = new Int32Array(this.maxFrames);
    this.packetSlot =
      options.packetSlot ?? (options.memory.region(Slot.PACKET) !== undefined ? Slot.PACKET : Slot.INPUT);
    this.code = lower(program, options, this.helperTable);
    this.runs = runLengths(program);
    [this.runCosts, this.insnCosts] = runGas(program, gasPricer(options.gasCosts), this.runs);
    this.context = new CallContext(this);
  }

  /**
   * The program that was executing when the last run ended or trapped: this one, or the target of
   * its last tail call (a trap's pc refers to it).
   */
  get activeProgram(): Program {
    return this.active.program;
  }

  /** Registers as BigInts (for tracing, tests and debugging). */
  registers(): bigint[] {
    const out: bigint[] = [];
    for (let i = 0; i < 11; i++) out.push(pairToBigInt(this.regs[2 * i], this.regs[2 * i + 1]));
    return out;
  }

  /** @internal The live register file, read by CallContext. */
  get registerFile(): Int32Array {
    return this.regs;
  }

  /** @internal */
  requestTerminate(lo: number, hi: number): void {
    this.pending = 'terminate';
    this.terminateLo = lo;
    this.terminateHi = hi;
  }

  /**
   * @internal Schedules a tail call into `target` (kernel bpf_tail_call semantics): it must share this
   * guest memory, be requested from the main function (call depth 0) and stay within MAX_TAIL_CALLS.
   * Returns false when refused; the helper then returns an error and execution continues.
   */
  requestTailCall(target: TailCallTarget): boolean {
    if (!(target instanceof Interpreter) || target.memory !== this.memory) return false;
    if (this.helperDepth !== 0 || this.tailCalls >= MAX_TAIL_CALLS) return false;
    this.pending = 'tail_call';
    this.pendingTarget = target;
    return true;
  }

  get guestMemory(): GuestMemory {
    return this.memory;
  }

  run(options: RunOptions = {}): RunResult {
    const { entry, limit, gasLimit } = this.prepare(options, false);
    try {
      const result = this.execute(entry, 0, 0, 0, limit, gasLimit);
      if (result === null) throw new Error('unreachable: a synchronous run cannot suspend');
      return result;
    } finally {
      this.busy = false;
    }
  }

  /**
   * Like `run`, but helpers may return a Promise: the guest suspends at that call and resumes with
   * the settled value as r0 (a rejection becomes a HelperError at the call). `interrupt()` while
   * suspended stops the guest when it would resume.
   */
  async runAsync(options: RunOptions = {}): Promise<RunResult> {
    const { entry, limit, gasLimit } = this.prepare(options, true);
    try {
      let result = this.execute(entry, 0, 0, 0, limit, gasLimit);
      while (result === null) {
        const { pc, depth, instructions, callPc, helper } = this.suspended;
        let value: unknown;
        try {
          value = await this.pendingPromise;
        } catch (e) {
          throw this.asTrap(helperFailure(e, helper, callPc), callPc, instructions, this.gasUsed);
        }
        try {
          this.setHelperResult(value, helper, callPc);
          if (this.interruptPending()) throw interruptedAt(pc);
        } catch (e) {
          throw this.asTrap(e, callPc, instructions, this.gasUsed);
        }
        result = this.execute(pc, depth, instructions, this.gasUsed, limit, gasLimit);
      }
      return result;
    } finally {
      this.busy = false;
      this.asyncMode = false;
    }
  }

  /**
   * @internal Continues a run another engine started: from `pc` at call depth `depth` with r0..r9 =
   * `registers` and the counters so far, on the same memory (the stack is kept). The JIT hands over a
   * basic block its budget cannot pay, so the run stops inside that block with the exact trap; an
   * exit at `depth` ends it like a return.
   */
  continueRun(
    pc: number,
    depth: number,
    registers: readonly bigint[],
    counters: { instructions: number; gasUsed: number; maxInstructions: number; gasLimit: number },
  ): RunResult {
    if (this.busy) throw new UsageError('this interpreter is already running');
    const R = this.regs;
    for (let i = 0; i < 10; i++) {
      const v = BigInt.asUintN(64, registers[i] ?? 0n);
      R[2 * i] = Number(v & 0xffffffffn) | 0;
      R[2 * i + 1] = Number(v >> 32n) | 0;
    }
    const { instructions, gasUsed, maxInstructions, gasLimit } = counters;
    this.pending = 'none';
    this.active = this;
    this.tailCalls = 0;
    this.gasLimit = gasLimit;
    this.instructionLimit = maxInstructions;
    this.gasUsed = gasUsed;
    this.interruptRequested = false;
    this.signal = undefined;
    this.asyncMode = false;
    this.tracer = undefined;
    // The JIT hands over at most one block, which stops before a may_goto could run; reset anyway.
    this.loops[depth] = BPF_MAX_LOOPS;
    this.busy = true;
    try {
      const result = this.execute(pc, depth, instructions, gasUsed, maxInstructions, gasLimit, depth);
      if (result === null) throw new Error('unreachable: a synchronous run cannot suspend');
      return result;
    } finally {
      this.busy = false;
    }
  }

  /**
   * Asks a running guest to stop at the next poll with an `Interrupted` trap: right after the current
   * helper call, when a suspended `runAsync` would resume, or at a run boundary within about
   * INTERRUPT_POLL_INSTRUCTIONS instructions. No effect when idle.
   */
  interrupt(): void {
    if (this.busy) this.interruptRequested = true;
  }

  /** Resets the machine state for a new run and validates the options. */
  private prepare(
    options: RunOptions,
    asyncMode: boolean,
  ): { entry: number; limit: number; gasLimit: number } {
    if (this.busy) {
      throw new UsageError('this interpreter is already running (a runAsync call has not finished)');
    }
    const R = this.regs;
    R.fill(0);
    const args = options.args ?? [];
    for (let i = 0; i < args.length && i < 5; i++) {
      const v = BigInt.asUintN(64, BigInt(args[i]));
      R[2 + 2 * i] = Number(v & 0xffffffffn) | 0;
      R[3 + 2 * i] = Number(v >> 32n) | 0;
    }
    const memory = this.memory;
    memory.clearStack();
    memory.setStackDepth(0);
    R[20] = memory.stackWindows[STACK_WINDOW_FP];
    R[21] = 0;
    const limit = options.maxInstructions ?? DEFAULT_MAX_INSTRUCTIONS;
    const entry = options.entry ?? 0;
    if (this.program.insnAt[entry] === undefined || this.program.insnAt[entry] < 0) {
      throw new LoadError('JUMP_OUT_OF_RANGE', `entry pc ${entry} is not the start of an instruction`, {
        pc: entry,
      });
    }
    const gasLimit = options.gasLimit ?? Number.POSITIVE_INFINITY;
    if (!(gasLimit >= 0)) throw new UsageError(`gas limit ${gasLimit} must be a non-negative number`);
    this.pending = 'none';
    this.active = this;
    this.tailCalls = 0;
    this.gasLimit = gasLimit;
    this.instructionLimit = limit;
    this.gasUsed = 0;
    this.interruptRequested = false;
    this.asyncMode = asyncMode;
    this.tracer = options.trace;
    this.loops[0] = BPF_MAX_LOOPS;
    this.signal = options.interrupt;
    if (this.signal?.requested) throw this.asTrap(interruptedAt(entry), entry, 0, 0);
    this.busy = true;
    return { entry, limit, gasLimit };
  }

  /**
   * Runs from `entry` at call depth `depth` with `n` instructions and `gas` already used (0 for a new
   * run; the saved state when resuming). Returns null when a helper suspended the guest (runAsync).
   */
  private execute(
    entry: number,
    startDepth: number,
    startN: number,
    startGas: number,
    limit: number,
    gasLimit: number,
    baseDepth = 0,
  ): RunResult | null {
    const R = this.regs;
    const S = this.scratch;
    let code = this.active.code;
    const memory = this.memory;
    const T = memory.table;
    const u8 = memory.u8;
    const dv = memory.view;
    const frames = this.frames;
    const loops = this.loops;
    const maxFrames = this.maxFrames;
    const windows = memory.stackWindows;
    let runs = this.active.runs;
    let costs = this.active.runCosts;
    let depth = startDepth;
    let pc = entry;
    let ipc = entry;
    // Instructions and gas are charged a run at a time (see `runLengths`): n and gas cover every
    // instruction up to the end of the current run (or up to its stop marker), and are corrected for
    // the unexecuted rest when a trap stops the run.
    let n = startN;
    let gas = startGas;
    // Tracing takes the partial-run path for every run (a limit nothing fits), so the hot loop
    // itself has no tracing check. Otherwise the charge limit is also the next interrupt poll.
    const tracing = this.tracer !== undefined;
    let chargeLimit = tracing ? -1 : Math.min(limit, n + INTERRUPT_POLL_INSTRUCTIONS);
    enterDepth(memory.table, windows, depth, R);
    try {
      if (n + runs[pc] > chargeLimit || gas + costs[pc] > gasLimit) {
        chargeLimit = this.chargeSlow(pc, n, gas, limit, gasLimit);
        n = this.chargedInstructions;
        gas = this.gasUsed;
      } else {
        n += runs[pc];
        gas += costs[pc];
      }
      for (;;) {
        ipc = pc;
        const i = pc * W;
        const w = code[i];
        const d = (w >> 8) & 0xff;
        const s = w >>> 16;
        pc++;
        switch (w & 0xff) {
          // ---------------------------------------------------------------- ALU64, K and X sources
          case 0x07: {
            // add64 imm
            const a = R[d];
            const b = code[i + 2];
            const lo = (a + b) | 0;
            R[d + 1] = (R[d + 1] + (b >> 31) + (lo >>> 0 < a >>> 0 ? 1 : 0)) | 0;
            R[d] = lo;
            continue;
          }
          case 0x0f: {
            // add64 reg
            const a = R[d];
            const b = R[s];
            const lo = (a + b) | 0;
            R[d + 1] = (R[d + 1] + R[s + 1] + (lo >>> 0 < a >>> 0 ? 1 : 0)) | 0;
            R[d] = lo;
            continue;
          }
          case 0x17: {
            // sub64 imm
            const a = R[d];
            const b = code[i + 2];
            const lo = (a - b) | 0;
            R[d + 1] = (R[d + 1] - (b >> 31) - (a >>> 0 < b >>> 0 ? 1 : 0)) | 0;
            R[d] = lo;
            continue;
          }
          case 0x1f: {
            // sub64 reg
            const a = R[d];
            const b = R[s];
            const lo = (a - b) | 0;
            R[d + 1] = (R[d + 1] - R[s + 1] - (a >>> 0 < b >>> 0 ? 1 : 0)) | 0;
            R[d] = lo;
            continue;
          }
          case 0x27: // mul64 imm
            mul64(S, R[d], R[d + 1], code[i + 2], code[i + 2] >> 31);
            R[d] = S[0];
            R[d + 1] = S[1];
            continue;
          case 0x2f: // mul64 reg
            mul64(S, R[d], R[d + 1], R[s], R[s + 1]);
            R[d] = S[0];
            R[d + 1] = S[1];
            continue;
          case 0x37: // div64 / sdiv64 imm
            div64(R, S, d, code[i + 2], code[i + 2] >> 31, code[i + 1] === 1, false);
            continue;
          case 0x3f: // div64 / sdiv64 reg
            div64(R, S, d, R[s], R[s + 1], code[i + 1] === 1, false);
            continue;
          case 0x97: // mod64 / smod64 imm
            div64(R, S, d, code[i + 2], code[i + 2] >> 31, code[i + 1] === 1, true);
            continue;
          case 0x9f: // mod64 / smod64 reg
            div64(R, S, d, R[s], R[s + 1], code[i + 1] === 1, true);
            continue;
          case 0x47: // or64 imm
            R[d] |= code[i + 2];
            R[d + 1] |= code[i + 2] >> 31;
            continue;
          case 0x4f:
            R[d] |= R[s];
            R[d + 1] |= R[s + 1];
            continue;
          case 0x57: // and64 imm
            R[d] &= code[i + 2];
            R[d + 1] &= code[i + 2] >> 31;
            continue;
          case 0x5f:
            R[d] &= R[s];
            R[d + 1] &= R[s + 1];
            continue;
          case 0xa7: // xor64 imm
            R[d] ^= code[i + 2];
            R[d + 1] ^= code[i + 2] >> 31;
            continue;
          case 0xaf:
            R[d] ^= R[s];
            R[d + 1] ^= R[s + 1];
            continue;
          case 0x67: // lsh64 imm
            lsh64(R, d, code[i + 2] & 63);
            continue;
          case 0x6f:
            lsh64(R, d, R[s] & 63);
            continue;
          case 0x77: // rsh64 imm
            rsh64(R, d, code[i + 2] & 63);
            continue;
          case 0x7f:
            rsh64(R, d, R[s] & 63);
            continue;
          case 0xc7: // arsh64 imm
            arsh64(R, d, code[i + 2] & 63);
            continue;
          case 0xcf:
            arsh64(R, d, R[s] & 63);
            continue;
          case 0x87: // neg64
            neg64(S, R[d], R[d + 1]);
            R[d] = S[0];
            R[d + 1] = S[1];
            continue;
          case 0xb7: // mov64 imm
            R[d] = code[i + 2];
            R[d + 1] = code[i + 2] >> 31;
            continue;
          case 0xbf: {
            // mov64 reg, or movsx 8/16/32 → 64 (off = width)
            const off = code[i + 1];
            if (off === 0) {
              R[d] = R[s];
              R[d + 1] = R[s + 1];
            } else {
              const v = off === 8 ? (R[s] << 24) >> 24 : off === 16 ? (R[s] << 16) >> 16 : R[s];
              R[d] = v;
              R[d + 1] = v >> 31;
            }
            continue;
          }
          case 0xd7: // bswap16/32/64 (imm = width)
            swap(R, d, code[i + 2], true);
            continue;
          // ---------------------------------------------------------------- ALU (32-bit), zero-extended
          case 0x04:
            R[d] = (R[d] + code[i + 2]) | 0;
            R[d + 1] = 0;
            continue;
          case 0x0c:
            R[d] = (R[d] + R[s]) | 0;
            R[d + 1] = 0;
            continue;
          case 0x14:
            R[d] = (R[d] - code[i + 2]) | 0;
            R[d + 1] = 0;
            continue;
          case 0x1c:
            R[d] = (R[d] - R[s]) | 0;
            R[d + 1] = 0;
            continue;
          case 0x24:
            R[d] = Math.imul(R[d], code[i + 2]);
            R[d + 1] = 0;
            continue;
          case 0x2c:
            R[d] = Math.imul(R[d], R[s]);
            R[d + 1] = 0;
            continue;
          case 0x34:
            R[d] = div32(R[d], code[i + 2], code[i + 1] === 1, false);
            R[d + 1] = 0;
            continue;
          case 0x3c:
            R[d] = div32(R[d], R[s], code[i + 1] === 1, false);
            R[d + 1] = 0;
            continue;
          case 0x94:
            R[d] = div32(R[d], code[i + 2], code[i + 1] === 1, true);
            R[d + 1] = 0;
            continue;
          case 0x9c:
            R[d] = div32(R[d], R[s], code[i + 1] === 1, true);
            R[d + 1] = 0;
            continue;
          case 0x44:
            R[d] |= code[i + 2];
            R[d + 1] = 0;
            continue;
          case 0x4c:
            R[d] |= R[s];
            R[d + 1] = 0;
            continue;
          case 0x54:
            R[d] &= code[i + 2];
            R[d + 1] = 0;
            continue;
          case 0x5c:
            R[d] &= R[s];
            R[d + 1] = 0;
            continue;
          case 0xa4:
            R[d] ^= code[i + 2];
            R[d + 1] = 0;
            continue;
          case 0xac:
            R[d] ^= R[s];
            R[d + 1] = 0;
            continue;
          case 0x64:
            R[d] <<= code[i + 2];
            R[d + 1] = 0;
            continue;
          case 0x6c:
            R[d] <<= R[s];
            R[d + 1] = 0;
            continue;
          case 0x74:
            R[d] = R[d] >>> code[i + 2];
            R[d + 1] = 0;
            continue;
          case 0x7c:
            R[d] = R[d] >>> R[s];
            R[d + 1] = 0;
            continue;
          case 0xc4:
            R[d] >>= code[i + 2];
            R[d + 1] = 0;
            continue;
          case 0xcc:
            R[d] >>= R[s];
            R[d + 1] = 0;
            continue;
          case 0x84:
            R[d] = -R[d] | 0;
            R[d + 1] = 0;
            continue;
          case 0xb4:
            R[d] = code[i + 2];
            R[d + 1] = 0;
            continue;
          case 0xbc: {
            // mov32 reg, or movsx 8/16 → 32
            const off = code[i + 1];
            R[d] = off === 0 ? R[s] : off === 8 ? (R[s] << 24) >> 24 : (R[s] << 16) >> 16;
            R[d + 1] = 0;
            continue;
          }
          case 0xd4: // le16/32/64
            swap(R, d, code[i + 2], false);
            continue;
          case 0xdc: // be16/32/64
            swap(R, d, code[i + 2], true);
            continue;
          // ---------------------------------------------------------------- JMP (64-bit compares)
          case 0x05: // ja
            pc = code[i + 1];
            break;
          case 0x15:
            if (R[d] === code[i + 2] && R[d + 1] === code[i + 2] >> 31) pc = code[i + 1];
            break;
          case 0x1d:
            if (R[d] === R[s] && R[d + 1] === R[s + 1]) pc = code[i + 1];
            break;
          case 0x55:
            if (R[d] !== code[i + 2] || R[d + 1] !== code[i + 2] >> 31) pc = code[i + 1];
            break;
          case 0x5d:
            if (R[d] !== R[s] || R[d + 1] !== R[s + 1]) pc = code[i + 1];
            break;
          case 0x45:
            if ((R[d] & code[i + 2]) !== 0 || (R[d + 1] & (code[i + 2] >> 31)) !== 0) pc = code[i + 1];
            break;
          case 0x4d:
            if ((R[d] & R[s]) !== 0 || (R[d + 1] & R[s + 1]) !== 0) pc = code[i + 1];
            break;
          case 0x25:
            if (ugt(R[d], R[d + 1], code[i + 2], code[i + 2] >> 31)) pc = code[i + 1];
            break;
          case 0x2d:
            if (ugt(R[d], R[d + 1], R[s], R[s + 1])) pc = code[i + 1];
            break;
          case 0x35:
            if (!ugt(code[i + 2], code[i + 2] >> 31, R[d], R[d + 1])) pc = code[i + 1];
            break;
          case 0x3d:
            if (!ugt(R[s], R[s + 1], R[d], R[d + 1])) pc = code[i + 1];
            break;
          case 0xa5:
            if (ugt(code[i + 2], code[i + 2] >> 31, R[d], R[d + 1])) pc = code[i + 1];
            break;
          case 0xad:
            if (ugt(R[s], R[s + 1], R[d], R[d + 1])) pc = code[i + 1];
            break;
          case 0xb5:
            if (!ugt(R[d], R[d + 1], code[i + 2], code[i + 2] >> 31)) pc = code[i + 1];
            break;
          case 0xbd:
            if (!ugt(R[d], R[d + 1], R[s], R[s + 1])) pc = code[i + 1];
            break;
          case 0x65:
            if (sgt(R[d], R[d + 1], code[i + 2], code[i + 2] >> 31)) pc = code[i + 1];
            break;
          case 0x6d:
            if (sgt(R[d], R[d + 1], R[s], R[s + 1])) pc = code[i + 1];
            break;
          case 0x75:
            if (!sgt(code[i + 2], code[i + 2] >> 31, R[d], R[d + 1])) pc = code[i + 1];
            break;
          case 0x7d:
            if (!sgt(R[s], R[s + 1], R[d], R[d + 1])) pc = code[i + 1];
            break;
          case 0xc5:
            if (sgt(code[i + 2], code[i + 2] >> 31, R[d], R[d + 1])) pc = code[i + 1];
            break;
          case 0xcd:
            if (sgt(R[s], R[s + 1], R[d], R[d + 1])) pc = code[i + 1];
            break;
          case 0xd5:
            if (!sgt(R[d], R[d + 1], code[i + 2], code[i + 2] >> 31)) pc = code[i + 1];
            break;
          case 0xdd:
            if (!sgt(R[d], R[d + 1], R[s], R[s + 1])) pc = code[i + 1];
            break;
          case 0xe5: // may_goto: falls through while this frame's counter lasts, then jumps
            if (loops[depth] === 0) pc = code[i + 1];
            else loops[depth]--;
            break;
          // ---------------------------------------------------------------- JMP32 (low halves)
          case 0x06: // gotol (ja32)
            pc = code[i + 1];
            break;
          case 0x16:
            if (R[d] === code[i + 2]) pc = code[i + 1];
            break;
          case 0x1e:
            if (R[d] === R[s]) pc = code[i + 1];
            break;
          case 0x56:
            if (R[d] !== code[i + 2]) pc = code[i + 1];
            break;
          case 0x5e:
            if (R[d] !== R[s]) pc = code[i + 1];
            break;
          case 0x46:
            if ((R[d] & code[i + 2]) !== 0) pc = code[i + 1];
            break;
          case 0x4e:
            if ((R[d] & R[s]) !== 0) pc = code[i + 1];
            break;
          case 0x26:
            if (R[d] >>> 0 > code[i + 2] >>> 0) pc = code[i + 1];
            break;
          case 0x2e:
            if (R[d] >>> 0 > R[s] >>> 0) pc = code[i + 1];
            break;
          case 0x36:
            if (R[d] >>> 0 >= code[i + 2] >>> 0) pc = code[i + 1];
            break;
          case 0x3e:
            if (R[d] >>> 0 >= R[s] >>> 0) pc = code[i + 1];
            break;
          case 0xa6:
            if (R[d] >>> 0 < code[i + 2] >>> 0) pc = code[i + 1];
            break;
          case 0xae:
            if (R[d] >>> 0 < R[s] >>> 0) pc = code[i + 1];
            break;
          case 0xb6:
            if (R[d] >>> 0 <= code[i + 2] >>> 0) pc = code[i + 1];
            break;
          case 0xbe:
            if (R[d] >>> 0 <= R[s] >>> 0) pc = code[i + 1];
            break;
          case 0x66:
            if (R[d] > code[i + 2]) pc = code[i + 1];
            break;
          case 0x6e:
            if (R[d] > R[s]) pc = code[i + 1];
            break;
          case 0x76:
            if (R[d] >= code[i + 2]) pc = code[i + 1];
            break;
          case 0x7e:
            if (R[d] >= R[s]) pc = code[i + 1];
            break;
          case 0xc6:
            if (R[d] < code[i + 2]) pc = code[i + 1];
            break;
          case 0xce:
            if (R[d] < R[s]) pc = code[i + 1];
            break;
          case 0xd6:
            if (R[d] <= code[i + 2]) pc = code[i + 1];
            break;
          case 0xde:
            if (R[d] <= R[s]) pc = code[i + 1];
            break;
          // ---------------------------------------------------------------- loads
          // The common loads and stores have their own cases so the access size is a constant.
          case 0x79: {
            // ldxdw
            const h = translate(T, R[s], R[s + 1], code[i + 1], 8, TABLE_LEN_READ);
            if (h < 0) throw this.fault(R[s], R[s + 1], code[i + 1], 8, 'read', ipc);
            R[d] = dv.getInt32(h, true);
            R[d + 1] = dv.getInt32(h + 4, true);
            continue;
          }
          case 0x61: {
            // ldxw
            const h = translate(T, R[s], R[s + 1], code[i + 1], 4, TABLE_LEN_READ);
            if (h < 0) throw this.fault(R[s], R[s + 1], code[i + 1], 4, 'read', ipc);
            R[d] = dv.getInt32(h, true);
            R[d + 1] = 0;
            continue;
          }
          case 0x69: {
            // ldxh
            const h = translate(T, R[s], R[s + 1], code[i + 1], 2, TABLE_LEN_READ);
            if (h < 0) throw this.fault(R[s], R[s + 1], code[i + 1], 2, 'read', ipc);
            R[d] = dv.getUint16(h, true);
            R[d + 1] = 0;
            continue;
          }
          case 0x71: {
            // ldxb
            const h = translate(T, R[s], R[s + 1], code[i + 1], 1, TABLE_LEN_READ);
            if (h < 0) throw this.fault(R[s], R[s + 1], code[i + 1], 1, 'read', ipc);
            R[d] = u8[h];
            R[d + 1] = 0;
            continue;
          }
          case 0x81: // ldxsw
          case 0x89: // ldxsh
          case 0x91: {
            // ldxsb
            const size = code[i + 3];
            const h = translate(T, R[s], R[s + 1], code[i + 1], size, TABLE_LEN_READ);
            if (h < 0) throw this.fault(R[s], R[s + 1], code[i + 1], size, 'read', ipc);
            const v =
              size === 4 ? dv.getInt32(h, true) : size === 2 ? dv.getInt16(h, true) : (u8[h] << 24) >> 24;
            R[d] = v;
            R[d + 1] = v >> 31;
            continue;
          }
          case 0x7b: {
            // stxdw
            const h = translate(T, R[d], R[d + 1], code[i + 1], 8, TABLE_LEN_WRITE);
            if (h < 0) throw this.fault(R[d], R[d + 1], code[i + 1], 8, 'write', ipc);
            dv.setInt32(h, R[s], true);
            dv.setInt32(h + 4, R[s + 1], true);
            continue;
          }
          case 0x63: {
            // stxw
            const h = translate(T, R[d], R[d + 1], code[i + 1], 4, TABLE_LEN_WRITE);
            if (h < 0) throw this.fault(R[d], R[d + 1], code[i + 1], 4, 'write', ipc);
            dv.setInt32(h, R[s], true);
            continue;
          }
          case 0x6b: // stxh
          case 0x73: {
            // stxb
            const size = code[i + 3];
            const h = translate(T, R[d], R[d + 1], code[i + 1], size, TABLE_LEN_WRITE);
            if (h < 0) throw this.fault(R[d], R[d + 1], code[i + 1], size, 'write', ipc);
            store(dv, u8, h, size, R[s], R[s + 1]);
            continue;
          }
          case 0x62: // stw
          case 0x6a: // sth
          case 0x72: // stb
          case 0x7a: {
            // stdw
            const size = code[i + 3];
            const h = translate(T, R[d], R[d + 1], code[i + 1], size, TABLE_LEN_WRITE);
            if (h < 0) throw this.fault(R[d], R[d + 1], code[i + 1], size, 'write', ipc);
            store(dv, u8, h, size, code[i + 2], code[i + 2] >> 31);
            continue;
          }
          case 0xc3: // atomic 32
          case 0xdb: {
            // atomic 64
            const size = code[i + 3];
            const h = translate(T, R[d], R[d + 1], code[i + 1], size, TABLE_LEN_WRITE);
            if (h < 0 || translate(T, R[d], R[d + 1], code[i + 1], size, TABLE_LEN_READ) < 0) {
              throw this.fault(R[d], R[d + 1], code[i + 1], size, h < 0 ? 'write' : 'read', ipc);
            }
            atomic(R, dv, h, size, code[i + 2], s);
            continue;
          }
          case 0x18: {
            // lddw (pre-resolved 64-bit value in imm / aux)
            R[d] = code[i + 2];
            R[d + 1] = code[i + 3];
            pc++;
            continue;
          }
          case 0x20: // ld_abs w
          case 0x28: // ld_abs h
          case 0x30: // ld_abs b
          case 0x40: // ld_ind w
          case 0x48: // ld_ind h
          case 0x50: {
            // ld_ind b: r0 = ntoh(packet[imm (+ src)]); out of bounds ends the program with r0 = 0
            const size = code[i + 3];
            let off = code[i + 2];
            if ((w & 0xe0) === 0x40) off = (off + R[s]) | 0;
            const t = this.packetSlot * TABLE_STRIDE;
            const len = T[t + TABLE_LEN_READ];
            if (off < 0 || off + size > len) {
              R[0] = 0;
              R[1] = 0;
              return { r0: 0n, instructions: n, gasUsed: gas };
            }
            const h = T[t + TABLE_HOST_BASE] + off;
            R[0] = size === 4 ? dv.getInt32(h, false) : size === 2 ? dv.getUint16(h, false) : u8[h];
            R[1] = 0;
            break;
          }
          // ---------------------------------------------------------------- calls and exit
          case 0x85: {
            const kind = code[i + 1];
            if (kind === 1) {
              // local call
              if (depth + 1 >= maxFrames) throw new CallDepthExceeded(maxFrames, ipc);
              pushFrame(frames, depth, pc, R);
              depth++;
              enterDepth(T, windows, depth, R);
              loops[depth] = BPF_MAX_LOOPS;
              pc = code[i + 3];
            } else {
              this.helperDepth = depth;
              this.helperInstructions = n;
              this.gasUsed = gas;
              this.callHelper(code[i + 2], ipc);
              n = this.helperInstructions;
              gas = this.gasUsed;
              if (this.pending !== 'none') {
                if (this.pending !== 'tail_call') return this.leave(pc, depth, n, gas, ipc);
                code = this.enterTailCall();
                runs = this.active.runs;
                costs = this.active.runCosts;
                pc = 0;
              }
            }
            break;
          }
          case 0x8d: {
            // callx: a code address (lddw src=4) calls locally, a small integer calls that helper.
            const lo = R[d];
            const hi = R[d + 1];
            const codePc = (lo >>> 0) - slotBase(Slot.CODE);
            if (hi === 0 && codePc >= 0 && codePc % 8 === 0 && this.active.program.insnAt[codePc / 8] >= 0) {
              if (depth + 1 >= maxFrames) throw new CallDepthExceeded(maxFrames, ipc);
              pushFrame(frames, depth, pc, R);
              depth++;
              enterDepth(T, windows, depth, R);
              loops[depth] = BPF_MAX_LOOPS;
              pc = codePc / 8;
            } else if (hi === 0 && lo >= 0 && this.active.helperTable[lo] !== undefined) {
              this.helperDepth = depth;
              this.helperInstructions = n;
              this.gasUsed = gas;
              this.callHelper(lo, ipc);
              n = this.helperInstructions;
              gas = this.gasUsed;
              if (this.pending !== 'none') {
                if (this.pending !== 'tail_call') return this.leave(pc, depth, n, gas, ipc);
                code = this.enterTailCall();
                runs = this.active.runs;
                costs = this.active.runCosts;
                pc = 0;
              }
            } else {
              throw new BadCallTarget(
                `callx at pc ${ipc} to 0x${pairToBigInt(lo, hi).toString(16)}, which is neither a code address nor a registered helper id`,
                { pc: ipc },
              );
            }
            break;
          }
          case 0x95: // exit
            if (depth === baseDepth) return { r0: pairToBigInt(R[0], R[1]), instructions: n, gasUsed: gas };
            depth--;
            pc = popFrame(frames, depth, R);
            enterDepth(T, windows, depth, R);
            break;
          case 0x00: // the stop marker (see `stopPc`): out of budget, or the next step to trace
            if (this.stopTrap !== 'trace') {
              throw this.stopTrap === 'gas' ? new OutOfGas(gasLimit, ipc) : new InstructionLimit(limit, ipc);
            }
            this.traceStep(ipc, depth, n, gas, limit, gasLimit);
            n = this.chargedInstructions;
            gas = this.gasUsed;
            pc = ipc; // now execute the real instruction
            continue;
          default:
            // Unreachable: the decoder rejects every other opcode before lowering.
            throw new BadCallTarget(`internal: unhandled opcode 0x${(w & 0xff).toString(16)}`, { pc: ipc });
        }
        // Only control-flow instructions get here (all others `continue`): charge the run starting at
        // the next pc, or the part of it the budget can pay.
        if (n + runs[pc] > chargeLimit || gas + costs[pc] > gasLimit) {
          chargeLimit = this.chargeSlow(pc, n, gas, limit, gasLimit);
          n = this.chargedInstructions;
          gas = this.gasUsed;
        } else {
          n += runs[pc];
          gas += costs[pc];
        }
      }
    } catch (e) {
      // Budget stops happen exactly where the budget ran out, interrupts at a run boundary; any
      // other trap refunds what its run was charged beyond the trapping instruction.
      let executed = n;
      let used = gas;
      // (Tracing charges each instruction just before it runs, so its counts are always exact.)
      if (!(tracing || e instanceof InstructionLimit || e instanceof OutOfGas || e instanceof Interrupted)) {
        executed -= runs[ipc] - 1;
        used -= costs[ipc] - this.active.insnCosts[ipc];
        if (this.stopPc >= 0) {
          executed += runs[this.stopPc];
          used += costs[this.stopPc];
        }
      }
      throw this.asTrap(e, ipc, executed, used);
    } finally {
      this.clearStop();
    }
  }

  /** Instructions charged by the last `chargeSlow` or `chargePartialRun`. */
  private chargedInstructions = 0;

  /**
   * The run at `pc` is over the charge limit. At an interrupt poll (the budget still pays the run):
   * stop if interrupted, else charge the run and return the next poll point. Otherwise the budget
   * runs out inside this run: `chargePartialRun`. Counters go to chargedInstructions / gasUsed.
   */
  private chargeSlow(pc: number, n: number, gas: number, limit: number, gasLimit: number): number {
    const run = this.active.runs[pc];
    const cost = this.active.runCosts[pc];
    if (this.tracer === undefined && n + run <= limit && gas + cost <= gasLimit) {
      if (this.interruptPending()) throw interruptedAt(pc);
      this.chargedInstructions = n + run;
      this.gasUsed = gas + cost;
      return Math.min(limit, n + run + INTERRUPT_POLL_INSTRUCTIONS);
    }
    this.chargePartialRun(pc, n, gas, limit, gasLimit);
    return this.tracer === undefined ? limit : -1;
  }

  /**
   * Charges the affordable prefix of the run at `pc` (instructions one by one against both budgets)
   * and plants the stop marker on the first instruction that does not fit; throws at once if not even
   * the first one fits.
   */
  private chargePartialRun(pc: number, n: number, gas: number, limit: number, gasLimit: number): void {
    const active = this.active;
    if (this.tracer !== undefined) {
      // Nothing is charged yet: the marker on the run's first instruction reports and charges it.
      this.chargedInstructions = n;
      this.gasUsed = gas;
      this.plantStop(pc, 'trace');
      return;
    }
    const { insns, insnAt } = active.program;
    for (let k = insnAt[pc]; ; k++) {
      const at = insns[k].pc;
      const cost = active.insnCosts[at];
      const outOfInstructions = n + 1 > limit;
      if (outOfInstructions || gas + cost > gasLimit) {
        this.chargedInstructions = n;
        this.gasUsed = gas;
        if (at === pc) throw outOfInstructions ? new InstructionLimit(limit, pc) : new OutOfGas(gasLimit, pc);
        this.plantStop(at, outOfInstructions ? 'instructions' : 'gas');
        return;
      }
      n += 1;
      gas += cost;
    }
  }

  private plantStop(pc: number, kind: 'instructions' | 'gas' | 'trace'): void {
    const code = this.active.code;
    this.stopPc = pc;
    this.stopWord = code[pc * W];
    this.stopTrap = kind;
    code[pc * W] = 0;
  }

  /**
   * At a trace marker on `pc`: restore the instruction, charge it (trapping exactly here if the budget
   * cannot pay), report it to the tracer, and mark the next instruction of the run.
   */
  private traceStep(
    pc: number,
    depth: number,
    n: number,
    gas: number,
    limit: number,
    gasLimit: number,
  ): void {
    this.clearStop();
    const active = this.active;
    const insn = active.program.insns[active.program.insnAt[pc]];
    const cost = active.insnCosts[pc];
    this.chargedInstructions = n;
    this.gasUsed = gas;
    if (n + 1 > limit) throw new InstructionLimit(limit, pc);
    if (gas + cost > gasLimit) throw new OutOfGas(gasLimit, pc);
    this.tracer?.({
      pc,
      insn,
      registers: this.registers(),
      depth,
      instructions: n,
      gasUsed: gas,
      access: memoryAccessOf(insn, this.regs),
    });
    this.chargedInstructions = n + 1;
    this.gasUsed = gas + cost;
    if (active.runs[pc] > 1) this.plantStop(pc + insn.slots, 'trace');
  }

  private clearStop(): void {
    if (this.stopPc < 0) return;
    this.active.code[this.stopPc * W] = this.stopWord;
    this.stopPc = -1;
  }

  /**
   * @internal Runs the BPF function at `target` (a code address) as a callback of the current helper:
   * in a new frame one level below the helper's caller, with r1..r5 = `args`, counting instructions
   * and gas as part of the run. Returns its r0. Used by bpf_loop and friends.
   */
  callFunction(target: bigint, args: readonly bigint[], callPc: number): bigint {
    const active = this.active;
    const offset = target - BigInt(slotBase(Slot.CODE));
    const entry = Number(offset / 8n);
    if (
      offset < 0n ||
      offset % 8n !== 0n ||
      entry >= active.program.slotCount ||
      active.program.insnAt[entry] < 0
    ) {
      throw new BadCallTarget(
        `callback at pc ${callPc} to 0x${target.toString(16)}, which is not the start of a function`,
        { pc: callPc },
      );
    }
    const depth = this.helperDepth;
    if (depth + 1 >= this.maxFrames) throw new CallDepthExceeded(this.maxFrames, callPc);
    const R = this.regs;
    // The helper's own arguments (r1..r5) stay readable after the callback returns.
    const helperArgs = R.slice(2, 12);
    pushFrame(this.frames, depth, callPc, R);
    this.loops[depth + 1] = BPF_MAX_LOOPS;
    for (let k = 0; k < 5; k++) {
      const v = BigInt.asUintN(64, args[k] ?? 0n);
      R[2 + 2 * k] = Number(v & 0xffffffffn) | 0;
      R[3 + 2 * k] = Number(v >> 32n) | 0;
    }
    const result = this.execute(
      entry,
      depth + 1,
      this.helperInstructions,
      this.gasUsed,
      this.instructionLimit,
      this.gasLimit,
      depth + 1,
    );
    if (result === null) {
      throw new HelperError(
        `a callback at pc ${callPc} cannot suspend (async helpers only run at the top level)`,
        {
          pc: callPc,
        },
      );
    }
    popFrame(this.frames, depth, R);
    R.set(helperArgs, 2);
    enterDepth(this.memory.table, this.memory.stackWindows, depth, R);
    this.helperDepth = depth;
    this.helperInstructions = result.instructions;
    this.gasUsed = result.gasUsed;
    return result.r0;
  }

  /** @internal Charges a helper's own cost; traps at the call when the gas limit cannot pay it. */
  consumeGas(amount: number, pc: number): void {
    if (!Number.isSafeInteger(amount) || amount < 0) {
      throw new HelperError(`consumeGas(${amount}) at pc ${pc}: the amount must be a non-negative integer`, {
        pc,
      });
    }
    if (this.gasUsed + amount > this.gasLimit) throw new OutOfGas(this.gasLimit, pc);
    this.gasUsed += amount;
  }

  private fault(lo: number, hi: number, off: number, size: number, access: AccessKind, pc: number): Trap {
    const address = BigInt.asUintN(64, pairToBigInt(lo, hi) + BigInt(off));
    return this.memory.fault(address, size, access, pc);
  }

  private asTrap(e: unknown, pc: number, n: number, gasUsed: number): BpfError {
    const trap =
      e instanceof Trap
        ? e
        : e instanceof BpfError
          ? e
          : new HelperError(
              `helper at pc ${pc} failed: ${e instanceof Error ? e.message : String(e)}`,
              { pc },
              {
                cause: e,
              },
            );
    // A trap from a callback's nested run already carries the run's totals.
    if (trap instanceof Trap && !counted.has(trap)) {
      trap.instructions = n;
      trap.gasUsed = gasUsed;
      counted.add(trap);
    }
    return trap;
  }

  /**
   * Carries out what a helper asked for other than a tail call, right after its call at `callPc`:
   * end the program, suspend it (state saved for runAsync; returns null), or stop it (interrupt).
   */
  private leave(pc: number, depth: number, n: number, gas: number, callPc: number): RunResult | null {
    const action = this.pending;
    this.pending = 'none';
    if (action === 'terminate') {
      this.regs[0] = this.terminateLo;
      this.regs[1] = this.terminateHi;
      return { r0: pairToBigInt(this.terminateLo, this.terminateHi), instructions: n, gasUsed: gas };
    }
    if (action === 'suspend') {
      this.gasUsed = gas;
      this.suspended = { pc, depth, instructions: n, callPc, helper: this.suspendedHelper };
      return null;
    }
    throw interruptedAt(pc);
  }

  /** `interrupt()` was called or the run's signal is raised. */
  private interruptPending(): boolean {
    return this.interruptRequested || this.signal?.requested === true;
  }

  /** Switches execution to the pending tail-call target; registers and the stack frame carry over. */
  private enterTailCall(): Int32Array {
    this.pending = 'none';
    this.tailCalls++;
    this.loops[0] = BPF_MAX_LOOPS; // the new program starts its own frame 0
    this.active = this.pendingTarget;
    return this.active.code;
  }

  private callHelper(id: number, pc: number): void {
    const helper = this.active.helperTable[id];
    if (helper === undefined) {
      throw new BadCallTarget(`call at pc ${pc} to helper ${id}, which is not registered`, { pc });
    }
    const direct = helper.direct;
    if (direct !== undefined) {
      const R = this.regs;
      const r0 = direct(R[2], R[3], R[4], R[5], R[6], R[7], R[8], R[9], R[10], R[11]);
      if (!Number.isNaN(r0)) {
        R[0] = r0;
        R[1] = r0 >> 31;
        if (this.interruptRequested && this.pending === 'none') this.pending = 'interrupt';
        return;
      }
    }
    const ctx = this.context;
    ctx.pc = pc;
    let result: unknown;
    try {
      result = helper.call(ctx);
    } catch (e) {
      throw helperFailure(e, helper, pc);
    }
    if (isThenable(result)) {
      if (!this.asyncMode) {
        throw new HelperError(
          `helper ${helper.name} (${helper.id}) at pc ${pc} returned a Promise; run the program with runAsync`,
          { pc },
        );
      }
      this.pendingPromise = result;
      this.suspendedHelper = helper;
      if (this.pending === 'none') this.pending = 'suspend';
      return;
    }
    this.setHelperResult(result, helper, pc);
    if (this.pending === 'none' && this.interruptPending()) this.pending = 'interrupt';
  }

  /** Writes a helper's result to r0. */
  private setHelperResult(result: unknown, helper: HelperDefinition | undefined, pc: number): void {
    helperResultInto(this.regs, result, helper, pc);
  }
}

/**
 * Stores a helper's result as int32 halves in out[0], out[1] (number: safe integer, sign-extended;
 * bigint: mod 2^64; anything else: 0). Shared by every engine.
 */
export function helperResultInto(
  out: Int32Array,
  result: unknown,
  helper: HelperDefinition | undefined,
  pc: number,
): void {
  if (typeof result === 'number') {
    if (!Number.isSafeInteger(result)) {
      throw new HelperError(
        `helper ${helper?.name} (${helper?.id}) at pc ${pc} returned ${result}, which is not a safe integer`,
        { pc },
      );
    }
    out[0] = result | 0;
    out[1] = Math.floor(result / 4294967296) | 0;
  } else if (typeof result === 'bigint') {
    const v = BigInt.asUintN(64, result);
    out[0] = Number(v & 0xffffffffn) | 0;
    out[1] = Number(v >> 32n) | 0;
  } else {
    out[0] = 0;
    out[1] = 0;
  }
}

export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    (typeof v === 'object' || typeof v === 'function') &&
    v !== null &&
    typeof (v as { then?: unknown }).then === 'function'
  );
}

/** A helper's exception as a trap at its call: traps pass through, anything else is a HelperError. */
export function helperFailure(e: unknown, helper: HelperDefinition | undefined, pc: number): Trap {
  if (e instanceof Trap) {
    // A fault from a host-side access (GuestMemory.read in a helper) happened at this call.
    if (!(e.pc >= 0)) e.pc = pc;
    return e;
  }
  return new HelperError(
    `helper ${helper?.name} (${helper?.id}) at pc ${pc} threw: ${e instanceof Error ? e.message : String(e)}`,
    { pc },
    { cause: e },
  );
}

/** The helper's view of the machine; one instance per interpreter, reused across calls. */
class CallContext extends RegisterHelperContext {
  constructor(private readonly vm: Interpreter) {
    super(vm);
  }
  protected get registerHalves(): Int32Array {
    return this.vm.registerFile;
  }
  callFunction(target: bigint, args: readonly bigint[]): bigint {
    const pc = this.pc;
    const r0 = this.vm.callFunction(target, args, pc);
    this.pc = pc; // a nested helper call moved it
    return r0;
  }
}

// -------------------------------------------------------------------------------------------- lowering

/** Memory access size per load/store opcode (bits 3–4). */
function accessSize(opcode: number): number {
  const sz = opcode & 0x18;
  return sz === 0x00 ? 4 : sz === 0x08 ? 2 : sz === 0x10 ? 1 : 8;
}

function lower(
  program: Program,
  options: InterpreterOptions,
  helpers: readonly (HelperDefinition | undefined)[],
): Int32Array {
  const code = new Int32Array(program.slotCount * W);
  for (const insn of program.insns) {
    const at = insn.pc * W;
    code[at] = insn.opcode | ((insn.dst * 2) << 8) | ((insn.src * 2) << 16);
    code[at + 1] = insn.off;
    code[at + 2] = insn.imm;
    switch (insn.kind) {
      case 'jump':
        code[at + 1] = insn.target;
        break;
      case 'load':
      case 'store':
      case 'atomic':
      case 'packet_load':
        code[at + 3] = accessSize(insn.opcode);
        break;
      case 'call':
        if (insn.op === 'local') {
          code[at + 1] = 1;
          code[at + 3] = insn.target;
        } else if (insn.op === 'helper') {
          if (!helpers[insn.imm]) {
            throw new LoadError(
              'UNKNOWN_HELPER',
              `call to unknown helper ${insn.imm} at pc ${insn.pc}`,
              { pc: insn.pc },
              { hint: 'register the helper, or check the helper id' },
            );
          }
        } else if (insn.op === 'kfunc') {
          throw new LoadError(
            'UNKNOWN_HELPER',
            `call to kfunc (BTF id ${insn.imm}) at pc ${insn.pc} is not supported`,
            {
              pc: insn.pc,
            },
          );
        }
        break;
      case 'lddw': {
        const value = lddwValue(insn, options.resolveLddw);
        code[at + 2] = Number(value & 0xffffffffn) | 0;
        code[at + 3] = Number(value >> 32n) | 0;
        break;
      }
      default:
        break;
    }
  }
  return code;
}

/**
 * The 64-bit value an lddw loads (unsigned): imm64, a code address, or what the loader's resolver
 * gives for map and variable forms. Shared by every engine.
 */
export function lddwValue(insn: Insn & { kind: 'lddw' }, resolve: InterpreterOptions['resolveLddw']): bigint {
  if (insn.source === 'imm64') return (BigInt(insn.imm2 >>> 0) << 32n) | BigInt(insn.imm >>> 0);
  if (insn.source === 'code_addr') return BigInt(codeAddress(insn.pc + 1 + insn.imm));
  if (resolve) return BigInt.asUintN(64, resolve(insn));
  throw new LoadError(
    'INVALID_LDDW',
    `lddw at pc ${insn.pc} refers to a ${insn.source.replace('_', ' ')}, which needs a loader to resolve`,
    { pc: insn.pc },
    { hint: 'load the program from its ELF object so maps and globals can be resolved' },
  );
}

/** The memory a load, store or atomic will access given the current registers. */
function memoryAccessOf(insn: Insn, R: Int32Array): TraceStep['access'] {
  if (insn.kind !== 'load' && insn.kind !== 'store' && insn.kind !== 'atomic') return undefined;
  const base = insn.kind === 'load' ? insn.src : insn.dst;
  const address = BigInt.asUintN(64, pairToBigInt(R[2 * base], R[2 * base + 1]) + BigInt(insn.off));
  const kind = insn.kind === 'load' ? 'read' : insn.kind === 'store' ? 'write' : 'read-write';
  return { address, size: insn.size, kind };
}

/** Instructions that may transfer control or end the program: every run ends with one. */
function endsRun(insn: Insn): boolean {
  return insn.kind === 'jump' || insn.kind === 'call' || insn.kind === 'exit' || insn.kind === 'packet_load';
}

/**
 * For every pc, the number of instructions executed when entering at pc and running to the next
 * control-flow instruction (inclusive). Entering at pc always executes exactly that run unless a trap
 * stops it, so charging the run when control arrives counts every executed instruction once — the
 * same block-wise accounting gas metering and the JIT use.
 */
function runLengths(program: Program): Int32Array {
  const runs = new Int32Array(program.slotCount);
  const { insns } = program;
  const last = insns[insns.length - 1];
  if (!endsRun(last)) {
    throw new LoadError('NO_EXIT', `the program ends at pc ${last.pc} without exit or a jump`, {
      pc: last.pc,
    });
  }
  for (let k = insns.length - 1; k >= 0; k--) {
    const insn = insns[k];
    runs[insn.pc] = endsRun(insn) ? 1 : 1 + runs[insns[k + 1].pc];
  }
  return runs;
}

/** Gas of every run (same shape as `runLengths`) and of every single instruction. */
function runGas(
  program: Program,
  price: (insn: Insn) => number,
  runs: Int32Array,
): [Float64Array, Float64Array] {
  const runCosts = new Float64Array(program.slotCount);
  const insnCosts = new Float64Array(program.slotCount);
  const { insns } = program;
  for (let k = insns.length - 1; k >= 0; k--) {
    const insn = insns[k];
    const cost = price(insn);
    insnCosts[insn.pc] = cost;
    runCosts[insn.pc] = runs[insn.pc] === 1 ? cost : cost + runCosts[insns[k + 1].pc];
  }
  return [runCosts, insnCosts];
}

// ------------------------------------------------------------------------------ out-of-line operations

/**
 * Guest address (lo, hi) + off → linear memory offset, or -1. `field` selects the read or the write
 * length, which is 0 when the region lacks that permission. See layout.ts for the scheme.
 */
function translate(T: Int32Array, lo: number, hi: number, off: number, size: number, field: number): number {
  const a = (lo >>> 0) + off;
  // Fold the carry/borrow of adding off into the high half; any non-zero result is outside 4 GiB.
  if (hi + (a < 0 ? -1 : a > 0xffffffff ? 1 : 0) !== 0) return -1;
  const t = ((a >>> SLOT_SHIFT) & 0xf) << TABLE_SHIFT;
  // a and the window start lie in the same slot: the difference fits an int32.
  const o = (a - T[t + TABLE_ABS_START]) | 0;
  if ((o >>> 0) + size > T[t + field]) return -1;
  return T[t + TABLE_HOST_BASE] + o;
}

function store(dv: DataView, u8: Uint8Array, h: number, size: number, lo: number, hi: number): void {
  if (size === 8) {
    dv.setInt32(h, lo, true);
    dv.setInt32(h + 4, hi, true);
  } else if (size === 4) {
    dv.setInt32(h, lo, true);
  } else if (size === 2) {
    dv.setInt16(h, lo, true);
  } else {
    u8[h] = lo;
  }
}

/** Atomic read-modify-write (the guest is single-threaded, so a plain RMW is atomic). */
function atomic(R: Int32Array, dv: DataView, h: number, size: number, imm: number, s: number): void {
  const oldLo = dv.getInt32(h, true);
  const oldHi = size === 8 ? dv.getInt32(h + 4, true) : 0;
  let newLo = oldLo;
  let newHi = oldHi;
  const sLo = R[s];
  const sHi = size === 8 ? R[s + 1] : 0;
  switch (imm & ~1) {
    case 0x00: {
      newLo = (oldLo + sLo) | 0;
      newHi = (oldHi + sHi + (newLo >>> 0 < oldLo >>> 0 ? 1 : 0)) | 0;
      break;
    }
    case 0x40:
      newLo = oldLo | sLo;
      newHi = oldHi | sHi;
      break;
    case 0x50:
      newLo = oldLo & sLo;
      newHi = oldHi & sHi;
      break;
    case 0xa0:
      newLo = oldLo ^ sLo;
      newHi = oldHi ^ sHi;
      break;
    case 0xe0: // xchg
      newLo = sLo;
      newHi = sHi;
      break;
    default: {
      // cmpxchg: compare with r0, store src if equal; r0 always receives the old value.
      const eq = size === 8 ? R[0] === oldLo && R[1] === oldHi : R[0] === oldLo;
      if (eq) {
        newLo = sLo;
        newHi = sHi;
      }
      R[0] = oldLo;
      R[1] = oldHi;
      break;
    }
  }
  dv.setInt32(h, newLo, true);
  if (size === 8) dv.setInt32(h + 4, newHi, true);
  if ((imm & 1) !== 0 && (imm & ~1) !== 0xf0) {
    R[s] = oldLo;
    R[s + 1] = oldHi;
  }
}

function div64(
  R: Int32Array,
  S: Int32Array,
  d: number,
  blo: number,
  bhi: number,
  signed: boolean,
  rem: boolean,
): void {
  if ((blo | bhi) === 0) {
    // RFC 9669: division by zero gives 0; modulo by zero leaves dst unchanged.
    if (!rem) {
      R[d] = 0;
      R[d + 1] = 0;
    }
    return;
  }
  if (signed) sdivmod64(S, R[d], R[d + 1], blo, bhi, rem);
  else udivmod64(S, R[d], R[d + 1], blo, bhi, rem);
  R[d] = S[0];
  R[d + 1] = S[1];
}

function div32(a: number, b: number, signed: boolean, rem: boolean): number {
  if (b === 0) return rem ? a : 0;
  if (signed) return rem ? (a % b) | 0 : (a / b) | 0;
  const ua = a >>> 0;
  const ub = b >>> 0;
  return rem ? (ua % ub) | 0 : Math.floor(ua / ub) | 0;
}

function lsh64(R: Int32Array, d: number, n: number): void {
  if (n === 0) return;
  if (n < 32) {
    R[d + 1] = (R[d + 1] << n) | (R[d] >>> (32 - n));
    R[d] <<= n;
  } else {
    R[d + 1] = R[d] << (n - 32);
    R[d] = 0;
  }
}

function rsh64(R: Int32Array, d: number, n: number): void {
  if (n === 0) return;
  if (n < 32) {
    R[d] = (R[d] >>> n) | (R[d + 1] << (32 - n));
    R[d + 1] = R[d + 1] >>> n;
  } else {
    R[d] = R[d + 1] >>> (n - 32);
    R[d + 1] = 0;
  }
}

function arsh64(R: Int32Array, d: number, n: number): void {
  if (n === 0) return;
  if (n < 32) {
    R[d] = (R[d] >>> n) | (R[d + 1] << (32 - n));
    R[d + 1] >>= n;
  } else {
    R[d] = R[d + 1] >> (n - 32);
    R[d + 1] >>= 31;
  }
}

/** le/be/bswap: `reverse` swaps bytes (be on this little-endian model, and bswap); then truncates. */
function swap(R: Int32Array, d: number, width: number, reverse: boolean): void {
  if (width === 16) {
    R[d] = reverse ? bswap16(R[d]) : R[d] & 0xffff;
    R[d + 1] = 0;
  } else if (width === 32) {
    if (reverse) R[d] = bswap32(R[d]);
    R[d + 1] = 0;
  } else if (reverse) {
    const lo = R[d];
    R[d] = bswap32(R[d + 1]);
    R[d + 1] = bswap32(lo);
  }
}

function ugt(alo: number, ahi: number, blo: number, bhi: number): boolean {
  return ahi >>> 0 > bhi >>> 0 || (ahi === bhi && alo >>> 0 > blo >>> 0);
}

function sgt(alo: number, ahi: number, blo: number, bhi: number): boolean {
  return ahi > bhi || (ahi === bhi && alo >>> 0 > blo >>> 0);
}

/** Switches the stack slot's table entry and r10 to call depth `depth` (see GuestMemory.stackWindows). */
function enterDepth(T: Int32Array, windows: Int32Array, depth: number, R: Int32Array): void {
  const w = depth * STACK_WINDOW_STRIDE;
  const t = Slot.STACK * TABLE_STRIDE;
  // Only start, lengths and host base move with the depth (the window's end and host delta do not).
  T[t] = windows[w];
  T[t + 1] = windows[w + 1];
  T[t + 2] = windows[w + 2];
  T[t + 3] = windows[w + 3];
  R[20] = windows[w + STACK_WINDOW_FP];
}

function pushFrame(frames: Int32Array, depth: number, returnPc: number, R: Int32Array): void {
  const f = depth * 9;
  frames[f] = returnPc;
  for (let k = 0; k < 8; k++) frames[f + 1 + k] = R[12 + k];
}

function popFrame(frames: Int32Array, depth: number, R: Int32Array): number {
  const f = depth * 9;
  for (let k = 0; k < 8; k++) R[12 + k] = frames[f + 1 + k];
  return frames[f];
}
