/**
 * The JIT skips a region check only where an earlier check of the same register value proves it
 * (src/jit/checked-ranges.ts). Each program here puts an access the interpreter refuses right where a
 * wrongly reused proof would let it through: both engines must stop with the same MemoryFault (code,
 * pc, address, size, access) and leave the same bytes behind. The same holds for the window a
 * call-free loop reads at its entry for the slot it predicts (src/jit/slot-prediction.ts): a wrong
 * prediction, an access past the window or of the wrong kind must behave as without the cache.
 */
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import { conformanceHelpers } from '../../src/conformance/helpers.js';
import { MemoryFault, Trap } from '../../src/errors.js';
import { EXECUTOR_KINDS, EXECUTORS } from '../../src/executors.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { CheckedRanges } from '../../src/jit/checked-ranges.js';
import type { HelperRegistry } from '../../src/vm/helpers.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';
import { PERM_READ, PERM_WRITE, Slot, slotBase } from '../../src/vm/memory/layout.js';

const INPUT = slotBase(Slot.INPUT);
const RODATA = slotBase(Slot.RODATA);
const HEAP = slotBase(Slot.HEAP);
/** Helper ids of this file: shrink the input to 8 bytes; unmap the input. */
const SHRINK = 200;
const UNMAP = 201;

interface Outcome {
  r0?: bigint;
  code?: string;
  pc?: number;
  instructions?: number;
  address?: bigint;
  size?: number;
  access?: string;
  input: string;
}

function setUp(): { memory: GuestMemory; helpers: HelperRegistry } {
  const memory = new GuestMemory();
  memory.mapStack();
  const input = new Uint8Array(64).map((_, i) => i + 1);
  memory.map(Slot.INPUT, 'input', 64, PERM_READ | PERM_WRITE, input);
  memory.map(Slot.RODATA, 'rodata', 16, PERM_READ, new Uint8Array(16).fill(0x5a));
  memory.map(Slot.HEAP, 'write-only', 16, PERM_WRITE);
  const helpers = conformanceHelpers();
  helpers.define(SHRINK, 'shrink', () => {
    const bytes = memory.read(INPUT, 8);
    memory.unmap(Slot.INPUT);
    memory.map(Slot.INPUT, 'input', 8, PERM_READ | PERM_WRITE, bytes);
    return 0n;
  });
  helpers.define(UNMAP, 'unmap', () => {
    memory.unmap(Slot.INPUT);
    return 0n;
  });
  return { memory, helpers };
}

function run(kind: (typeof EXECUTOR_KINDS)[number], source: string, maxInstructions?: number): Outcome {
  const { memory, helpers } = setUp();
  const program = decodeProgram(assemble(source, { syntax: 'ubpf' }));
  const input = () => {
    const r = memory.region(Slot.INPUT);
    return r ? Buffer.from(memory.u8.subarray(r.hostBase, r.hostBase + r.size)).toString('hex') : '';
  };
  try {
    const r = EXECUTORS[kind](program, { memory, helpers }).run({
      args: [BigInt(INPUT), 64n],
      maxInstructions,
    });
    return { r0: r.r0, instructions: r.instructions, input: input() };
  } catch (e) {
    if (e instanceof MemoryFault) {
      return { code: e.code, pc: e.pc, address: e.address, size: e.size, access: e.access, input: input() };
    }
    if (!(e instanceof Trap)) throw e;
    return { code: e.code, pc: e.pc, instructions: e.instructions, input: input() };
  }
}

/** Runs `source` on every engine, checks they agree and returns the outcome. */
function agreed(source: string, maxInstructions?: number): Outcome {
  const [first, ...rest] = EXECUTOR_KINDS.map((kind) => run(kind, source, maxInstructions));
  for (const other of rest) expect(other).toEqual(first);
  return first;
}

const fault = (pc: number, address: number | bigint, size: number, access: 'read' | 'write') =>
  expect.objectContaining({ code: 'MEMORY_FAULT', pc, address: BigInt(address), size, access });

describe('elided JIT memory checks fault exactly like the interpreter', () => {
  it('an access past the end of the checked ranges faults', () => {
    const source = `
      ldxw %r2, [%r1+56]
      ldxw %r3, [%r1+60]
      ldxdw %r4, [%r1+60]
      exit`;
    expect(agreed(source)).toEqual(fault(2, INPUT + 60, 8, 'read'));
  });

  it('accesses inside the checked ranges read the right bytes, below and above the cached offset', () => {
    const source = `
      ldxw %r2, [%r1+4]
      ldxw %r3, [%r1+8]
      ldxb %r4, [%r1+5]
      ldxh %r5, [%r1+10]
      ldxb %r0, [%r1+4]
      lsh %r0, 8
      or %r0, %r4
      lsh %r0, 16
      or %r0, %r5
      add %r0, %r2
      add %r0, %r3
      exit`;
    expect(agreed(source).r0).toBe(0x0506_0c0bn + 0x0807_0605n + 0x0c0b_0a09n);
  });

  it('a base register redefined between two accesses is checked again', () => {
    const byAlu = `
      ldxw %r2, [%r1+0]
      add %r1, 64
      ldxw %r3, [%r1+0]
      exit`;
    expect(agreed(byAlu)).toEqual(fault(2, INPUT + 64, 4, 'read'));
    const byLoad = `
      lddw %r2, 0x30000010
      stxdw [%r1+0], %r2
      ldxdw %r1, [%r1+0]
      ldxdw %r3, [%r1+0]
      exit`;
    expect(agreed(byLoad)).toEqual(fault(4, HEAP + 16, 8, 'read'));
    const byAtomicFetch = `
      mov %r3, %r1
      ldxw %r2, [%r3+0]
      lock xchg [%r1+8], %r3
      ldxw %r5, [%r3+0]
      exit`;
    expect(agreed(byAtomicFetch)).toEqual(fault(3, 0x100f_0e0d_0c0b_0a09n, 4, 'read'));
  });

  it('a helper call that shrinks or unmaps the region ends every proof', () => {
    const shrink = `
      mov %r6, %r1
      ldxw %r2, [%r6+12]
      call ${SHRINK}
      ldxw %r3, [%r6+4]
      ldxw %r3, [%r6+12]
      exit`;
    expect(agreed(shrink)).toEqual(fault(4, INPUT + 12, 4, 'read'));
    const unmap = `
      mov %r6, %r1
      stxw [%r6+0], %r1
      call ${UNMAP}
      stxw [%r6+0], %r1
      exit`;
    expect(agreed(unmap)).toEqual(fault(3, INPUT, 4, 'write'));
  });

  it('a jump target gets no proof from the code before it', () => {
    // pc 3 follows a checked access of r3 in layout order, but the back edge reaches it with r3 + 64.
    const source = `
      mov %r3, %r1
      mov %r4, 0
      ldxw %r2, [%r3+0]
    again:
      ldxw %r2, [%r3+0]
      add %r3, 64
      add %r4, 1
      jlt %r4, 2, again
      exit`;
    expect(agreed(source)).toEqual(fault(3, INPUT + 64, 4, 'read'));
  });

  it('a conditional jump keeps the proof on its fall-through path only', () => {
    const source = `
      mov %r3, %r1
      ldxw %r2, [%r3+0]
      jeq %r2, 0x04030201, skip
      ldxw %r0, [%r3+0]
      exit
    skip:
      add %r3, -4
      ldxw %r0, [%r3+0]
      exit`;
    expect(agreed(source)).toEqual(fault(6, INPUT - 4, 4, 'read'));
  });

  it('a range checked for reading is checked again for writing, and vice versa', () => {
    const writeAfterRead = `
      lddw %r1, 0x${RODATA.toString(16)}
      ldxw %r2, [%r1+0]
      stxw [%r1+0], %r2
      exit`;
    expect(agreed(writeAfterRead)).toEqual(fault(3, RODATA, 4, 'write'));
    const readAfterWrite = `
      lddw %r1, 0x${HEAP.toString(16)}
      stxdw [%r1+8], %r1
      ldxw %r2, [%r1+12]
      exit`;
    expect(agreed(readAfterWrite)).toEqual(fault(3, HEAP + 12, 4, 'read'));
    const atomicAfterRead = `
      lddw %r1, 0x${RODATA.toString(16)}
      ldxdw %r2, [%r1+8]
      lock add [%r1+8], %r2
      exit`;
    expect(agreed(atomicAfterRead)).toEqual(fault(3, RODATA + 8, 8, 'write'));
    const writeAfterReadPastEnd = `
      ldxdw %r2, [%r1+56]
      stxdw [%r1+56], %r2
      stxdw [%r1+60], %r2
      exit`;
    expect(agreed(writeAfterReadPastEnd)).toEqual(fault(2, INPUT + 60, 8, 'write'));
  });

  it('read-modify-write on a checked address writes the right bytes', () => {
    const source = `
      ldxw %r2, [%r1+16]
      add %r2, 0x100
      stxw [%r1+16], %r2
      ldxw %r0, [%r1+16]
      exit`;
    const outcome = agreed(source);
    expect(outcome.r0).toBe(0x1413_1211n + 0x100n);
    expect(outcome.input.slice(32, 40)).toBe('11131314');
  });
});

describe('loads of one block through one base share a hull check (codegen loadGroup)', () => {
  it('the first load that faults does, in program order, whichever end of the hull it is', () => {
    expect(agreed('ldxb %r2, [%r1+63]\nldxb %r3, [%r1+64]\nexit')).toEqual(fault(1, INPUT + 64, 1, 'read'));
    expect(agreed('ldxb %r2, [%r1+64]\nldxb %r3, [%r1+63]\nexit')).toEqual(fault(0, INPUT + 64, 1, 'read'));
    expect(agreed('ldxb %r2, [%r1+62]\nmov %r4, 1\nldxh %r3, [%r1+63]\nexit')).toEqual(
      fault(2, INPUT + 63, 2, 'read'),
    );
    // A write-only region: the first load faults.
    const writeOnly = `lddw %r6, ${HEAP}\nldxb %r2, [%r6+1]\nldxb %r3, [%r6+0]\nexit`;
    expect(agreed(writeOnly)).toEqual(fault(2, HEAP + 1, 1, 'read'));
    // Below the window.
    expect(agreed('ldxb %r2, [%r1+0]\nldxb %r3, [%r1-1]\nexit')).toEqual(fault(1, INPUT - 1, 1, 'read'));
    // A store between the loads ends the group: it runs before the second load faults.
    const stored = agreed('ldxb %r2, [%r1+63]\nstb [%r1+0], 0x77\nldxb %r3, [%r1+64]\nexit');
    expect(stored).toEqual(fault(2, INPUT + 64, 1, 'read'));
    expect(stored.input.slice(0, 2)).toBe('77');
  });

  it('a hull whose table size reaches past the region still reads every byte right', () => {
    // [61, 64) is checked as 4 bytes at 61, which fails: each load's own check passes.
    const source = `
      ldxb %r2, [%r1+61]
      ldxb %r3, [%r1+63]
      ldxb %r4, [%r1+62]
      lsh %r2, 16
      lsh %r4, 8
      mov %r0, %r2
      or %r0, %r3
      or %r0, %r4
      exit`;
    expect(agreed(source).r0).toBe(0x3e3f40n);
    // Inside the region: the same loads through the fast path, and a load that ends the group.
    const inside = `
      ldxb %r2, [%r1+1]
      ldxh %r3, [%r1+2]
      ldxb %r1, [%r1+0]
      lsh %r2, 16
      mov %r0, %r2
      or %r0, %r3
      lsh %r1, 24
      or %r0, %r1
      exit`;
    expect(agreed(inside).r0).toBe(0x0102_0403n);
  });
});

describe('CheckedRanges', () => {
  it('proves only what was checked, for the kinds checked, until forgotten', () => {
    const c = new CheckedRanges();
    expect(c.lookup(1, 0, 4, false, false)).toBeUndefined();
    c.record(1, 8, 4, false, false, true);
    expect(c.lookup(1, 8, 4, false, false)).toBe(0);
    expect(c.lookup(1, 9, 2, false, false)).toBe(1);
    expect(c.lookup(1, 8, 4, true, false)).toBeUndefined();
    expect(c.lookupAnyKind(1, 8, 4)).toBe(0);
    expect(c.lookup(1, 10, 4, false, false)).toBeUndefined();
    c.record(1, 0, 4, false, false, true);
    // [0, 4) and [8, 12) lie within one region, so everything between them would pass too.
    expect(c.lookup(1, 2, 8, false, false)).toBe(2);
    c.forget(1);
    expect(c.lookup(1, 8, 4, false, false)).toBeUndefined();
  });

  it('never merges ranges that may lie in different regions', () => {
    const c = new CheckedRanges();
    c.record(2, 0, 8, true, false, true);
    c.record(2, 5000, 8, true, false, true);
    expect(c.lookup(2, 0, 8, true, false)).toBeUndefined();
    expect(c.lookup(2, 100, 8, true, false)).toBeUndefined();
    expect(c.lookup(2, 5000, 8, true, false)).toBe(0);
  });

  it('forgets the registers an instruction writes and everything at calls', () => {
    const c = new CheckedRanges();
    const program = decodeProgram(
      assemble('mov %r1, 0\nstxw [%r2+0], %r1\ncall 1\nexit', { syntax: 'ubpf' }),
    );
    const [mov, store, call] = program.insns;
    for (const reg of [1, 2, 3]) c.record(reg, 0, 4, false, false, true);
    c.after(mov);
    expect(c.lookup(1, 0, 4, false, false)).toBeUndefined();
    c.after(store);
    expect(c.lookup(2, 0, 4, false, false)).toBe(0);
    c.after(call);
    expect(c.lookup(2, 0, 4, false, false)).toBeUndefined();
    expect(c.lookup(3, 0, 4, false, false)).toBeUndefined();
  });
});

describe('cached windows of call-free loops behave like the ordinary check', () => {
  it('an access predicted for one slot but landing in another region is accepted there', () => {
    // r2 comes from the heap's address (predicted: heap) but r7 moves it onto the input: sum of 1..64.
    const source = `
      mov %r0, 0
      mov %r6, 0
      lddw %r7, 0x${(INPUT - HEAP).toString(16)}
    again:
      lddw %r2, 0x${HEAP.toString(16)}
      add %r2, %r7
      add %r2, %r6
      ldxb %r3, [%r2+0]
      add %r0, %r3
      add %r6, 1
      jlt %r6, 64, again
      exit`;
    expect(agreed(source).r0).toBe(2080n);
  });

  it('walking off the end of the predicted window faults at the first byte past it', () => {
    const source = `
      mov %r0, 0
      mov %r6, 0
    again:
      mov %r2, %r1
      add %r2, %r6
      ldxh %r3, [%r2+0]
      add %r0, %r3
      add %r6, 2
      jlt %r6, 100, again
      exit`;
    expect(agreed(source)).toEqual(fault(4, INPUT + 64, 2, 'read'));
    const unaligned = source.replace('ldxh %r3, [%r2+0]', 'ldxdw %r3, [%r2+1]');
    expect(agreed(unaligned)).toEqual(fault(4, INPUT + 57, 8, 'read'));
  });

  it('a loop with a local call (table checks, no cached window) faults at the first byte past the input', () => {
    // parser's shape: byte loads off base + i and a read-modify-write, a call in every iteration.
    const source = `
      mov %r0, 0
      mov %r6, 0
    again:
      mov %r2, %r1
      add %r2, %r6
      ldxb %r3, [%r2+1]
      ldxb %r4, [%r2+0]
      call local f
      ldxb %r5, [%r2+0]
      add %r5, %r0
      stxb [%r2+0], %r5
      add %r6, 1
      jlt %r6, 100, again
      exit
    f:
      mov %r0, %r3
      add %r0, %r4
      exit`;
    expect(agreed(source)).toEqual(fault(4, INPUT + 64, 1, 'read'));
    // The iterations before the fault wrote their bytes (the same on every engine: agreed).
    expect(agreed(source).input).not.toBe(agreed('mov %r0, 0\nexit').input);
    // The write faults where the read is allowed: read-only data.
    const rodata = source.replace('mov %r6, 0', `mov %r6, 0\n      lddw %r1, 0x${RODATA.toString(16)}`);
    expect(agreed(rodata)).toEqual(fault(11, RODATA, 1, 'write'));
  });

  it('walking below the start of the predicted window faults at the first byte below it', () => {
    // addr − start is negative there: as an unsigned 64-bit value it is above every window's limit.
    const source = `
      mov %r0, 0
      mov %r6, 0
    again:
      mov %r2, %r1
      add %r2, 3
      sub %r2, %r6
      ldxb %r3, [%r2+0]
      add %r0, %r3
      add %r6, 1
      jlt %r6, 100, again
      exit`;
    expect(agreed(source)).toEqual(fault(5, INPUT - 1, 1, 'read'));
    // The stack: the window of depth 0 starts 512 bytes below r10; nothing below it is readable.
    const stack = setUp().memory.region(Slot.STACK);
    const r10 = stack === undefined ? -1 : stack.guestBase + stack.size;
    const below = source.replace('mov %r2, %r1\n      add %r2, 3', 'mov %r2, %r10\n      add %r2, -509');
    expect(agreed(below)).toEqual(fault(5, r10 - 513, 1, 'read'));
  });

  it('an address with a non-zero high half faults even when its low half is inside the window', () => {
    // From the 9th iteration on r7 = 1 << 32: the low half stays on the input.
    const source = `
      mov %r0, 0
      mov %r6, 0
    again:
      mov %r7, %r6
      rsh %r7, 3
      lsh %r7, 32
      mov %r2, %r1
      add %r2, %r6
      add %r2, %r7
      ldxb %r3, [%r2+0]
      add %r0, %r3
      add %r6, 1
      jlt %r6, 16, again
      exit`;
    expect(agreed(source)).toEqual(fault(8, 2 ** 32 + INPUT + 8, 1, 'read'));
  });

  it('a window that holds exactly one access of the size accepts it and faults one byte further', () => {
    // After the helper the input is 8 bytes long: one 8-byte read at its start, nothing at +1.
    const source = `
      mov %r9, %r1
      call ${SHRINK}
      mov %r0, 0
      mov %r6, 0
    again:
      mov %r2, %r9
      add %r2, %r6
      ldxdw %r3, [%r2+0]
      add %r0, %r3
      add %r6, 1
      jlt %r6, 4, again
      exit`;
    expect(agreed(source)).toEqual(fault(6, INPUT + 1, 8, 'read'));
    expect(agreed(source.replace('4, again', '1, again')).r0).toBe(0x0807_0605_0403_0201n);
  });

  it('a write through a pointer predicted for read-only data faults; the loop before it ran', () => {
    const source = `
      mov %r6, 0
      lddw %r7, 0x${RODATA.toString(16)}
    again:
      mov %r2, %r7
      add %r2, %r6
      ldxb %r0, [%r2+0]
      jge %r6, 12, store
      add %r6, 4
      ja again
    store:
      stxb [%r2+0], %r0
      add %r6, 1
      jlt %r6, 16, again
      exit`;
    expect(agreed(source)).toEqual(fault(9, RODATA + 12, 1, 'write'));
    // Write-only memory: the store passes, the load of the same address faults.
    const writeOnly = `
      mov %r6, 0
      lddw %r7, 0x${HEAP.toString(16)}
    again:
      mov %r2, %r7
      add %r2, %r6
      stxb [%r2+0], %r6
      add %r6, 1
      jlt %r6, 8, again
      ldxb %r0, [%r2+0]
      exit`;
    expect(agreed(writeOnly)).toEqual(fault(8, HEAP + 7, 1, 'read'));
  });

  it('a helper in the loop that shrinks the region is seen by the next access', () => {
    // Not call-free: the loop checks every access against the table as it is now.
    const source = `
      mov %r6, 0
      mov %r9, %r1
    again:
      mov %r2, %r9
      add %r2, %r6
      ldxb %r0, [%r2+0]
      call ${SHRINK}
      add %r6, 4
      jlt %r6, 16, again
      exit`;
    expect(agreed(source)).toEqual(fault(4, INPUT + 8, 1, 'read'));
    // Through a local call: the callee reaches the helper, so the loop reads the table as it is.
    const nested = source.replace(`call ${SHRINK}`, 'call local shrink').concat(`
    shrink:
      call ${SHRINK}
      exit`);
    expect(agreed(nested)).toEqual(fault(4, INPUT + 8, 1, 'read'));
  });

  it('a loop calling a function that reaches no host code keeps its windows across the calls', () => {
    const source = `
      mov %r6, 0
      mov %r9, %r1
      mov %r7, 0
    again:
      mov %r2, %r9
      add %r2, %r6
      ldxb %r1, [%r2+0]
      call local twice
      add %r7, %r0
      add %r6, 1
      jlt %r6, 70, again
      mov %r0, %r7
      exit
    twice:
      stxdw [%r10-8], %r1
      ldxdw %r0, [%r10-8]
      add %r0, %r1
      exit`;
    // 2 · (1 + … + 64) before the read at offset 64 faults.
    expect(agreed(source)).toEqual(fault(5, INPUT + 64, 1, 'read'));
    expect(agreed(source.replace('70, again', '64, again')).r0).toBe(2n * 2080n);
  });

  it("a loop's stack window survives calls of a callee that moves the window, and still ends at the frame", () => {
    // The callee reads its caller's frame through r1, so every call moves the stack window and back.
    const source = `
      mov %r6, 0
      mov %r8, %r10
      add %r8, -64
      mov %r7, 0
    again:
      mov %r2, %r8
      add %r2, %r6
      stxb [%r2+0], %r6
      mov %r1, %r2
      call local touch
      add %r7, %r0
      add %r6, 1
      jlt %r6, 70, again
      mov %r0, %r7
      exit
    touch:
      ldxb %r0, [%r1+0]
      exit`;
    const stack = setUp().memory.region(Slot.STACK);
    const r10 = stack === undefined ? -1 : stack.guestBase + stack.size;
    // The 65th store lands on r10 itself, the first byte past the frame.
    expect(agreed(source)).toEqual(fault(6, r10, 1, 'write'));
    expect(agreed(source.replace('70, again', '64, again')).r0).toBe(2016n);
  });
});

describe('accesses of an induction loop checked once at its entry fault like the ordinary check', () => {
  // r2 = INPUT + r6 (+ r7 when given): the JIT checks the whole walk at the loop's entry (induction.ts)
  // and runs a copy without per-access checks when it is inside the input; else every access is checked.
  const walk = (exit: string, options: { load?: string; step?: string; init?: string } = {}) => `
      mov %r0, 0
      ${options.init ?? 'mov %r6, 0'}
    again:
      lddw %r2, 0x${INPUT.toString(16)}
      add %r2, %r6
      ${options.load ?? 'ldxb %r3, [%r2+0]'}
      add %r0, %r3
      ${options.step ?? 'add %r6, 1'}
      ${exit}
      exit`;

  it('a walk inside the window runs to its end; one more step faults at the first byte past it', () => {
    expect(agreed(walk('jne %r6, 64, again')).r0).toBe(2080n);
    expect(agreed(walk('jlt %r6, 64, again')).r0).toBe(2080n);
    expect(agreed(walk('jle %r6, 63, again')).r0).toBe(2080n);
    expect(agreed(walk('jne %r6, 65, again'))).toEqual(fault(5, INPUT + 64, 1, 'read'));
    expect(agreed(walk('jlt %r6, 65, again'))).toEqual(fault(5, INPUT + 64, 1, 'read'));
    expect(agreed(walk('jle %r6, 64, again'))).toEqual(fault(5, INPUT + 64, 1, 'read'));
    // The bound in a register on the left (clang's `if r4 > r5`), the step in a register.
    const swapped = walk('jgt %r4, %r6, again', { init: 'mov %r6, 0\n      mov %r4, 65\n      mov %r5, 1' });
    expect(agreed(swapped.replace('add %r6, 1', 'add %r6, %r5'))).toEqual(fault(7, INPUT + 64, 1, 'read'));
    // The test jumping out of the loop, then `ja` back (clang's other layout).
    const out = (test: string) => walk(`${test}, done\n      ja again\n    done:`);
    expect(agreed(out('jeq %r6, 64')).r0).toBe(2080n);
    expect(agreed(out('jge %r6, 64')).r0).toBe(2080n);
    expect(agreed(out('jgt %r6, 63')).r0).toBe(2080n);
    expect(agreed(out('jeq %r6, 65'))).toEqual(fault(5, INPUT + 64, 1, 'read'));
    expect(agreed(out('jge %r6, 65'))).toEqual(fault(5, INPUT + 64, 1, 'read'));
    expect(agreed(out('jgt %r6, 64'))).toEqual(fault(5, INPUT + 64, 1, 'read'));
    // Leaving on v != 64 goes on only while v == 64: from 63 the walk reads 63, then 64.
    const stays = walk('jne %r6, 64, done\n      ja again\n    done:', { init: 'mov %r6, 63' });
    expect(agreed(stays)).toEqual(fault(5, INPUT + 64, 1, 'read'));
    const outSwapped = (test: string) =>
      walk(`${test}, done\n      ja again\n    done:`, { init: 'mov %r6, 0\n      mov %r4, 64' });
    expect(agreed(outSwapped('jle %r4, %r6')).r0).toBe(2080n);
    expect(agreed(outSwapped('jlt %r4, %r6'))).toEqual(fault(6, INPUT + 64, 1, 'read'));
    expect(agreed(out('jeq %r6, 64').replace('add %r6, 1', 'add %r6, 3'))).toEqual(
      fault(5, INPUT + 66, 1, 'read'),
    );
    const inside = walk('jge %r4, %r6, again', { init: 'mov %r6, 0\n      mov %r4, 63\n      mov %r5, 1' });
    expect(agreed(inside.replace('add %r6, 1', 'add %r6, %r5')).r0).toBe(2080n);
  });

  it('a wider access than the last start allows faults where it crosses the end', () => {
    const words = walk('jne %r6, 64, again', { load: 'ldxdw %r3, [%r2+1]', step: 'add %r6, 8' });
    expect(agreed(words)).toEqual(fault(5, INPUT + 57, 8, 'read'));
    // The input's bytes are 1..64: the sum of its eight little-endian words.
    let sum = 0n;
    for (let k = 0n; k < 8n; k++) for (let b = 0n; b < 8n; b++) sum += (8n * k + b + 1n) << (8n * b);
    expect(agreed(words.replace('[%r2+1]', '[%r2+0]')).r0).toBe(BigInt.asUintN(64, sum));
  });

  it('the entry check bounds v by its last value, not by the bound: word walks up to the end run unchecked', () => {
    const words = (init: string, exit: string) =>
      walk(exit, { init, load: 'ldxdw %r3, [%r2+0]', step: 'add %r6, 8' });
    // v = 0, 8, …, 56 (< 61, ≤ 59): the last word ends at the input's end.
    expect(agreed(words('mov %r6, 0', 'jlt %r6, 61, again')).r0).toBe(
      agreed(words('mov %r6, 0', 'jne %r6, 64, again')).r0,
    );
    expect(agreed(words('mov %r6, 0', 'jle %r6, 59, again')).r0).toBe(
      agreed(words('mov %r6, 0', 'jne %r6, 64, again')).r0,
    );
    // v = 4, 12, …, 60 (< 64): the last word crosses the end.
    expect(agreed(words('mov %r6, 4', 'jlt %r6, 64, again'))).toEqual(fault(5, INPUT + 60, 8, 'read'));
    expect(agreed(words('mov %r6, 4', 'jle %r6, 60, again'))).toEqual(fault(5, INPUT + 60, 8, 'read'));
  });

  it('a step that jumps over a `!=` bound walks on and faults past the window', () => {
    // 0, 3, …, 63, 66: never equal to 64.
    expect(agreed(walk('jne %r6, 64, again', { step: 'add %r6, 3' }))).toEqual(
      fault(5, INPUT + 66, 1, 'read'),
    );
    // Entered past the bound: v runs away from it, around 2^64, and leaves the input first.
    const past = walk('jne %r6, 16, again', { init: 'mov %r6, 24', step: 'add %r6, 8' });
    expect(agreed(past)).toEqual(fault(5, INPUT + 64, 1, 'read'));
  });

  it('an induction register that wraps around 2^64 inside the loop is not proven by its ends', () => {
    // v0 = 2^64 − 16, bound 2^64 − 1: the ends map to INPUT + 0 and INPUT + 14, but v wraps to 0 after
    // two steps and the walk leaves the input at INPUT + 64.
    const source = `
      mov %r0, 0
      mov %r6, -16
      mov %r4, -1
    again:
      lddw %r2, 0x${(INPUT + 16).toString(16)}
      add %r2, %r6
      ldxdw %r3, [%r2+0]
      add %r0, %r3
      add %r6, 8
      jgt %r4, %r6, again
      exit`;
    expect(agreed(source)).toEqual(fault(6, INPUT + 64, 8, 'read'));
    // A step register of −8 (2^64 − 8) wraps v below v0 although both ends are inside: v runs 16, 8, 0.
    const down = `
      mov %r0, 0
      mov %r6, 16
      mov %r4, 64
      mov %r5, -8
    again:
      lddw %r2, 0x${(INPUT - 8).toString(16)}
      add %r2, %r6
      ldxb %r3, [%r2+0]
      add %r0, %r3
      add %r6, %r5
      jgt %r4, %r6, again
      exit`;
    expect(agreed(down)).toEqual(fault(7, INPUT - 8, 1, 'read'));
  });

  it('a store into read-only data faults at its first iteration; loads of it run', () => {
    const store = `
      mov %r6, 0
    again:
      lddw %r2, 0x${RODATA.toString(16)}
      add %r2, %r6
      ldxb %r0, [%r2+0]
      stxb [%r2+0], %r0
      add %r6, 1
      jlt %r6, 16, again
      exit`;
    expect(agreed(store)).toEqual(fault(5, RODATA, 1, 'write'));
    expect(agreed(store.replace('stxb [%r2+0], %r0', 'mov %r0, %r0')).r0).toBe(0x5an);
    // Write-only memory: the stores pass, a load faults.
    const writeOnly = store.replace(RODATA.toString(16), HEAP.toString(16));
    expect(agreed(writeOnly)).toEqual(fault(4, HEAP, 1, 'read'));
  });

  it('a walk that starts in one region and ends in the next slot faults at the first byte past the first', () => {
    // From the heap (16 bytes) toward the input: the ends lie in different windows.
    const source = walk('jlt %r6, 0x10000010, again').replace(INPUT.toString(16), (HEAP + 8).toString(16));
    expect(agreed(source.replace('ldxb %r3, [%r2+0]', 'stxb [%r2+0], %r6\n      mov %r3, 0'))).toEqual(
      fault(5, HEAP + 16, 1, 'write'),
    );
  });

  it('32-bit arithmetic on the induction register keeps every check', () => {
    // w6 wraps from 0xffffffff to 0 and never meets the bound 2^32: the 64-bit view (v from 2^32 − 8
    // up to the bound) would prove INPUT + 0 … INPUT + 7, but after the wrap the walk reaches
    // INPUT − 2^32 + 8.
    const source = `
      mov %r0, 0
      lddw %r6, 0xfffffff8
      lddw %r4, 0x100000000
    again:
      lddw %r2, 0x${(BigInt(INPUT + 8) - 2n ** 32n + 2n ** 64n).toString(16)}
      add %r2, %r6
      ldxb %r3, [%r2+0]
      add %r0, %r3
      add32 %r6, 1
      jne %r6, %r4, again
      exit`;
    expect(agreed(source)).toEqual(fault(8, BigInt(INPUT + 8) - 2n ** 32n + 2n ** 64n, 1, 'read'));
  });

  it('a bound, step or induction register the loop writes again is not trusted from the entry', () => {
    // The bound grows with v: the walk never ends inside the input.
    const bound = walk('jgt %r4, %r6, again', {
      init: 'mov %r6, 0\n      mov %r4, 8',
      step: 'add %r6, 1\n      add %r4, 1',
    });
    expect(agreed(bound)).toEqual(fault(6, INPUT + 64, 1, 'read'));
    // The step register turns to −8 after the first step: v runs 16, 17, 9, 1, −7 below the entry's v0.
    const step = `
      mov %r0, 0
      mov %r6, 16
      mov %r4, 64
      mov %r5, 1
    again:
      lddw %r2, 0x${(INPUT - 16).toString(16)}
      add %r2, %r6
      ldxb %r3, [%r2+0]
      add %r0, %r3
      add %r6, %r5
      mov %r5, -8
      jgt %r4, %r6, again
      exit`;
    expect(agreed(step)).toEqual(fault(7, INPUT - 7, 1, 'read'));
    // v written twice per iteration (a step of 3 in all): 0, 3, …, 63, 66 never meets 64.
    const twice = walk('jne %r6, 64, again', { step: 'add %r6, 2\n      add %r6, 1' });
    expect(agreed(twice)).toEqual(fault(5, INPUT + 66, 1, 'read'));
    // The base reloaded from memory between its computation and the access.
    const reloaded = walk('jlt %r6, 8, again', {
      load: `stxdw [%r10-8], %r2\n      lddw %r7, 0x${(HEAP + 8).toString(16)}\n      stxdw [%r10-8], %r7\n      ldxdw %r2, [%r10-8]\n      ldxb %r3, [%r2+0]`,
    });
    expect(agreed(reloaded)).toEqual(fault(10, HEAP + 8, 1, 'read'));
  });

  it('a helper in the loop that shrinks the region is seen by the next access', () => {
    const source = walk('jlt %r6, 16, again', { step: `add %r6, 1\n      call ${SHRINK}` });
    expect(agreed(source)).toEqual(fault(5, INPUT + 8, 1, 'read'));
  });

  it('an instruction budget that ends inside the unchecked copy stops at the same instruction', () => {
    const source = walk('jne %r6, 64, again');
    const total = agreed(source).instructions ?? 0;
    for (const budget of [1, 3, 7, 8, 100, total - 1]) {
      expect(agreed(source, budget)).toMatchObject({ code: 'INSTRUCTION_LIMIT' });
    }
  });
});
