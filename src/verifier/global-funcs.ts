/**
 * Global (non-static) functions as the kernel treats them: verified once, independently of their
 * callers, from their BTF prototype (btf_prepare_func_args), and at each call site only the caller's
 * arguments are checked against that prototype (btf_check_subprog_call); the call then returns an
 * unknown scalar. A pointer to the program's context struct is the context; any other pointer is
 * memory of the pointee's size that may be NULL unless tagged `__arg_nonnull`; integers and enums are
 * unknown scalars; anything else, and a function that does not return a scalar, is refused.
 */
import type { Btf, BtfType } from '../elf/btf.js';
import type { BtfFuncInfo } from '../elf/btf-ext.js';
import type { ProgramType } from '../elf/object.js';
import { LoadError } from '../errors.js';
import type { CallInsn } from '../isa/instruction.js';
import { type Env, mapName, noteCallChain, Rejection, reject } from './env.js';
import { helperProto } from './helpers.js';
import { type AccessOptions, helperRegion } from './memory.js';
import { isConst, scalarConst } from './scalar.js';
import { mapAllRegs, newFrame, type State, top } from './state.js';
import { describe, NOT_INIT, type RegState, UNKNOWN } from './types.js';

/** MAX_BPF_FUNC_REG_ARGS. */
const MAX_ARGS = 5;

export type GlobalArg =
  | { readonly kind: 'ctx' }
  | { readonly kind: 'scalar' }
  | { readonly kind: 'mem'; readonly size: number; readonly nullable: boolean };

export interface GlobalFunc {
  readonly name: string;
  readonly entry: number;
  /** The C prototype from BTF, for messages. */
  readonly signature: string;
  /** The arguments, or why the kernel refuses the prototype. */
  readonly args: readonly GlobalArg[] | Refused;
  /** A helper that moves the packet is called in it or a function it calls: callers lose packet pointers. */
  readonly changesPacket: boolean;
}

/**
 * The kernel's canonical context struct names per program type (bpf_types.h), with the kernel-side
 * names it also accepts (btf_is_projection_of); empty where only `__arg_ctx` makes a context argument.
 */
const CTX_STRUCTS: Record<ProgramType, readonly string[]> = {
  socket_filter: ['__sk_buff', 'sk_buff'],
  sched_cls: ['__sk_buff', 'sk_buff'],
  sched_act: ['__sk_buff', 'sk_buff'],
  xdp: ['xdp_md', 'xdp_buff'],
  kprobe: ['pt_regs'],
  perf_event: ['bpf_perf_event_data'],
  raw_tracepoint: ['bpf_raw_tracepoint_args'],
  tracepoint: [],
  tracing: [],
  syscall: [],
};

const KNOWN_TAGS = new Set(['ctx', 'nonnull', 'nullable', 'trusted', 'arena']);

/** Global functions of the program (not the program itself), by entry pc; empty without func info. */
export function globalFunctions(
  env: Pick<Env, 'program' | 'spec'>,
  btf: Btf | undefined,
  funcInfo: readonly BtfFuncInfo[],
): Map<number, GlobalFunc> {
  const out = new Map<number, GlobalFunc>();
  if (btf === undefined || funcInfo.length < 2) return out;
  const packetEntries = packetChangingFunctions(env);
  for (const info of funcInfo) {
    const fn = btf.get(info.typeId);
    if (info.insn === 0 || fn.kind !== 'func' || fn.linkage !== 1) continue;
    out.set(info.insn, {
      name: fn.name,
      entry: info.insn,
      signature: btf.describe(fn.id).slice(1, -1),
      args: prototype(btf, fn.id, env.spec.type),
      changesPacket: packetEntries.has(info.insn),
    });
  }
  return out;
}

/** A prototype the kernel refuses (btf_prepare_func_args fails): callers are rejected. */
export interface Refused {
  readonly refused: string;
  readonly hint: string;
}

/** btf_prepare_func_args for a global function. */
function prototype(btf: Btf, fnId: number, type: ProgramType): readonly GlobalArg[] | Refused {
  const fn = btf.get(fnId) as Extract<BtfType, { kind: 'func' }>;
  const proto = btf.get(fn.type);
  if (proto.kind !== 'func_proto')
    return { refused: 'its BTF type is not a function prototype', hint: 'rebuild the object with clang -g' };
  const params = proto.params;
  const staticHint = `make ${fn.name}() static, so it is verified in each calling context`;
  if (params.length > MAX_ARGS) {
    return { refused: `it has ${params.length} arguments, more than ${MAX_ARGS}`, hint: staticHint };
  }
  const ret = btf.resolve(proto.type);
  if (ret.kind !== 'int' && ret.kind !== 'enum' && ret.kind !== 'enum64') {
    return {
      refused: `it returns ${btf.describe(proto.type)}: a global function must return a scalar (an integer or an enum)`,
      hint: `return an int from ${fn.name}(), or ${staticHint}`,
    };
  }
  const tags = argTags(btf, fnId);
  const args: GlobalArg[] = [];
  for (let i = 0; i < params.length; i++) {
    const argTag = tags[i] ?? new Set<string>();
    const name = `argument ${i + 1}${params[i].name ? ` (${params[i].name})` : ''}`;
    const unknown = [...argTag].find((t) => !KNOWN_TAGS.has(t));
    if (unknown !== undefined) {
      return {
        refused: `${name} has the unsupported tag arg:${unknown}`,
        hint: 'use __arg_ctx, __arg_nonnull or __arg_nullable',
      };
    }
    const t = btf.resolve(params[i].type);
    if (t.kind !== 'ptr') {
      if (argTag.size > 0) {
        return { refused: `${name} has a pointer tag but is not a pointer`, hint: 'remove the __arg_* tag' };
      }
      if (t.kind === 'int' || t.kind === 'enum' || t.kind === 'enum64') {
        args.push({ kind: 'scalar' });
        continue;
      }
      return {
        refused: `${name} has type ${btf.describe(params[i].type)}: global functions take only integers, enums and pointers`,
        hint: `pass a pointer instead of a ${t.kind} by value, or ${staticHint}`,
      };
    }
    const ctxTagged = argTag.has('ctx');
    if (ctxTagged || isContextType(btf, t.type, type)) {
      if (argTag.size > (ctxTagged ? 1 : 0)) {
        return {
          refused: `${name} combines __arg_ctx with other tags`,
          hint: 'a context argument takes no other tag',
        };
      }
      const pointee = btf.resolve(t.type);
      if (ctxTagged && pointee.kind !== 'void' && !isContextType(btf, t.type, type)) {
        return {
          refused: `${name} is tagged __arg_ctx but points to ${btf.describe(t.type)}, not the ${type} context`,
          hint: "declare it as `void *ctx __arg_ctx` or as a pointer to the program type's context struct",
        };
      }
      args.push({ kind: 'ctx' });
      continue;
    }
    if (argTag.has('trusted') || argTag.has('arena')) {
      return {
        refused: `${name} is tagged __arg_${argTag.has('trusted') ? 'trusted' : 'arena'}, which bpfbox does not model`,
        hint: staticHint,
      };
    }
    const size = pointeeSize(btf, t.type);
    if (size === undefined) {
      return {
        refused: `${name} points to ${btf.describe(t.type)}, whose size cannot be determined (the kernel: "reference type size cannot be determined")`,
        hint: `give the pointer a sized type (e.g. \`__u8 *\` instead of \`void *\`), tag it __arg_ctx if it is the context, or ${staticHint}`,
      };
    }
    args.push({ kind: 'mem', size, nullable: !argTag.has('nonnull') });
  }
  return args;
}

/** `arg:` decl tags per argument index. */
function argTags(btf: Btf, fnId: number): Set<string>[] {
  const tags: Set<string>[] = [];
  for (const t of btf.types) {
    if (t.kind !== 'decl_tag' || t.type !== fnId || t.componentIdx < 0 || !t.name.startsWith('arg:'))
      continue;
    const set = tags[t.componentIdx] ?? new Set<string>();
    set.add(t.name.slice(4));
    tags[t.componentIdx] = set;
  }
  return tags;
}

/** btf_is_prog_ctx_type: the pointee is the program type's context struct (by name). */
function isContextType(btf: Btf, pointee: number, type: ProgramType): boolean {
  if (type === 'kprobe' && btf.skipQualifiers(pointee).name === 'bpf_user_pt_regs_t') return true;
  const t = btf.resolve(pointee);
  return (t.kind === 'struct' || t.kind === 'union') && CTX_STRUCTS[type].includes(t.name);
}

/** btf_resolve_size of a pointee: undefined for void, forward declarations and functions. */
function pointeeSize(btf: Btf, pointee: number): number | undefined {
  const t = btf.resolve(pointee);
  if (t.kind === 'void' || t.kind === 'fwd' || t.kind === 'func_proto' || t.kind === 'func') return undefined;
  try {
    return btf.size(pointee);
  } catch (e) {
    if (e instanceof LoadError) return undefined;
    throw e;
  }
}

/** Entries of functions that call a packet-moving helper, directly or through the functions they call. */
function packetChangingFunctions(env: Pick<Env, 'program'>): Set<number> {
  const subs = env.program.subprograms;
  const direct = new Set<number>();
  const callees = new Map<number, number[]>(subs.map((e) => [e, []]));
  // Instructions are in pc order, so one pass attributes each call to the function containing it.
  let k = 0;
  for (const insn of env.program.insns) {
    while (k + 1 < subs.length && insn.pc >= subs[k + 1]) k++;
    if (insn.kind !== 'call') continue;
    if (insn.op === 'helper' && helperProto(insn.imm)?.changesPacket) direct.add(subs[k]);
    if (insn.op === 'local') callees.get(subs[k])?.push(insn.target);
  }
  const out = new Set<number>();
  const reaches = (entry: number, seen: Set<number>): boolean => {
    if (direct.has(entry)) return true;
    seen.add(entry);
    return (callees.get(entry) ?? []).some((c) => !seen.has(c) && reaches(c, seen));
  };
  for (const entry of subs) if (reaches(entry, new Set())) out.add(entry);
  return out;
}

/**
 * A call to a global function: its prototype must be supported and the caller's r1-r5 must match it;
 * then r1-r5 are clobbered, r0 is an unknown scalar, and the function is queued for verification.
 */
export function callGlobal(
  env: Env,
  state: State,
  insn: CallInsn,
  fn: GlobalFunc,
  opts: AccessOptions,
): void {
  const caller = top(state);
  const args = fn.args;
  if ('refused' in args) {
    reject('FUNC_PROTO', `global function ${fn.name}() cannot be called: ${args.refused}`, {
      values: [`its prototype is \`${fn.signature}\``],
      hint: args.hint,
    });
  }
  args.forEach((arg, i) => {
    checkArg(env, state, fn, i, arg, opts);
  });
  if (fn.changesPacket) {
    mapAllRegs(state, (x) =>
      x.kind === 'pkt' || x.kind === 'pkt_meta' || x.kind === 'pkt_end' ? UNKNOWN : x,
    );
  }
  for (let r = 1; r <= 5; r++) caller.regs[r] = NOT_INIT;
  caller.regs[0] = UNKNOWN;
  noteCallChain(env, [...state.frames, { entry: fn.entry, callsite: insn.pc }]);
  env.calledGlobals.add(fn.entry);
}

function checkArg(
  env: Env,
  state: State,
  fn: GlobalFunc,
  i: number,
  arg: GlobalArg,
  opts: AccessOptions,
): void {
  const regno = i + 1;
  const frame = top(state);
  const reg = frame.regs[regno];
  const expected =
    arg.kind === 'ctx'
      ? 'the context pointer'
      : arg.kind === 'scalar'
        ? 'a scalar'
        : arg.nullable
          ? `NULL or a pointer to ${arg.size} readable and writable bytes`
          : `a pointer to ${arg.size} readable and writable bytes (never NULL: __arg_nonnull)`;
  const mismatch = (why: string, hint: string): never =>
    reject(
      'FUNC_ARG',
      `argument ${regno} (r${regno}) of global function ${fn.name}() must be ${expected}: ${why}`,
      {
        values: [
          `r${regno} is ${describe(reg, (m) => mapName(env, m))}`,
          `${fn.name}() is verified once, against its prototype \`${fn.signature}\``,
        ],
        hint,
      },
    );
  if (reg.kind === 'not_init') mismatch(`r${regno} is not initialized`, `set r${regno} before the call`);
  switch (arg.kind) {
    case 'scalar':
      if (reg.kind !== 'scalar') mismatch('it is a pointer', 'pass a number');
      return;
    case 'ctx':
      if (reg.kind !== 'ctx' || reg.off !== 0 || !isConst(reg.var) || reg.var.umin !== 0n) {
        mismatch(`it is ${describe(reg, (m) => mapName(env, m))}`, "pass the program's ctx unchanged");
      }
      return;
    case 'mem': {
      if (reg.kind === 'scalar' && isConst(reg.value) && reg.value.umin === 0n) {
        // The kernel lets a NULL constant through even here (check_mem_reg returns before the non-NULL
        // test); the function would then dereference NULL, so bpfbox refuses it.
        if (!arg.nullable)
          mismatch(
            'it is NULL',
            `pass a valid pointer, or drop __arg_nonnull and check for NULL in ${fn.name}()`,
          );
        return;
      }
      const nullable = (reg.kind === 'map_value' || reg.kind === 'mem') && reg.nullable;
      if (nullable && !arg.nullable) mismatch('it may be NULL', 'check the pointer for NULL before the call');
      // The function may read and write all of it (check_mem_reg: a read, then a write access).
      if (nullable) frame.regs[regno] = { ...reg, nullable: false };
      try {
        helperRegion(env, state, regno, arg.size, false, `${fn.name}()`, opts);
        helperRegion(env, state, regno, arg.size, true, `${fn.name}()`, opts);
      } catch (e) {
        if (!(e instanceof Rejection)) throw e;
        mismatch(e.message, `pass a pointer to at least ${arg.size} initialized, writable bytes (or NULL)`);
      } finally {
        if (nullable) frame.regs[regno] = reg;
      }
      return;
    }
  }
}

/**
 * The state a global function is verified in: frame 0 with the arguments its prototype gives (only
 * functions with a supported prototype are ever called, so `args` is never refused here).
 */
export function globalEntryState(env: Env, fn: GlobalFunc): State {
  const f = newFrame('global', -1, fn.entry);
  const args = 'refused' in fn.args ? [] : fn.args;
  args.forEach((arg, i): void => {
    const origin = { pc: fn.entry, what: `argument ${i + 1} of global function ${fn.name}()` };
    let r: RegState;
    if (arg.kind === 'ctx') r = { kind: 'ctx', off: 0, var: scalarConst(0n) };
    else if (arg.kind === 'scalar') r = UNKNOWN;
    else {
      const id = arg.nullable ? env.newId() : 0;
      r = {
        kind: 'mem',
        size: arg.size,
        off: 0,
        var: scalarConst(0n),
        nullable: arg.nullable,
        id,
        ref: 0,
        origin,
      };
    }
    f.regs[i + 1] = r;
  });
  f.regs[10] = { kind: 'stack', frame: 0, off: 0, var: scalarConst(0n) };
  return { frames: [f], refs: [] };
}
