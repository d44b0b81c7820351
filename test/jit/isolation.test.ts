/**
 * Guest isolation on the JIT, as test/vm/memory.test.ts and robustness.test.ts check it on the
 * interpreter: an access succeeds exactly when the region table allows it, a failing one is the same
 * MemoryFault, and no program changes a byte of linear memory outside its regions.
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
const SIZE_BITS: Record<number, number> = { 1: 0x10, 2: 0x08, 4: 0x00, 8: 0x18 };
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
  it('a store succeeds exactly when it lies inside a writable region, and touches nothing else', () => {
    const m = freshMemory();
    const near = fc.oneof(
      ...m
        .mappedRegions()
        .map((r) => fc.integer({ min: -24, max: r.size + 24 }).map((d) => BigInt(r.guestBase + d))),
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      fc.bigInt({ min: 0n, max: 1n << 33n }),
    );
    fc.assert(
      fc.property(near, fc.constantFrom(1, 2, 4, 8), fc.integer({ min: -40, max: 40 }), (addr, size, off) => {
        const before = hiddenBytes(m);
        const target = BigInt.asUintN(64, addr + BigInt(off));
        const allowed = m.translate(target, size, 'write') >= 0;
        const insns = [
          lddw(1, addr),
          lddw(2, -1n),
          { opcode: 0x63 | SIZE_BITS[size], dst: 1, src: 2, off, imm: 0 },
          EXIT,
        ];
        try {
          jitRun(m, insns);
          expect(allowed).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(MemoryFault);
          const f = e as MemoryFault;
          expect(allowed).toBe(false);
          expect(f.pc).toBe(4);
          expect(f.address).toBe(target);
          expect(f.size).toBe(size);
          expect(f.access).toBe('write');
          expect(f.instructions).toBe(3);
        }
        expect(same(hiddenBytes(m), before)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('a load succeeds exactly when it lies inside a readable region', () => {
    const m = freshMemory();
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 32n) + 64n }),
        fc.constantFrom(1, 2, 4, 8),
        (addr, size) => {
          const allowed = m.translate(addr, size, 'read') >= 0;
          const insns = [
            lddw(1, addr),
            { opcode: 0x61 | SIZE_BITS[size], dst: 0, src: 1, off: 0, imm: 0 },
            EXIT,
          ];
          let ok = true;
          try {
            jitRun(m, insns);
          } catch (e) {
            expect(e).toBeInstanceOf(MemoryFault);
            ok = false;
          }
          expect(ok).toBe(allowed);
        },
      ),
      { numRuns: 500 },
    );
  });

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
