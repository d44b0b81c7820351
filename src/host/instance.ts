/**
 * `Instance`: a linked module with its own guest memory, called any number of times. `reset()` puts the
 * memory back to its initial state cheaply, so one instance can serve many independent calls.
 */

import { locateTrap } from '../elf/source-line.js';
import { HelperError, Trap, UsageError } from '../errors.js';
import type { HelperContext, HelperRegistry } from '../vm/helpers.js';
import type { RunOptions, TraceStep } from '../vm/interpreter/interpreter.js';
import type { InterruptSignal } from '../vm/interrupt.js';
import { GuestMemory, type Region } from '../vm/memory/guest-memory.js';
import { PERM_READ, PERM_WRITE, Slot } from '../vm/memory/layout.js';
import { BumpAllocator } from './allocator.js';
import type { Engine, Executor } from './engine.js';
import type { InstancePre } from './instance-pre.js';
import type { HostCallContext, HostDefinition, HostResult } from './linker.js';
import { type InstanceLayout, InstanceMemory, instanceLayout } from './memory.js';
import { heapSizeOption, type Module } from './module.js';
import { checkHostResult, describeHost, hostCallOutOfGas, hostFailure } from './traps.js';

export interface InstantiateOptions {
  /** Default gas limit of every call (default: unlimited); needs an engine with gas metering on. */
  gas?: number;
  memory?: {
    /** Heap size in bytes (default: the module's `heapSize`). */
    heapSize?: number;
  };
  /**
   * Default interrupt signal of every call (see `CallOptions.interrupt`): raise it, from this thread
   * or another one holding `InterruptSignal.from(signal.buffer)`, to stop whatever call is running.
   */
  interrupt?: InterruptSignal;
}

export interface CallOptions {
  /** Entry point: a pc or an exported name (default pc 0). */
  entry?: number | string;
  /** r1..r5 (at most five; numbers must be safe integers, negatives are two's complement). */
  args?: readonly (bigint | number)[];
  /** Gas limit of this call (default: the instance's). */
  gas?: number;
  /** Instruction budget of this call (default: the engine's `maxInstructions`). */
  maxInstructions?: number;
  /** Called before every executed instruction (pc, instruction, registers, memory access); free when absent. */
  trace?: (step: TraceStep) => void;
  /**
   * Interrupt signal of this call (default: the instance's). While raised the guest stops with an
   * `Interrupted` trap at its next poll — at the start, after a host call, or within about 2^16
   * executed instructions — so even an endless loop can be stopped, also from another thread.
   */
  interrupt?: InterruptSignal;
}

export interface CallResult {
  /** r0 at exit, as an unsigned 64-bit value. */
  r0: bigint;
  /** Gas used: the exact sum of the executed instructions' costs plus host function costs. */
  gasUsed: number;
  /** Instructions executed, including the final exit. */
  instructions: number;
}

export class Instance {
  readonly engine: Engine;
  readonly module: Module;
  /** Reads and writes at guest addresses, with the guest's checks. */
  readonly memory: InstanceMemory;
  readonly layout: InstanceLayout;
  /** The heap's bump allocator (`Linker.defineAllocator`), emptied by `reset()`. */
  readonly heap: BumpAllocator;
  private readonly guest: GuestMemory;
  private readonly executor: Executor;
  private readonly gas: number | undefined;
  private readonly signal: InterruptSignal | undefined;
  private readonly data: Region | undefined;
  private readonly heapRegion: Region | undefined;
  private readonly context: HostContext;
  /** True while a call runs or is suspended: an instance runs one call at a time. */
  private busy = false;
  /** True while the running call is a `callAsync` (host functions may return Promises). */
  private asyncCall = false;

  /** @internal Use `InstancePre.instantiate`. */
  constructor(
    pre: InstancePre,
    helpers: HelperRegistry,
    options: InstantiateOptions,
    register: (memory: GuestMemory, instance: Instance) => void,
  ) {
    const { engine, module } = pre;
    this.engine = engine;
    this.module = module;
    this.gas = options.gas === undefined ? undefined : gasOption(engine, options.gas);
    this.signal = options.interrupt;
    const heapSize = heapSizeOption(options.memory?.heapSize ?? module.heapSize, 'memory.heapSize');
    const guest = new GuestMemory({ maxBytes: engine.maxMemoryBytes });
    if (module.rodata) guest.map(Slot.RODATA, 'rodata', module.rodata.length, PERM_READ, module.rodata);
    this.data = module.data
      ? guest.map(Slot.DATA, 'data', module.data.length, PERM_READ | PERM_WRITE, module.data)
      : undefined;
    this.heapRegion =
      heapSize > 0 ? guest.map(Slot.HEAP, 'heap', heapSize, PERM_READ | PERM_WRITE) : undefined;
    guest.mapStack(engine.stackFrameSize, engine.maxCallFrames);
    this.guest = guest;
    this.memory = new InstanceMemory(guest);
    this.layout = instanceLayout(guest);
    this.heap = new BumpAllocator(this.layout.heap.base, heapSize);
    this.executor = engine.createExecutor(pre.program, { memory: guest, helpers });
    this.context = new HostContext(this);
    register(guest, this);
  }

  /** Calls `entry` (pc or exported name, default pc 0) with r1..r5 = `args`. Throws a Trap on failure. */
  call(entry?: number | string, ...args: (bigint | number)[]): CallResult {
    return this.invoke({ entry, args });
  }

  /** `call` with every option. */
  invoke(options: CallOptions = {}): CallResult {
    const run = this.begin(options, false);
    try {
      return result(this.executor.run(run));
    } catch (e) {
      throw this.located(e);
    } finally {
      this.end();
    }
  }

  /**
   * Like `call`, but host functions may return Promises: the guest suspends at such a call and resumes
   * when it settles (a rejection traps with HelperError at the call).
   */
  callAsync(entry?: number | string, ...args: (bigint | number)[]): Promise<CallResult> {
    return this.invokeAsync({ entry, args });
  }

  async invokeAsync(options: CallOptions = {}): Promise<CallResult> {
    const run = this.begin(options, true);
    try {
      return result(await this.executor.runAsync(run));
    } catch (e) {
      throw this.located(e);
    } finally {
      this.end();
    }
  }

  /**
   * Stops the running guest with an `Interrupted` trap at its next poll: right after the current host
   * call, when a suspended `callAsync` would resume, or within about 2^16 executed instructions. No
   * effect when idle. (From another thread, use an `InterruptSignal`: `CallOptions.interrupt`.)
   */
  interrupt(): void {
    this.executor.interrupt();
  }

  /** Restores the initial memory: the module's data, a zeroed heap, an empty allocator. */
  reset(): void {
    this.checkIdle('reset');
    const u8 = this.guest.u8;
    if (this.data && this.module.data) u8.set(this.module.data, this.data.hostBase);
    if (this.heapRegion)
      u8.fill(0, this.heapRegion.hostBase, this.heapRegion.hostBase + this.heapRegion.size);
    this.heap.reset();
    // The stack needs nothing: every run starts with zeroed frames.
  }

  /** @internal Runs a resolved host function for the guest's call (see InstancePre). */
  hostCall(definition: HostDefinition, helper: HelperContext): HostResult | Promise<HostResult> {
    const pc = helper.pc;
    if (definition.cost > 0) {
      try {
        helper.consumeGas(definition.cost);
      } catch (e) {
        throw hostCallOutOfGas(e, definition, pc, 'fixed');
      }
    }
    this.memory.pc = pc;
    const ctx = this.context;
    ctx.helper = helper;
    ctx.definition = definition;
    let r: HostResult | Promise<HostResult>;
    try {
      r = definition.fn(ctx, helper.arg(1), helper.arg(2), helper.arg(3), helper.arg(4), helper.arg(5));
    } catch (e) {
      throw hostFailure(e, definition, pc);
    }
    if (!isThenable(r)) return checkHostResult(r, definition, pc);
    if (!this.asyncCall) {
      Promise.resolve(r).catch(() => {}); // the guest is stopped; the Promise's outcome no longer matters
      throw new HelperError(
        `host function ${describeHost(definition)} at pc ${pc} returned a Promise; call the guest with callAsync (or invokeAsync) so it can wait for it`,
        { pc },
      );
    }
    return Promise.resolve(r).then(
      (value) => checkHostResult(value, definition, pc),
      (e: unknown) => {
        throw hostFailure(e, definition, pc);
      },
    );
  }

  /** A trap with the source line of its pc, when the module has line info. */
  private located(e: unknown): unknown {
    if (e instanceof Trap) locateTrap(e, this.module.lineAt(e.pc));
    return e;
  }

  private checkIdle(what: string): void {
    if (this.busy) {
      throw new UsageError(`cannot ${what} this instance while a call is running or suspended (callAsync)`);
    }
  }

  private begin(options: CallOptions, asyncCall: boolean): RunOptions {
    this.checkIdle('call');
    const run = this.runOptions(options);
    this.busy = true;
    this.asyncCall = asyncCall;
    return run;
  }

  private end(): void {
    this.busy = false;
    this.memory.pc = -1;
  }

  private runOptions(options: CallOptions): RunOptions {
    const args = options.args ?? [];
    if (args.length > 5)
      throw new UsageError(`a call takes at most 5 arguments (r1..r5), not ${args.length}`);
    for (const a of args) {
      if (typeof a !== 'bigint' && !(typeof a === 'number' && Number.isSafeInteger(a))) {
        throw new UsageError(`call argument ${String(a)} must be a bigint or a safe integer`);
      }
    }
    const gas = options.gas === undefined ? this.gas : gasOption(this.engine, options.gas);
    const maxInstructions = options.maxInstructions ?? this.engine.maxInstructions;
    if (!Number.isSafeInteger(maxInstructions) || maxInstructions < 1) {
      throw new UsageError(`maxInstructions must be a positive integer, not ${String(maxInstructions)}`);
    }
    return {
      entry: this.module.entryPc(options.entry),
      args,
      gasLimit: gas,
      maxInstructions,
      trace: options.trace,
      interrupt: options.interrupt ?? this.signal,
    };
  }
}

function gasOption(engine: Engine, gas: number): number {
  if (!engine.gas) throw new UsageError('a gas limit needs an engine with gas metering on (gas: true)');
  if (!Number.isSafeInteger(gas) || gas < 0) {
    throw new UsageError(`gas limit must be a non-negative integer, not ${String(gas)}`);
  }
  return gas;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    (typeof v === 'object' || typeof v === 'function') &&
    v !== null &&
    typeof (v as { then?: unknown }).then === 'function'
  );
}

function result(r: { r0: bigint; gasUsed: number; instructions: number }): CallResult {
  return { r0: r.r0, gasUsed: r.gasUsed, instructions: r.instructions };
}

/** One per instance, pointed at the current call (an instance runs one call at a time). */
class HostContext implements HostCallContext {
  helper!: HelperContext;
  definition!: HostDefinition;
  constructor(readonly instance: Instance) {}
  get name(): string {
    return this.definition.name;
  }
  get memory(): InstanceMemory {
    return this.instance.memory;
  }
  get pc(): number {
    return this.helper.pc;
  }
  consumeGas(amount: number): void {
    try {
      this.helper.consumeGas(amount);
    } catch (e) {
      throw hostCallOutOfGas(e, this.definition, this.helper.pc, amount);
    }
  }
  terminate(r0: bigint | number): void {
    this.helper.terminate(r0);
  }
  callFunction(codeAddress: bigint, ...args: bigint[]): bigint {
    const { helper, definition } = this;
    const memory = this.instance.memory;
    const pc = memory.pc;
    try {
      return helper.callFunction(codeAddress, args);
    } finally {
      // Host calls made by the callback pointed this context elsewhere.
      this.helper = helper;
      this.definition = definition;
      memory.pc = pc;
    }
  }
}
