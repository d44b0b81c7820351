/** `bpfbox asm` and `bpfbox disasm`. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import { bpfbox, tempFiles } from './spawn.js';

const SOURCE = 'mov %r0, 1\nloop:\nadd %r0, %r0\njlt %r0, 0x100, loop\nlddw %r1, 0x1122334455667788\nexit\n';
const dir = tempFiles({
  'prog.s': SOURCE,
  'test.data': `-- asm\n${SOURCE}-- result\n0x100\n`,
  'bad.s': 'mov %r0, 1\nfrob %r0\nexit\n',
});
const file = (name: string) => join(dir, name);
const expected = assemble(SOURCE, { syntax: 'ubpf' });

describe.concurrent('bpfbox asm', () => {
  test('writes FILE.bin by default and prints a one-line summary', async () => {
    const r = await bpfbox(['asm', file('prog.s')]);
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stdout).toContain(`${file('prog.bin')}`);
    expect(new Uint8Array(readFileSync(file('prog.bin')))).toEqual(expected);
  });

  test('-o and --syntax', async () => {
    const out = file('explicit.out');
    const r = await bpfbox(['asm', file('prog.s'), '-o', out, '--syntax', 'ubpf']);
    expect(r.code).toBe(0);
    expect(new Uint8Array(readFileSync(out))).toEqual(expected);
  });

  test('an assembly error is a typed error with line and column, exit 1', async () => {
    const r = await bpfbox(['asm', file('bad.s'), '-o', file('bad.bin')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error\[ASM_SYNTAX\]: .*line 2, column 1/);
    expect(existsSync(file('bad.bin'))).toBe(false);
  });

  test('an unknown --syntax is a usage error', async () => {
    const r = await bpfbox(['asm', file('prog.s'), '--syntax', 'intel']);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});

describe.concurrent('bpfbox disasm', () => {
  const bin = tempFiles({ 'prog.bin': expected });

  test('.bin in llvm syntax (default) and ubpf syntax round-trips through asm', async () => {
    for (const syntax of ['llvm', 'ubpf']) {
      const r = await bpfbox([
        'disasm',
        join(bin, 'prog.bin'),
        ...(syntax === 'llvm' ? [] : ['--syntax', syntax]),
      ]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/exit/);
      const again = join(bin, `again-${syntax}.s`);
      writeFileSync(again, r.stdout);
      expect(assemble(r.stdout, { syntax: syntax as 'llvm' | 'ubpf' })).toEqual(expected);
    }
  });

  test('accepts .data and .s inputs', async () => {
    const fromBin = await bpfbox(['disasm', join(bin, 'prog.bin')]);
    expect(await bpfbox(['disasm', file('test.data')])).toEqual(fromBin);
    expect(await bpfbox(['disasm', file('prog.s')])).toEqual(fromBin);
  });

  test('a program the decoder rejects', async () => {
    const bad = tempFiles({ 'x.bin': Uint8Array.from([0x18, 0, 0, 0, 0, 0, 0, 0]) });
    const r = await bpfbox(['disasm', join(bad, 'x.bin')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error\[TRUNCATED_LDDW\]/);
  });
});
