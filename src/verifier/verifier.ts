/**
 * The abstract interpreter: explores every path of the program depth-first like the kernel's
 * do_check, one abstract state per path. At prune points the state is compared with the fully
 * explored states stored there; one that covers it ends the path (states_equal with range inclusion).
 * A loop is followed iteration by iteration, with no unrolling limit: a bounded loop ends when its exit
 * condition becomes decidable; a state that repeats exactly at a loop header is an infinite loop; a
 * path that exhausts the instruction budget inside a loop is reported as an unbounded loop, anything
 * else past the budget as COMPLEXITY_LIMIT. A may_goto (can_loop) bounds its loop at run time: its
 * iterations are pruned once one is included in an earlier one of the same call, and widened
 * (widen.ts) after MAY_GOTO_EXACT_ITERATIONS exact ones so they get there.
 */
import type { Btf } from '../elf/btf.js';
import type { BtfFuncInfo, BtfLineInfo } from '../elf/btf-ext.js';
import { type Insn, insnAtPc, type Program } from '../isa/instruction.js';
import type { MapDefinition } from '../runtime/maps/map-def.js';
import { execAlu } from './alu.js';
import { branch } from './branch.js';
import { execCall, execExit, MAX_CALL_FRAMES, type Successor } from './calls.js';
import { buildCfg, type Cfg } from './cfg.js';
import { contextRules, type ProgramTypeSpec } from './context.js';
import { type Env, mapName, Rejection, reject, where } from './env.js';
import { VerifierError } from './errors.js';
import { globalEntryState, globalFunctions } from './global-funcs.js';
import { type AccessOptions, atomicAccess, load, store } from './memory.js';
import { historyEntry, newMarks, type PreciseMarks, Precision } from './precision.js';
import { isConst, scalarConst, scalarOfSize } from './scalar.js';
import { cloneState, newFrame, STACK_SIZE, type State, statesEqual, top } from './state.js';
import { describe, NOT_INIT, type RegState, scalar, UNKNOWN } from './types.js';
import { widenState } from './widen.js';

export const DEFAULT_MAX_INSNS = 1_000_000;
/** Iterations of one loop on one path beyond which running out of budget counts as an unbounded loop. */
const LOOP_ITERATIONS_UNBOUNDED = 16;
/** Program types whose large frames the kernel (6.13+, x86-64) moves to a private stack. */
const PRIVATE_STACK_TYPES: ReadonlySet<string> = new Set([
  'kprobe',
  'tracepoint',
  'perf_event',
  'raw_tracepoint',
]);
/** Instructions a path runs between two stored states outside loop headers. */
const CHECKPOINT_SPACING = 3;
/** How many explored states at a prune point are compared with a new one (newest first). */
const PRUNE_WINDOW = 16;
/** How many unfinished states at a loop header are compared for an exact repeat. */
const LOOP_REPEAT_WINDOW = 8;
/**
 * Iterations of a may_goto loop followed exactly before the state is widened: loops that end on their
 * own condition within this many iterations keep exact values (as the kernel's precise scalars do).
 */
const MAY_GOTO_EXACT_ITERATIONS = 32;
/** Checkpoints walked back on the path to find the previous iterations at a may_goto. */
const MAY_GOTO_LOOKBACK = 4096;

export interface VerifyOptions {
  /** Map definitions in map index order (the lddw immediates). */
  readonly mapDefinitions?: readonly MapDefinition[];
  /** Line info per pc, for locations in errors. */
  readonly lines?: readonly (BtfLineInfo | undefined)[];
  /** Processed-instruction budget (default 1,000,000, the kernel's BPF_COMPLEXITY_LIMIT_INSNS). */
  readonly maxInsns?: number;
  /**
   * Accept reads of never-written stack bytes, as the kernel does for privileged (CAP_PERFMON) loaders.
   * Default false: such reads are UNINIT_READ, as for unprivileged loaders.
   */
  readonly allowUninitStack?: boolean;
  /**
   * The program's BTF and func info (per function: first pc and FUNC type id). With them, global
   * functions are verified once from their prototype, as the kernel does; without them (assembly, raw
   * bytes) every function is verified in each calling context.
   */
  readonly btf?: Btf;
  readonly funcInfo?: readonly BtfFuncInfo[];
  /**
   * Default true: a stored state compares only the scalars some check depended on (the kernel's
   * precision tracking). False compares every scalar, which prunes less (for differential tests).
   */
  readonly precision?: boolean;
}

export interface VerifyStats {
  readonly insnsProcessed: number;
  readonly states: number;
  readonly ms: number;
}

export interface VerifyResult {
  readonly ok: boolean;
  readonly errors: readonly VerifierError[];
  readonly stats: VerifyStats;
}

interface Checkpoint {
  readonly state: State;
  readonly pc: number;
  readonly parent: Checkpoint | undefined;
  branches: number;
  /** Which scalars the paths from here compared (final once `branches` is 0). */
  readonly marks: PreciseMarks;
  /** The instructions run from the parent to here (precision.ts history entries). */
  hist: number[];
}

interface Work {
  state: State;
  pc: number;
  parent: Checkpoint | undefined;
  /** Instructions on this path since its last stored state. */
  since: number;
  /** Their history entries, for precision marking. */
  hist: number[];
}

class Verifier {
  private readonly env: Env;
  private readonly opts: AccessOptions;
  private readonly maxInsns: number;
  private readonly all: Checkpoint[][];
  private readonly done: Checkpoint[][];
  private readonly callbackEntries = new Set<number>();
  private readonly verifiedGlobals = new Set<number>();
  private nextId = 1;
  /** Undefined when every scalar is compared. */
  private readonly precision: Precision | undefined;
  processed = 0;
  states = 0;

  constructor(
    program: Program,
    spec: ProgramTypeSpec,
    options: VerifyOptions,
    readonly cfg: Cfg = buildCfg(program),
  ) {
    this.env = {
      program,
      cfg,
      spec,
      ctx: contextRules(spec),
      maps: options.mapDefinitions ?? [],
      lines: options.lines ?? [],
      newId: () => this.nextId++,
      stackUse: { depth: new Map(), calls: new Map() },
      globals: globalFunctions({ program, spec }, options.btf, options.funcInfo ?? []),
      calledGlobals: new Set(),
    };
    this.opts = { allowUninitStack: options.allowUninitStack ?? false };
    this.precision = options.precision === false ? undefined : new Precision(this.env);
    this.maxInsns = options.maxInsns ?? DEFAULT_MAX_INSNS;
    this.all = Array.from({ length: program.slotCount }, () => []);
    this.done = Array.from({ length: program.slotCount }, () => []);
  }

  run(): VerifierError | undefined {
    const first = this.env.cfg.unreachable[0];
    if (first !== undefined) {
      return this.error(
        first,
        undefined,
        new Rejection('UNREACHABLE_INSN', `instruction ${first} can never run`, {
          hint: 'remove dead code (the kernel refuses unreachable instructions)',
        }),
      );
    }
    const main = newFrame('main', -1, 0);
    main.regs[1] = { kind: 'ctx', off: 0, var: scalarConst(0n) };
    main.regs[10] = { kind: 'stack', frame: 0, off: 0, var: scalarConst(0n) };
    const work: Work[] = [
      { state: { frames: [main], refs: [] }, pc: 0, parent: undefined, since: CHECKPOINT_SPACING, hist: [] },
    ];
    while (work.length > 0 || this.nextGlobal(work)) {
      const item = work.pop() as Work;
      let { state, pc, parent, since, hist } = item;
      for (;;) {
        if (++this.processed > this.maxInsns) return this.limit(state, pc, parent);
        since++;
        if (this.env.cfg.prunePoint[pc]) {
          let seen: Checkpoint | undefined | 'prune';
          try {
            seen = this.visit(state, pc, parent, since, hist);
          } catch (e) {
            if (e instanceof Rejection) return this.error(pc, state, e);
            throw e;
          }
          if (seen === 'prune') {
            this.finish(parent);
            break;
          }
          if (seen !== parent) {
            since = 0;
            hist = [];
          }
          parent = seen;
        }
        const insn = insnAtPc(this.env.program, pc);
        if (insn === undefined)
          return this.error(
            pc,
            state,
            new Rejection('UNSUPPORTED', `execution falls off the end of the program at pc ${pc}`, {
              hint: 'end every path with an exit (r0 set to the return value)',
            }),
          );
        let next: Successor[];
        try {
          this.precision?.useBy(state, insn, hist, parent);
          const entry = historyEntry(
            state,
            insn,
            insn.kind === 'call' && insn.op === 'local' && this.env.globals.has(insn.target),
          );
          next = this.step(state, insn);
          if (next.length === 1 && insn.kind === 'jump') this.precision?.decided(state, insn, hist, parent);
          hist.push(entry);
        } catch (e) {
          if (e instanceof Rejection) return this.error(pc, state, e);
          throw e;
        }
        if (next.length === 0) {
          this.finish(parent);
          break;
        }
        for (let i = next.length - 1; i >= 1; i--) {
          work.push({ state: next[i].state, pc: next[i].pc, parent, since, hist: hist.slice() });
          if (parent !== undefined) parent.branches++;
        }
        state = next[0].state;
        pc = next[0].pc;
      }
    }
    return this.checkCallChains() ?? this.checkCombinedStack();
  }

  /** Like do_check_subprogs: after the program, each global function it called, once, on its own. */
  private nextGlobal(work: Work[]): boolean {
    const entry = [...this.env.calledGlobals].find((e) => !this.verifiedGlobals.has(e));
    const fn = entry === undefined ? undefined : this.env.globals.get(entry);
    if (fn === undefined) return false;
    this.verifiedGlobals.add(fn.entry);
    work.push({
      state: globalEntryState(this.env, fn),
      pc: fn.entry,
      parent: undefined,
      since: CHECKPOINT_SPACING,
      hist: [],
    });
    return true;
  }

  /**
   * Global functions are verified once, not along call chains, so the frames a chain needs at run time
   * are counted on the call graph, as the kernel's check_max_stack_depth does: a cycle (recursion) or a
   * chain deeper than MAX_CALL_FRAMES is refused.
   */
  private checkCallChains(): VerifierError | undefined {
    const { calls } = this.env.stackUse;
    const frames = new Map<number, number>();
    const onPath = new Set<number>();
    let cycle: number | undefined;
    const depth = (entry: number): number => {
      const known = frames.get(entry);
      if (known !== undefined) return known;
      onPath.add(entry);
      let most = 0;
      for (const [callee, callsite] of calls.get(entry) ?? []) {
        if (onPath.has(callee)) cycle ??= callsite;
        else most = Math.max(most, depth(callee));
      }
      onPath.delete(entry);
      frames.set(entry, most + 1);
      return most + 1;
    };
    const total = depth(0);
    if (cycle !== undefined) {
      return this.error(
        cycle,
        undefined,
        new Rejection('CALL_DEPTH', `the call at ${where(this.env, cycle)} is recursive`, {
          hint: 'BPF functions cannot call themselves, directly or through other functions; use a bounded loop',
        }),
      );
    }
    if (total <= MAX_CALL_FRAMES) return undefined;
    const chain: number[] = [];
    let entry: number | undefined = 0;
    while (entry !== undefined) {
      const want: number = (frames.get(entry) ?? 0) - 1;
      let next: number | undefined;
      for (const [callee, callsite] of calls.get(entry) ?? []) {
        if (frames.get(callee) !== want) continue;
        chain.push(callsite);
        next = callee;
        break;
      }
      entry = next;
    }
    return this.error(
      chain[0],
      undefined,
      new Rejection(
        'CALL_DEPTH',
        `the call chain through ${chain.map((pc) => where(this.env, pc)).join(' -> ')} needs ${total} frames, more than ${MAX_CALL_FRAMES}`,
        { hint: 'flatten the call chain (mark small helpers __always_inline)' },
      ),
    );
  }

  /**
   * Like the kernel's check_max_stack_depth: the frames of a call chain (bpf_loop callbacks included)
   * share MAX_BPF_STACK bytes, each frame counted as the deepest stack byte its function touches on any
   * path, rounded up to 16 (round_up_stack_depth with a JIT, as the kernel runs programs). Tracing program types are left out: there the kernel moves
   * frames of 64 bytes or more to a private stack and does not count them.
   */
  private checkCombinedStack(): VerifierError | undefined {
    if (PRIVATE_STACK_TYPES.has(this.env.spec.type)) return undefined;
    const { depth, calls } = this.env.stackUse;
    const frameSize = (entry: number): number => Math.ceil((depth.get(entry) ?? 0) / 16) * 16;
    const deepest = (entry: number, seen: Set<number>): { total: number; chain: number[] } => {
      let best = { total: 0, chain: [] as number[] };
      for (const [callee, callsite] of calls.get(entry) ?? []) {
        if (seen.has(callee)) continue;
        const sub = deepest(callee, new Set([...seen, callee]));
        if (sub.total > best.total) best = { total: sub.total, chain: [callsite, ...sub.chain] };
      }
      return { total: frameSize(entry) + best.total, chain: best.chain };
    };
    const { total, chain } = deepest(0, new Set([0]));
    if (total <= STACK_SIZE || chain.length === 0) return undefined;
    return this.error(
      chain[0],
      undefined,
      new Rejection(
        'STACK_OOB',
        `the call chain through ${chain.map((pc) => where(this.env, pc)).join(' -> ')} uses ${total} bytes of stack: its ${chain.length + 1} frames share ${STACK_SIZE} bytes`,
        {
          values: ['each frame counts as the deepest stack byte its function uses, rounded up to 16 bytes'],
          hint: `move large buffers of the functions on this chain to a per-CPU array map`,
        },
      ),
    );
  }

  /** A stored state covering `state` prunes the path; otherwise `state` is stored and returned. */
  private visit(
    state: State,
    pc: number,
    parent: Checkpoint | undefined,
    since: number,
    hist: number[],
  ): Checkpoint | undefined | 'prune' {
    const live = this.env.cfg.liveIn[pc];
    // Newest first, and only so many: a missed prune costs time, never soundness.
    const done = this.done[pc];
    for (let i = done.length - 1, n = 0; i >= 0 && n < PRUNE_WINDOW; i--, n++) {
      const d = done[i];
      if (statesEqual(d.state, state, live, false, this.precision && d.marks)) {
        // This path goes on as d's did: what d compared, its values decided.
        this.precision?.inherit(state, d.marks, hist, parent);
        return 'prune';
      }
    }
    if (this.env.cfg.mayGoto[pc] && this.mayGotoLoop(state, pc, parent, live)) return 'prune';
    if (this.env.cfg.loopHeader[pc] || this.callbackEntries.has(pc)) {
      const open = this.all[pc];
      let checked = 0;
      for (
        let i = open.length - 1, seen = 0;
        i >= 0 && checked < LOOP_REPEAT_WINDOW && seen < PRUNE_WINDOW;
        i--, seen++
      ) {
        const cp = open[i];
        if (cp.branches === 0) continue;
        checked++;
        if (this.callbackEntries.has(pc) && top(state).kind === 'callback') {
          // Re-entering a callback with nothing new: its iterations have converged. cp is still being
          // explored, so its marks are not final: every value counts, here and on this path.
          if (statesEqual(cp.state, state, live, false)) {
            this.precision?.markAll(parent);
            return 'prune';
          }
        } else if (statesEqual(cp.state, state, live, true)) {
          reject(
            'UNBOUNDED_LOOP',
            `infinite loop: the loop at ${where(this.env, pc)} comes back to exactly the same state`,
            {
              values: this.loopValues(state),
              hint: 'the loop variable must change every iteration and the exit condition must depend on it',
            },
          );
        }
      }
    }
    // Like the kernel, store a new state only every few instructions (always at loop headers).
    if (
      since < CHECKPOINT_SPACING &&
      !this.env.cfg.loopHeader[pc] &&
      !this.env.cfg.mayGoto[pc] &&
      !this.callbackEntries.has(pc)
    )
      return parent;
    const cp: Checkpoint = {
      state: cloneState(state),
      pc,
      parent,
      branches: 1,
      marks: newMarks(state.frames.length),
      hist,
    };
    this.all[pc].push(cp);
    this.states++;
    return cp;
  }

  /**
   * At a may_goto: true when one of the last MAY_GOTO_EXACT_ITERATIONS earlier iterations on this
   * path — same pc, same call of the function, fewer may_goto fall-throughs since — includes `state`. That iteration explores everything this one
   * could do, and the cycle between them spent the frame's counter, so it cannot repeat forever.
   * Otherwise, after MAY_GOTO_EXACT_ITERATIONS exact iterations, `state` is widened against the
   * previous one (widen.ts) so the iterations converge instead of counting to BPF_MAX_LOOPS.
   */
  private mayGotoLoop(state: State, pc: number, parent: Checkpoint | undefined, live: number): boolean {
    const frame = top(state);
    const earlier: State[] = [];
    for (let c = parent, n = 0; c !== undefined && n < MAY_GOTO_LOOKBACK; c = c.parent, n++) {
      if (c.pc !== pc) continue;
      const f = top(c.state);
      if (f.activation !== frame.activation || c.state.frames.length !== state.frames.length) continue;
      if (f.mayGotos >= frame.mayGotos) continue;
      // Any of them: values that cycle (an offset wrapping around) repeat an older iteration. c is
      // still being explored, so its marks are not final: every value counts on this path.
      if (statesEqual(c.state, state, live, false)) {
        this.precision?.markAll(parent);
        return true;
      }
      if (earlier.push(c.state) >= MAY_GOTO_EXACT_ITERATIONS) break;
    }
    if (earlier.length >= MAY_GOTO_EXACT_ITERATIONS) {
      widenState(earlier, state);
      const last = state.frames.length - 1;
      state.frames[last] = { ...state.frames[last], widenedAt: pc };
    }
    return false;
  }

  /** A path ended: its ancestors with no other unfinished paths are now complete. */
  private finish(cp: Checkpoint | undefined): void {
    for (let c = cp; c !== undefined; c = c.parent) {
      c.branches--;
      if (c.branches > 0) return;
      this.done[c.pc].push(c);
    }
  }

  private step(state: State, insn: Insn): Successor[] {
    const frame = top(state);
    const next = insn.pc + insn.slots;
    const read = (r: number): RegState => {
      const v = frame.regs[r];
      if (v.kind === 'not_init') {
        reject('UNINIT_READ', `r${r} is read before anything was stored in it`, {
          hint:
            r >= 1 && r <= 5
              ? 'r1-r5 are clobbered by calls; keep values across calls in r6-r9'
              : `assign r${r} on every path before this use`,
        });
      }
      return v;
    };
    switch (insn.kind) {
      case 'alu': {
        const v = execAlu(this.env, frame, insn);
        if (insn.op === 'mov' && insn.is64 && insn.useReg && v.kind === 'scalar' && !isConst(v.value)) {
          // Link the copies: a comparison of either narrows both.
          const id = v.id !== 0 ? v.id : this.env.newId();
          frame.regs[insn.src] = scalar(v.value, id);
          frame.regs[insn.dst] = scalar(v.value, id);
        } else {
          frame.regs[insn.dst] = v.kind === 'scalar' && v.id !== 0 && insn.op !== 'mov' ? scalar(v.value) : v;
        }
        return [{ state, pc: next }];
      }
      case 'lddw':
        frame.regs[insn.dst] = this.lddw(insn);
        return [{ state, pc: next }];
      case 'load':
        frame.regs[insn.dst] = load(
          this.env,
          state,
          insn.src,
          insn.off,
          insn.size,
          insn.signExtend,
          insn.pc,
          this.opts,
        );
        return [{ state, pc: next }];
      case 'store': {
        const value = insn.useReg ? read(insn.src) : scalar(scalarConst(BigInt(insn.imm)));
        store(this.env, state, insn.dst, insn.off, insn.size, value);
        return [{ state, pc: next }];
      }
      case 'atomic': {
        const v = read(insn.src);
        if (v.kind !== 'scalar') {
          reject('INVALID_MEM_ACCESS', `r${insn.src} is a pointer; atomic operations take numbers`, {
            hint: 'store pointers with a plain store',
          });
        }
        if (insn.op === 'cmpxchg') read(0);
        atomicAccess(this.env, state, insn.dst, insn.off, insn.size, this.opts);
        if (insn.op === 'cmpxchg') frame.regs[0] = scalar(scalarOfSize(insn.size));
        else if (insn.fetch) frame.regs[insn.src] = scalar(scalarOfSize(insn.size));
        return [{ state, pc: next }];
      }
      case 'jump': {
        if (insn.op === 'ja') return [{ state, pc: insn.target }];
        if (insn.op === 'may_goto') {
          // Both ways: the counter is not tracked. Falling through uses one iteration of this frame's.
          const spent = cloneState(state);
          spent.path = { pc: insn.pc, taken: true, prev: state.path };
          const last = state.frames.length - 1;
          state.frames[last] = { ...state.frames[last], mayGotos: state.frames[last].mayGotos + 1 };
          state.path = { pc: insn.pc, taken: false, prev: state.path };
          return [
            { state, pc: next },
            { state: spent, pc: insn.target },
          ];
        }
        const r = branch(this.env, state, insn);
        const out: Successor[] = [];
        const both = r.taken !== undefined && r.fall !== undefined;
        // The fall-through is explored first, the target later (as the kernel's push_stack does).
        if (r.fall !== undefined) {
          if (both) r.fall.path = { pc: insn.pc, taken: false, prev: r.fall.path };
          out.push({ state: r.fall, pc: next });
        }
        if (r.taken !== undefined) {
          if (both) r.taken.path = { pc: insn.pc, taken: true, prev: r.taken.path };
          out.push({ state: r.taken, pc: insn.target });
        }
        return out;
      }
      case 'call': {
        const out = execCall(this.env, state, insn, this.opts);
        for (const s of out)
          if (top(s.state).kind === 'callback' && s.pc !== next) this.callbackEntries.add(s.pc);
        return out;
      }
      case 'exit':
        return execExit(this.env, state, insn.pc);
      case 'packet_load': {
        if (!this.env.ctx.legacyPacketLoads) {
          reject(
            'HELPER_UNAVAILABLE',
            `LD_ABS/LD_IND packet loads are not available to ${this.env.spec.type} programs`,
            {
              hint: 'use direct packet access (data/data_end) or bpf_skb_load_bytes()',
            },
          );
        }
        const ctx = read(6);
        if (ctx.kind !== 'ctx') {
          reject('HELPER_ARG', 'LD_ABS/LD_IND need the context in r6', {
            hint: 'keep ctx in r6 for legacy packet loads',
          });
        }
        if (insn.indirect && read(insn.src).kind !== 'scalar') {
          reject('POINTER_ARITH', `r${insn.src} (the LD_IND offset) is a pointer`, {
            hint: 'the offset is a number',
          });
        }
        if (state.refs.length > 0) {
          reject('REF_LEAK', 'LD_ABS/LD_IND may end the program while a reservation is held', {
            hint: 'submit or discard ring buffer reservations before legacy packet loads',
          });
        }
        for (let r = 1; r <= 5; r++) frame.regs[r] = NOT_INIT;
        frame.regs[0] = scalar(scalarOfSize(insn.size));
        return [{ state, pc: next }];
      }
    }
  }

  private lddw(insn: Extract<Insn, { kind: 'lddw' }>): RegState {
    const maps = this.env.maps;
    const needMap = (i: number): void => {
      if (i < 0 || (maps.length > 0 && i >= maps.length)) {
        reject('UNSUPPORTED', `lddw refers to map ${i}, but the program has ${maps.length} maps`, {
          hint: 'pass the map definitions (mapDefinitions) the program was linked with',
        });
      }
    };
    switch (insn.source) {
      case 'imm64':
        return scalar(scalarConst((BigInt(insn.imm2 >>> 0) << 32n) | BigInt(insn.imm >>> 0)));
      case 'map_fd':
      case 'map_idx':
        needMap(insn.imm);
        return { kind: 'map_ptr', map: insn.imm };
      case 'map_value':
      case 'map_idx_value':
        needMap(insn.imm);
        return {
          kind: 'map_value',
          map: insn.imm,
          off: insn.imm2,
          var: scalarConst(0n),
          nullable: false,
          id: 0,
          origin: { pc: insn.pc, what: `the global data of ${mapName(this.env, insn.imm)}` },
        };
      case 'code_addr':
        return { kind: 'func', target: insn.pc + 1 + insn.imm };
      case 'var_addr':
        return UNKNOWN;
    }
  }

  private isMayGoto(pc: number): boolean {
    return this.env.cfg.mayGoto[pc] === 1;
  }

  /** The may_goto among the newest branch decisions of the path (the loop is a can_loop loop). */
  private mayGotoOnPath(state: State): number | undefined {
    let s = state.path;
    for (let n = 0; s !== undefined && n < 64; s = s.prev, n++) if (this.isMayGoto(s.pc)) return s.pc;
    return undefined;
  }

  /** The operands of the last branch on the path, to show what a loop depends on. */
  private loopValues(state: State): string[] {
    const step = state.path;
    if (step === undefined) return [];
    const insn = insnAtPc(this.env.program, step.pc);
    if (insn?.kind !== 'jump') return [];
    const mayGoto = this.mayGotoOnPath(state);
    const note =
      mayGoto === undefined
        ? []
        : [
            `the loop is bounded at run time by the may_goto (can_loop) at ${where(this.env, mayGoto)}, but no iteration reaches a state an earlier one includes: a pointer (or a value used as one) changes every time`,
          ];
    if (insn.op === 'may_goto') return note;
    const f = top(state);
    const d = (r: number): string => `r${r} is ${describe(f.regs[r], (m) => mapName(this.env, m))}`;
    return [
      `the loop's last test is at ${where(this.env, step.pc)}: ${d(insn.dst)}${insn.useReg ? `, ${d(insn.src)}` : `, compared with ${insn.imm}`}`,
      ...note,
    ];
  }

  private limit(state: State, pc: number, parent: Checkpoint | undefined): VerifierError {
    const counts = new Map<number, number>();
    for (let c = parent; c !== undefined; c = c.parent) {
      if (this.env.cfg.loopHeader[c.pc]) counts.set(c.pc, (counts.get(c.pc) ?? 0) + 1);
    }
    let header = -1;
    let most = 0;
    for (const [h, n] of counts) if (n > most) [header, most] = [h, n];
    if (most >= LOOP_ITERATIONS_UNBOUNDED) {
      return this.error(
        pc,
        state,
        new Rejection(
          'UNBOUNDED_LOOP',
          `the loop at ${where(this.env, header)} ran ${most} iterations on one path without leaving it: its bound is unknown or too large (${this.maxInsns.toLocaleString('en-US')} instructions explored)`,
          {
            values: this.loopValues(state),
            hint:
              this.mayGotoOnPath(state) !== undefined
                ? 'keep what changes per iteration in a scalar index checked against a constant bound (`if (i >= N) break; p[i]`) rather than an advancing pointer, or give the loop a small constant bound'
                : 'give the loop a small constant bound (`for (i = 0; i < MAX && i < n; i++)`), end it with `can_loop` (may_goto), or use bpf_loop()',
          },
        ),
        header,
      );
    }
    return this.error(
      pc,
      state,
      new Rejection(
        'COMPLEXITY_LIMIT',
        `the program is too complex: more than ${this.maxInsns.toLocaleString('en-US')} instructions explored`,
        {
          hint: 'reduce the number of paths (fewer nested branches, smaller unrolled loops) or split the program with tail calls',
        },
      ),
    );
  }

  private error(pc: number, state: State | undefined, e: Rejection, reportPc = pc): VerifierError {
    const line = this.env.lines[reportPc];
    // Newest 8 distinct decisions; a repeated one (a loop) is shown once with its count.
    const path: string[] = [];
    let last = '';
    let repeat = 1;
    for (let s = state?.path; s !== undefined; s = s.prev) {
      const l = this.env.lines[s.pc];
      const text = l?.text.trim();
      const decision = this.isMayGoto(s.pc)
        ? s.taken
          ? 'may_goto jumps (its counter is spent)'
          : 'may_goto falls through (another iteration)'
        : `branch ${s.taken ? 'taken' : 'not taken'}`;
      const step = `${where(this.env, s.pc)}${text ? ` \`${text}\`` : ''}: ${decision}`;
      if (step === last) {
        repeat++;
        path[path.length - 1] = `${step} (${repeat} times in a row)`;
        continue;
      }
      if (path.length === 8) break;
      path.push(step);
      last = step;
      repeat = 1;
    }
    path.reverse();
    const widenedAt = state === undefined ? undefined : top(state).widenedAt;
    const values =
      widenedAt === undefined || e.code === 'UNBOUNDED_LOOP'
        ? e.details.values
        : [
            ...(e.details.values ?? []),
            `the values are those of every iteration of the may_goto (can_loop) loop at ${where(this.env, widenedAt)}, widened together: the access must be safe for all of them`,
          ];
    return new VerifierError(
      e.code,
      e.message,
      line === undefined
        ? { pc: reportPc }
        : { pc: reportPc, file: line.file, line: line.line, column: line.column || undefined },
      {
        source: line?.text.trim() || undefined,
        values,
        path,
        witness: e.details.witness,
        hint: e.details.hint,
      },
    );
  }
}

/** Verifies `program` as a program of `spec`'s type. */
export function verify(program: Program, spec: ProgramTypeSpec, options: VerifyOptions = {}): VerifyResult {
  const t0 = performance.now();
  const v = new Verifier(program, spec, options);
  const err = v.run();
  return {
    ok: err === undefined,
    errors: err === undefined ? [] : [err],
    stats: {
      insnsProcessed: Math.min(v.processed, options.maxInsns ?? DEFAULT_MAX_INSNS),
      states: v.states,
      ms: performance.now() - t0,
    },
  };
}
