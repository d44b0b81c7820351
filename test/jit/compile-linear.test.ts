/**
 * The JIT's compile work stays linear in the program size on hostile control flow (every instruction
 * a jump target, backward jumps everywhere, deeply nested loops, rotated loop nests, thousands of
 * functions, irreducible loops), whole or cut into parts. Measured by what the compiler produces and visits, not by time:
 * wasm bytes per instruction and instructions visited by the natural-loop checks must not grow with
 * the size. Speed itself is measured by `npm run bench:jit`.
 */
import { describe, expect, it } from 'vitest';
import { decodeProgram } from '../../src/isa/decoder.js';
import { analyze } from '../../src/jit/control-flow.js';
import { JitProgram } from '../../src/jit/engine.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';
import { SHAPES, type ShapeName, shapedProgram } from './program-shapes.js';

const SMALL = 2_000;
const LARGE = 16_000;

function memory(): GuestMemory {
  const m = new GuestMemory();
  m.mapStack();
  return m;
}

/** Wasm bytes and loop-check visits per instruction of one compiled program. */
function costs(shape: ShapeName, n: number, partSize?: number) {
  const program = decodeProgram(shapedProgram(shape, n));
  const count = program.insns.length;
  // The whole pipeline, V8 included: the module must be valid.
  const jit = new JitProgram(program, { memory: memory(), partSize });
  const layout = analyze(program, undefined, partSize);
  const parts = layout.functions.reduce((sum, f) => sum + f.parts.length, 0);
  return {
    count,
    parts,
    bytesPerInsn: jit.stats.wasmBytes / count,
    scanned: layout.loopScanned,
  };
}

describe('JIT compile work is linear in the program size', () => {
  for (const shape of Object.keys(SHAPES) as ShapeName[]) {
    for (const partSize of [undefined, 1_000]) {
      it(`${shape}${partSize ? `, cut into parts of ${partSize}` : ''}`, () => {
        const small = costs(shape, SMALL, partSize);
        const large = costs(shape, LARGE, partSize);
        expect(large.count).toBeGreaterThanOrEqual(LARGE - 5);
        if (partSize !== undefined && shape !== 'functions') expect(large.parts).toBeGreaterThan(8);
        // 8× the instructions, at most ≈ 8× the bytes: slack for the fixed module header and for pc
        // constants (poll sites, dispatch) whose LEB128 takes a byte more past pc 8191.
        expect(large.bytesPerInsn).toBeLessThanOrEqual(small.bytesPerInsn * 1.1 + 2);
        for (const c of [small, large]) expect(c.scanned).toBeLessThanOrEqual(4 * c.count + 64 * c.parts);
      });
    }
  }

  it('rotated nests are wasm loops without dispatch; at most 8 nested loops share a mid entry', () => {
    const chain = analyze(decodeProgram(shapedProgram('rotated-chain', SMALL))).functions[0].parts[0];
    expect(chain.regions.some((r) => r.dispatch)).toBe(false);
    // Per nest: the outer loop, the two starting with it and the one sharing its mid entry.
    expect(chain.regions.filter((r) => r.isLoop)).toHaveLength(4 * Math.floor((SMALL - 1) / 9));
    const nest = analyze(decodeProgram(shapedProgram('rotated-nest', SMALL))).functions[0].parts[0];
    const sharing = nest.regions.map((r) => {
      let n = 0;
      for (let x = r; x.mid >= 0; x = nest.regions[x.parent]) n++;
      return n;
    });
    expect(Math.max(...sharing)).toBe(8);
  });

  it('the nested loops are checked, and most of them become wasm loops only while the budget lasts', () => {
    const program = decodeProgram(shapedProgram('nested-loops', LARGE));
    const layout = analyze(program);
    const loops = layout.functions[0].parts[0].regions.filter((r) => r.isLoop).length;
    expect(loops).toBeGreaterThan(0);
    // Nesting d loops costs about d² scanned instructions: the budget caps d near √(8n), not n/2.
    expect(loops).toBeLessThan(Math.sqrt(8 * LARGE) + 2);
    expect(layout.loopScanned).toBeGreaterThan(2 * LARGE);
  });
});
