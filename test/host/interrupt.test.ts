/** `InterruptSignal` through the embedding API: the instance's default signal and a call's own. */
import { describe, expect, it } from 'vitest';
import type { Trap } from '../../src/errors.js';
import { ENGINE_KINDS, Engine } from '../../src/host/engine.js';
import { Linker } from '../../src/host/linker.js';
import { Module } from '../../src/host/module.js';
import { syscallImm } from '../../src/host/murmur3.js';
import { InterruptSignal } from '../../src/vm/interrupt.js';

function trap(f: () => unknown): Trap {
  try {
    f();
  } catch (e) {
    return e as Trap;
  }
  throw new Error('expected a trap');
}

// An endless loop calling the host function `tick` (r6 counts iterations).
const LOOP = 'mov %r6, 0\nl:\nadd %r6, 1\ncall tick\nja l\nexit';

describe.each(ENGINE_KINDS)('interrupt signal of instances (%s)', (kind) => {
  it('the instance signal stops an endless loop; a call may bring its own instead', () => {
    const engine = new Engine({ kind });
    const signal = new InterruptSignal();
    let calls = 0;
    const linker = new Linker(engine).define('tick', () => {
      if (++calls === 100) signal.interrupt();
      return 0;
    });
    const text = LOOP.replace('call tick', `call ${syscallImm('tick')}`);
    const instance = linker.instantiatePre(Module.fromAsm(engine, text)).instantiate({ interrupt: signal });
    expect(trap(() => instance.call())).toMatchObject({
      code: 'INTERRUPTED',
      pc: 3,
      instructions: 1 + 99 * 3 + 2,
    });
    // Still raised: the next call stops before its first instruction, unless it has its own signal.
    expect(trap(() => instance.call())).toMatchObject({ code: 'INTERRUPTED', pc: 0, instructions: 0 });
    const own = new InterruptSignal();
    expect(trap(() => instance.invoke({ interrupt: own, maxInstructions: 1000 }))).toMatchObject({
      code: 'INSTRUCTION_LIMIT',
    });
    signal.clear();
    calls = 0;
    expect(trap(() => instance.invoke({ maxInstructions: 200 }))).toMatchObject({
      code: 'INSTRUCTION_LIMIT',
    });
  });
});
