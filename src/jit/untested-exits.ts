/**
 * Exit blocks that need no budget test of their own (one countdown only). A called function's last
 * block — straight ALU code ending in `exit`, clang's `r0 += r6; exit` — is charged but not tested:
 * when its charge takes the countdown below −slack (possible only near the end of the budget, where
 * the countdown is exact), whoever called the function finds out right after the return, on the
 * cold path of its own next test — the calling block's successor stops anyway when the countdown is
 * that low — and hands the exit block to the interpreter instead of its own block. ALU code cannot
 * fault and touches no memory, so running it early changed nothing observable; the interpreter runs
 * its affordable prefix again and stops exactly where the budget ends, with the same counts. Saves a
 * compare and branch per call (fib: one per call, two calls per iteration).
 *
 * Who checks: every local call site (its successor block's stop path, see codegen `stop`) and the
 * function's table adapter (run, callx, callbacks). So the function must not be charged by its
 * callers (those return no countdown), split (parts return through a driver) or a single block, and
 * every call site's successor must have a test: not a poll site (its stop path is the meter's, kept
 * simple), not an untested exit itself.
 */
import type { Program } from '../isa/instruction.js';
import type { ProgramLayout } from './control-flow.js';
import { F_EXIT, MOVE_CLOBBER, MOVE_OFFSET, MOVE_SHIFT } from './insn-facts.js';

/** Per function: the pc of its untested exit block, or -1. */
export function untestedExits(program: Program, layout: ProgramLayout): Int32Array {
  const { functions, facts, operands, leader, pollSite, chargedByCaller, calls } = layout;
  const pcs = program.columns.pc;
  const out = new Int32Array(functions.length).fill(-1);
  for (const f of functions) {
    if (f.parts.length > 1 || chargedByCaller[f.index] === 1) continue;
    // Exactly one exit: the function's last instruction.
    let exits = 0;
    for (let i = f.first; i <= f.last; i++) if ((facts[i] & F_EXIT) !== 0) exits++;
    if (exits !== 1 || (facts[f.last] & F_EXIT) === 0) continue;
    // Its block: ALU instructions (mov, add, other ALU; never a fault or memory) up to the exit.
    let i = f.last;
    let alu = true;
    while (leader[pcs[i]] === 0) {
      i--;
      const move = (operands[i] >>> MOVE_SHIFT) & 15;
      if (move < MOVE_CLOBBER || move > MOVE_OFFSET) alu = false;
    }
    const start = pcs[i];
    if (!alu || i === f.first || pollSite[start] === 1) continue;
    out[f.index] = start;
  }
  // No call site of such a function may be followed by a poll site: then the callee keeps its test.
  const { sites, siteCallee } = calls;
  for (let s = 0; s < sites.length; s++) {
    const k = siteCallee[s];
    if (out[k] >= 0 && pollSite[pcs[sites[s]] + 1] === 1) out[k] = -1;
  }
  // Nor by an untested exit block (a caller's `call f; exit`): then the caller keeps its test, which
  // is the check after the call. Sites and functions both ascend.
  let g = 0;
  for (let s = 0; s < sites.length; s++) {
    const call = sites[s];
    while (functions[g].last < call) g++;
    if (out[siteCallee[s]] >= 0 && out[g] === pcs[call] + 1) out[g] = -1;
  }
  return out;
}
