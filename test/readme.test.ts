/** The README's library example, asserted: if the README's API drifts from the code, this fails. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  assemble,
  createMachine,
  decodeProgram,
  disassemble,
  HelperRegistry,
  MemoryFault,
} from '../src/index.js';

describe('README library API', () => {
  it('runs the 10-line example as printed', () => {
    const bytes = assemble('ldxb %r1, [%r1+1]\ncall 1\nexit');
    const helpers = new HelperRegistry().define(1, 'double', (ctx) => ctx.argNumber(1) * 2);
    const machine = createMachine(bytes, { mem: new Uint8Array([7, 21]), helpers });
    expect(machine.run()).toEqual({ r0: 42n, instructions: 3, gasUsed: 3 });
    expect(machine.run()).toEqual({ r0: 42n, instructions: 3, gasUsed: 3 });
    expect(disassemble(decodeProgram(bytes)).split('\n')[0]).toBe('r1 = *(u8 *)(r1 + 0x1)');
    let caught: unknown;
    try {
      createMachine(assemble('ldxdw %r0, [%r1]\nexit')).run();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(MemoryFault);
    expect((caught as MemoryFault).pc).toBe(0);
  });

  it('README opens with exactly the two set-up commands', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const block = readme.split('```sh\n')[1].split('```')[0].trim().split('\n');
    expect(block).toHaveLength(2);
    expect(block[0]).toMatch(/^npm ci && npx bpfbox demo/);
    expect(block[1]).toMatch(/^bash scripts\/test-all\.sh/);
    expect(readFileSync(new URL('../.ci/run', import.meta.url), 'utf8')).toContain(
      'bash scripts/test-all.sh',
    );
  });
});
