/** `bpfbox plugin`: the bpf_conformance plugin protocol (FORMAT.md §5). */
import { describe, expect, test } from 'vitest';
import { bpfbox } from './spawn.js';

// ldxb r0, [r1+1]; add r0, r2; exit — reads the second input byte and adds the input length.
const PROGRAM = '71 10 01 00 00 00 00 00 0f 20 00 00 00 00 00 00 95 00 00 00 00 00 00 00';

describe.concurrent('bpfbox plugin', () => {
  test('program on stdin, memory as hex argument, r0 in hex on stdout', async () => {
    expect(await bpfbox(['plugin', '0a0b0c'], PROGRAM)).toEqual({ code: 0, stdout: '0xe\n', stderr: '' });
  });

  test('memory may be written with spaces; unknown options after it are ignored', async () => {
    const r = await bpfbox(['plugin', '0a 0b', '--debug', '--cpu_version', 'v4'], PROGRAM);
    expect(r).toMatchObject({ code: 0, stdout: '0xd\n' });
  });

  test('without memory r1 is 0, so reading it faults: message and non-zero exit', async () => {
    const r = await bpfbox(['plugin'], PROGRAM);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^read of 1 byte at 0x1 at pc 0: null pointer dereference/);
  });

  test('a program the decoder rejects', async () => {
    const r = await bpfbox(['plugin', ''], '18 00 00 00 00 00 00 00');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/lddw needs two slots/);
  });

  test('--elf is refused clearly', async () => {
    const r = await bpfbox(['plugin', '00', '--elf'], '');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error\[USAGE\]: ELF input \(--elf\) is not supported yet/);
  });

  test('bad hex on stdin', async () => {
    const r = await bpfbox(['plugin'], '95 00 zz');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error\[BAD_HEX\]: stdin: line 1, column 7: "zz" is not hex bytes/);
  });
});
