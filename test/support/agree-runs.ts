import { expect } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { JitProgram } from '../../src/jit/engine.js';
import type { GasCostTable } from '../../src/vm/gas.js';
import type { HelperRegistry } from '../../src/vm/helpers.js';
import { Interpreter, type RunOptions } from '../../src/vm/interpreter/interpreter.js';
import type { GuestMemory } from '../../src/vm/memory/guest-memory.js';
import { outcome } from './outcome.js';

export interface AgreeSetup {
  /** A fresh memory for each engine. */
  readonly memory: () => GuestMemory;
  readonly gasCosts?: GasCostTable;
  readonly helpers?: HelperRegistry;
  /** r1.. for every run. */
  readonly args?: readonly bigint[];
}

/**
 * Runs `text` under every option set on the interpreter and on the JIT, whole and with its functions
 * cut into parts of 3 instructions (part entries and jumps between parts): each JIT outcome must equal
 * the interpreter's. Returns the interpreter's outcomes.
 */
export function agreeOnRuns(
  text: string,
  runs: readonly RunOptions[],
  setup: AgreeSetup,
): Record<string, unknown>[] {
  const program = decodeProgram(assemble(text));
  const { gasCosts, helpers } = setup;
  const interp = new Interpreter(program, { memory: setup.memory(), helpers, gasCosts });
  const jits = [undefined, 3].map(
    (partSize) => new JitProgram(program, { memory: setup.memory(), helpers, gasCosts, partSize }),
  );
  return runs.map((options) => {
    const run = setup.args === undefined ? options : { ...options, args: [...setup.args] };
    const expected = outcome(() => interp.run(run));
    jits.forEach((jit, k) => {
      expect(
        outcome(() => jit.run(run)),
        `${k === 0 ? 'whole' : 'split'} ${JSON.stringify(options)}`,
      ).toEqual(expected);
    });
    return expected;
  });
}
