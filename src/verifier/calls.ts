/**
 * Calls and returns: helper calls checked against their prototypes (argument types and sizes, map
 * compatibility, program-type availability) with their effects (r0's type, references acquired and
 * released, packet pointers invalidated, r1-r5 clobbered); bpf-to-bpf calls as new frames; bpf_loop
 * callbacks verified as callbacks (entered with index and context, re-entered after each iteration
 * until the state converges); exits with the return-value and reference-leak checks.
 */
import type { CallInsn } from '../isa/instruction.js';
import type { MapTypeName } from '../runtime/maps/map-def.js';
import { type Env, mapName, noteCallChain, reject, where } from './env.js';
import { callGlobal } from './global-funcs.js';
import { type ArgType, BPF_LOOP_ID, type HelperProto, helperProto, TAIL_CALL_ID } from './helpers.js';
import { type AccessOptions, constStackValue, helperRegion, regText } from './memory.js';
import { isConst, scalarConst, scalarToString } from './scalar.js';
import { cloneState, type Frame, mapAllRegs, newFrame, type State, top, widenChangedSlots } from './state.js';
import { describe, NOT_INIT, type RegState, UNKNOWN } from './types.js';

export const MAX_CALL_FRAMES = 8;
/** BPF_MAX_VAR_SIZ: sizes at or above this count as unbounded. */
const MAX_SIZE = 1 << 29;

export interface Successor {
  readonly state: State;
  readonly pc: number;
}

interface CallMeta {
  map?: number;
  /** The key when the stack holds a known constant (array lookups in bounds are never NULL). */
  key?: bigint;
  memArg?: { regno: number; write: boolean };
  allocSize?: number;
  release?: number;
  callback?: number;
  callbackCtx?: RegState;
}

function argName(proto: HelperProto, i: number): string {
  return `argument ${i + 1} (r${i + 1}) of ${proto.name}`;
}

function checkArg(
  env: Env,
  state: State,
  proto: HelperProto,
  i: number,
  type: ArgType,
  meta: CallMeta,
  opts: AccessOptions,
): void {
  const regno = i + 1;
  const reg = top(state).regs[regno];
  const name = argName(proto, i);
  const d = (r: RegState): string => describe(r, (m) => mapName(env, m));
  if (reg.kind === 'not_init') {
    reject('UNINIT_READ', `${name} is not initialized`, {
      hint: `set r${regno} before calling ${proto.name}`,
    });
  }
  const wrong: (expected: string, hint: string) => never = (expected, hint) =>
    reject('HELPER_ARG', `${name} must be ${expected}, but r${regno} is ${d(reg)}`, {
      values: [regText(env, regno, reg)],
      hint,
    });
  const mapDef = (): { size: number; key: number } => {
    const def = meta.map === undefined ? undefined : env.maps[meta.map];
    return { size: def?.valueSize ?? 0, key: def?.keySize ?? 0 };
  };
  switch (type) {
    case 'map_ptr': {
      if (reg.kind !== 'map_ptr')
        wrong('a map (&map_name)', 'pass the address of a map defined in SEC(".maps")');
      if (reg.kind !== 'map_ptr') return;
      const def = env.maps[reg.map];
      if (
        def !== undefined &&
        proto.mapTypes !== undefined &&
        !proto.mapTypes.includes(def.type as MapTypeName)
      ) {
        reject('HELPER_ARG', `${proto.name} cannot be used with map ${def.name} of type ${def.type}`, {
          hint: `${proto.name} works with ${proto.mapTypes.join(', ')} maps`,
        });
      }
      meta.map = reg.map;
      return;
    }
    case 'map_key':
      helperRegion(env, state, regno, mapDef().key, false, `${proto.name}'s key`, opts);
      meta.key = mapDef().key === 4 ? constStackValue(state, reg, 4) : undefined;
      return;
    case 'map_value':
      helperRegion(env, state, regno, mapDef().size, false, `${proto.name}'s value`, opts);
      return;
    case 'uninit_map_value':
      helperRegion(env, state, regno, mapDef().size, true, `${proto.name}'s value`, opts);
      return;
    case 'mem':
    case 'uninit_mem':
      meta.memArg = { regno, write: type === 'uninit_mem' };
      return;
    case 'mem_or_null':
      // NULL goes with a zero size; the size argument then checks nothing.
      meta.memArg =
        reg.kind === 'scalar' && isConst(reg.value) && reg.value.umin === 0n
          ? undefined
          : { regno, write: false };
      return;
    case 'size':
    case 'size_or_zero': {
      if (reg.kind !== 'scalar') wrong('a size', 'pass the buffer size as a number');
      const v = reg.value;
      if (v.smin < 0n) {
        reject('HELPER_ARG', `${name} (a size) may be negative: ${scalarToString(v)}`, {
          hint: 'use an unsigned size or check `if (n < 0) return 0;`',
        });
      }
      if (v.umin === 0n && type === 'size') {
        reject('HELPER_ARG', `${name} (a size) may be zero: ${scalarToString(v)}`, {
          hint: 'check `if (n == 0) return 0;` first',
        });
      }
      if (v.umax >= BigInt(MAX_SIZE)) {
        reject('HELPER_ARG', `${name} (a size) is unbounded: ${scalarToString(v)}`, {
          hint: 'bound it first: `n &= 0xff` or `if (n > sizeof(buf)) return 0;`',
        });
      }
      const mem = meta.memArg;
      if (mem !== undefined && v.umax > 0n) {
        helperRegion(env, state, mem.regno, Number(v.umax), mem.write, proto.name, opts);
      }
      return;
    }
    case 'const_alloc_size':
      if (reg.kind !== 'scalar' || !isConst(reg.value)) {
        wrong('a constant size', 'reserve a fixed size, e.g. sizeof(struct event)');
      }
      meta.allocSize = Number(reg.value.umin);
      return;
    case 'ctx':
      if (reg.kind !== 'ctx' || reg.off !== 0 || !isConst(reg.var) || reg.var.umin !== 0n) {
        wrong('the context pointer (the program argument)', 'pass ctx unchanged');
      }
      return;
    case 'ringbuf_mem':
      if (reg.kind !== 'mem' || reg.ref === 0) {
        wrong('a ring buffer reservation', 'pass the pointer bpf_ringbuf_reserve() returned');
      }
      if (reg.nullable) {
        reject('HELPER_ARG', `${name} may be NULL: the reservation is not checked`, {
          values: [regText(env, regno, reg)],
          hint: 'check `if (!e) return 0;` after bpf_ringbuf_reserve()',
        });
      }
      if (reg.off !== 0 || !isConst(reg.var) || reg.var.umin !== 0n) {
        wrong(
          'the reservation pointer itself',
          'pass the pointer returned by bpf_ringbuf_reserve(), not an offset into it',
        );
      }
      if (!state.refs.some((r) => r.id === reg.ref)) {
        wrong('an unreleased reservation', 'each reservation is submitted or discarded exactly once');
      }
      meta.release = reg.ref;
      return;
    case 'func':
      if (reg.kind !== 'func') wrong('a function', 'pass a static function as the callback');
      if (!env.program.subprograms.includes(reg.target)) wrong('the start of a function', 'pass a function');
      meta.callback = reg.target;
      return;
    case 'stack_or_null':
      if (reg.kind !== 'stack' && !(reg.kind === 'scalar' && isConst(reg.value) && reg.value.umin === 0n)) {
        wrong('a pointer to the stack or NULL', 'pass the address of a local variable or NULL');
      }
      meta.callbackCtx = reg;
      return;
    case 'anything':
      return;
  }
}

/** A lookup in an array map with a constant in-bounds key cannot fail (the kernel knows it too). */
function arrayHit(env: Env, meta: CallMeta): boolean {
  const def = meta.map === undefined ? undefined : env.maps[meta.map];
  if (def === undefined || meta.key === undefined) return false;
  return (def.type === 'array' || def.type === 'percpu_array') && meta.key < BigInt(def.maxEntries);
}

function clobberArgs(frame: Frame): void {
  for (let r = 1; r <= 5; r++) frame.regs[r] = NOT_INIT;
}

function callbackFrame(state: State, callsite: number, entry: number, ctx: RegState): State {
  const next = cloneState(state);
  const base = newFrame(
    'callback',
    callsite,
    entry,
    ctx,
    next.frames.map((x) => x.stack.slice()),
  );
  const f = { ...base, entryRefs: next.refs.map((r) => r.id) };
  f.regs[1] = UNKNOWN;
  f.regs[2] = ctx;
  f.regs[10] = { kind: 'stack', frame: next.frames.length, off: 0, var: scalarConst(0n) };
  next.frames.push(f);
  return next;
}

function checkDepth(state: State): void {
  if (state.frames.length >= MAX_CALL_FRAMES) {
    reject('CALL_DEPTH', `the call chain is deeper than ${MAX_CALL_FRAMES} frames`, {
      hint: 'flatten the call chain (mark small helpers __always_inline)',
    });
  }
}

function callHelper(env: Env, state: State, insn: CallInsn, opts: AccessOptions): Successor[] {
  const proto = helperProto(insn.imm);
  if (proto === undefined) {
    reject('HELPER_UNAVAILABLE', `helper #${insn.imm} is not known to the verifier`, {
      hint: 'check the helper id',
    });
  }
  if (proto.programTypes !== undefined && !proto.programTypes.includes(env.spec.type)) {
    reject('HELPER_UNAVAILABLE', `${proto.name} is not available to ${env.spec.type} programs`, {
      hint: `${proto.name} can be called from ${proto.programTypes.join(', ')} programs`,
    });
  }
  const meta: CallMeta = {};
  proto.args.forEach((t, i) => {
    checkArg(env, state, proto, i, t, meta, opts);
  });
  if (insn.imm === TAIL_CALL_ID && state.refs.length > 0) {
    const r = state.refs[0];
    reject('REF_LEAK', `bpf_tail_call would leak the reservation from ${r.what} at ${where(env, r.pc)}`, {
      hint: 'submit or discard ring buffer reservations before a tail call',
    });
  }
  const frame = top(state);
  if (meta.release !== undefined) {
    const ref = meta.release;
    state.refs = state.refs.filter((r) => r.id !== ref);
    mapAllRegs(state, (x) => (x.kind === 'mem' && x.ref === ref ? UNKNOWN : x));
  }
  if (proto.changesPacket) {
    mapAllRegs(state, (x) =>
      x.kind === 'pkt' || x.kind === 'pkt_meta' || x.kind === 'pkt_end' ? UNKNOWN : x,
    );
  }
  const callbackCtx = frame.regs[3];
  clobberArgs(frame);
  const origin = { pc: insn.pc, what: proto.name };
  switch (proto.ret) {
    case 'integer':
      frame.regs[0] = UNKNOWN;
      break;
    case 'void':
      frame.regs[0] = NOT_INIT;
      break;
    case 'map_value_or_null':
      frame.regs[0] = {
        kind: 'map_value',
        map: meta.map ?? 0,
        off: 0,
        var: scalarConst(0n),
        nullable: !arrayHit(env, meta),
        id: env.newId(),
        origin,
      };
      break;
    case 'ringbuf_mem_or_null': {
      const ref = env.newId();
      state.refs = [...state.refs, { id: ref, pc: insn.pc, what: proto.name }];
      frame.regs[0] = {
        kind: 'mem',
        size: meta.allocSize ?? 0,
        off: 0,
        var: scalarConst(0n),
        nullable: true,
        id: env.newId(),
        ref,
        origin,
      };
      break;
    }
  }
  const after = { state, pc: insn.pc + 1 };
  if (insn.imm === BPF_LOOP_ID && meta.callback !== undefined) {
    checkDepth(state);
    // Zero iterations continue at once; otherwise the callback runs with the caller's state.
    const cb = callbackFrame(state, insn.pc, meta.callback, callbackCtx);
    noteCallChain(env, cb.frames);
    return [after, { state: cb, pc: meta.callback }];
  }
  return [after];
}

export function execCall(env: Env, state: State, insn: CallInsn, opts: AccessOptions): Successor[] {
  if (insn.op === 'helper') return callHelper(env, state, insn, opts);
  if (insn.op !== 'local') {
    reject(
      'UNSUPPORTED',
      `${insn.op === 'kfunc' ? 'kfunc calls' : 'callx'} are not supported by the verifier yet`,
      {
        hint: 'use helpers and bpf-to-bpf calls',
      },
    );
  }
  checkDepth(state);
  const global = env.globals.get(insn.target);
  if (global !== undefined) {
    callGlobal(env, state, insn, global, opts);
    return [{ state, pc: insn.pc + 1 }];
  }
  const caller = top(state);
  const f = newFrame('subprog', insn.pc, insn.target);
  for (let r = 1; r <= 5; r++) f.regs[r] = caller.regs[r];
  f.regs[10] = { kind: 'stack', frame: state.frames.length, off: 0, var: scalarConst(0n) };
  state.frames.push(f);
  noteCallChain(env, state.frames);
  return [{ state, pc: insn.target }];
}

function returnedInto(state: State, r0: RegState): void {
  const depth = state.frames.length - 1;
  if (r0.kind === 'stack' && r0.frame === depth) {
    reject(
      'INVALID_RETURN',
      'a function returns a pointer to its own stack, which is gone after the return',
      {
        hint: 'return values, or write into a buffer the caller passes',
      },
    );
  }
  state.frames.pop();
  const caller = top(state);
  clobberArgs(caller);
  caller.regs[0] = r0;
}

export function execExit(env: Env, state: State, pc: number): Successor[] {
  const frame = top(state);
  const r0 = frame.regs[0];
  // A bpf-to-bpf function may be void: its caller only fails if it reads r0 afterwards.
  if (r0.kind === 'not_init' && frame.kind !== 'subprog') {
    reject('UNINIT_READ', `r0 (the return value) is not set at exit`, {
      hint: 'every path must return a value (`return 0;`)',
    });
  }
  if (frame.kind === 'global' && r0.kind !== 'scalar') {
    reject(
      'INVALID_RETURN',
      `a global function must return a scalar, but r0 is ${describe(r0, (m) => mapName(env, m))}`,
      {
        hint: 'return a number; global functions are verified once and their callers get an unknown scalar',
      },
    );
  }
  if (frame.kind === 'main' || frame.kind === 'global') {
    const range = frame.kind === 'main' ? env.ctx.returnRange : undefined;
    if (
      range !== undefined &&
      (r0.kind !== 'scalar' || r0.value.smin < range[0] || r0.value.smax > range[1])
    ) {
      reject(
        'INVALID_RETURN',
        `${env.spec.type}${env.spec.attachKind ? ` (${env.spec.attachKind})` : ''} programs must return a value in [${range[0]}, ${range[1]}], but r0 is ${describe(r0, (m) => mapName(env, m))}`,
        {
          hint: `return ${range[0]}`,
        },
      );
    }
    if (state.refs.length > 0) {
      const r = state.refs[0];
      reject(
        'REF_LEAK',
        `the ${r.what} reservation made at ${where(env, r.pc)} is neither submitted nor discarded on this path`,
        {
          values: state.refs.map((x) => `reference from ${x.what} at ${where(env, x.pc)} is still held`),
          hint: 'call bpf_ringbuf_submit() or bpf_ringbuf_discard() on every path after a successful reserve',
        },
      );
    }
    return [];
  }
  if (frame.kind === 'subprog') {
    const callsite = frame.callsite;
    returnedInto(state, r0);
    return [{ state, pc: callsite + 1 }];
  }
  // bpf_loop callback: what it acquired it must release, and 0 continues, 1 stops the loop.
  const leaked = state.refs.find((r) => !(frame.entryRefs ?? []).includes(r.id));
  if (leaked !== undefined) {
    reject(
      'REF_LEAK',
      `the bpf_loop callback returns holding the ${leaked.what} reservation made at ${where(env, leaked.pc)}`,
      {
        hint: 'submit or discard the reservation inside the callback, on every path',
      },
    );
  }
  if (r0.kind !== 'scalar' || r0.value.smin < 0n || r0.value.smax > 1n) {
    reject(
      'INVALID_RETURN',
      `a bpf_loop callback must return 0 or 1, but r0 is ${describe(r0, (m) => mapName(env, m))}`,
      {
        hint: 'return 0 to continue the loop, 1 to stop it',
      },
    );
  }
  const callsite = frame.callsite;
  const entry = frame.entry;
  const ctx = frame.callbackCtx ?? NOT_INIT;
  void pc;
  const callers = cloneState({ ...state, frames: state.frames.slice(0, -1) });
  if (frame.entryStacks !== undefined) widenChangedSlots(frame.entryStacks, callers.frames);
  const again = callbackFrame(callers, callsite, entry, ctx);
  returnedInto(state, UNKNOWN);
  return [
    { state, pc: callsite + 1 },
    { state: again, pc: entry },
  ];
}
