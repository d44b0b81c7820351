/**
 * Loop layout (src/jit/control-flow.ts) on the shapes clang emits. Rotated loops (laid out from the top
 * of the body, entered in the middle) are wasm loops with a mid entry; nested loops may share their
 * first instruction and their mid entry (the sieve: the outer loop, the marking loop at the same
 * header, the `continue` loop entered where the outer one is); a loop entered at its mid entry from
 * the end of an outer cycle nests in a loop reaching down there (trial division). None of them leaves
 * a cycle to the dispatch loop, and each runs like the interpreter: result, gas, the pc where a budget
 * runs out (programs: loop-programs.ts).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import { OpenObject } from '../../src/elf/open.js';
import { LoadError } from '../../src/errors.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import type { Program } from '../../src/isa/instruction.js';
import { analyze } from '../../src/jit/control-flow.js';
import { JitProgram } from '../../src/jit/engine.js';
import { loadBpfObject } from '../../src/runtime/loader.js';
import type { GasCostTable } from '../../src/vm/gas.js';
import { Interpreter, type RunOptions } from '../../src/vm/interpreter/interpreter.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';
import { clangAvailable, compileBpf } from '../elf/compile.js';
import { outcome } from '../support/outcome.js';
import { clangPrime, SIEVE } from './loop-programs.js';

function memory(): GuestMemory {
  const m = new GuestMemory();
  m.mapStack();
  return m;
}

/** Outcomes on both engines agree for every budget up to `maxBudget` and with priced gas. */
function agreesOnEveryBudget(program: Program, maxBudget: number, partSize?: number): void {
  const run = (jit: boolean, options: RunOptions, gasCosts?: GasCostTable) => {
    const vm = jit
      ? new JitProgram(program, { memory: memory(), gasCosts, partSize })
      : new Interpreter(program, { memory: memory(), gasCosts });
    return outcome(() => vm.run(options));
  };
  for (let maxInstructions = 1; maxInstructions <= maxBudget; maxInstructions++) {
    expect(run(true, { maxInstructions }), `budget ${maxInstructions}`).toEqual(
      run(false, { maxInstructions }),
    );
  }
  const costs: GasCostTable = { alu: 2, mul: 3, div: 5, jump: 0, store: 4, load: 3 };
  for (const gasLimit of [undefined, 1, 7, 50, 333, 1001]) {
    expect(run(true, { gasLimit }, costs), `gas ${gasLimit}`).toEqual(run(false, { gasLimit }, costs));
  }
}

/** The loops of the (single-part) layout as [first pc, last pc, mid entry, inner loop's first pc]. */
function loops(program: Program): number[][] {
  const regions = analyze(program).functions[0].parts[0].regions;
  const pc = (i: number) => program.insns[i].pc;
  return regions
    .filter((r) => r.isLoop)
    .map((r) => [pc(r.first), pc(r.last), r.mid, r.inner < 0 ? -1 : pc(regions[r.inner].first)]);
}

describe('JIT loop layout', () => {
  const program = decodeProgram(assemble(SIEVE));

  it('the outer loop shares its header with the marking loop and its mid entry with the inner rotated loop', () => {
    expect(loops(program)).toEqual([
      [6, 23, 15, 6], // the outer loop, entered at `check`; the marking loop starts with it
      [6, 11, -1, -1], // the marking loop: natural
      [12, 21, 15, -1], // `next` … `if r2 > 31 goto next`, entered at `check` too
    ]);
    // No cycle goes through a dispatch loop any more.
    expect(analyze(program).functions[0].parts[0].regions.some((r) => r.dispatch)).toBe(false);
  });

  it('runs like the interpreter: 18 primes below 64, and every budget stops at the same pc', () => {
    const expected = new Interpreter(program, { memory: memory() }).run();
    expect(expected.r0).toBe(18n);
    expect(new JitProgram(program, { memory: memory() }).run()).toEqual(expected);
    agreesOnEveryBudget(program, expected.instructions + 1);
    // Cut into parts (no mid entries there): still the interpreter's outcomes.
    agreesOnEveryBudget(program, 400, 4);
  });
});

/**
 * Trial division as clang lays it out (the prime kernel): the inner loop's body starts above its
 * entry, which the code before it and the outer loop's end both jump to; the outer loop is rotated
 * the same way. The inner loop must be a wasm loop, the jumps from below re-entering through the function's dispatch.
 */
const PRIME = `
  r0 = 0
  r1 = 200
  r2 = 2
  r3 = 4
  goto outer_entry
inner_top:
  r5 += 1
  r7 = r5
  r7 *= r7
  r0 = 1
  if r7 > r6 goto inner_done
inner_entry:
  r6 = r2
  r7 = r6
  r7 %= r5
  r0 = 0
  if r7 != 0 goto inner_top
inner_done:
  r4 += r0
  r2 += 1
  if r1 > r2 goto outer_entry
  goto out
outer_entry:
  r0 = 1
  if r3 > r2 goto inner_done_jump
  r5 = 2
  goto inner_entry
inner_done_jump:
  r0 = 1
  goto inner_done
out:
  r0 = r4
  exit
`;

describe('JIT rotated loops', () => {
  const program = decodeProgram(assemble(PRIME));
  const layout = analyze(program);
  const regions = layout.functions[0].parts[0].regions;

  it('a loop entered in the middle of its body is a wasm loop with a mid entry', () => {
    const inner = regions.find((r) => r.isLoop && r.first === program.insnAt[5]);
    expect(inner).toMatchObject({ last: program.insnAt[14], mid: 10 });
    expect(layout.midOf[10]).toBe(regions.indexOf(inner as (typeof regions)[number]));
  });

  it('counts the 46 primes below 200 like the interpreter, with the same gas', () => {
    const expected = new Interpreter(program, { memory: memory() }).run();
    expect(expected.r0).toBe(46n);
    expect(new JitProgram(program, { memory: memory() }).run()).toEqual(expected);
  });

  it('stops at the same pc when the budget runs out inside the rotated loop', () => {
    for (const maxInstructions of [7, 8, 9, 50, 51, 333, 1000]) {
      const run = (jit: boolean) => {
        try {
          const options = { memory: memory(), maxInstructions };
          return jit ? new JitProgram(program, options).run() : new Interpreter(program, options).run();
        } catch (err) {
          return { error: String(err), pc: (err as { pc?: number }).pc };
        }
      };
      expect(run(true)).toEqual(run(false));
    }
  });
});

describe('JIT nested rotated loops (clang-19 trial division)', () => {
  const program = decodeProgram(assemble(clangPrime()));

  it("nests the inner loop, entered mid-body from the outer loop's end, in an outer loop: no dispatch", () => {
    expect(loops(program)).toEqual([
      [7, 38, 31, 7], // the outer loop, entered at outer_entry, starting with the inner loop
      [7, 23, 14, -1], // the inner loop, entered at inner_entry by `goto inner_entry`
      [24, 36, 31, -1], // done_n … `if r3 > r5 goto done_n`, entered at outer_entry too
    ]);
    const layout = analyze(program);
    expect(layout.functions[0].parts[0].regions.some((r) => r.dispatch)).toBe(false);
    // `goto inner_entry` never passes a header: its own block polls.
    expect(layout.pollSite[37]).toBe(1);
  });

  it('counts the 46 primes below 200 like the interpreter, down to every budget and priced gas', () => {
    const expected = new Interpreter(program, { memory: memory() }).run();
    expect(expected.r0).toBe(46n);
    expect(new JitProgram(program, { memory: memory() }).run()).toEqual(expected);
    agreesOnEveryBudget(program, 1500);
    agreesOnEveryBudget(program, 300, 5);
  });
});

/** The benchmark kernels with loops, compiled by clang-19 as `npm run bench:kernels` does. */
const KERNELS = ['sieve', 'prime', 'parser', 'maplookup', 'crc32', 'fnv1a', 'memcpy'];
const kernelDir = new URL('../../bench/kernels/', import.meta.url);

describe.skipIf(!clangAvailable)('JIT loop layout of the benchmark kernels (clang-19)', () => {
  const compiled = (name: string) =>
    compileBpf(readFileSync(new URL(`${name}.c`, kernelDir), 'utf8'), [
      '-fno-builtin',
      `-I${kernelDir.pathname}`,
    ]);

  it.each(KERNELS)(
    '%s: every cycle is a wasm loop (no dispatch), and budgets stop like the interpreter',
    (name) => {
      const bytes = compiled(name);
      const program = OpenObject.open(bytes)
        .link()
        .find((p) => p.name === 'kernel_run')?.program as Program;
      const regions = analyze(program).functions.flatMap((f) => f.parts.flatMap((p) => p.regions));
      expect(regions.some((r) => r.dispatch)).toBe(false);
      const objects = (['interp', 'jit'] as const).map((engine) => {
        const o = loadBpfObject(bytes, { engine });
        o.run('kernel_init', {}, { maxInstructions: 1e9 });
        return o;
      });
      for (const maxInstructions of [1000, 77_777, 1_000_003]) {
        const [interp, jit] = objects.map((o) =>
          outcome(() => {
            const { r0, instructions, gasUsed } = o.run('kernel_run', {}, { maxInstructions });
            return { r0, instructions, gasUsed };
          }),
        );
        expect(jit, `${name} at ${maxInstructions}`).toEqual(interp);
      }
    },
  );
});

/**
 * A switch whose cases share a tail laid out earlier (clang's lowering of the parser kernel's
 * l4_class): the backward jump to the tail is compiled as a copy of it, so the function needs no
 * dispatch region, and every outcome — result, gas, out-of-budget pc — stays the interpreter's.
 */
const SWITCH = `
  r0 = 0
  if r1 == 1 goto one
  if r1 == 2 goto two
  goto check
rst:
  r0 += 14
  goto out
one:
  r0 = 10
  goto out
two:
  *(u64 *)(r10 - 8) = r1
  goto out
check:
  if r1 == 20 goto rst
  if r1 > 20 goto other
  r0 = 15
  goto out
other:
  if r1 == 30 goto rst
  r0 = 40
out:
  r0 += r1
  exit
`;

describe('JIT shared switch tails', () => {
  const program = decodeProgram(assemble(SWITCH));
  const layout = analyze(program);

  it('copies the tail at both backward jumps to it instead of dispatching', () => {
    expect([...layout.tailCopy.keys()].filter((pc) => layout.tailCopy[pc] === 1)).toEqual([10, 14]);
    expect(layout.functions[0].parts[0].regions.some((r) => r.dispatch)).toBe(false);
  });

  it('runs every case like the interpreter, down to the budget running out at each instruction', () => {
    for (const r1 of [1n, 2n, 3n, 20n, 25n, 30n]) {
      for (const maxInstructions of [1, 2, 3, 4, 5, 6, 7, 8, 9, 100]) {
        const run = (jit: boolean) => {
          try {
            const options = { memory: memory(), maxInstructions };
            const vm = jit ? new JitProgram(program, options) : new Interpreter(program, options);
            return vm.run({ args: [r1] });
          } catch (err) {
            return { error: String(err), pc: (err as { pc?: number }).pc };
          }
        };
        expect(run(true)).toEqual(run(false));
      }
    }
  });

  it('a check in the copied tail proves nothing on the path that skips it', () => {
    const source = `
      r2 = r10
      r2 += -600
      if r1 == 5 goto other
      goto start
    tail:
      r0 = *(u64 *)(r2 + 0)
      exit
    other:
      r0 = 1
      exit
    start:
      if r1 == 7 goto tail
      r0 = *(u64 *)(r2 + 0)
      exit
    `;
    const p = decodeProgram(assemble(source));
    expect(analyze(p).tailCopy[8]).toBe(1);
    const fault = (vm: { run(o: { args: bigint[] }): unknown }) => {
      try {
        vm.run({ args: [0n] });
        return 'no fault';
      } catch (err) {
        return String(err);
      }
    };
    const expected = fault(new Interpreter(p, { memory: memory() }));
    expect(expected).toMatch(/pc 9/);
    expect(fault(new JitProgram(p, { memory: memory() }))).toBe(expected);
  });
});

describe('analysis of programs the decoder let through unchecked', () => {
  // decodeProgram(…, { checkStructure: false }) skips the kernel's structure rules; the JIT's own
  // layout still needs them and says which instruction breaks them.
  const unchecked = (text: string) => decodeProgram(assemble(text), { checkStructure: false });
  const failure = (text: string) => {
    try {
      analyze(unchecked(text));
    } catch (e) {
      return e as LoadError;
    }
    throw new Error('analyze accepted the program');
  };

  it('rejects a jump out of its function, naming the jump', () => {
    const e = failure(`
      call local f
      main_tail:
      exit
      f:
      mov %r0, 1
      jeq %r0, 0, main_tail
      exit
    `);
    expect(e).toBeInstanceOf(LoadError);
    expect(e.code).toBe('JUMP_OUT_OF_SUBPROGRAM');
    expect(e.pc).toBe(3);
  });

  it('rejects a function that runs off its end', () => {
    const e = failure(`
      call local f
      mov %r0, 2
      f:
      mov %r0, 1
      exit
    `);
    expect(e.code).toBe('NO_EXIT');
    expect(e.pc).toBe(1);
  });
});
