/**
 * `Linker`: host functions by name (resolved through the murmur3-32 hash of the name, the Solana sBPF
 * convention) or by kernel helper id, and `instantiatePre`, which resolves a module's imports once.
 */
import { UsageError } from '../errors.js';
import type { Engine } from './engine.js';
import type { Instance } from './instance.js';
import { InstancePre } from './instance-pre.js';
import type { InstanceMemory } from './memory.js';
import type { Module } from './module.js';
import { murmur3_32 } from './murmur3.js';

/** What a host function sees while the guest waits for it. */
export interface HostCallContext {
  readonly instance: Instance;
  /** The instance's memory; faults carry the pc of this call. */
  readonly memory: InstanceMemory;
  /** pc of the guest's call instruction. */
  readonly pc: number;
  /** Name the function was defined under. */
  readonly name: string;
  /** Charges extra gas (beyond the definition's fixed cost); OutOfGas at the call when unaffordable. */
  consumeGas(amount: number): void;
  /** Ends the guest after this call returns, with r0 = `r0`. */
  terminate(r0: bigint | number): void;
  /**
   * Runs the guest function at `codeAddress` (a callback the guest passed, from `lddw` of a code
   * address) in a new frame with r1..r5 = `args`, and returns its r0. Its gas counts toward the call.
   */
  callFunction(codeAddress: bigint, ...args: bigint[]): bigint;
}

/** r0 for the guest: a safe integer (sign-extended), a bigint (mod 2^64) or nothing (0). */
// biome-ignore lint/suspicious/noConfusingVoidType: host functions with no result may be written as returning void
export type HostResult = bigint | number | undefined | void;

/**
 * A host function receives r1..r5 as unsigned 64-bit BigInts. It may return a Promise, which suspends
 * the guest under `Instance.callAsync` (a synchronous `call` traps with HelperError instead). A throw
 * becomes a HelperError trap at the call with the error as its `cause`; a thrown Trap passes as is.
 */
export type HostFunction = (ctx: HostCallContext, ...args: bigint[]) => HostResult | Promise<HostResult>;

export interface DefineOptions {
  /** Gas charged on every call, on top of the call instruction itself (default 0). */
  cost?: number;
  /** Also resolve `call id` (a kernel-style helper id) to this function. */
  id?: number;
}

/** One defined host function, as resolved imports refer to it. */
export interface HostDefinition {
  readonly name: string;
  readonly fn: HostFunction;
  readonly cost: number;
  /** The kernel-style id it answers to, if any. */
  readonly id: number | undefined;
  /** murmur3-32 of the name (unsigned), unless it was defined by id only. */
  readonly hash: number | undefined;
}

export class Linker {
  /** Definitions by the call immediate (signed int32) they answer to: their id and their name hash. */
  private readonly byImm = new Map<number, HostDefinition>();
  private readonly byName = new Map<string, HostDefinition>();

  constructor(readonly engine: Engine) {}

  /**
   * Defines a host function under `name` (imported as `call murmur3_32(name)`, plus `call id` with the
   * `id` option) or under a helper id alone (`define(1, fn)`). A second definition answering to the
   * same name, id or hash is a UsageError.
   */
  define(nameOrId: string | number, fn: HostFunction, options: DefineOptions = {}): this {
    if (typeof fn !== 'function') throw new UsageError('a host function must be a function');
    const cost = options.cost ?? 0;
    if (!Number.isSafeInteger(cost) || cost < 0) {
      throw new UsageError(`host function cost must be a non-negative integer, not ${String(cost)}`);
    }
    const byId = typeof nameOrId === 'number';
    if (byId && options.id !== undefined && options.id !== nameOrId) {
      throw new UsageError(`define(${nameOrId}, …) conflicts with the id option ${options.id}`);
    }
    const id = byId ? nameOrId : options.id;
    if (id !== undefined && (!Number.isInteger(id) || id < 0 || id > 0x7fffffff)) {
      throw new UsageError(`helper id ${id} must be an integer in 0..${0x7fffffff}`);
    }
    if (!byId && (typeof nameOrId !== 'string' || nameOrId.length === 0)) {
      throw new UsageError('a host function name must be a non-empty string');
    }
    const name = byId ? `helper_${nameOrId}` : nameOrId;
    const hash = byId ? undefined : murmur3_32(name);
    const def: HostDefinition = Object.freeze({ name, fn, cost, id, hash });
    const keys = [id, hash === undefined ? undefined : hash | 0].filter((k): k is number => k !== undefined);
    if (this.byName.has(name)) throw new UsageError(`host function "${name}" is already defined`);
    for (const key of keys) {
      const other = this.byImm.get(key);
      if (other) {
        throw new UsageError(
          `host function "${name}" answers to call ${key} (0x${(key >>> 0).toString(16)}), as "${other.name}" already does`,
          {},
          { hint: 'a name hash colliding with a helper id or another hash is ambiguous; rename one of them' },
        );
      }
    }
    for (const key of keys) this.byImm.set(key, def);
    this.byName.set(name, def);
    return this;
  }

  /**
   * Defines Solana's `sol_alloc_free_(size, free_ptr)` over the instance heap: with free_ptr 0 it
   * returns the address of `size` fresh 8-byte-aligned bytes, or 0 when the heap is full; freeing does
   * nothing (a bump allocator releases everything at `Instance.reset()`).
   */
  defineAllocator(name = 'sol_alloc_free_', options: DefineOptions = {}): this {
    return this.define(
      name,
      (ctx, size, freePtr) => (freePtr !== 0n ? 0 : ctx.instance.heap.alloc(size)),
      options,
    );
  }

  /** The definition a `call imm` resolves to (imm as the signed int32 of the instruction). */
  resolve(imm: number): HostDefinition | undefined {
    return this.byImm.get(imm | 0);
  }

  /** The function defined under `name` (imports of object files resolve by name). */
  lookup(name: string): HostDefinition | undefined {
    return this.byName.get(name);
  }

  /** Every defined function, in definition order. */
  definitions(): HostDefinition[] {
    return [...this.byName.values()];
  }

  /**
   * Resolves every import of `module` once. Throws one LinkError listing each unresolved import with
   * its call sites; the result instantiates without further lookups.
   */
  instantiatePre(module: Module): InstancePre {
    if (module.engine !== this.engine) {
      throw new UsageError('the module was created with another engine than this linker');
    }
    return new InstancePre(this.engine, module, this);
  }
}
