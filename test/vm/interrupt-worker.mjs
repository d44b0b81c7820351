/**
 * Worker side of interrupt.test.ts: runs an endless loop on one engine with a practically unlimited
 * budget and the interrupt signal rebuilt from the shared buffer it was given, and reports how the
 * run ended. JavaScript because a worker thread does not inherit vitest's TypeScript transform: it
 * registers tsx before importing the (TypeScript) sources.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { assemble } = await import('../../src/asm/index.ts');
const { BpfError } = await import('../../src/errors.ts');
const { EXECUTORS } = await import('../../src/executors.ts');
const { decodeProgram } = await import('../../src/isa/decoder.ts');
const { InterruptSignal } = await import('../../src/vm/interrupt.ts');
const { GuestMemory } = await import('../../src/vm/memory/guest-memory.ts');

const { kind, buffer, text } = workerData;
const memory = new GuestMemory();
memory.mapStack();
const executor = EXECUTORS[kind](decodeProgram(assemble(text)), { memory });
const interrupt = InterruptSignal.from(buffer);
parentPort.postMessage({ kind: 'started' });
try {
  const r = executor.run({ maxInstructions: 2 ** 52, interrupt });
  parentPort.postMessage({ kind: 'finished', r0: String(r.r0) });
} catch (e) {
  if (!(e instanceof BpfError)) throw e;
  parentPort.postMessage({
    kind: 'trap',
    code: e.code,
    pc: e.pc,
    instructions: e.instructions,
    gasUsed: e.gasUsed,
  });
}
