/** A run's result or trap as a plain object, so engines and runs can be compared with toEqual. */
import { BpfError, type Trap } from '../../src/errors.js';

export function outcome(
  f: () => { r0: bigint; instructions: number; gasUsed: number },
  options: { message?: boolean } = {},
): Record<string, unknown> {
  try {
    return { ...f() };
  } catch (e) {
    if (!(e instanceof BpfError)) throw e;
    const t = e as Trap;
    const trap = { code: t.code, pc: t.pc, instructions: t.instructions, gasUsed: t.gasUsed };
    return options.message ? { ...trap, message: t.message } : trap;
  }
}
