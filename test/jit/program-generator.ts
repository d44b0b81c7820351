/**
 * A seeded generator of valid eBPF programs for differential testing: every ALU form (including the
 * edge divisors), forward branches into anything (irreducible flow included), counted loops, loads,
 * stores and atomics on the stack, the input region, read-only data and wild pointers, lddw, legacy
 * packet loads, may_goto (forward and as a loop header), local calls (recursion included), helper
 * calls and helper callbacks into functions. Programs always decode; whether they finish, trap or run
 * out of budget is what the engines must agree on. Irreducible flow comes from forward jumps into loop
 * bodies and from counted backward jumps to arbitrary earlier points; loop nests as clang lays them
 * out (rotated loops, shared headers and mid entries, jumps into an inner loop's middle) from
 * `loopNest`; shared tails (short blocks
 * reached by backward jumps, leaving forwards) from clang's switch lowering; zero extensions
 * (`<<= 32; >>= 32`) as clang writes them.
 */
import type { RawInsn } from '../../src/isa/encoder.js';
import { Slot, slotBase } from '../../src/vm/memory/layout.js';
import { prng } from '../support/prng.js';

/** Helper ids the generated programs call (see the differential test's registry). */
export const GENERATED_HELPERS = [0, 2, 3, 5, 100, 101];
/** Helper that calls back into the program: r1 = code address, r2 % 4 = times, r3 passed on. */
export const CALLBACK_HELPER = 102;
/** Registers an instruction may write: r6 keeps the input pointer, r7 and r9 count back edges. */
const WRITABLE = [0, 1, 2, 3, 4, 5, 8];
const ALU_OPS = [0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xa0, 0xb0, 0xc0];
const JUMP_OPS = [0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0];
const ATOMIC_IMMS = [0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1];
const SIZE_BITS: Record<number, number> = { 1: 0x10, 2: 0x08, 4: 0x00, 8: 0x18 };
/** Size of the read-only region the differential harness maps. */
export const RODATA_SIZE = 32;
const INTERESTING = [0, 1, -1, 2, 7, 31, 32, 63, 64, 0x7fffffff, -0x80000000, 0xff, 0xffff, -2];

interface Fixup {
  index: number;
  label: number;
  kind: 'jump' | 'call';
}

export interface GeneratedProgram {
  insns: RawInsn[];
  /** Size of the input region the program expects r1 to point at. */
  inputSize: number;
}

export function generateProgram(seed: number, inputSize = 64): GeneratedProgram {
  const rnd = prng(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const chance = (p: number) => rnd() < p;
  const imm32 = () => (chance(0.5) ? pick(INTERESTING) : (rnd() * 2 ** 32) | 0);

  const insns: RawInsn[] = [];
  const pcs: number[] = [];
  let pc = 0;
  const labelPc = new Map<number, number>();
  const fixups: Fixup[] = [];
  let nextLabel = 0;
  const emit = (insn: RawInsn) => {
    insns.push(insn);
    pcs.push(pc);
    pc += insn.opcode === 0x18 ? 2 : 1;
  };
  const place = (label: number) => labelPc.set(label, pc);
  const raw = (opcode: number, dst: number, src: number, off: number, imm: number): RawInsn => ({
    opcode,
    dst,
    src,
    off,
    imm,
  });

  const functionCount = 1 + int(3);
  const functionLabels = Array.from({ length: functionCount }, () => nextLabel++);

  const memoryOperand = (size: number): { base: number; off: number } => {
    const r = rnd();
    if (r < 0.4) return { base: 10, off: -8 * (1 + int(8)) - (chance(0.2) ? int(8) : 0) };
    if (r < 0.85) return { base: 6, off: int(inputSize - size + 1) + (chance(0.05) ? inputSize : 0) };
    if (r < 0.9) return { base: 10, off: chance(0.5) ? -600 : 8 };
    return { base: pick([0, 1, 2, 3, 4, 5, 7, 8]), off: int(64) - 32 };
  };

  /** Labels placed at earlier statement boundaries of the current function (backward jump targets). */
  let anchors: number[] = [];
  /**
   * Shared tails of the current function (clang's switch tails): short blocks jumped over when laid
   * out, reached by later backward jumps, ending in exit or a jump to the function's end.
   */
  let tails: number[] = [];
  let endLabel = -1;

  const statement = (pending: { label: number; after: number }[], inLoop: boolean, depthBudget: number) => {
    const r = rnd();
    if (anchors.length > 0 && chance(0.04)) {
      // Counted backward jump (r7 only decreases, so it is taken a bounded number of times).
      emit(raw(0x07, 7, 0, 0, -1));
      fixups.push({ index: insns.length, label: pick(anchors), kind: 'jump' });
      emit(raw(0x65, 7, 0, 0, 0));
      return;
    }
    if (tails.length > 0 && chance(0.04)) {
      // Backward jump to a shared tail (no cycle: the tail leaves forwards).
      fixups.push({ index: insns.length, label: pick(tails), kind: 'jump' });
      if (chance(0.3)) emit(raw(0x05, 0, 0, 0, 0));
      else emit(raw(pick(JUMP_OPS) | 0x05, int(11), 0, 0, imm32()));
      return;
    }
    if (chance(0.03)) {
      const over = nextLabel++;
      fixups.push({ index: insns.length, label: over, kind: 'jump' });
      emit(raw(0x05, 0, 0, 0, 0));
      const tail = nextLabel++;
      place(tail);
      tails.push(tail);
      for (let k = int(3); k > 0; k--) {
        if (chance(0.3)) emit(raw(0x7b, 10, pick(WRITABLE), -8 * (1 + int(8)), 0));
        else emit(raw(pick([0x07, 0xa7, 0x27]), pick(WRITABLE), 0, 0, imm32()));
      }
      if (chance(0.3)) emit(raw(0x95, 0, 0, 0, 0));
      else {
        fixups.push({ index: insns.length, label: endLabel, kind: 'jump' });
        emit(raw(0x05, 0, 0, 0, 0));
      }
      place(over);
      return;
    }
    const dst = pick(WRITABLE);
    const src = int(11);
    if (chance(0.02)) {
      // clang's zero extension (`<<= 32; >>= 32`), sometimes split by a jump target.
      emit(raw(0x67, dst, 0, 0, 32));
      if (chance(0.3)) flush(pending);
      emit(raw(0x77, dst, 0, 0, 32));
      return;
    }
    if (r < 0.4) {
      // ALU: op, width, source, including sdiv/smod, movsx and byte swaps.
      const op = pick(ALU_OPS);
      const is64 = chance(0.5);
      const x = chance(0.5);
      let off = 0;
      if ((op === 0x30 || op === 0x90) && chance(0.4)) off = 1;
      if (op === 0xb0 && x && chance(0.3)) off = pick(is64 ? [8, 16, 32] : [8, 16]);
      if (op === 0x80) {
        emit(raw(is64 ? 0x87 : 0x84, dst, 0, 0, 0));
        return;
      }
      emit(raw(op | (is64 ? 0x07 : 0x04) | (x ? 0x08 : 0), dst, x ? src : 0, off, x ? 0 : imm32()));
      return;
    }
    if (r < 0.45) {
      const kind = int(3);
      emit(raw(kind === 0 ? 0xd4 : kind === 1 ? 0xdc : 0xd7, dst, 0, 0, pick([16, 32, 64])));
      return;
    }
    if (r < 0.57) {
      // Forward conditional (or unconditional) jump to a label placed a few statements later.
      const label = nextLabel++;
      pending.push({ label, after: int(6) });
      const op = chance(0.1) ? 0x00 : chance(0.05) ? 0xe0 : pick(JUMP_OPS);
      const x = chance(0.5);
      const cls = op === 0 ? 0x05 : chance(0.5) ? 0x05 : 0x06;
      fixups.push({ index: insns.length, label, kind: 'jump' });
      if (op === 0) emit(raw(0x05, 0, 0, 0, 0));
      else if (op === 0xe0)
        emit(raw(0xe5, 0, 0, 0, 0)); // may_goto: falls through (the budget ends first)
      else emit(raw(op | cls | (x ? 0x08 : 0), int(11), x ? src : 0, 0, x ? 0 : imm32()));
      return;
    }
    if (r < 0.67) {
      if (chance(0.2)) {
        stackIndex();
        return;
      }
      const size = pick([1, 2, 4, 8]);
      const { base, off } = memoryOperand(size);
      const form = int(4);
      if (form < 2) {
        const sx = size < 8 && chance(0.3);
        emit(raw((sx ? 0x81 : 0x61) | SIZE_BITS[size], dst, base, off, 0));
      } else if (form === 2) {
        emit(raw(0x63 | SIZE_BITS[size], base, src, off, 0));
      } else {
        emit(raw(0x62 | SIZE_BITS[size], base, 0, off, imm32()));
      }
      return;
    }
    if (r < 0.71) {
      const size = pick([4, 8]);
      const { base, off } = memoryOperand(size);
      emit(raw(size === 8 ? 0xdb : 0xc3, base, pick(WRITABLE), off, pick(ATOMIC_IMMS)));
      return;
    }
    if (r < 0.74) {
      const lo = imm32();
      const hi = chance(0.5) ? imm32() : 0;
      emit({ opcode: 0x18, dst, src: 0, off: 0, imm: lo, imm2: hi });
      return;
    }
    if (r < 0.76) {
      const size = pick([1, 2, 4]);
      const sizeBits = size === 4 ? 0x00 : size === 2 ? 0x08 : 0x10;
      if (chance(0.5)) {
        emit(raw(0x20 | sizeBits, 0, 0, 0, int(inputSize + 8)));
      } else {
        // Mostly in bounds: an out-of-bounds packet load ends the program with r0 = 0.
        if (chance(0.8)) emit(raw(0xb7, 8, 0, 0, int(inputSize)));
        emit(raw(0x40 | sizeBits, 0, 8, 0, int(8) - 4));
      }
      return;
    }
    if (r < 0.82) {
      emit(raw(0x85, 0, 0, 0, pick(GENERATED_HELPERS)));
      return;
    }
    if (r < 0.835 && functionCount > 1 && depthBudget > 0) {
      // Callbacks: helper CALLBACK_HELPER runs the function at r1 (a code address) r2 % 4 times.
      fixups.push({ index: insns.length, label: functionLabels[1 + int(functionCount - 1)], kind: 'call' });
      emit({ opcode: 0x18, dst: 1, src: 4, off: 0, imm: 0, imm2: 0 });
      emit(raw(0xb7, 2, 0, 0, int(4)));
      emit(raw(0x85, 0, 0, 0, CALLBACK_HELPER));
      return;
    }
    if (r < 0.87 && depthBudget > 0) {
      // Local call; calling an earlier function (or itself) may recurse until the depth limit.
      const target = chance(0.85) ? functionLabels[1 + int(functionCount - 1)] : pick(functionLabels);
      if (target !== undefined) {
        fixups.push({ index: insns.length, label: target, kind: 'call' });
        emit(raw(0x85, 0, 1, 0, 0));
      }
      return;
    }
    if (r < 0.92 && !inLoop) {
      if (chance(0.35)) {
        arrayWalk();
        return;
      }
      if (chance(0.4)) {
        // A loop nest as clang lays it out, its back edges counted down on r9.
        emit(raw(0xb7, 9, 0, 0, 2 + int(12)));
        const done = nextLabel++;
        loopNest(pending, 1 + int(3), depthBudget, undefined, done);
        place(done);
        return;
      }
      // Counted loop in r9 (forward jumps from outside may still land inside: any flow goes).
      emit(raw(0xb7, 9, 0, 0, 1 + int(6)));
      const top = nextLabel++;
      place(top);
      const inner: { label: number; after: number }[] = [];
      if (chance(0.3)) {
        // A can_loop-style header: may_goto to the loop's exit.
        const out = nextLabel++;
        inner.push({ label: out, after: 1_000_000 });
        fixups.push({ index: insns.length, label: out, kind: 'jump' });
        emit(raw(0xe5, 0, 0, 0, 0));
      }
      const body = 1 + int(6);
      for (let k = 0; k < body; k++) {
        statement(inner, true, depthBudget - 1);
        flush(inner);
        // Sometimes an outer forward jump lands inside the body: a second loop entry.
        if (chance(0.2)) flush(pending);
      }
      for (const p of inner) place(p.label);
      emit(raw(0x07, 9, 0, 0, -1));
      fixups.push({ index: insns.length, label: top, kind: 'jump' });
      emit(raw(0x55, 9, 0, 0, 0));
      return;
    }
    if (r < 0.93) {
      exit();
      return;
    }
    emit(raw(0xbf, dst, src, 0, 0));
  };

  /**
   * One loop of a nest shaped like clang's output for the sieve and trial-division kernels: often
   * rotated (entered by a jump to `mid`, a label in its body, which the caller may have jumped to
   * already: then an enclosing loop shares the mid entry), sometimes starting with a loop that
   * shares its first instruction, with loops nested in its body (one may hold the mid entry),
   * `continue`s to its header and backward jumps into the header or middle of a loop inside it (the
   * outer loop's end entering the inner loop mid-body). Every back edge first counts r9 down and
   * leaves to `done` at 0, so the nest takes at most r9's start value of back edges. Returns the
   * labels later backward jumps may target: its header, its mid entry and those of its inner loops.
   */
  const loopNest = (
    pending: { label: number; after: number }[],
    depth: number,
    depthBudget: number,
    mid: number | undefined,
    done: number,
  ): number[] => {
    let entry = mid;
    if (entry === undefined && chance(0.6)) {
      entry = nextLabel++;
      fixups.push({ index: insns.length, label: entry, kind: 'jump' });
      emit(raw(0x05, 0, 0, 0, 0));
    }
    const top = nextLabel++;
    place(top);
    const targets = [top];
    const inner: { label: number; after: number }[] = [];
    const backEdge = (target: number) => {
      emit(raw(0x07, 9, 0, 0, -1));
      if (chance(0.5)) {
        fixups.push({ index: insns.length, label: target, kind: 'jump' });
        emit(raw(0x65, 9, 0, 0, 0)); // if r9 s> 0 goto target
        return;
      }
      fixups.push({ index: insns.length, label: done, kind: 'jump' });
      emit(raw(0xd5, 9, 0, 0, 0)); // if r9 s<= 0 goto done
      fixups.push({ index: insns.length, label: target, kind: 'jump' });
      emit(raw(0x05, 0, 0, 0, 0));
    };
    if (chance(0.4)) {
      // A loop sharing this loop's first instruction.
      for (let k = int(3); k >= 0; k--) {
        statement(inner, true, depthBudget - 1);
        flush(inner);
      }
      backEdge(top);
    }
    const pieces = 1 + int(4);
    const midAt = entry === undefined ? -1 : int(pieces);
    for (let k = 0; k < pieces; k++) {
      if (k === midAt && entry !== undefined) {
        if (depth > 1 && chance(0.5)) targets.push(...loopNest(inner, depth - 1, depthBudget, entry, done));
        else {
          place(entry);
          targets.push(entry);
        }
      } else if (depth > 1 && chance(0.3)) {
        targets.push(...loopNest(inner, depth - 1, depthBudget, undefined, done));
      } else {
        statement(inner, true, depthBudget - 1);
      }
      flush(inner);
      if (chance(0.15)) backEdge(pick(targets));
      // Sometimes a forward jump from before the nest lands inside it: another entry.
      if (chance(0.1)) flush(pending);
    }
    for (const p of inner) place(p.label);
    backEdge(chance(0.7) ? top : pick(targets));
    return targets;
  };

  /**
   * An array walk as clang writes it, the shape `induction.ts` checks once at entry and codegen
   * precharges (and unrolls): one block that writes its induction register r9 once (`r9 += K`, K an
   * immediate or r8), exit test r9 ≠ / <u / ≤u B (B an immediate or r8; at the block's end or as a
   * jump out followed by `goto top`), accesses at a constant address + r9 in the input or read-only
   * region. Trip counts cover the unrolled copy's remainders and long walks that polls and budgets
   * cut; some walks start before or run past their region, so a late trip faults.
   */
  const arrayWalk = () => {
    const step = pick([1, 1, 2, 4, 8]);
    const trips = 1 + (chance(0.8) ? int(20) : int(300));
    const v0 = int(8);
    const last = v0 + (trips - 1) * step;
    const exitKind = int(3); // 0: ≠, 1: <u, 2: ≤u
    const bound = exitKind === 0 ? last + step : exitKind === 1 ? last + 1 + int(step) : last + int(step);
    // r8 holds the step or the bound (never both); the body then leaves it alone.
    const inR8 = chance(0.3) ? (chance(0.5) ? 'step' : 'bound') : 'none';
    if (inR8 !== 'none') emit(raw(0xb7, 8, 0, 0, inR8 === 'step' ? step : bound));
    emit(raw(0xb7, 9, 0, 0, v0));
    const top = nextLabel++;
    place(top);
    const scratch = inR8 === 'none' ? WRITABLE : WRITABLE.filter((x) => x !== 8);
    for (let k = 1 + int(4); k > 0; k--) {
      if (chance(0.35)) {
        const a = pick(scratch);
        const op = pick([0x07, 0x0f, 0xaf, 0x2f, 0x57, 0x77]);
        emit(raw(op, a, op & 0x08 ? pick([...scratch, 9]) : 0, 0, op & 0x08 ? 0 : imm32()));
        continue;
      }
      const size = pick([1, 2, 4, 8]);
      const readOnly = chance(0.2);
      const regionSize = readOnly ? RODATA_SIZE : inputSize;
      const span = last + size;
      // Mostly a walk inside the region; else anywhere near it (it may fault on its first or a late trip).
      const start = chance(0.8) && span <= regionSize ? int(regionSize - span + 1) : int(regionSize + 8) - 8;
      const off = int(9) - 4;
      const base = pick(scratch);
      const address = slotBase(readOnly ? Slot.RODATA : Slot.INPUT) + start - off;
      if (chance(0.5)) emit(raw(0xb7, base, 0, 0, address));
      else emit({ opcode: 0x18, dst: base, src: 0, off: 0, imm: address, imm2: 0 });
      emit(raw(0x0f, base, 9, 0, 0));
      const form = readOnly ? 0 : int(3);
      if (form === 0) emit(raw(0x61 | SIZE_BITS[size], pick(scratch), base, off, 0));
      else if (form === 1) emit(raw(0x63 | SIZE_BITS[size], base, pick([...scratch, 9]), off, 0));
      else emit(raw(0x62 | SIZE_BITS[size], base, 0, off, imm32()));
    }
    emit(inR8 === 'step' ? raw(0x0f, 9, 8, 0, 0) : raw(0x07, 9, 0, 0, step));
    const x = inR8 === 'bound' ? 0x08 : 0;
    const imm = x ? 0 : bound;
    if (chance(0.75)) {
      fixups.push({ index: insns.length, label: top, kind: 'jump' });
      emit(raw([0x55, 0xa5, 0xb5][exitKind] | x, 9, x ? 8 : 0, 0, imm));
    } else {
      // The exit as a jump out (==, >=u, >u), then `goto top`.
      const out = nextLabel++;
      fixups.push({ index: insns.length, label: out, kind: 'jump' });
      emit(raw([0x15, 0x35, 0x25][exitKind] | x, 9, x ? 8 : 0, 0, imm));
      fixups.push({ index: insns.length, label: top, kind: 'jump' });
      emit(raw(0x05, 0, 0, 0, 0));
      place(out);
    }
  };

  /**
   * A computed stack index as clang writes `a[x % n]++` or `a[x & m]` on a stack array: x bounded by
   * a mask, a modulo, a compare that jumps over the access (sometimes off by one) or clang's `%`
   * lowering (a compare and a subtract), scaled, added to r10 − D: the shapes frame-ranges.ts proves
   * inside the own frame. D puts the array's first or last element at the frame's ends, a few bytes
   * either side, so a wrong proof shows as a missed fault.
   */
  const stackIndex = () => {
    const x = pick(WRITABLE);
    const base = pick(WRITABLE.filter((b) => b !== x));
    const size = pick([1, 2, 4, 8]);
    const scale = pick([0, 0, 1, 2, 3]);
    let n = 1 + int(64);
    let skip = -1;
    const kind = int(4);
    if (kind === 0) {
      n = 2 << int(6);
      emit(raw(chance(0.5) ? 0x57 : 0x54, x, 0, 0, n - 1));
    } else if (kind === 1) {
      emit(raw(chance(0.5) ? 0x97 : 0x94, x, 0, 0, n));
    } else if (kind === 2) {
      skip = nextLabel++;
      fixups.push({ index: insns.length, label: skip, kind: 'jump' });
      // x ≥u n skips the access; x >u n lets x = n through (one element past the array).
      emit(raw(chance(0.8) ? 0x35 : 0x25, x, 0, 0, n));
    } else {
      emit(raw(0xa5, x, 0, 1, n));
      emit(raw(0x07, x, 0, 0, -n));
    }
    if (scale > 0) emit(raw(0x67, x, 0, 0, scale));
    const off = int(9) - 4;
    const lastStart = (n - 1) * 2 ** scale;
    const FRAME = 512;
    // The array's last access ends at r10 + e, or its first starts at r10 − FRAME + e (|e| ≤ 2).
    const e = int(5) - 2;
    const d = chance(0.5) ? lastStart + off + size - e : FRAME - off - e;
    emit(raw(0xbf, base, 10, 0, 0));
    emit(raw(0x07, base, 0, 0, -d));
    emit(raw(0x0f, base, x, 0, 0));
    const form = int(4);
    if (form === 0) emit(raw(0x61 | SIZE_BITS[size], pick(WRITABLE), base, off, 0));
    else if (form === 1) emit(raw(0x63 | SIZE_BITS[size], base, pick(WRITABLE), off, 0));
    else if (form === 2) emit(raw(0x62 | SIZE_BITS[size], base, 0, off, imm32()));
    else emit(raw(size === 8 ? 0xdb : 0xc3, base, pick(WRITABLE), off, 0));
    if (skip >= 0) place(skip);
  };

  /** Folds every register into r0 (so a wrong value anywhere shows in the result), then exits. */
  const exit = () => {
    for (let r = 1; r <= 9; r++) {
      emit(raw(0x27, 0, 0, 0, 0x01000193));
      emit(raw(0x0f, 0, r, 0, 0));
    }
    emit(raw(0x95, 0, 0, 0, 0));
  };

  /** Places the labels whose statement countdown ran out. */
  const flush = (pending: { label: number; after: number }[]) => {
    for (let k = pending.length - 1; k >= 0; k--) {
      if (pending[k].after-- <= 0) {
        place(pending[k].label);
        pending.splice(k, 1);
      }
    }
  };

  for (let f = 0; f < functionCount; f++) {
    place(functionLabels[f]);
    const pending: { label: number; after: number }[] = [];
    if (f === 0) emit(raw(0xbf, 6, 1, 0, 0));
    emit(raw(0xb7, 7, 0, 0, 1 + int(3)));
    anchors = [];
    tails = [];
    endLabel = nextLabel++;
    const count = (f === 0 ? 8 : 3) + int(f === 0 ? 30 : 12);
    for (let k = 0; k < count; k++) {
      if (chance(0.2)) {
        const anchor = nextLabel++;
        place(anchor);
        anchors.push(anchor);
      }
      statement(pending, false, 2);
      flush(pending);
    }
    for (const p of pending) place(p.label);
    place(endLabel);
    exit();
  }

  for (const fix of fixups) {
    const at = pcs[fix.index];
    const target = labelPc.get(fix.label);
    if (target === undefined) throw new Error(`label ${fix.label} was never placed`);
    if (fix.kind === 'jump') insns[fix.index].off = target - (at + 1);
    else insns[fix.index].imm = target - (at + 1);
  }
  return { insns, inputSize };
}
