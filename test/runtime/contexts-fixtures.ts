/** Shared by the context tests: packets, and running assembled programs on a prepared context. */
import { assemble } from '../../src/asm/index.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import {
  type ContextResult,
  type ContextSpec,
  createBoundContext,
  createProgramContext,
  type ProgramContext,
} from '../../src/runtime/contexts/index.js';
import { registerKernelHelpers } from '../../src/runtime/helpers/index.js';
import { KernelRuntime } from '../../src/runtime/helpers/runtime.js';
import { HelperRegistry } from '../../src/vm/helpers.js';
import { Interpreter } from '../../src/vm/interpreter/interpreter.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';

export { toHex as hex } from '../../src/runtime/contexts/index.js';

/** Ethernet + IPv4 + UDP (or TCP) with the given ports and payload; addresses 10.0.0.1 -> 10.0.0.2. */
export function ipv4Packet(
  options: { proto?: 'udp' | 'tcp'; sport?: number; dport?: number; payload?: number } = {},
) {
  const { proto = 'udp', sport = 1234, dport = 53, payload = 18 } = options;
  const l4 = proto === 'udp' ? 8 : 20;
  const p = new Uint8Array(14 + 20 + l4 + payload);
  const v = new DataView(p.buffer);
  p.set([0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1], 0);
  v.setUint16(12, 0x0800);
  p[14] = 0x45;
  v.setUint16(16, 20 + l4 + payload);
  p[22] = 64;
  p[23] = proto === 'udp' ? 17 : 6;
  p.set([10, 0, 0, 1], 26);
  p.set([10, 0, 0, 2], 30);
  v.setUint16(34, sport);
  v.setUint16(36, dport);
  if (proto === 'udp') v.setUint16(38, 8 + payload);
  else p[46] = 0x50;
  for (let i = 0; i < payload; i++) p[14 + 20 + l4 + i] = i;
  return p;
}

export interface Ran {
  readonly ctx: ProgramContext;
  readonly r0: bigint;
  readonly result: ContextResult;
  readonly memory: GuestMemory;
  readonly vm: Interpreter;
}

/** Maps the context of `spec` for `input`, runs `asm` (uBPF syntax) with r1 = the context. */
export function runOn(spec: ContextSpec, input: unknown, asm: string, kernel = false): Ran {
  return runBytes(spec, input, assemble(asm), kernel);
}

/**
 * Same, for program bytes (e.g. a section clang compiled). With `kernel`, the kernel helpers run over a
 * KernelRuntime wired as the CLI must wire it: the context's user memory is the runtime's, the
 * runtime's packet is the context's, and the task is the input's.
 */
export function runBytes(
  spec: ContextSpec,
  input: unknown,
  code: Uint8Array,
  kernel = false,
  maxInstructions?: number,
): Ran {
  const memory = new GuestMemory();
  memory.mapStack();
  const runtime = kernel ? new KernelRuntime(memory) : undefined;
  const ctx =
    runtime === undefined
      ? createProgramContext(memory, spec, input)
      : createBoundContext(runtime, spec, input);
  runtime?.beginRun();
  const helpers = runtime === undefined ? undefined : registerKernelHelpers(new HelperRegistry(), runtime);
  const vm = new Interpreter(decodeProgram(code), { memory, packetSlot: ctx.packetSlot, helpers });
  const { r0 } = vm.run({ args: [ctx.r1], maxInstructions });
  return { ctx, r0, result: ctx.result(r0), memory, vm };
}

/** Runs another program on the memory and context of an earlier run (as the next tail or event would). */
export function runAgain(ran: Ran, asm: string): bigint {
  const vm = new Interpreter(decodeProgram(assemble(asm)), {
    memory: ran.memory,
    packetSlot: ran.ctx.packetSlot,
  });
  return vm.run({ args: [ran.ctx.r1] }).r0;
}
