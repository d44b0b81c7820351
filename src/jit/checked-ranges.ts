/**
 * What earlier memory checks proved about each register's current value, while the JIT compiles a
 * straight-line run of code: the ranges [lo, hi) of offsets from the register that passed the region
 * check for reading and for writing, and which offset's host address the register's host local holds.
 * An access inside a proven range for its access kind needs no check: it would pass the interpreter's
 * check too, so the first faulting pc and address stay the same.
 *
 * Why a proof holds until `forget`: the region table only changes at calls, helper calls, tail calls
 * and run start, and the register keeps its value. The codegen forgets a register when an instruction
 * writes it, and everything at jump targets and after calls, exits and anything it does not know.
 *
 * Ranges merge only within one region: valid addresses of different slots lie more than 4096 bytes
 * apart (a region ends at least 4096 bytes before its slot does, layout.ts MAX_REGION_SIZE), so checked
 * ranges within SAME_REGION_SPAN bytes of each other are in the same window, where host offsets are
 * linear and each access kind's valid addresses form one interval.
 */

import type { Insn } from '../isa/instruction.js';
import { FORGET_ALL, forEachWritten, sideWrites } from './side-writes.js';

/** r0..r10. */
const REGISTERS = 11;
const SAME_REGION_SPAN = 4096;
const READ = 0;
const WRITE = 1;

export class CheckedRanges {
  private readonly known = new Uint8Array(REGISTERS);
  /** Offset whose host address the register's host local holds. */
  private readonly ref = new Int32Array(REGISTERS);
  /** Per register and access kind (index 2·reg + kind): proven offsets [lo, hi), empty when lo ≥ hi. */
  private readonly lo = new Int32Array(2 * REGISTERS);
  private readonly hi = new Int32Array(2 * REGISTERS);

  forgetAll(): void {
    // A loop, not fill(): this runs at every jump target and call, and the builtin call costs more.
    for (let r = 0; r < REGISTERS; r++) this.known[r] = 0;
  }

  forget(reg: number): void {
    this.known[reg] = 0;
  }

  /** After `insn` ran: forgets the registers it writes, or everything when the table may change. */
  after(insn: Insn): void {
    switch (insn.kind) {
      case 'alu':
      case 'lddw':
      case 'load':
        this.forget(insn.dst);
        return;
      default: {
        // Calls forget all: the callee or helper may change the table.
        const w = sideWrites(insn);
        if (w === FORGET_ALL) this.forgetAll();
        else if (w !== 0) forEachWritten(w, (r) => this.forget(r));
      }
    }
  }

  /**
   * For an access of `size` bytes at reg + off: its offset from the host local's address when earlier
   * checks prove it for every access kind it needs (write, and read too with `alsoRead`), else undefined.
   */
  lookup(reg: number, off: number, size: number, write: boolean, alsoRead: boolean): number | undefined {
    if (this.known[reg] === 0) return undefined;
    if (!this.covers(2 * reg + (write ? WRITE : READ), off, off + size)) return undefined;
    if (alsoRead && !this.covers(2 * reg + READ, off, off + size)) return undefined;
    return off - this.ref[reg];
  }

  /**
   * Like `lookup`, but the range may be proven for either access kind: the address is then inside
   * the window of the register's slot (both kinds' windows start at the same address).
   */
  lookupAnyKind(reg: number, off: number, size: number): number | undefined {
    if (this.known[reg] === 0) return undefined;
    const end = off + size;
    if (!this.covers(2 * reg + READ, off, end) && !this.covers(2 * reg + WRITE, off, end)) return undefined;
    return off - this.ref[reg];
  }

  /**
   * Records a passed check of reg + off; with `moved` the register's host local now holds its host
   * address (else it still holds the one of the previous reference offset).
   */
  record(reg: number, off: number, size: number, write: boolean, alsoRead: boolean, moved: boolean): void {
    const end = off + size;
    if (this.known[reg] === 1) {
      const r = 2 * reg + READ;
      const w = 2 * reg + WRITE;
      const min = Math.min(
        off,
        this.lo[r] < this.hi[r] ? this.lo[r] : off,
        this.lo[w] < this.hi[w] ? this.lo[w] : off,
      );
      const max = Math.max(
        end,
        this.lo[r] < this.hi[r] ? this.hi[r] : end,
        this.lo[w] < this.hi[w] ? this.hi[w] : end,
      );
      if (max - min > SAME_REGION_SPAN) this.known[reg] = 0;
    }
    if (this.known[reg] === 0) {
      this.known[reg] = 1;
      this.lo.fill(0, 2 * reg, 2 * reg + 2);
      this.hi.fill(0, 2 * reg, 2 * reg + 2);
    }
    if (moved) this.ref[reg] = off;
    this.extend(2 * reg + (write ? WRITE : READ), off, end);
    if (alsoRead) this.extend(2 * reg + READ, off, end);
  }

  private covers(k: number, lo: number, hi: number): boolean {
    return this.lo[k] <= lo && hi <= this.hi[k];
  }

  /** Both ends passed a check for this kind in one window, so everything between them would too. */
  private extend(k: number, lo: number, hi: number): void {
    if (this.lo[k] >= this.hi[k]) {
      this.lo[k] = lo;
      this.hi[k] = hi;
      return;
    }
    this.lo[k] = Math.min(this.lo[k], lo);
    this.hi[k] = Math.max(this.hi[k], hi);
  }
}
