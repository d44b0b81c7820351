/**
 * The derived fields of the region table (absolute start, host delta, last start address per size and
 * access kind) decide every access exactly like the interpreter's rule on the base fields, for any
 * window: empty, missing a permission, shorter than the access, starting inside its slot (stack,
 * packet), and for addresses around its edges or with a non-zero high half.
 */
import { describe, expect, it } from 'vitest';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';
import {
  ACCESS_SIZES,
  PERM_READ,
  PERM_WRITE,
  SLOT_COUNT,
  SLOT_SHIFT,
  Slot,
  sizeIndex,
  slotBase,
  TABLE_ABS_START,
  TABLE_HOST_DELTA,
  TABLE_LAST_READ,
  TABLE_LAST_WRITE,
  TABLE_STRIDE,
  writeTableEntry,
} from '../../src/vm/memory/layout.js';
import { prng } from '../support/prng.js';

/** The JIT's rule (src/jit/codegen.ts windowCheck): absStart ≤ addr ≤ last, unsigned 64-bit. */
function derivedTranslate(table: Int32Array, address: bigint, size: number, write: boolean): number {
  const t = Number((address & 0xffffffffn) >> BigInt(SLOT_SHIFT)) * TABLE_STRIDE;
  const absStart = BigInt(table[t + TABLE_ABS_START] >>> 0);
  const last = BigInt(table[t + (write ? TABLE_LAST_WRITE : TABLE_LAST_READ) + sizeIndex(size)] >>> 0);
  if (address < absStart || address > last) return -1;
  return (Number(address & 0xffffffffn) + table[t + TABLE_HOST_DELTA]) | 0;
}

/** Addresses worth probing around a window [lo, hi) of the slot, plus high-half variants. */
function probes(lo: number, hi: number, slot: number): bigint[] {
  const base = slotBase(slot);
  const xs = [
    base,
    base + 1,
    lo - 9,
    lo - 8,
    lo - 7,
    lo - 2,
    lo - 1,
    lo,
    lo + 1,
    hi - 9,
    hi - 8,
    hi - 4,
    hi - 2,
  ];
  xs.push(hi - 1, hi, hi + 1, base + (1 << SLOT_SHIFT) - 1);
  const out: bigint[] = [];
  for (const x of xs) {
    if (x < 0 || x > 0xffffffff) continue;
    const a = BigInt(x);
    out.push(a, a | (1n << 32n), a | (0xffffffffn << 32n), BigInt.asUintN(64, a - (1n << 32n)));
  }
  return out;
}

describe('region table derived fields', () => {
  it('accept exactly what the base fields accept, for random windows, sizes and kinds', () => {
    const rand = prng(20261130);
    const m = new GuestMemory();
    const host = 1 << 20;
    let checked = 0;
    const mismatches: string[] = [];
    for (let round = 0; round < 400; round++) {
      const slot = 1 + Math.floor(rand() * (SLOT_COUNT - 1));
      const start = rand() < 0.5 ? 0 : Math.floor(rand() * 5000);
      const len = [0, 1, 2, 3, 4, 7, 8, 9, 100, 4096][Math.floor(rand() * 10)];
      const perms = Math.floor(rand() * 4);
      const lenRead = perms & PERM_READ ? len : 0;
      const lenWrite = perms & PERM_WRITE ? len : 0;
      writeTableEntry(m.table, slot * TABLE_STRIDE, slot, start, lenRead, lenWrite, host);
      const lo = slotBase(slot) + start;
      for (const address of probes(lo, lo + len, slot)) {
        for (const size of ACCESS_SIZES) {
          for (const write of [false, true]) {
            const expected = m.translate(address, size, write ? 'write' : 'read');
            const got = derivedTranslate(m.table, address, size, write);
            if (got !== expected)
              mismatches.push(
                `slot ${slot} start ${start} len ${len} perms ${perms}: ${address} ${size} ${write}`,
              );
            checked++;
          }
        }
      }
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
    expect(checked).toBeGreaterThan(100_000);
  });

  it('reject every address of an unmapped slot, including slot 0 and address 0', () => {
    const m = new GuestMemory();
    m.mapStack();
    m.map(Slot.INPUT, 'input', 16, PERM_READ | PERM_WRITE);
    m.unmap(Slot.INPUT);
    for (const slot of [Slot.NULL, Slot.INPUT, Slot.CODE, 15]) {
      for (const address of probes(slotBase(slot), slotBase(slot) + 16, slot)) {
        for (const size of ACCESS_SIZES) {
          expect(derivedTranslate(m.table, address, size, false)).toBe(-1);
          expect(derivedTranslate(m.table, address, size, true)).toBe(-1);
        }
      }
    }
  });

  it('follow the stack window at every depth', () => {
    const m = new GuestMemory();
    const stack = m.mapStack(64, 4);
    for (let depth = 0; depth < 4; depth++) {
      m.setStackDepth(depth);
      const lo = stack.guestBase + stack.size - (depth + 1) * 64;
      for (const address of probes(lo, stack.guestBase + stack.size, Slot.STACK)) {
        for (const size of ACCESS_SIZES) {
          for (const write of [false, true]) {
            const expected = m.translate(address, size, write ? 'write' : 'read');
            expect(derivedTranslate(m.table, address, size, write)).toBe(expected);
          }
        }
      }
    }
  });
});
