/**
 * Facts behind the JIT's cached window checks in call-free loops (see codegen's `address`).
 *
 * Inside a loop that reaches no host code (no helper, kfunc, callx or packet load, itself or in the
 * functions it calls), the windows its frame may use do not change: only the engine and helpers
 * remap regions, no guest access reaches the table, and a local call moves the stack window for its
 * callee only, setting this frame's back on return. Such a loop can read the window of a slot
 * (start, host offset, per access size and kind how many addresses an access may start at) into
 * locals once, at its entry, and check an access with one compare against registers instead of
 * locating and reading the slot's table entry every time. Which slot to read is a *prediction*: the
 * slot of the last address constant (lddw, or r10 for the stack) the base register was derived from.
 * A wrong prediction costs speed, never safety: an access outside the predicted window takes the
 * ordinary check, which accepts it in its own region or faults exactly like the interpreter.
 *
 * A map lookup the JIT runs wholly inline (a known map, the key in the own frame: codegen's
 * `pureLookup`) is no host code: it reads only the frame and the map's table, so a loop around it
 * stays call-free, and its result is predicted in the slot of the map's values.
 */
import type { Insn, Program } from '../isa/instruction.js';
import { lddwValue } from '../vm/interpreter/interpreter.js';
import { SLOT_COUNT, SLOT_SHIFT, Slot } from '../vm/memory/layout.js';
import { closeOver } from './call-graph.js';
import type { ProgramLayout } from './control-flow.js';
import {
  CONST_NEGATIVE,
  CONST_SHIFT,
  F_HOST,
  MOVE_ADD_REG,
  MOVE_ATOMIC,
  MOVE_ATOMIC_FETCH,
  MOVE_CALL,
  MOVE_CLOBBER,
  MOVE_CONST,
  MOVE_COPY,
  MOVE_LDDW,
  MOVE_LOAD,
  MOVE_SHIFT,
  MOVE_STORE,
  SRC_SHIFT,
} from './insn-facts.js';
import { WorkPool, workBuffer } from './scratch.js';

export interface SlotPrediction {
  /** Per instruction index of an access: the slot its address most likely lies in, -1 when unknown. */
  readonly slotAt: Int8Array;
  /**
   * Per instruction index i: how many of the instructions before i may run host code, which may
   * rewrite any window (helper, kfunc and callx calls, packet loads, local calls of functions that
   * reach any of these), so a range [a, b] runs none when the counts at a and b + 1 are equal.
   */
  readonly hostCallsBefore: Int32Array;
}

const UNKNOWN = -1;

/** Slot of a guest address constant, or UNKNOWN (above 4 GiB, or the never-mapped slot 0). */
function slotOf(value: bigint): number {
  if (value < 0n || value >= BigInt(SLOT_COUNT) << BigInt(SLOT_SHIFT)) return UNKNOWN;
  return slotOfLow(Number(value));
}

/** `slotOf` for a value known to be below 2^32. */
function slotOfLow(low: number): number {
  const slot = low >>> SLOT_SHIFT;
  return slot === Slot.NULL ? UNKNOWN : slot;
}

/** Memory of the predictions (one at a time, see releasePrediction). */
const predictionMemory = new WorkPool(workBuffer);

/** Returns a prediction's memory to the pool (its arrays are stale afterwards). */
export function releasePrediction(prediction: SlotPrediction): void {
  predictionMemory.release(prediction.hostCallsBefore.buffer);
}

/**
 * One pass over every function in program order, on the analysis' operand facts (insn-facts.ts; the
 * objects only for lddw), following register copies and pointer arithmetic (no BigInt for plain
 * constants); the call counts come from the facts once the functions that reach the host are known.
 * `inlineSlot`: per instruction index, the values slot of a helper call the JIT runs wholly inline
 * (codegen's `pureLookups`), which is then no host code; 0 elsewhere.
 */
export function predictSlots(
  program: Program,
  layout: ProgramLayout,
  resolveLddw: ((insn: Insn & { kind: 'lddw' }) => bigint) | undefined,
  inlineSlot?: Int8Array,
): SlotPrediction {
  const { insns } = program;
  const count = insns.length;
  // Pooled (see scratch.ts): 5 bytes per instruction, fresh for every compile, would be external
  // memory that brings V8's full collections closer.
  const memory = predictionMemory.borrow(4 * (count + 1) + count);
  const hostCallsBefore = new Int32Array(memory, 0, count + 1);
  const slotAt = new Int8Array(memory, 4 * (count + 1), count).fill(UNKNOWN);
  const { facts, operands, calls } = layout;
  const reachesHost = new Uint16Array(layout.functions.length);
  const reg = new Int8Array(16);
  for (const f of layout.functions) {
    reg.fill(UNKNOWN);
    reg[10] = Slot.STACK;
    // The entry function gets the input (context) pointer in r1.
    if (f.index === 0) reg[1] = Slot.INPUT;
    for (let i = f.first; i <= f.last; i++) {
      const o = operands[i];
      const dst = o & 15;
      const src = (o >>> SRC_SHIFT) & 15;
      switch ((o >>> MOVE_SHIFT) & 15) {
        case MOVE_LDDW:
          reg[dst] = predictLddw(insns[i] as Insn & { kind: 'lddw' });
          break;
        case MOVE_CLOBBER:
          reg[dst] = UNKNOWN;
          break;
        case MOVE_COPY:
          reg[dst] = reg[src];
          break;
        case MOVE_CONST: {
          const slot = (o >>> CONST_SHIFT) & 15;
          reg[dst] = slot === CONST_NEGATIVE ? UNKNOWN : slotOfLow(slot << SLOT_SHIFT);
          break;
        }
        case MOVE_ADD_REG:
          if (reg[dst] === UNKNOWN) reg[dst] = reg[src];
          break;
        case MOVE_LOAD:
          slotAt[i] = reg[src];
          reg[dst] = UNKNOWN;
          break;
        case MOVE_STORE:
          slotAt[i] = reg[dst];
          break;
        case MOVE_ATOMIC_FETCH:
          slotAt[i] = reg[dst];
          reg[src] = UNKNOWN;
          reg[0] = UNKNOWN;
          break;
        case MOVE_ATOMIC:
          slotAt[i] = reg[dst];
          reg[0] = UNKNOWN;
          break;
        case MOVE_CALL:
          reg.fill(UNKNOWN, 0, 6);
          if (inlineSlot !== undefined && inlineSlot[i] > 0) reg[0] = inlineSlot[i];
          else if ((facts[i] & F_HOST) !== 0) reachesHost[f.index] = 1;
          break;
      }
    }
  }
  // Whatever calls a function that reaches the host reaches it too.
  closeOver(reachesHost, calls.callees, calls.callers, 1);
  let hostCalls = 0;
  let site = 0;
  for (let i = 0; i < count; i++) {
    hostCallsBefore[i] = hostCalls;
    if ((facts[i] & F_HOST) !== 0) {
      if (inlineSlot === undefined || inlineSlot[i] === 0) hostCalls++;
    } else if (
      site < calls.sites.length &&
      calls.sites[site] === i &&
      reachesHost[calls.siteCallee[site++]] === 1
    )
      hostCalls++;
  }
  hostCallsBefore[count] = hostCalls;

  function predictLddw(insn: Insn & { kind: 'lddw' }): number {
    if (insn.source === 'map_fd' || insn.source === 'map_idx') return UNKNOWN; // map handles
    if (insn.source === 'imm64') return insn.imm2 === 0 ? slotOfLow(insn.imm >>> 0) : UNKNOWN;
    try {
      return slotOf(lddwValue(insn, resolveLddw));
    } catch {
      return UNKNOWN; // unresolvable here: the code generator reports it
    }
  }

  return { slotAt, hostCallsBefore };
}
