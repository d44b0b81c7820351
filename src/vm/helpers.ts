/**
 * Helper (host function) registry keyed by kernel-style helper ID. The runtime issue fills it with the
 * kernel helpers; the interpreter, and later the JIT, call helpers only through this interface.
 */
import { UsageError } from '../errors.js';
import type { Program } from '../isa/instruction.js';
import type { MapLookupTable } from './map-lookup.js';
import type { GuestMemory } from './memory/guest-memory.js';

/** What a helper sees of the machine while it runs. Reading arguments allocates nothing. */
export interface HelperContext {
  readonly memory: GuestMemory;
  /** pc of the call instruction. */
  readonly pc: number;
  /** Low / high 32 bits (signed int32) of argument register r1..r5. */
  argLo(i: number): number;
  argHi(i: number): number;
  /** Argument as an unsigned 64-bit BigInt (allocates; use argLo/argHi on hot paths). */
  arg(i: number): bigint;
  /** Argument as a JS number; exact for values below 2^53. */
  argNumber(i: number): number;
  /** Ends the program after this helper returns, with r0 = `r0` (uBPF's "unwind" extension). */
  terminate(r0: bigint | number): void;
  /**
   * After this helper returns, continue in `target` from its first instruction, keeping registers and
   * the stack frame (bpf_tail_call). Returns false, and nothing happens, when the target runs on other
   * memory or another engine, the call is made from a subprogram, or 33 tail calls were already made.
   */
  tailCall(target: TailCallTarget): boolean;
  /** Charges the helper's own cost; traps with OutOfGas at the call when the limit cannot pay it. */
  consumeGas(amount: number): void;
  /**
   * Runs the BPF function at `codeAddress` (from lddw src=4, e.g. a bpf_loop callback) in a new frame
   * with r1..r5 = `args` and returns its r0. Its instructions and gas count toward the run.
   */
  callFunction(codeAddress: bigint, args: readonly bigint[]): bigint;
}

/** A linked program that can be entered by a tail call (an Interpreter; later a JIT-compiled module). */
export interface TailCallTarget {
  readonly program: Program;
}

/**
 * A helper returns r0: a number (a safe integer, sign-extended to 64 bits), a bigint (taken modulo
 * 2^64) or nothing (r0 = 0) — or, under `runAsync`, a Promise of one of those: the guest suspends at
 * the call until it settles.
 */
export type HelperResult = number | bigint | undefined;
export type HelperFunction = (
  ctx: HelperContext,
  // biome-ignore lint/suspicious/noConfusingVoidType: helpers with no result may be written as returning void
) => HelperResult | void | PromiseLike<HelperResult | void>;

/**
 * An optional fast path of a helper: r1..r5 as int32 halves (lo, hi, lo, hi, …) in, r0 out as an int32
 * (sign-extended to 64 bits), with no HelperContext to fill. It returns NaN, having changed nothing,
 * whenever it cannot finish on its own (a bad argument that must trap, anything needing the pc, gas,
 * terminate or a tail call); the engine then calls the helper's `call` as usual. The JIT imports it
 * as a wasm function of its own (called without `this`) at every `call imm` of the helper.
 */
export type DirectHelper = (
  r1lo: number,
  r1hi: number,
  r2lo: number,
  r2hi: number,
  r3lo: number,
  r3hi: number,
  r4lo: number,
  r4hi: number,
  r5lo: number,
  r5hi: number,
) => number;

export interface HelperDefinition {
  readonly id: number;
  readonly name: string;
  readonly call: HelperFunction;
  /** Same result and effects as `call` whenever it does not return NaN (see DirectHelper). */
  readonly direct?: DirectHelper;
  /**
   * Set on bpf_map_lookup_elem: the table the JIT's inline lookup reads (vm/map-lookup.ts). Where
   * the table says so, the inline code has the same result as `call`; everywhere else it calls.
   */
  readonly inlineLookup?: MapLookupTable;
}

export class HelperRegistry {
  private readonly byId = new Map<number, HelperDefinition>();

  define(
    id: number,
    name: string,
    call: HelperFunction,
    direct?: DirectHelper,
    inlineLookup?: MapLookupTable,
  ): this {
    if (!Number.isInteger(id) || id < 0 || id > 0x7fffffff)
      throw new UsageError(`helper id ${id} is not valid`);
    this.byId.set(id, { id, name, call, direct, inlineLookup });
    return this;
  }

  get(id: number): HelperDefinition | undefined {
    return this.byId.get(id);
  }

  has(id: number): boolean {
    return this.byId.has(id);
  }

  ids(): number[] {
    return [...this.byId.keys()].sort((a, b) => a - b);
  }

  /** Dense array for the interpreter's dispatch (index = id), built once per program. */
  toTable(): (HelperDefinition | undefined)[] {
    const table: (HelperDefinition | undefined)[] = [];
    for (const [id, def] of this.byId) if (id < 1 << 16) table[id] = def;
    return table;
  }
}
