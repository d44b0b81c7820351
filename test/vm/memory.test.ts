/**
 * The memory model: region placement, byte-exact bounds, permissions, the moving stack window, and
 * guest isolation — no program can touch a byte of linear memory outside the regions it was given.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryFault, UsageError } from '../../src/errors.js';
import { EXECUTOR_KINDS, EXECUTORS } from '../../src/executors.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { encodeProgram, type RawInsn } from '../../src/isa/encoder.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';
import { CONTROL_BLOCK_SIZE, PERM_READ, PERM_WRITE, Slot, slotBase } from '../../src/vm/memory/layout.js';

const RW = (PERM_READ | PERM_WRITE) as 3;

function lddw(dst: number, v: bigint): RawInsn {
  const u = BigInt.asUintN(64, v);
  return { opcode: 0x18, dst, src: 0, off: 0, imm: Number(u & 0xffffffffn) | 0, imm2: Number(u >> 32n) | 0 };
}
const EXIT: RawInsn = { opcode: 0x95, dst: 0, src: 0, off: 0, imm: 0 };
const SIZE_BITS: Record<number, number> = { 1: 0x10, 2: 0x08, 4: 0x00, 8: 0x18 };

/** Every engine must isolate the guest the same way (src/executors.ts lists them). */
const engines = EXECUTOR_KINDS.map((name) => ({
  name,
  run(memory: GuestMemory, insns: RawInsn[]) {
    return EXECUTORS[name](decodeProgram(encodeProgram(insns)), { memory }).run({});
  },
}));

function freshMemory(): GuestMemory {
  const m = new GuestMemory();
  m.mapStack();
  m.map(Slot.RODATA, 'rodata', 100, PERM_READ, new Uint8Array(100).fill(7));
  m.map(Slot.INPUT, 'input', 13, RW);
  m.map(Slot.HEAP, 'heap', 4096, RW);
  return m;
}

describe('GuestMemory', () => {
  it('places regions at their fixed slot bases', () => {
    const m = freshMemory();
    expect(m.region(Slot.RODATA)?.guestBase).toBe(0x10000000);
    expect(m.region(Slot.INPUT)?.guestBase).toBe(0x40000000);
    expect(m.frameTop(0)).toBe(slotBase(Slot.STACK) + 512 * 8);
    expect(m.region(Slot.RODATA)!.hostBase).toBeGreaterThanOrEqual(CONTROL_BLOCK_SIZE);
  });

  it('checks bounds to the byte, for every size', () => {
    const m = freshMemory();
    const base = BigInt(slotBase(Slot.INPUT));
    for (const size of [1, 2, 4, 8]) {
      expect(m.translate(base, size, 'read')).toBeGreaterThan(0);
      expect(m.translate(base + 13n - BigInt(size), size, 'write')).toBeGreaterThan(0);
      expect(m.translate(base + 14n - BigInt(size), size, 'read')).toBe(-1);
      expect(m.translate(base - 1n, size, 'read')).toBe(-1);
    }
  });

  it('enforces permissions', () => {
    const m = freshMemory();
    const ro = BigInt(slotBase(Slot.RODATA));
    expect(m.translate(ro, 8, 'read')).toBeGreaterThan(0);
    expect(m.translate(ro, 8, 'write')).toBe(-1);
    expect(() => m.write(ro, new Uint8Array([1]))).toThrow(MemoryFault);
    expect(m.read(ro, 4)).toEqual(new Uint8Array([7, 7, 7, 7]));
  });

  it('never maps slot 0 and rejects addresses above 4 GiB', () => {
    const m = freshMemory();
    expect(m.translate(0n, 1, 'read')).toBe(-1);
    expect(m.translate(8n, 1, 'read')).toBe(-1);
    expect(m.translate((1n << 32n) + BigInt(slotBase(Slot.INPUT)), 1, 'read')).toBe(-1);
    expect(() => m.map(Slot.NULL, 'x', 8, RW)).toThrow(UsageError);
    expect(() => m.map(Slot.INPUT, 'again', 8, RW)).toThrow(UsageError);
  });

  it('moves the stack window with the call depth', () => {
    const m = freshMemory();
    const top = BigInt(m.frameTop(0));
    expect(m.translate(top - 512n, 8, 'write')).toBeGreaterThan(0);
    expect(m.translate(top - 520n, 8, 'write')).toBe(-1);
    m.setStackDepth(1);
    expect(m.translate(top - 520n, 8, 'write')).toBeGreaterThan(0);
    expect(m.translate(top - 1024n - 8n, 8, 'write')).toBe(-1);
    const fault = m.fault(top - 1024n - 8n, 8, 'write', 3);
    expect(fault.message).toMatch(/below the current stack frame/);
  });

  it('names the access, the address and the nearest region in faults', () => {
    const m = freshMemory();
    const f = m.fault(BigInt(slotBase(Slot.INPUT)) + 20n, 4, 'read', 5);
    expect(f.code).toBe('MEMORY_FAULT');
    expect(f.pc).toBe(5);
    expect(f.message).toContain('read of 4 bytes at 0x40000014');
    expect(f.message).toContain('input [0x40000000, 0x4000000d) rw');
    expect(m.fault(0n, 8, 'read', 0).message).toMatch(/null pointer/);
    expect(m.fault(BigInt(slotBase(Slot.RODATA)), 1, 'write', 0).message).toMatch(/rodata is not writable/);
  });
});

describe.each(engines)('guest isolation ($name)', (engine) => {
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

  it('a store succeeds exactly when it lies inside a writable region, and touches nothing else', () => {
    const m = freshMemory();
    const regions = m.mappedRegions();
    const near = fc.oneof(
      ...regions.map((r) => fc.integer({ min: -24, max: r.size + 24 }).map((d) => BigInt(r.guestBase + d))),
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
          engine.run(m, insns);
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
        const after = hiddenBytes(m);
        expect(after.every((part, k) => Buffer.compare(part, before[k]) === 0)).toBe(true);
      }),
      { numRuns: 1000 },
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
            engine.run(m, insns);
          } catch (e) {
            expect(e).toBeInstanceOf(MemoryFault);
            ok = false;
          }
          expect(ok).toBe(allowed);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('writes to read-only data fault with pc, address and region', () => {
    const m = freshMemory();
    const insns = [
      lddw(1, BigInt(slotBase(Slot.RODATA))),
      { opcode: 0x72, dst: 1, src: 0, off: 3, imm: 1 },
      EXIT,
    ];
    expect(() => engine.run(m, insns)).toThrow(
      /write of 1 byte at 0x10000003 at pc 2: rodata is not writable/,
    );
    expect(m.read(BigInt(slotBase(Slot.RODATA)) + 3n, 1)[0]).toBe(7);
  });
});
