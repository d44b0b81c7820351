/**
 * `bpfbox run --engine interp|jit --repeat N --json`: the JIT issue's timing contract
 * ("ns_per_run_median", "compile_ns") for raw programs and object files, the same results on both
 * engines, and `--repeat` validation.
 */
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { clangAvailable, compileExample, warnIfMissing } from '../examples/build.js';
import { bpfbox, tempFiles } from './spawn.js';

warnIfMissing('test/cli/run-timing');

const dir = tempFiles({
  ...(clangAvailable ? { 'tail-call.o': compileExample('tail-call') } : {}),
  // r0 = sum of 1..1000 in a loop: long enough that a run takes measurable time.
  'loop.s': 'mov %r0, 0\nmov %r1, 1\nloop:\nadd %r0, %r1\nadd %r1, 1\njle %r1, 1000, loop\nexit\n',
  'fault.s': 'ldxw %r0, [%r1+0]\nexit\n',
  // ICMP echo request from 10.0.0.1 to 10.0.0.2: the dispatcher tail-calls handle_icmp.
  'icmp.json': JSON.stringify({
    packet: '02000000000202000000000108004500001c00000000400166df0a0000010a0000020800000000000000',
  }),
});
const file = (name: string) => join(dir, name);
const ENGINES = ['interp', 'jit'];

async function runJson(args: string[]): Promise<Record<string, unknown>> {
  const r = await bpfbox(args);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(r.stdout);
}

function expectTiming(out: Record<string, unknown>): void {
  expect(out.ns_per_run_median).toBeGreaterThan(0);
  expect(out.compile_ns).toBeGreaterThan(0);
}

describe.concurrent('bpfbox run --repeat on raw programs', () => {
  test('--json adds the median time per run and the compile time; r0 is the same on both engines', async () => {
    const outs = await Promise.all(
      ENGINES.map((engine) =>
        runJson(['run', file('loop.s'), '--engine', engine, '--repeat', '5', '--json']),
      ),
    );
    for (const out of outs) {
      expect(out).toEqual({
        ok: true,
        r0: '0x7a314', // 500500
        instructions: 3003,
        ns_per_run_median: expect.any(Number),
        compile_ns: expect.any(Number),
      });
      expectTiming(out);
    }
  });

  test('without --repeat the JSON has no timing fields', async () => {
    expect(await runJson(['run', file('loop.s'), '--engine', 'jit', '--json'])).toEqual({
      ok: true,
      r0: '0x7a314',
      instructions: 3003,
    });
  });

  test('the readable form prints r0, then the timing', async () => {
    const r = await bpfbox(['run', file('loop.s'), '--engine', 'jit', '--repeat', '3']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^0x7a314\ntiming: [\d.]+ ns per run \(median of 3\), executor built in \d+ ns\n$/,
    );
  });

  test('a trap names the run', async () => {
    const r = await bpfbox(['run', file('fault.s'), '--engine', 'jit', '--repeat', '2', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({
      ok: false,
      error: expect.objectContaining({
        code: 'MEMORY_FAULT',
        message: expect.stringMatching(/\(run 1 of 2\)$/),
      }),
    });
  });

  test.each([
    ['0', /^error\[USAGE\]: --repeat must be a positive integer, not "0"\n$/],
    ['-1', /^error\[USAGE\]: /],
    ['many', /^error\[USAGE\]: --repeat must be a positive integer, not "many"\n$/],
  ])('--repeat %s is a usage error', async (n, message) => {
    const r = await bpfbox(['run', file('loop.s'), '--engine', 'jit', '--repeat', n, '--json']);
    expect(r).toMatchObject({ code: 2, stdout: '', stderr: expect.stringMatching(message) });
  });
});

describe.skipIf(!clangAvailable).concurrent('bpfbox run OBJ.o --engine jit', () => {
  const args = ['run', file('tail-call.o'), '--program', 'dispatch', '--input', file('icmp.json')];

  test('the same output on both engines, tail call included; --repeat adds the timing', async () => {
    const [interp, jit] = await Promise.all(
      ENGINES.map((engine) => runJson([...args, '--engine', engine, '--repeat', '3', '--json'])),
    );
    expectTiming(interp);
    expectTiming(jit);
    const { ns_per_run_median: _a, compile_ns: _b, ...same } = interp;
    expect(same).toMatchObject({ ok: true, r0: '0x1', action: 'DROP' });
    expect(same.maps).toMatchObject({ handled: [{ key: '01000000', value: '0300000000000000' }] });
    const { ns_per_run_median: _c, compile_ns: _d, ...jitSame } = jit;
    expect(jitSame).toEqual(same);
  });

  test('the readable form on the JIT', async () => {
    const [interp, jit] = await Promise.all(ENGINES.map((engine) => bpfbox([...args, '--engine', engine])));
    expect(jit).toMatchObject({ code: 0, stderr: '' });
    expect(jit.stdout).toContain('r0: 0x1 (XDP_DROP)\n');
    expect(jit.stdout).toBe(interp.stdout);
  });

  test('--repeat 0 and an unknown engine are usage errors', async () => {
    const [zero, turbo] = await Promise.all([
      bpfbox([...args, '--repeat', '0']),
      bpfbox([...args, '--engine', 'turbo']),
    ]);
    expect(zero).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--repeat must be a positive integer'),
    });
    expect(turbo).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^error\[USAGE\]: unknown engine "turbo"/),
    });
  });
});
