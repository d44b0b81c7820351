/**
 * `InterruptSignal` on every engine of the executor table: another thread stops an endless loop
 * (worker), a helper raises it mid-loop on the same thread, a raised signal stops a run before it
 * starts, and a signal never raised changes nothing.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import { EXECUTOR_KINDS, EXECUTORS, type ExecutorKind } from '../../src/executors.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import type { GasCostTable } from '../../src/vm/gas.js';
import { HelperRegistry } from '../../src/vm/helpers.js';
import type { RunOptions } from '../../src/vm/interpreter/interpreter.js';
import { INTERRUPT_POLL_INSTRUCTIONS, InterruptSignal } from '../../src/vm/interrupt.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';
import { outcome } from '../support/outcome.js';

/** while (1) r0++ with a bpf-to-bpf call in the body: the loop is pcs 1..3, the callee 5..6. */
const ENDLESS = 'mov %r0, 0\nl:\nadd %r0, 1\ncall local f\nja l\nexit\nf:\nadd %r6, 1\nexit';

interface WorkerOutcome {
  kind: 'started' | 'trap' | 'finished';
  code?: string;
  pc?: number;
  instructions?: number;
}

/**
 * An endless cycle that never passes its rotated loop's header: it enters the loop [top, jeq] at its
 * mid entry from below (the JIT polls at the jumping block, not at the loop).
 */
const ENDLESS_MID_ENTRY =
  'mov %r0, 0\nja entry\ntop:\nadd %r1, 1\nentry:\nadd %r0, 1\njeq %r0, 0, top\nadd %r3, 1\nja entry\nexit';

/**
 * An endless cycle through nested rotated loops that never passes a loop header: the outer loop's
 * end jumps into the middle of the inner loop at its header (the mid-entry flag crosses the outer
 * loop's start), which jumps forward into the middle of the loop [bt, jeq] (entered there from the
 * top too: two loops share that mid entry).
 */
const ENDLESS_NESTED_MID_ENTRIES = [
  'mov %r0, 0',
  'ja entry',
  'top:',
  'add %r1, 1',
  'jeq %r0, 0, top',
  'imid:',
  'add %r2, 1',
  'jeq %r0, 0, top',
  'ja entry',
  'bt:',
  'add %r3, 1',
  'entry:',
  'add %r0, 1',
  'jeq %r0, 0, bt',
  'add %r4, 1',
  'ja imid',
  'exit',
].join('\n');

/**
 * A counted loop of 2^32 trips (practically endless): the JIT charges its trips at the loop's entry,
 * as many as the countdown pays before the next interrupt poll, and runs them without counting.
 */
const COUNTED =
  'mov %r0, 0\nmov %r3, 0\nlddw %r4, 0x100000000\nl:\nadd %r0, %r3\nadd %r3, 1\njlt %r3, %r4, l\nexit';

/**
 * The fewest instructions before the first poll can see the signal. Under load the signal may be raised
 * before the guest reaches its first poll; the interpreter polls before the run (≤ 3 instructions in
 * these programs) that would cross one interval, so it may stop a few instructions short of it.
 */
const FIRST_POLL = INTERRUPT_POLL_INSTRUCTIONS - 8;

/** Runs `text` in a worker, raises the signal 50 ms after it started; resolves with how it ended. */
function interruptInWorker(kind: ExecutorKind, text = ENDLESS): Promise<WorkerOutcome> {
  const signal = new InterruptSignal();
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./interrupt-worker.mjs', import.meta.url), {
      workerData: { kind, buffer: signal.buffer, text },
    });
    const finish = (f: () => void): void => {
      clearTimeout(watchdog);
      void worker.terminate();
      f();
    };
    // The signal must stop the guest; a worker still running after this long did not notice it.
    const watchdog = setTimeout(
      () => finish(() => reject(new Error(`the ${kind} guest ignored the interrupt signal`))),
      30_000,
    );
    worker.on('message', (m: WorkerOutcome) => {
      if (m.kind === 'started') setTimeout(() => signal.interrupt(), 50);
      else finish(() => resolve(m));
    });
    worker.on('error', (e) => finish(() => reject(e)));
  });
}

function load(kind: ExecutorKind, text: string, helpers?: HelperRegistry, gasCosts?: GasCostTable) {
  const memory = new GuestMemory();
  memory.mapStack();
  return EXECUTORS[kind](decodeProgram(assemble(text)), { memory, helpers, gasCosts });
}

describe.each(EXECUTOR_KINDS)('InterruptSignal (%s)', (kind) => {
  it('another thread stops an endless loop through the shared signal', async () => {
    const m = await interruptInWorker(kind);
    expect(m).toMatchObject({ kind: 'trap', code: 'INTERRUPTED' });
    // Stopped at a poll inside the loop or the callee, after running at least one poll interval.
    expect([1, 2, 3, 5, 6]).toContain(m.pc);
    expect(m.instructions).toBeGreaterThanOrEqual(FIRST_POLL);
  });

  it('stops an endless cycle that enters a rotated loop in the middle, never passing its header', async () => {
    const m = await interruptInWorker(kind, ENDLESS_MID_ENTRY);
    expect(m).toMatchObject({ kind: 'trap', code: 'INTERRUPTED' });
    expect(m.instructions).toBeGreaterThanOrEqual(FIRST_POLL);
  });

  it('stops an endless cycle through nested loops sharing headers and mid entries', async () => {
    const m = await interruptInWorker(kind, ENDLESS_NESTED_MID_ENTRIES);
    expect(m).toMatchObject({ kind: 'trap', code: 'INTERRUPTED' });
    expect(m.instructions).toBeGreaterThanOrEqual(FIRST_POLL);
  });

  it('stops a counted loop whose trips are charged at its entry', async () => {
    const m = await interruptInWorker(kind, COUNTED);
    expect(m).toMatchObject({ kind: 'trap', code: 'INTERRUPTED', pc: 4 });
    expect(m.instructions).toBeGreaterThanOrEqual(FIRST_POLL);
  });

  it('a helper raising it mid-loop stops the guest right after the call; it stays raised until cleared', () => {
    const signal = new InterruptSignal();
    let calls = 0;
    const helpers = new HelperRegistry().define(1, 'tick', () => {
      if (++calls === 1000) signal.interrupt();
      return 0;
    });
    const text = 'mov %r6, 0\nl:\nadd %r6, 1\ncall 1\nja l\nexit';
    const vm = load(kind, text, helpers, { call: 5 });
    // 1 + 1000 iterations of 3 instructions, the last one stopped before its `ja`.
    expect(outcome(() => vm.run({ interrupt: signal }))).toEqual({
      code: 'INTERRUPTED',
      pc: 3,
      instructions: 1 + 999 * 3 + 2,
      gasUsed: 1 + 999 * 7 + 6,
    });
    expect(signal.requested).toBe(true);
    expect(outcome(() => vm.run({ interrupt: signal }))).toMatchObject({
      code: 'INTERRUPTED',
      pc: 0,
      instructions: 0,
    });
    signal.clear();
    calls = 1;
    expect(outcome(() => vm.run({ interrupt: signal, maxInstructions: 50 }))).toMatchObject({
      code: 'INSTRUCTION_LIMIT',
      instructions: 50,
    });
  });

  it('a signal that is never raised changes nothing', () => {
    const text =
      'mov %r0, 0\nmov %r7, 40000\nl:\ncall local f\nsub %r7, 1\njne %r7, 0, l\nexit\nf:\nadd %r0, 3\nexit';
    const runs: RunOptions[] = [
      {},
      { maxInstructions: 3 * INTERRUPT_POLL_INSTRUCTIONS + 1 },
      { gasLimit: 100_001 },
    ];
    for (const gasCosts of [undefined, { alu: 3, call: 2 }]) {
      const vm = load(kind, text, undefined, gasCosts);
      for (const options of runs) {
        const plain = outcome(() => vm.run(options));
        expect(outcome(() => vm.run({ ...options, interrupt: new InterruptSignal() }))).toEqual(plain);
      }
    }
    expect(outcome(() => load(kind, text).run())).toMatchObject({ r0: 120_000n, instructions: 200_003 });
  });
});

describe('InterruptSignal', () => {
  it('is shared memory when the platform has it, and views of one buffer see each other', () => {
    const a = new InterruptSignal();
    expect(a.buffer).toBeInstanceOf(SharedArrayBuffer);
    const b = InterruptSignal.from(a.buffer);
    expect(b.requested).toBe(false);
    a.interrupt();
    expect(b.requested).toBe(true);
    b.clear();
    expect(a.requested).toBe(false);
    expect(() => InterruptSignal.from(new ArrayBuffer(2))).toThrow(RangeError);
  });
});
