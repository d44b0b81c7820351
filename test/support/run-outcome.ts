/**
 * One engine's run of an assembled program as a plain object, so engines can be compared with
 * toEqual: r0, or the trap's code and pc (a MemoryFault's address, size and access too), plus the
 * bytes of the named regions in hex afterwards.
 */
import { assemble } from '../../src/asm/index.js';
import { conformanceHelpers } from '../../src/conformance/helpers.js';
import { MemoryFault, Trap } from '../../src/errors.js';
import { EXECUTORS, type ExecutorKind } from '../../src/executors.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import type { GuestMemory } from '../../src/vm/memory/guest-memory.js';

export interface RunOutcome {
  r0?: bigint;
  code?: string;
  pc?: number;
  address?: bigint;
  size?: number;
  access?: string;
  /** Region name → its bytes in hex (see `regions`). */
  [region: string]: unknown;
}

/** Runs `source` (ubpf syntax) on `kind` with `memory` and `args`; `regions`: name → slot to dump. */
export function runOutcome(
  kind: ExecutorKind,
  source: string,
  memory: GuestMemory,
  args: bigint[],
  regions: Record<string, number>,
): RunOutcome {
  const bytes = () => {
    const out: Record<string, string> = {};
    for (const [name, slot] of Object.entries(regions)) {
      const r = memory.region(slot);
      out[name] = r ? Buffer.from(memory.u8.subarray(r.hostBase, r.hostBase + r.size)).toString('hex') : '';
    }
    return out;
  };
  const program = decodeProgram(assemble(source, { syntax: 'ubpf' }));
  try {
    const r = EXECUTORS[kind](program, { memory, helpers: conformanceHelpers() }).run({ args });
    return { r0: r.r0, ...bytes() };
  } catch (e) {
    if (e instanceof MemoryFault) {
      const { code, pc, address, size, access } = e;
      return { code, pc, address, size, access, ...bytes() };
    }
    if (e instanceof Trap) return { code: e.code, pc: e.pc, ...bytes() };
    throw e;
  }
}
