/**
 * Guest isolation specific to the JIT (test/vm/memory.test.ts checks every engine, the JIT included,
 * against the region table load by load and store by store): faults identical to the interpreter's,
 * regions mapped after compilation, r10 frame windows, and random programs that never change a byte
 * of linear memory outside their regions.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { conformanceHelpers } from '../../src/conformance/helpers.js';
import { BpfError, MemoryFault } from '../../src/errors.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { encodeProgram, type RawInsn } from '../../src/isa/encoder.js';
import { JitProgram } from '../../src/jit/engine.js';
import { Interpreter } from '../../src/vm/interpreter/interpreter.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';
import { PERM_READ, PERM_WRITE, Slot, slotBase } from '../../src/vm/memory/layout.js';
import { programArbitrary } from '../support/arbitrary.js';

const RW = (PERM_READ | PERM_WRITE) as 3;
const _SIZE_BITS: Record<number, number> = { 1: 0x10, 2: 0x08, 4: 0x00, 8: 0x18 };
const EXIT: RawInsn = { opcode: 0x95, dst: 0, src: 0, off: 0, imm: 0 };

function lddw(dst: number, v: bigint): RawInsn {
  const u = BigInt.asUintN(64, v);
  return { opcode: 0x18, dst, src: 0, off: 0, imm: Number(u & 0xffffffffn) | 0, imm2: Number(u >> 32n) | 0 };
}

function freshMemory(): GuestMemory {
  const m = new GuestMemory();
  m.mapStack();
  m.map(Slot.RODATA, 'rodata', 100, PERM_READ, new Uint8Array(100).fill(7));
  m.map(Slot.INPUT, 'input', 13, RW);
  m.map(Slot.HEAP, 'heap', 4096, RW);
  return m;
}

/** Copy of every linear-memory byte that no region exposes (control block, gaps, host slack). */
function hiddenBytes(m: GuestMemory): Uint8Array[] {
  const regions = m.mappedRegions().sort((a, b) => a.hostBase - b.hostBase);
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const r of regions) {
    parts.push(m.u8.slice(at, r.hostBase));
    at = r.hostBase + r.size;
  }
  parts.push(m.u8.slice(at));
  return parts;
}

const same = (a: Uint8Array[], b: Uint8Array[]) => a.every((part, k) => Buffer.compare(part, b[k]) === 0);

function jitRun(memory: GuestMemory, insns: RawInsn[]) {
  return new JitProgram(decodeProgram(encodeProgram(insns)), { memory }).run();
}

describe('guest isolation (jit)', () => {
  it('faults carry the interpreter message: pc, address, nearest region, reason', () => {
    const m = freshMemory();
    const insns = [
      lddw(1, BigInt(slotBase(Slot.RODATA))),
      { opcode: 0x72, dst: 1, src: 0, off: 3, imm: 1 },
      EXIT,
    ];
    expect(() => jitRun(m, insns)).toThrow(/write of 1 byte at 0x10000003 at pc 2: rodata is not writable/);
    expect(m.read(BigInt(slotBase(Slot.RODATA)) + 3n, 1)[0]).toBe(7);
    const interp = (() => {
      try {
        new Interpreter(decodeProgram(encodeProgram(insns)), { memory: m }).run();
      } catch (e) {
        return (e as MemoryFault).message;
      }
    })();
    expect(() => jitRun(m, insns)).toThrow(interp);
  });

  it('sees regions mapped (and the memory grown) or unmapped after compilation', () => {
    const m = new GuestMemory();
    m.mapStack();
    const load = [
      lddw(1, BigInt(slotBase(Slot.PACKET)) + 70_000n),
      { opcode: 0x71, dst: 0, src: 1, off: 0, imm: 0 },
      EXIT,
    ];
    const jit = new JitProgram(decodeProgram(encodeProgram(load)), { memory: m });
    expect(() => jit.run()).toThrow(MemoryFault);
    const bytes = new Uint8Array(100_000);
    bytes[70_000] = 0x5c;
    const pages = m.wasm.buffer.byteLength;
    m.map(Slot.PACKET, 'packet', bytes.length, PERM_READ, bytes);
    expect(m.wasm.buffer.byteLength).toBeGreaterThan(pages);
    expect(jit.run().r0).toBe(0x5cn);
    m.unmap(Slot.PACKET);
    expect(() => jit.run()).toThrow(/read of 1 byte at 0x50011170 at pc 2/);
  });

  it('r10-relative accesses stay inside the frame window of their depth', () => {
    const m = freshMemory();
    // Below the own frame (r10 − 520) is outside the depth-0 window; −512 is its first byte.
    const below = [{ opcode: 0x7a, dst: 10, src: 0, off: -520, imm: 1 }, EXIT];
    expect(() => jitRun(m, below)).toThrow(/stack overflow/);
    expect(jitRun(m, [{ opcode: 0x7a, dst: 10, src: 0, off: -512, imm: 1 }, EXIT]).instructions).toBe(2);
    // A callee (depth 1) may write its caller's frame through a pointer, not past the stack top.
    const callee = (off: number): RawInsn[] => [
      { opcode: 0xbf, dst: 1, src: 10, off: 0, imm: 0 },
      { opcode: 0x85, dst: 0, src: 1, off: 0, imm: 1 },
      EXIT,
      { opcode: 0x7b, dst: 1, src: 10, off, imm: 0 },
      EXIT,
    ];
    expect(jitRun(m, callee(-8)).instructions).toBe(5);
    expect(() => jitRun(m, callee(0))).toThrow(MemoryFault);
  });

  it('random valid-looking programs run or fail with a typed error, touching only their regions', () => {
    const memory = freshMemory();
    const input = memory.region(Slot.INPUT);
    if (!input) throw new Error('no input region');
    const helpers = conformanceHelpers();
    const before = hiddenBytes(memory);
    const outcomes = { ran: 0, trapped: 0, rejected: 0 };
    fc.assert(
      fc.property(programArbitrary(40), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (insns, r3) => {
        let jit: JitProgram;
        try {
          jit = new JitProgram(decodeProgram(encodeProgram(insns)), { memory, helpers });
        } catch (e) {
          expect(e).toBeInstanceOf(BpfError);
          outcomes.rejected++;
          return;
        }
        try {
          jit.run({ args: [BigInt(input.guestBase), 13n, r3], maxInstructions: 5000 });
          outcomes.ran++;
        } catch (e) {
          if (!(e instanceof BpfError)) throw e;
          outcomes.trapped++;
        }
      }),
      { numRuns: 1500, seed: 20261130 },
    );
    expect(same(hiddenBytes(memory), before)).toBe(true);
    expect(outcomes.ran + outcomes.trapped).toBeGreaterThan(1500 / 4);
  });
});
