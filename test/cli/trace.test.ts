/** `bpfbox trace`: one line (or JSON object) per executed instruction, then the result. */
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { bpfbox, tempFiles } from './spawn.js';

const dir = tempFiles({
  'sum.s':
    'mov %r0, 0\nloop:\njeq %r2, 0, done\nldxb %r3, [%r1]\nadd %r0, %r3\nadd %r1, 1\nsub %r2, 1\nja loop\ndone:\nexit\n',
  'loop.s': 'ja -1\nexit\n',
});
const file = (name: string) => join(dir, name);

describe.concurrent('bpfbox trace', () => {
  test('prints each step with changed registers and memory accesses', async () => {
    const r = await bpfbox(['trace', file('sum.s'), '--mem', '05 07']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1 + 2 * 6 + 2 + 1); // mov; 2 × (jeq … ja); jeq, exit; the summary
    expect(lines[0]).toMatch(/^\s+0\s+0\s+r0 = 0x0\s*$/);
    expect(lines[2]).toMatch(/r3 = \*\(u8 \*\)\(r1 \+ 0x0\)\s+r3=0x5\s+\[read 1 @ 0x40000000\]/);
    expect(lines.at(-1)).toBe('r0 = 0xc after 15 instructions');
  });

  test('--json gives one object per step and a summary; traps end the trace', async () => {
    const r = await bpfbox(['trace', file('loop.s'), '--max-insns', '3', '--json']);
    expect(r.code).toBe(1);
    const objects = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(objects.slice(0, 3).map((o) => o.pc)).toEqual([0, 0, 0]);
    expect(objects[0]).toMatchObject({ step: 0, insn: 'goto -0x1 <L0>', changed: {} });
    expect(objects[3]).toMatchObject({
      ok: false,
      error: { code: 'INSTRUCTION_LIMIT', pc: 0, instructions: 3 },
    });
  });
});
