/**
 * The compiler reuses its work memory, the layout's code-generator arrays and the module buffer from
 * one compilation to the next (scratch.ts): nothing of an earlier program may leak into a later
 * module, and a returned module must not change when the buffer is reused.
 */
import { describe, expect, it } from 'vitest';
import { decodeProgram } from '../../src/isa/decoder.js';
import { generateModule } from '../../src/jit/codegen.js';
import { analyze } from '../../src/jit/control-flow.js';
import { plainBuffer, WorkPool, workBuffer } from '../../src/jit/scratch.js';
import { gasPricer } from '../../src/vm/gas.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';
import { Slot } from '../../src/vm/memory/layout.js';
import { type ShapeName, shapedProgram } from './program-shapes.js';

const memory = new GuestMemory();
memory.mapStack();

function compile(shape: ShapeName, n: number, priced = false, partSize?: number): Uint8Array<ArrayBuffer> {
  const program = decodeProgram(shapedProgram(shape, n));
  const layout = analyze(program, priced ? gasPricer({ load: 2, store: 3 }) : undefined, partSize);
  return generateModule({ program, layout, memory, helpers: [], packetSlot: Slot.INPUT }).bytes;
}

describe('JIT work memory reuse', () => {
  it('compiles a program to the same bytes whatever was compiled before, and never changes a returned module', () => {
    const first = compile('jumps', 3_000);
    const firstCopy = first.slice();
    const pricedFirst = compile('back-jumps', 2_000, true, 500);
    // Loops: the slot prediction's pooled memory too.
    const loopsFirst = compile('rotated-chain', 3_000);
    // Larger programs of other shapes grow every pooled buffer and fill it with other facts.
    compile('nested-loops', 20_000);
    compile('irreducible', 20_000, true, 1_000);
    compile('mixed', 30_000);
    expect(first).toEqual(firstCopy);
    expect(compile('jumps', 3_000)).toEqual(firstCopy);
    expect(compile('back-jumps', 2_000, true, 500)).toEqual(pricedFirst);
    expect(compile('rotated-chain', 3_000)).toEqual(loopsFirst);
    expect(new WebAssembly.Module(first)).toBeInstanceOf(WebAssembly.Module);
  });

  it('lends the same bytes as it copies, in the pooled buffer until they are released', () => {
    const input = (shape: ShapeName) => {
      const program = decodeProgram(shapedProgram(shape, 5_000));
      return { program, layout: analyze(program), memory, helpers: [], packetSlot: Slot.INPUT };
    };
    const copied = generateModule(input('mixed'));
    copied.release(); // nothing to give back: a no-op
    const lent = generateModule(input('mixed'), true);
    expect(lent.bytes).toEqual(copied.bytes);
    lent.release();
    // The next module is written into the same buffer: a lent view sees it, a copy never does.
    const other = generateModule(input('jumps'), true);
    expect(other.bytes.buffer).toBe(lent.bytes.buffer);
    expect(lent.bytes).not.toEqual(copied.bytes);
    other.release();
    expect(generateModule(input('mixed')).bytes).toEqual(copied.bytes);
  });
});

describe('WorkPool', () => {
  it('reuses a buffer for a request up to a quarter larger than the one that made it', () => {
    const pool = new WorkPool(plainBuffer);
    const first = pool.borrow(1_000);
    pool.release(first);
    const second = pool.borrow(1_200);
    expect(second).toBe(first);
    pool.release(second);
    const third = pool.borrow(2_000);
    expect(third).not.toBe(first);
    expect(third.byteLength).toBeGreaterThanOrEqual(2_000);
    // A nested borrower (the buffer is out) gets fresh memory.
    expect(pool.borrow(100)).not.toBe(third);
  });

  it('allocates work memory that V8 does not count as the isolate external memory', () => {
    const buffer = new WorkPool(workBuffer).borrow(1 << 20);
    expect(buffer).toBeInstanceOf(SharedArrayBuffer);
  });
});
