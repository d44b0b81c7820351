/**
 * What keeps the first compile of a big program close to later ones (see scratch.ts and engine.ts
 * `anchorCompilerShapes`): the compiler's work memory is not counted as the isolate's external
 * memory (which would start a full GC marking the decoded program during the compile), and the
 * anchor program of the first compile runs the split-function paths, so that a function longer than
 * the part size does not meet V8-optimized compiler code without type feedback for them.
 */
import { getHeapStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { decodeProgram } from '../../src/isa/decoder.js';
import { analyze } from '../../src/jit/control-flow.js';
import { ANCHOR_PART_SIZE, ANCHOR_PROGRAM, JitProgram } from '../../src/jit/engine.js';
import { Interpreter } from '../../src/vm/interpreter/interpreter.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';
import { shapedProgram } from './program-shapes.js';

function stackMemory(): GuestMemory {
  const memory = new GuestMemory();
  memory.mapStack();
  return memory;
}

describe('first compile of a big program', () => {
  it('grows the external memory by the module buffer only, not by the work memory', () => {
    const memory = stackMemory();
    // Bigger than anything compiled before in this file: every pool grows.
    const program = decodeProgram(shapedProgram('mixed', 300_000));
    const before = getHeapStatistics().external_memory;
    const jit = new JitProgram(program, { memory });
    const grown = getHeapStatistics().external_memory - before;
    // Work arrays, layout and slot prediction take ~66 bytes per instruction; the module buffer
    // (an ArrayBuffer: WebAssembly.Module takes no shared memory) ~25 with the pool's growth
    // slack. A GC in between only lowers the figure.
    expect(grown).toBeLessThan(35 * program.insns.length);
    expect(jit.run().r0).toBe(new Interpreter(program, { memory: stackMemory() }).run().r0);
  });

  it('anchors a split function: a jump into a later part, a jump to a part start, a label inside a part', () => {
    const program = decodeProgram(ANCHOR_PROGRAM);
    // Not a multiple of 32 slots: BlockCounts' byte-wise tail runs too.
    expect(program.slotCount % 32).not.toBe(0);
    const layout = analyze(program, undefined, ANCHOR_PART_SIZE);
    const parts = layout.functions[0].parts;
    expect(parts.length).toBeGreaterThanOrEqual(3);
    const partOf = (pc: number) =>
      parts.findIndex((p) => program.insnAt[pc] >= p.first && program.insnAt[pc] <= p.last);
    const jumps = program.insns.flatMap((insn) =>
      insn.kind === 'jump' && insn.target !== undefined ? [{ from: insn.pc, to: insn.target }] : [],
    );
    const starts = parts.map((p) => program.insns[p.first].pc);
    expect(jumps.some((j) => partOf(j.to) > partOf(j.from) && starts.includes(j.to))).toBe(true);
    expect(jumps.some((j) => partOf(j.to) > partOf(j.from) && !starts.includes(j.to))).toBe(true);
    expect(parts.some((p) => p.regions[0].dispatch && p.regions[0].labels.length > 0)).toBe(true);
    const memory = stackMemory();
    const expected = new Interpreter(program, { memory: stackMemory() }).run();
    expect(new JitProgram(program, { memory, partSize: ANCHOR_PART_SIZE }).run()).toEqual(expected);
  });

  it('places the leader bytes at a multiple of 4 whatever the program size (BlockCounts reads quads)', () => {
    for (const n of [33, 1_001, 2_050, 4_099]) {
      const layout = analyze(decodeProgram(shapedProgram('mixed', n)));
      expect(layout.leader.byteOffset % 4).toBe(0);
    }
  });
});
