/** `bpfbox conformance`: output lines, summary, JSON and exit statuses. */
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { BPF_CONFORMANCE_TESTS } from '../conformance/paths.js';
import { bpfbox, tempFiles } from './spawn.js';

const mixed = tempFiles({
  'a-pass.data': '-- asm\nmov %r0, 1\nexit\n-- result\n0x1\n',
  'b-fail.data': '-- asm\nmov %r0, 2\nexit\n-- result\n0x1\n',
  'c-skip.data': '-- asm\nmov %r0, 2\nexit\n',
  'ignored.txt': 'not a test',
});
const passing = tempFiles({ 'ok.data': '-- raw\n0x0000002a000000b7\n0x0000000000000095\n-- result\n42\n' });

describe.concurrent('bpfbox conformance', () => {
  test('one line per failure or skip, then the summary; exit 1 when something failed', async () => {
    const r = await bpfbox(['conformance', mixed]);
    expect(r.code).toBe(1);
    expect(r.stdout.trimEnd().split('\n')).toEqual([
      `FAIL ${join(mixed, 'b-fail.data')}: r0 = 0x2, expected 0x1`,
      `SKIP ${join(mixed, 'c-skip.data')}: no -- result or -- error`,
      '1 passed, 1 failed, 1 skipped',
    ]);
    expect(r.stderr).toBe('');
  });

  test('exit 0 when everything passes', async () => {
    expect(await bpfbox(['conformance', passing, '--engine', 'interp'])).toMatchObject({
      code: 0,
      stdout: '1 passed, 0 failed, 0 skipped\n',
    });
  });

  test('--json', async () => {
    const r = await bpfbox(['conformance', mixed, '--json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ passed: 1, failed: 1, skipped: 1 });
    expect(out.results[1]).toEqual({
      file: join(mixed, 'b-fail.data'),
      status: 'fail',
      reason: 'r0 = 0x2, expected 0x1',
      r0: '0x2',
      expected: '0x1',
    });
  });

  test('the whole bpf_conformance suite passes', async () => {
    const r = await bpfbox(['conformance', BPF_CONFORMANCE_TESTS]);
    expect(r).toMatchObject({ code: 0, stdout: '313 passed, 0 failed, 0 skipped\n' });
  });

  test('a missing path or an unknown engine is a usage error', async () => {
    expect(await bpfbox(['conformance', join(mixed, 'nope')])).toMatchObject({ code: 2 });
    expect(await bpfbox(['conformance', mixed, '--engine', 'turbo'])).toMatchObject({ code: 2 });
  });
});
