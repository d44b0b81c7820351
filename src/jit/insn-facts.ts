/**
 * Compact per-instruction facts for the JIT's analyses, one int32 each. The analysis (control-flow.ts)
 * computes them in its one pass over the decoded objects; the later analyses (call-registers.ts,
 * slot-prediction.ts, codegen's window-free functions) read them instead of the objects: at 1M
 * instructions the objects are ~176 MB, so every further pass over them is a pass through main memory.
 *
 * Layout: bits 0..9 the registers the instruction may read (a local call: none, its callee's live-in
 * is added by call-registers.ts), bits 10..19 those it may write, then the flags below.
 */
import type { Insn } from '../isa/instruction.js';

/** Registers r0..r9 as bits. */
export const ALL_REGS = 0x3ff;
const R0_TO_R5 = 0x3f;
export const WRITES_SHIFT = 10;
/** The written registers are certainly written (alu, lddw, load): liveness may kill them. */
export const F_DEFS = 1 << 20;
export const F_EXIT = 1 << 21;
/** An unconditional jump (`ja`): never falls through. */
export const F_JA = 1 << 22;
export const F_CALLX = 1 << 23;
/** May run host code, which may remap any window: helper, kfunc and callx calls, packet loads. */
export const F_HOST = 1 << 24;
export const F_LOCAL_CALL = 1 << 25;
/** A load, store or atomic whose address is r10 + off (see `ownFrameAccess`). */
export const F_R10_BASE = 1 << 26;
/** A load, store or atomic (it reads the stack window unless it stays in its own frame). */
export const F_MEMORY = 1 << 27;

const bit = (r: number): number => (r < 10 ? 1 << r : 0);

/** Registers `insn` may read (local calls: none here, see the layout comment). */
function uses(insn: Insn): number {
  switch (insn.kind) {
    case 'alu': {
      const src = insn.useReg || insn.op === 'movsx' ? bit(insn.src) : 0;
      return insn.op === 'mov' || insn.op === 'movsx' ? src : src | bit(insn.dst);
    }
    case 'jump':
      if (insn.op === 'ja' || insn.op === 'may_goto') return 0;
      return bit(insn.dst) | (insn.useReg ? bit(insn.src) : 0);
    case 'load':
      return bit(insn.src);
    case 'store':
      return bit(insn.dst) | (insn.useReg ? bit(insn.src) : 0);
    case 'atomic':
      return bit(insn.dst) | bit(insn.src) | 1;
    case 'packet_load':
      return insn.indirect ? bit(insn.src) : 0;
    case 'call':
      return insn.op === 'local' ? 0 : ALL_REGS;
    case 'exit':
    case 'lddw':
      return 0;
  }
}

/** The facts of one instruction (see the layout above). */
export function insnFacts(insn: Insn): number {
  const used = uses(insn);
  switch (insn.kind) {
    case 'alu':
    case 'lddw':
      return used | (bit(insn.dst) << WRITES_SHIFT) | F_DEFS;
    case 'load':
      return used | (bit(insn.dst) << WRITES_SHIFT) | F_DEFS | F_MEMORY | (insn.src === 10 ? F_R10_BASE : 0);
    case 'store':
      return used | F_MEMORY | (insn.dst === 10 ? F_R10_BASE : 0);
    case 'atomic':
      return used | ((1 | bit(insn.src)) << WRITES_SHIFT) | F_MEMORY | (insn.dst === 10 ? F_R10_BASE : 0);
    case 'packet_load':
      return used | (1 << WRITES_SHIFT) | F_HOST;
    case 'call':
      if (insn.op === 'local') return used | F_LOCAL_CALL;
      if (insn.op === 'helper') return used | (1 << WRITES_SHIFT) | F_HOST;
      return used | (R0_TO_R5 << WRITES_SHIFT) | F_HOST | (insn.op === 'callx' ? F_CALLX : 0);
    case 'jump':
      return insn.op === 'ja' ? used | F_JA : used;
    case 'exit':
      return used | F_EXIT;
  }
}
