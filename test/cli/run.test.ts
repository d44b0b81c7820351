/** `bpfbox run`: inputs, output forms and exit statuses 0/1/2. */
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { bpfbox, slots, tempFiles } from './spawn.js';

const dir = tempFiles({
  'sum.s':
    '# r0 = sum of the input bytes\nmov %r0, 0\nloop:\njeq %r2, 0, done\nldxb %r3, [%r1]\nadd %r0, %r3\nadd %r1, 1\nsub %r2, 1\nja loop\ndone:\nexit\n',
  'mem.bin': Uint8Array.from([1, 2, 3, 250]),
  // mov r0, 42; exit
  'answer.bin': slots('b70000002a000000', '9500000000000000'),
  'len.data': '-- asm\nmov %r0, %r2\nexit\n-- mem\n01 02 03\n-- result\n0x3\n',
  'odd.txt': 'x',
});
const file = (name: string) => join(dir, name);

describe.concurrent('bpfbox run', () => {
  test('.s: assembles (syntax auto-detected) and prints r0 in hex', async () => {
    expect(await bpfbox(['run', file('sum.s'), '--mem', '01 02 03'])).toEqual({
      code: 0,
      stdout: '0x6\n',
      stderr: '',
    });
  });

  test('.bin: raw instructions', async () => {
    expect(await bpfbox(['run', file('answer.bin')])).toMatchObject({ code: 0, stdout: '0x2a\n' });
  });

  test('.data: uses its -- mem; --mem overrides it', async () => {
    expect(await bpfbox(['run', file('len.data')])).toMatchObject({ code: 0, stdout: '0x3\n' });
    expect(await bpfbox(['run', file('len.data'), '--mem', '0102030405'])).toMatchObject({ stdout: '0x5\n' });
  });

  test('--mem-file reads the input bytes from a file', async () => {
    expect(await bpfbox(['run', file('sum.s'), '--mem-file', file('mem.bin')])).toMatchObject({
      code: 0,
      stdout: '0x100\n',
    });
  });

  test('--json success shape', async () => {
    const r = await bpfbox(['run', file('answer.bin'), '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ ok: true, r0: '0x2a', instructions: 2 });
  });

  test('r0 is printed as 64-bit unsigned lowercase hex', async () => {
    const minusOne = tempFiles({ 'm.s': 'mov %r0, -1\nexit\n' });
    expect(await bpfbox(['run', join(minusOne, 'm.s')])).toMatchObject({ stdout: '0xffffffffffffffff\n' });
  });

  test('--max-insns bounds the run', async () => {
    const r = await bpfbox(['run', file('sum.s'), '--mem', '010203', '--max-insns', '5', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'INSTRUCTION_LIMIT', pc: expect.any(Number) });
  });
});

describe.concurrent('bpfbox run: setup errors exit 2 with one line on stderr', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown option', ['run', 'x.bin', '--bogus'], /^error\[USAGE\]: unknown option '--bogus'/],
    ['missing file argument', ['run'], /^error\[USAGE\]: missing required argument 'file'/],
    [
      'unknown engine',
      ['run', file('answer.bin'), '--engine', 'turbo'],
      /^error\[USAGE\]: unknown engine "turbo"/,
    ],
    [
      'unreadable file',
      ['run', file('missing.bin')],
      /^error\[IO\]: cannot read .*missing\.bin: no such file/,
    ],
    [
      'bad --mem hex',
      ['run', file('answer.bin'), '--mem', '0g'],
      /^error\[BAD_HEX\]: .*"0g" is not hex bytes/,
    ],
    ['odd-length hex', ['run', file('answer.bin'), '--mem', '123'], /^error\[BAD_HEX\]/],
    [
      '--mem with --mem-file',
      ['run', file('answer.bin'), '--mem', '00', '--mem-file', 'x'],
      /^error\[USAGE\]: .*cannot be used with/,
    ],
    [
      'bad --max-insns',
      ['run', file('answer.bin'), '--max-insns', 'lots'],
      /^error\[USAGE\]: --max-insns must be a positive integer/,
    ],
    ['unknown file type', ['run', file('odd.txt')], /^error\[FILE_TYPE\]: cannot tell what/],
    ['unknown command', ['frobnicate'], /^error\[USAGE\]: unknown command 'frobnicate'/],
  ];
  test.each(cases)('%s', async (_name, args, message) => {
    const r = await bpfbox(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  test.each(cases.filter(([name]) => /engine|unreadable|bad --mem/.test(name)))(
    'with --json too: %s',
    async (_name, args, message) => {
      const r = await bpfbox([...args, '--json']);
      expect(r).toMatchObject({ code: 2, stdout: '', stderr: expect.stringMatching(message) });
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    },
  );

  test('no command prints the help on stderr and exits 2', async () => {
    const r = await bpfbox([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: bpfbox');
  });

  test('--help exits 0', async () => {
    const r = await bpfbox(['run', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--max-insns');
  });
});
