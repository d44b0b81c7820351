/**
 * A branchy program (a compare tree, clang's switch lowering, called in a loop): every instruction
 * budget and gas limit, and faults inside its blocks, give the interpreter's r0, counters and trap
 * pcs on the JIT, whole and split into parts.
 */
import { describe, expect, it } from 'vitest';
import type { GasCostTable } from '../../src/vm/gas.js';
import type { RunOptions } from '../../src/vm/interpreter/interpreter.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';
import { agreeOnRuns } from '../support/agree-runs.js';

/** A loop calling a compare tree (clang's switch lowering) with shared and private successors. */
const TREE = `
  mov %r6, 0
  mov %r7, 0
loop:
  mov %r1, %r7
  and %r1, 15
  mov %r2, %r10
  add %r2, -16
  call local f
  add %r6, %r0
  add %r7, 1
  jlt %r7, 40, loop
  mov %r0, %r6
  exit
f:
  mov %r0, 40
  jeq %r1, 1, one
  jeq %r1, 2, two
  jgt %r1, 9, big
  mov %r0, 7
  add %r0, %r1
  ja done
one:
  mov %r0, 10
  jsgt %r1, 0, done
  mov %r0, 11
two:
  mov %r0, 12
  ja done
big:
  stxdw [%r2+0], %r1
  ldxdw %r0, [%r2+0]
  jne %r1, 13, other
  mul %r0, 3
  exit
other:
  add %r0, 5
  exit
done:
  exit`;

const COSTS: GasCostTable = { alu: 2, jump: 1, mul: 5, store: 3, load: 2, exit: 1, call: 4 };

function machine(): GuestMemory {
  const m = new GuestMemory();
  m.mapStack();
  return m;
}

function agree(text: string, runs: RunOptions[], gasCosts?: GasCostTable): Record<string, unknown>[] {
  return agreeOnRuns(text, runs, { memory: machine, gasCosts });
}

describe('budgets and faults in a compare tree', () => {
  it('every instruction budget and every gas limit stops where the interpreter stops', () => {
    const [full] = agree(TREE, [{}]);
    const n = full.instructions as number;
    agree(
      TREE,
      Array.from({ length: n }, (_, k) => ({ maxInstructions: k + 1 })),
    );
    const [priced] = agree(TREE, [{}], COSTS);
    const gas = priced.gasUsed as number;
    agree(
      TREE,
      Array.from({ length: gas }, (_, k) => ({ gasLimit: k + 1 })),
      COSTS,
    );
    agree(
      TREE,
      Array.from({ length: 200 }, (_, k) => ({ gasLimit: 3 * k + 1, maxInstructions: 2 * k + 5 })),
      COSTS,
    );
  });

  it('a fault in a block of the tree counts what ran', () => {
    // big's first store faults (r2 = 0): big pays ahead for both of its exits.
    const early = TREE.replace('mov %r2, %r10\n  add %r2, -16', 'mov %r2, 0');
    const [trap] = agree(early, [{}], COSTS);
    expect(trap).toMatchObject({ code: 'MEMORY_FAULT' });
    // The store at the start of a block whose predecessor paid for it.
    const late = TREE.replace('  mul %r0, 3\n', '  mul %r0, 3\n  stxdw [%r2+4096], %r0\n');
    expect(agree(late, [{}], COSTS)[0]).toMatchObject({ code: 'MEMORY_FAULT' });
    for (const text of [early, late]) {
      agree(
        text,
        Array.from({ length: 120 }, (_, k) => ({ maxInstructions: k + 1 })),
      );
    }
  });
});
