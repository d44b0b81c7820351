/**
 * Facts behind the JIT's cached window checks in call-free loops (see codegen's `address`).
 *
 * Inside a loop that reaches no host code (no helper, kfunc, callx or packet load, itself or in the
 * functions it calls), the windows its frame may use do not change: only the engine and helpers
 * remap regions, no guest access reaches the table, and a local call moves the stack window for its
 * callee only, setting this frame's back on return. Such a loop can read the window of a slot
 * (start, last address per access size and kind, host delta) into locals once, at its entry, and
 * check an access with two compares against registers instead of locating and reading the slot's
 * table entry every time. Which slot to read is a *prediction*: the
 * slot of the last address constant (lddw, or r10 for the stack) the base register was derived from.
 * A wrong prediction costs speed, never safety: an access outside the predicted window takes the
 * ordinary check, which accepts it in its own region or faults exactly like the interpreter.
 */
import type { Insn, Program } from '../isa/instruction.js';
import { lddwValue } from '../vm/interpreter/interpreter.js';
import { SLOT_COUNT, SLOT_SHIFT, Slot } from '../vm/memory/layout.js';
import { closeOver } from './call-graph.js';
import type { ProgramLayout } from './control-flow.js';
import { F_HOST } from './insn-facts.js';

export interface SlotPrediction {
  /** Per pc of a load or store: the slot its address most likely lies in, -1 when unknown. */
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

/**
 * One pass over every function in program order, following register copies and pointer arithmetic
 * (no BigInt for plain constants); the call counts come from a typed array once the functions that
 * reach the host are known.
 */
export function predictSlots(
  program: Program,
  layout: ProgramLayout,
  resolveLddw: ((insn: Insn & { kind: 'lddw' }) => bigint) | undefined,
): SlotPrediction {
  const { insns } = program;
  const count = insns.length;
  const slotAt = new Int8Array(program.slotCount).fill(UNKNOWN);
  const { facts, calls } = layout;
  const reachesHost = new Uint16Array(layout.functions.length);
  const reg = new Int8Array(11);
  for (const f of layout.functions) {
    reg.fill(UNKNOWN);
    reg[10] = Slot.STACK;
    // The entry function gets the input (context) pointer in r1.
    if (f.index === 0) reg[1] = Slot.INPUT;
    for (let i = f.first; i <= f.last; i++) {
      const insn = insns[i];
      switch (insn.kind) {
        case 'lddw':
          reg[insn.dst] = predictLddw(insn);
          break;
        case 'alu':
          if (!insn.is64) reg[insn.dst] = UNKNOWN;
          else if (insn.op === 'mov')
            reg[insn.dst] = insn.useReg ? reg[insn.src] : insn.imm < 0 ? UNKNOWN : slotOfLow(insn.imm);
          else if (insn.op === 'add' && insn.useReg && reg[insn.dst] === UNKNOWN)
            reg[insn.dst] = reg[insn.src];
          else if (insn.op !== 'add' && insn.op !== 'sub') reg[insn.dst] = UNKNOWN;
          break;
        case 'load':
          slotAt[insn.pc] = reg[insn.src];
          reg[insn.dst] = UNKNOWN;
          break;
        case 'store':
          slotAt[insn.pc] = reg[insn.dst];
          break;
        case 'atomic':
          slotAt[insn.pc] = reg[insn.dst];
          if (insn.fetch) reg[insn.src] = UNKNOWN;
          reg[0] = UNKNOWN;
          break;
        case 'call':
          if (insn.op !== 'local') reachesHost[f.index] = 1;
          reg.fill(UNKNOWN, 0, 6);
          break;
        case 'packet_load':
          reachesHost[f.index] = 1;
          reg.fill(UNKNOWN, 0, 6);
          break;
      }
    }
  }
  // Whatever calls a function that reaches the host reaches it too.
  closeOver(reachesHost, calls.callees, calls.callers, 1);
  const hostCallsBefore = new Int32Array(count + 1);
  let hostCalls = 0;
  let site = 0;
  for (let i = 0; i < count; i++) {
    hostCallsBefore[i] = hostCalls;
    if ((facts[i] & F_HOST) !== 0) hostCalls++;
    else if (site < calls.sites.length && calls.sites[site] === i && reachesHost[calls.siteCallee[site++]] === 1)
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
