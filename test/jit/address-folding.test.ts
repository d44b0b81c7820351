/**
 * The JIT computes the host address of a proven access from the induction register and one
 * loop-invariant i32 (low(disp) + delta, induction.ts), and a cached window check from x + (C + off −
 * start) where the base register holds x + C (address-forms.ts). Both are the ordinary address modulo
 * 2^32 / 2^64 only if every constant and register is folded right: these loops use constants whose
 * low halves wrap a 32-bit add, negative offsets and bases rewritten between their computation and the
 * access, and compare the bytes they copy and the faults they raise with the interpreter's.
 */
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import { EXECUTOR_KINDS, type ExecutorKind } from '../../src/executors.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { AddressForms } from '../../src/jit/address-forms.js';
import { analyze } from '../../src/jit/control-flow.js';
import { planHoist } from '../../src/jit/induction.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';
import { PERM_READ, PERM_WRITE, Slot, slotBase } from '../../src/vm/memory/layout.js';
import { type RunOutcome, runOutcome } from '../support/run-outcome.js';

const INPUT = slotBase(Slot.INPUT);
const HEAP = slotBase(Slot.HEAP);
const U64 = (x: bigint) => BigInt.asUintN(64, x);
/** A 64-bit constant for lddw. */
const hex = (x: bigint | number) => `0x${U64(BigInt(x)).toString(16)}`;

/** Input: 64 bytes 1..64; heap: `heapSize` zero bytes; both read-write. */
function run(kind: ExecutorKind, source: string, heapSize: number): RunOutcome {
  const memory = new GuestMemory();
  memory.mapStack();
  memory.map(
    Slot.INPUT,
    'input',
    64,
    PERM_READ | PERM_WRITE,
    new Uint8Array(64).map((_, i) => i + 1),
  );
  memory.map(Slot.HEAP, 'heap', heapSize, PERM_READ | PERM_WRITE);
  return runOutcome(kind, source, memory, [BigInt(INPUT), 64n], { input: Slot.INPUT, heap: Slot.HEAP });
}

/** Runs `source` on every engine, checks they agree and returns the outcome. */
function agreed(source: string, heapSize = 64): RunOutcome {
  const [first, ...rest] = EXECUTOR_KINDS.map((kind) => run(kind, source, heapSize));
  for (const other of rest) expect(other).toEqual(first);
  return first;
}

const fault = (
  pc: number,
  address: number | bigint,
  size: number,
  access: 'read' | 'write',
  more: Partial<RunOutcome> = {},
) => expect.objectContaining({ code: 'MEMORY_FAULT', pc, address: BigInt(address), size, access, ...more });

/** `n` bytes of the input from byte `from` (values from + 1, …) as hex, then zeros up to `size` bytes. */
const copied = (n: number, size = 64, from = 0) =>
  Buffer.from(new Uint8Array(size).map((_, i) => (i < n ? from + i + 1 : 0))).toString('hex');
/** An access offset as the syntax writes it. */
const at = (off: number) => (off < 0 ? `${off}` : `+${off}`);

describe('hoisted induction accesses: low(v) + (low(disp) + delta)', () => {
  // memcpy's loop with v = INPUT + 16 …: src = v − 16 + off, dst = v + (HEAP − INPUT − 16) + off. Both
  // constants are "negative": low(C) + low(v) carries out of 32 bits on every access.
  // The offsets fold into the constants (the same walk); the shifts move it.
  const copy = (end: number, srcOff = 0, dstOff = 0, srcShift = 0, dstShift = 0) => `
      mov %r6, ${INPUT + 16}
    again:
      lddw %r2, ${hex(-16 - srcOff + srcShift)}
      add %r2, %r6
      lddw %r3, ${hex(HEAP - INPUT - 16 - dstOff + dstShift)}
      add %r3, %r6
      ldxdw %r4, [%r2${at(srcOff)}]
      stxdw [%r3${at(dstOff)}], %r4
      add %r6, 8
      jne %r6, ${INPUT + 16 + end}, again
      mov %r0, %r6
      exit`;

  it('is planned for the copy loop (the wrapping constants are its displacements)', () => {
    const program = decodeProgram(assemble(copy(64, 8, 16), { syntax: 'ubpf' }));
    const layout = analyze(program);
    const loop = layout.functions[0].parts[0].regions.find((r) => r.isLoop);
    expect(loop).toBeDefined();
    const plan = loop === undefined ? undefined : planHoist(program, layout, loop, undefined);
    expect(plan?.accesses).toEqual([
      { pc: 7, disp: U64(-16n), size: 8, write: false },
      { pc: 8, disp: U64(BigInt(HEAP - INPUT - 16)), size: 8, write: true },
    ]);
  });

  it('copies between two regions exactly', () => {
    expect(agreed(copy(64))).toMatchObject({ r0: BigInt(INPUT + 16 + 64), heap: copied(64) });
    expect(agreed(copy(64, 8, 16)).heap).toBe(copied(64));
    expect(agreed(copy(32, -8, 24)).heap).toBe(copied(32));
  });

  it('a last iteration past either region faults at its pc and address, after the others copied', () => {
    // The 9th load reads INPUT + 64.
    expect(agreed(copy(72))).toEqual(fault(7, INPUT + 64, 8, 'read', { heap: copied(64) }));
    // A 56-byte heap: the 8th store writes HEAP + 56.
    expect(agreed(copy(64), 56)).toEqual(fault(8, HEAP + 56, 8, 'write', { heap: copied(56, 56) }));
    // Offsets that move the walk one byte off each end.
    expect(agreed(copy(64, 1, 0, 1, 0))).toEqual(
      fault(7, INPUT + 57, 8, 'read', { heap: copied(56, 64, 1) }),
    );
    expect(agreed(copy(64, 0, -1, 0, -1))).toEqual(fault(8, HEAP - 1, 8, 'write', { heap: copied(0) }));
  });
});

describe('cached window checks of base = x + C', () => {
  // A loop with a data-dependent branch (so no induction plan): x = r6 runs from −bias up, the address
  // constant is INPUT + bias + start, so x's low half plus C's carries out of 32 bits. The body's
  // first instruction is at pc 7.
  const walk = (body: string, count: number, start = 0, bias = 0x100) => `
      mov %r0, 0
      lddw %r6, ${hex(-bias)}
      lddw %r8, ${hex(-bias + count)}
    again:
      lddw %r2, ${hex(INPUT + bias + start)}
      ${body}
      add %r0, %r3
      jgt %r3, 200, skip
      add %r0, 1
    skip:
      add %r6, 1
      jne %r6, %r8, again
      exit`;
  const sum = (from: number, n: number) => {
    let s = 0n;
    for (let i = 0; i < n; i++) s += BigInt(from + i + 1) + 1n;
    return s;
  };

  it('reads the bytes the interpreter reads', () => {
    expect(agreed(walk('add %r2, %r6\n      ldxb %r3, [%r2+0]', 64)).r0).toBe(sum(0, 64));
    expect(agreed(walk('add %r2, %r6\n      ldxb %r3, [%r2+3]', 61)).r0).toBe(sum(3, 61));
    expect(agreed(walk('add %r2, %r6\n      ldxb %r3, [%r2-3]', 61, 3)).r0).toBe(sum(0, 61));
    // C + (y + C'): mov, then constants on both sides.
    const chain =
      'mov %r7, %r6\n      add %r7, 5\n      add %r2, %r7\n      sub %r2, 7\n      ldxb %r3, [%r2+2]';
    expect(agreed(walk(chain, 64)).r0).toBe(sum(0, 64));
    // x + C with x a copy: mov %r2, x then a constant added.
    const copy = `mov %r2, %r6\n      add %r2, ${INPUT + 0x100}\n      ldxb %r3, [%r2+0]`;
    expect(agreed(walk(copy, 64)).r0).toBe(sum(0, 64));
    // A constant base (no register): the same byte every iteration.
    expect(agreed(walk('ldxb %r3, [%r2-0xff]', 64)).r0).toBe(64n * 3n);
  });

  it('a register rewritten after the base was built is not folded in', () => {
    // x changes after r2 = C + x: the access must use the old x (r2), not the new one, which would
    // still lie inside the window (a wrong address outside it would take the ordinary check).
    const moved = 'add %r2, %r6\n      add %r6, 1\n      ldxb %r3, [%r2+0]\n      sub %r6, 1';
    expect(agreed(walk(moved, 64)).r0).toBe(sum(0, 64));
    const reloaded = 'add %r2, %r6\n      mov %r6, -250\n      ldxb %r3, [%r2+0]\n      mov %r6, %r9';
    const keep = walk(reloaded, 64).replace('again:', 'again:\n      mov %r9, %r6');
    expect(agreed(keep).r0).toBe(sum(0, 64));
    // The base rewritten with x: r2 = r2 + r2 is no longer C + x.
    const doubled = 'add %r2, %r6\n      add %r2, %r2\n      ldxb %r3, [%r2+0]';
    expect(agreed(walk(doubled, 4))).toEqual(fault(9, 2 * INPUT, 1, 'read'));
  });

  it('the first access past the window faults with its pc and the full 64-bit address', () => {
    const byte = 'add %r2, %r6\n      ldxb %r3, [%r2+0]';
    expect(agreed(walk(byte, 65))).toEqual(fault(8, INPUT + 64, 1, 'read'));
    expect(agreed(walk('add %r2, %r6\n      ldxb %r3, [%r2-1]', 4))).toEqual(fault(8, INPUT - 1, 1, 'read'));
    // C + off carries into the high half: C = 0xffffffff, off = 1.
    const carry = 'add %r2, %r6\n      ldxb %r3, [%r2+1]';
    expect(agreed(walk(carry, 64, -1, 0xc000_0000)).r0).toBe(sum(0, 64));
    expect(agreed(walk(carry, 65, -1, 0xc000_0000))).toEqual(fault(8, INPUT + 64, 1, 'read'));
    // C above 2^32 with x below −2^32: the sum is in the input (the constant fits no lea).
    expect(agreed(walk(byte, 64, 0, 2 ** 32 + 0x100)).r0).toBe(sum(0, 64));
    expect(agreed(walk(byte, 65, 0, 2 ** 32 + 0x100))).toEqual(fault(8, INPUT + 64, 1, 'read'));
    // A store past the end writes nothing there, and every earlier store landed.
    const store = 'add %r2, %r6\n      ldxb %r3, [%r2+0]\n      stxb [%r2+0], %r0';
    const outcome = agreed(walk(store, 65));
    expect(outcome).toEqual(fault(8, INPUT + 64, 1, 'read'));
    expect(outcome.input).not.toBe(copied(64));
  });
});

describe('AddressForms', () => {
  const forms = (source: string) => {
    const f = new AddressForms();
    for (const insn of decodeProgram(assemble(`${source}\nexit`, { syntax: 'ubpf' })).insns) {
      if (insn.kind === 'alu') f.afterAlu(insn);
      else if (insn.kind === 'lddw') f.constant(insn.dst, Number(insn.imm) | 0, Number(insn.imm2) | 0);
      else if (insn.kind !== 'exit') f.after(insn);
    }
    const of = (r: number) => {
      const base = f.baseOf(r);
      if (base === -2) return undefined;
      const c = U64((BigInt(f.high(r)) << 32n) | BigInt(f.low(r) >>> 0));
      return { base, c };
    };
    return of;
  };

  it('follows constants and one register through mov, add and sub modulo 2^64', () => {
    const of = forms(
      'lddw %r2, 0xfffffff0\nadd %r2, %r1\nadd %r2, 0x20\nsub %r2, -8\nmov %r3, %r2\nadd %r3, -1',
    );
    expect(of(2)).toEqual({ base: 1, c: 0x1_0000_0018n });
    expect(of(3)).toEqual({ base: 1, c: 0x1_0000_0017n });
    expect(of(1)).toBeUndefined();
    const neg = forms(
      'mov %r2, 0\nsub %r2, 1\nmov %r4, %r5\nadd %r4, %r2\nlddw %r6, 0x8000000000000000\nsub %r6, 1',
    );
    expect(neg(2)).toEqual({ base: -1, c: U64(-1n) });
    expect(neg(4)).toEqual({ base: 5, c: U64(-1n) });
    expect(neg(6)).toEqual({ base: -1, c: 0x7fff_ffff_ffff_ffffn });
    // C + (x + C') and (x + C) + C''.
    const chain = forms('mov %r7, %r6\nadd %r7, 5\nlddw %r2, 0x100\nadd %r2, %r7\nmov %r8, 3\nadd %r2, %r8');
    expect(chain(2)).toEqual({ base: 6, c: 0x108n });
  });

  it('forgets a form when its register or its base is written', () => {
    const base = 'lddw %r2, 0x100\nadd %r2, %r1\n';
    expect(forms(`${base}add %r1, 1`)(2)).toBeUndefined();
    expect(forms(`${base}ldxw %r1, [%r10-8]`)(2)).toBeUndefined();
    expect(forms(`${base}mov32 %r1, %r1`)(2)).toBeUndefined();
    expect(forms(`${base}add %r2, %r2`)(2)).toBeUndefined();
    expect(forms(`${base}mul %r2, 2`)(2)).toBeUndefined();
    expect(forms(`${base}mov %r1, %r2`)(2)).toBeUndefined();
    expect(forms(`${base}mov %r2, %r2`)(2)).toEqual({ base: 1, c: 0x100n });
    expect(forms(`${base}call 1`)(2)).toBeUndefined();
    expect(forms(`${base}ldxw %r3, [%r2+0]\nstxw [%r2+0], %r3`)(2)).toEqual({ base: 1, c: 0x100n });
    // x + C plus x again is no x + C; a constant written into x ends its users too.
    expect(forms(`${base}mov %r3, %r2\nadd %r3, %r1`)(3)).toBeUndefined();
    expect(forms(`${base}lddw %r1, 0x5`)(2)).toBeUndefined();
  });
});
