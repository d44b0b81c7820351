/** `bpfbox run --gas-limit N`: gas_used in the JSON output, OUT_OF_GAS with exit status 1. */
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { bpfbox, tempFiles } from './spawn.js';

// 12 instructions: 2 setup, 3 iterations of 3, exit at pc 5.
const dir = tempFiles({
  'sum.s': 'mov %r0, 0\nmov %r1, 3\nloop:\nadd %r0, %r1\nsub %r1, 1\njne %r1, 0, loop\nexit\n',
  'null.s': 'mov %r1, 0\nldxb %r0, [%r1]\nexit\n',
});
const sum = join(dir, 'sum.s');

describe.concurrent('bpfbox run --gas-limit', () => {
  test('adds gas_used to the JSON output', async () => {
    const r = await bpfbox(['run', sum, '--gas-limit', '12', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ ok: true, r0: '0x6', instructions: 12, gas_used: 12 });
  });

  test('one gas short: OUT_OF_GAS at the last pc, gas_used, exit 1', async () => {
    const r = await bpfbox(['run', sum, '--gas-limit', '11', '--json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({
      ok: false,
      error: { code: 'OUT_OF_GAS', pc: 5, instructions: 11 },
      gas_used: 11,
    });
  });

  test('other traps report the gas used until them; 0 traps at once', async () => {
    const fault = JSON.parse(
      (await bpfbox(['run', join(dir, 'null.s'), '--gas-limit', '100', '--json'])).stdout,
    );
    expect(fault).toMatchObject({ ok: false, error: { code: 'MEMORY_FAULT', pc: 1 }, gas_used: 2 });
    const none = JSON.parse((await bpfbox(['run', sum, '--gas-limit', '0', '--json'])).stdout);
    expect(none).toMatchObject({ error: { code: 'OUT_OF_GAS', pc: 0 }, gas_used: 0 });
  });

  test('without --json: r0 on success, the trap on stderr with exit 1', async () => {
    expect(await bpfbox(['run', sum, '--gas-limit', '12'])).toMatchObject({ code: 0, stdout: '0x6\n' });
    const r = await bpfbox(['run', sum, '--gas-limit', '11']);
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toMatch(/^error\[OUT_OF_GAS\]: out of gas at pc 5/);
  });

  test('a bad limit is a usage error', async () => {
    const r = await bpfbox(['run', sum, '--gas-limit', '-1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--gas-limit must be a non-negative integer/);
  });

  test('without --gas-limit the output is unchanged', async () => {
    expect(JSON.parse((await bpfbox(['run', sum, '--json'])).stdout)).toEqual({
      ok: true,
      r0: '0x6',
      instructions: 12,
    });
  });
});
