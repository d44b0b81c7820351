/**
 * Which registers hold one constant wherever a function may read them: written by exactly one
 * instruction of the function, a 64-bit `mov dst, imm`, and not read before written at its entry.
 * Then every path from the entry to a read passes that one write and no other, so the register
 * holds the immediate there (clang's loop bounds, e.g. `r7 = 2` in a recursion loop).
 *
 * The poll paths of loops that make a local call keep such registers out of the meter import's
 * results (codegen `loopPoll`): the meter returns the registers it was given, so taking them back
 * is only a new value for V8, which then merges it with the constant at the loop header (a phi) and
 * keeps it in a stack slot; without the phi the constant is an immediate in the loop. Since the meter hands every register back unchanged, a register
 * wrongly taken for constant would cost speed only, never a result.
 */
import { ALL_REGS, F_HOST, F_LOCAL_CALL, MOVE_CONST, MOVE_SHIFT, WRITES_SHIFT } from './insn-facts.js';

const R0_TO_R5 = 0x3f;

/**
 * The constant registers (a mask of r0..r9) of the function spanning instructions first..last (one
 * part: a split function's registers cross parts through the driver), given `liveIn`, the registers
 * it may read before writing them.
 */
export function constantRegisters(
  facts: Int32Array,
  operands: Int32Array,
  first: number,
  last: number,
  liveIn: number,
): number {
  let once = 0;
  let many = 0;
  let movConst = 0;
  for (let i = first; i <= last; i++) {
    const x = facts[i];
    // A local call hands back r0..r5 (the callee's results); host code may change them too.
    const written = ((x >>> WRITES_SHIFT) & ALL_REGS) | (x & (F_LOCAL_CALL | F_HOST) ? R0_TO_R5 : 0);
    many |= once & written;
    once |= written;
    const op = operands[i];
    if (((op >>> MOVE_SHIFT) & 15) === MOVE_CONST) movConst |= 1 << (op & 15);
  }
  // Written once, by a mov of an immediate (a register written by one such mov and nothing else).
  return once & ~many & movConst & ~liveIn & ALL_REGS;
}
