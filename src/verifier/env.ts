/**
 * What every part of the analysis shares: the program, its CFG, the program type's context rules, the
 * maps, line info, the id generator, and `Rejection`, the internal exception a check throws; the
 * driver turns it into a located `VerifierError`.
 */
import type { BtfLineInfo } from '../elf/btf-ext.js';
import type { Program } from '../isa/instruction.js';
import type { MapDefinition } from '../runtime/maps/map-def.js';
import type { Cfg } from './cfg.js';
import type { ContextRules, ProgramTypeSpec } from './context.js';
import type { VerifierErrorCode } from './errors.js';
import type { GlobalFunc } from './global-funcs.js';
import type { Origin } from './types.js';

export interface Env {
  readonly program: Program;
  readonly cfg: Cfg;
  readonly spec: ProgramTypeSpec;
  readonly ctx: ContextRules;
  readonly maps: readonly MapDefinition[];
  readonly lines: readonly (BtfLineInfo | undefined)[];
  /** A fresh id for pointers, scalar links and references. */
  newId(): number;
  /** What every function uses of the stack, for the combined limit of a call chain. */
  readonly stackUse: StackUse;
  /** Global functions by entry pc, verified once from their BTF prototype (empty without BTF). */
  readonly globals: ReadonlyMap<number, GlobalFunc>;
  /** Entries of the global functions called so far: each is verified after the program. */
  readonly calledGlobals: Set<number>;
}

/** Per function (entry pc): the deepest stack byte it touched; per call edge: the callsite. */
export interface StackUse {
  readonly depth: Map<number, number>;
  /** caller entry -> callee entry -> pc of the call. */
  readonly calls: Map<number, Map<number, number>>;
}

/** Records the call chain of `frames` (entry and callsite of each, outermost first). */
export function noteCallChain(env: Env, frames: readonly { entry: number; callsite: number }[]): void {
  for (let i = 1; i < frames.length; i++) {
    const callees = env.stackUse.calls.get(frames[i - 1].entry) ?? new Map<number, number>();
    env.stackUse.calls.set(frames[i - 1].entry, callees);
    if (!callees.has(frames[i].entry)) callees.set(frames[i].entry, frames[i].callsite);
  }
}

/** Records that the function starting at `entry` touches the stack down to fp`lo`. */
export function noteStackDepth(env: Env, entry: number, lo: number): void {
  if (-lo > (env.stackUse.depth.get(entry) ?? 0)) env.stackUse.depth.set(entry, -lo);
}

export interface RejectionDetails {
  readonly values?: readonly string[];
  readonly hint?: string;
  readonly witness?: string;
}

export class Rejection extends Error {
  constructor(
    readonly code: VerifierErrorCode,
    message: string,
    readonly details: RejectionDetails = {},
  ) {
    super(message);
  }
}

export function reject(code: VerifierErrorCode, message: string, details: RejectionDetails = {}): never {
  throw new Rejection(code, message, details);
}

/** `prog.c:14`, or `pc 12` without line info. */
export function where(env: Env, pc: number): string {
  const l = env.lines[pc];
  return l === undefined ? `pc ${pc}` : `${shortFile(l.file)}:${l.line}`;
}

export function shortFile(file: string): string {
  const i = file.lastIndexOf('/');
  return i >= 0 ? file.slice(i + 1) : file;
}

export function originText(env: Env, o: Origin): string {
  return `${o.what} at ${where(env, o.pc)}`;
}

export function mapName(env: Env, index: number): string {
  return env.maps[index]?.name ?? `map#${index}`;
}
