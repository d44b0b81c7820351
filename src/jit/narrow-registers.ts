/**
 * Which registers are known to hold a zero-extended 32-bit value (upper half 0), while the JIT
 * compiles a straight-line run of code. clang zero-extends `u32` operands before 64-bit division
 * (`r <<= 32; r >>= 32`, or a 32-bit ALU op); an unsigned 64-bit div/mod of two such values equals
 * the 32-bit one zero-extended, and x86's 32-bit divide is several times faster than its 64-bit one.
 *
 * Like checked-ranges.ts, knowledge holds until a write: the codegen forgets everything at jump
 * targets and after anything this class does not know, and `after` updates the written register.
 */

import type { Insn } from '../isa/instruction.js';
import { FORGET_ALL, forEachWritten, sideWrites } from './side-writes.js';

/** r0..r10. */
const REGISTERS = 11;

export class NarrowRegisters {
  private readonly narrow = new Uint8Array(REGISTERS);

  forgetAll(): void {
    // A loop, not fill(): this runs at every jump target and call, and the builtin call costs more.
    for (let r = 0; r < REGISTERS; r++) this.narrow[r] = 0;
  }

  /** True when `reg`'s upper 32 bits are known to be 0. */
  has(reg: number): boolean {
    return this.narrow[reg] === 1;
  }

  /** After `insn` ran: the registers it wrote are narrow only where its result provably is. */
  after(insn: Insn): void {
    switch (insn.kind) {
      case 'alu':
        this.afterAlu(insn);
        return;
      case 'load':
        this.afterLoad(insn);
        return;
      case 'lddw':
        this.narrow[insn.dst] = 0;
        return;
      default: {
        const w = sideWrites(insn);
        if (w === FORGET_ALL) this.forgetAll();
        else if (w !== 0)
          forEachWritten(w, (r) => {
            this.narrow[r] = 0;
          });
      }
    }
  }

  /** `after` of an ALU instruction (the codegen calls it where it already knows the kind). */
  afterAlu(insn: Insn & { kind: 'alu' }): void {
    this.narrow[insn.dst] = this.aluResult(insn) ? 1 : 0;
  }

  /** `after` of a load. */
  afterLoad(insn: Insn & { kind: 'load' }): void {
    this.narrow[insn.dst] = insn.size < 8 && !insn.signExtend ? 1 : 0;
  }

  private aluResult(insn: Insn & { kind: 'alu' }): boolean {
    const { dst } = insn;
    if (!insn.is64) {
      // 32-bit ops zero-extend their result; a 64-bit byte swap in this class does not.
      return !((insn.op === 'le' || insn.op === 'be' || insn.op === 'bswap') && insn.width === 64);
    }
    switch (insn.op) {
      case 'mov':
        return insn.useReg ? this.narrow[insn.src] === 1 : insn.imm >= 0;
      case 'and':
        return insn.useReg ? this.narrow[dst] === 1 || this.narrow[insn.src] === 1 : insn.imm >= 0;
      case 'rsh':
        // The shift amount is taken modulo 64.
        return !insn.useReg && (insn.imm & 63) >= 32;
      case 'div':
      case 'mod':
        // The result is at most the dividend (division by 0 gives 0, modulo by 0 keeps it).
        return this.narrow[dst] === 1;
      default:
        return false;
    }
  }
}
