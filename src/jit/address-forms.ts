/**
 * Which registers hold `x + C` (x another register, C a 64-bit constant) or a constant C, while the
 * JIT compiles a straight-line run of code: clang builds array addresses as `r = C ll; r += x`. An
 * access through such a register can compute its address from x and one constant, so V8 folds the
 * constant, the access's offset and a loop-invariant term into one `lea` (codegen's `cachedCheck`)
 * and the register's own add becomes dead code when nothing else reads it.
 *
 * Every value is modulo 2^64, like the registers: constants are kept as int32 halves. Knowledge holds
 * until a write of the register or of its x: the codegen forgets everything at jump targets and after
 * anything this class does not know (like checked-ranges.ts and narrow-registers.ts).
 */

import type { AluInsn, Insn } from '../isa/instruction.js';
import { FORGET_ALL, forEachWritten, sideWrites } from './side-writes.js';

/** r0..r10. */
const REGISTERS = 11;
/** `form[r]`: nothing known. */
const UNKNOWN = -2;
/** `form[r]`: the register holds the constant C. */
const CONSTANT = -1;
// A form ≥ 0 is x: the register holds x + C.

export class AddressForms {
  private readonly form = new Int8Array(REGISTERS).fill(UNKNOWN);
  private readonly lo = new Int32Array(REGISTERS);
  private readonly hi = new Int32Array(REGISTERS);
  /** Bit x set when some register's form may be x + C: most writes then skip the scan for users. */
  private bases = 0;

  forgetAll(): void {
    // A loop, not fill(): this runs at every jump target and call, and the builtin call costs more.
    for (let r = 0; r < REGISTERS; r++) this.form[r] = UNKNOWN;
    this.bases = 0;
  }

  /** x when `reg` holds x + C, -1 when it holds C alone, -2 when neither is known. */
  baseOf(reg: number): number {
    return this.form[reg];
  }

  /** Low half of C (meaningful when `baseOf(reg)` ≥ -1). */
  low(reg: number): number {
    return this.lo[reg];
  }

  /** High half of C. */
  high(reg: number): number {
    return this.hi[reg];
  }

  /** After `dst = lo | hi << 32` (lddw). */
  constant(dst: number, lo: number, hi: number): void {
    this.written(dst);
    this.form[dst] = CONSTANT;
    this.lo[dst] = lo;
    this.hi[dst] = hi;
  }

  /** After `insn` ran (an lddw's value comes from `constant`): forgets the registers it writes. */
  after(insn: Insn): void {
    switch (insn.kind) {
      case 'alu':
        this.afterAlu(insn);
        return;
      case 'load':
        this.written(insn.dst);
        return;
      case 'lddw': // `constant` recorded it
        return;
      default: {
        const w = sideWrites(insn);
        if (w === FORGET_ALL) this.forgetAll();
        else if (w !== 0) forEachWritten(w, (r) => this.written(r));
      }
    }
  }

  /** After an ALU instruction: 64-bit mov, add and sub of constants and one register are followed. */
  afterAlu(insn: AluInsn): void {
    const d = insn.dst;
    const f = this.form;
    if (insn.is64 && !insn.useReg && (insn.op === 'add' || insn.op === 'sub' || insn.op === 'mov')) {
      // imm sign-extended to 64 bits; sub adds its negation (mod 2^64 as the register does).
      let lo = insn.imm;
      let hi = insn.imm >> 31;
      if (insn.op === 'sub') {
        lo = -lo | 0;
        hi = lo === 0 ? -hi | 0 : ~hi;
      }
      if (insn.op === 'mov') {
        this.written(d);
        f[d] = CONSTANT;
        this.lo[d] = lo;
        this.hi[d] = hi;
      } else if (f[d] !== UNKNOWN) {
        this.forgetUsers(d); // d's x is never d itself
        this.addConstant(d, lo, hi);
      } else this.written(d);
      return;
    }
    if (insn.is64 && insn.useReg && insn.op === 'mov') {
      const s = insn.src;
      if (s === d) return; // no change
      this.written(d);
      if (f[s] === UNKNOWN) {
        this.setBase(d, s);
        this.lo[d] = 0;
        this.hi[d] = 0;
      } else {
        if (f[s] >= 0) this.setBase(d, f[s]);
        else f[d] = f[s];
        this.lo[d] = this.lo[s];
        this.hi[d] = this.hi[s];
      }
      return;
    }
    if (insn.is64 && insn.useReg && insn.op === 'add' && insn.src !== d) {
      const s = insn.src;
      if (f[d] === CONSTANT && f[s] !== CONSTANT) {
        // C + s: s's own form if it has one (C + x + C'), else s itself.
        const x = f[s] === UNKNOWN ? s : f[s];
        if (x !== d) {
          const lo = f[s] === UNKNOWN ? 0 : this.lo[s];
          const hi = f[s] === UNKNOWN ? 0 : this.hi[s];
          this.forgetUsers(d);
          this.setBase(d, x);
          this.addConstant(d, lo, hi);
          return;
        }
      } else if (f[d] !== UNKNOWN && f[s] === CONSTANT) {
        this.forgetUsers(d);
        this.addConstant(d, this.lo[s], this.hi[s]);
        return;
      }
    }
    this.written(d);
  }

  /** The register's C += lo | hi << 32, mod 2^64. */
  private addConstant(r: number, lo: number, hi: number): void {
    const sum = (this.lo[r] >>> 0) + (lo >>> 0);
    this.hi[r] = (this.hi[r] + hi + (sum > 0xffffffff ? 1 : 0)) | 0;
    this.lo[r] = sum | 0;
  }

  /** `reg` gets an unknown value: it and every register computed from it are unknown. */
  private written(reg: number): void {
    this.form[reg] = UNKNOWN;
    this.forgetUsers(reg);
  }

  private setBase(reg: number, x: number): void {
    this.form[reg] = x;
    this.bases |= 1 << x;
  }

  private forgetUsers(reg: number): void {
    if (((this.bases >> reg) & 1) === 0) return;
    for (let r = 0; r < REGISTERS; r++) if (this.form[r] === reg) this.form[r] = UNKNOWN;
    this.bases &= ~(1 << reg);
  }
}
