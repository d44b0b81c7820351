/** One run of a program with local calls and callbacks, observed on either engine (r0 or trap, counts, stack). */
import type { Program } from '../../src/isa/instruction.js';
import { JitProgram } from '../../src/jit/engine.js';
import type { GasCostTable } from '../../src/vm/gas.js';
import { HelperRegistry } from '../../src/vm/helpers.js';
import { Interpreter, type RunOptions } from '../../src/vm/interpreter/interpreter.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';
import { Slot } from '../../src/vm/memory/layout.js';
import { outcome } from './outcome.js';

/** Helper 1 adds r2 and r3; helper 5 calls the function at r2 r3 times (like bpf_loop) and sums the results. */
export const callHelpers = (): HelperRegistry =>
  new HelperRegistry()
    .define(1, 'sum', (c) => c.arg(1) + c.arg(2))
    .define(5, 'loop', (c) => {
      let acc = 0n;
      for (let i = 0n; i < c.arg(2); i++) acc += c.callFunction(c.arg(1), [i, c.arg(3)]);
      return acc;
    });

/** Result (or trap) and the stack bytes of one run, on a fresh stack of `frames` frames. */
export function observeCalls(
  engine: 'interp' | 'jit',
  program: Program,
  options: RunOptions,
  gasCosts?: GasCostTable,
  frames?: number,
): Record<string, unknown> {
  const memory = new GuestMemory();
  memory.mapStack(undefined, frames);
  const o = { memory, helpers: callHelpers(), gasCosts };
  const vm = engine === 'jit' ? new JitProgram(program, o) : new Interpreter(program, o);
  const result = outcome(() => vm.run(options), { message: true });
  const stack = memory.region(Slot.STACK);
  if (!stack) throw new Error('no stack');
  return {
    ...result,
    stack: Buffer.from(memory.u8.subarray(stack.hostBase, stack.hostBase + stack.size)).toString('hex'),
  };
}
