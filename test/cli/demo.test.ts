/** `bpfbox demo` over the repository's examples/ and over a directory with a wrong expectation. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { bpfbox, ROOT, tempFiles } from './spawn.js';

describe.concurrent('bpfbox demo', () => {
  test('runs every example in examples/ and all match their expected r0', async () => {
    const examples = readdirSync(join(ROOT, 'examples')).filter((n) => /\.(s|asm)$/.test(n));
    expect(examples.length).toBeGreaterThanOrEqual(4);
    const r = await bpfbox(['demo']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(examples.length + 1);
    for (const name of examples) {
      expect(lines.find((l) => l.includes(name))).toMatch(
        new RegExp(`^✓ ${name.replace('.', '\\.')}\\s+0x[0-9a-f]+\\s+\\d+\\s+\\S`),
      );
    }
  });

  test('marks a wrong result and a failing program with ✗ and exits 1', async () => {
    const dir = tempFiles({
      'a.s': '# what: forty-two\n# expect: 41\nmov %r0, 42\nexit\n',
      'b.s': '# what: reads nothing\nldxb %r0, [%r1]\nexit\n',
      'c.s': '# what: reads its input\n# mem: 07\nldxb %r0, [%r1]\nexit\n',
    });
    const r = await bpfbox(['demo', dir]);
    expect(r.code).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[1]).toMatch(/^✗ a\.s\s+0x2a\s+2\s+forty-two \(expected 0x29\)$/);
    expect(lines[2]).toMatch(/^✗ b\.s\s+error\[MEMORY_FAULT\]/);
    expect(lines[3]).toMatch(/^✓ c\.s\s+0x7\s+2\s+reads its input$/);
  });

  test('a directory without examples is a usage error', async () => {
    expect(await bpfbox(['demo', tempFiles({})])).toMatchObject({ code: 2 });
  });
});
