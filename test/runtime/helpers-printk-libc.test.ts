/**
 * bpf_trace_printk's number formatting against the system C library's snprintf: random formats of
 * the subset BPF allows (flags 0 + - space, width, l / ll, d i u x X, %c, %%) are compiled into a C
 * program whose output must equal the simulated kernel formatter's, byte for byte.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bprintf } from '../../src/runtime/helpers/bprintf.js';
import { cstring } from './helpers-kernel-setup.js';

const CC = 'cc';
const ccAvailable = spawnSync(CC, ['--version']).status === 0;
if (!ccAvailable)
  console.warn('[helpers-printk-libc] SKIPPED: no C compiler (cc) to build the snprintf reference');

interface Case {
  fmt: string;
  /** C argument expressions, already cast to the conversion's type. */
  cArgs: string[];
  args: bigint[];
}

const conversion = fc.constantFrom(
  ['d', 'int'],
  ['i', 'int'],
  ['u', 'unsigned int'],
  ['x', 'unsigned int'],
  ['X', 'unsigned int'],
  ['ld', 'long'],
  ['lu', 'unsigned long'],
  ['lx', 'unsigned long'],
  ['lld', 'long long'],
  ['llu', 'unsigned long long'],
  ['llX', 'unsigned long long'],
  ['c', 'int'],
);
const spec = fc.record({
  flags: fc.subarray(['-', '+', ' ', '0']).map((f) => f.join('')),
  width: fc.option(fc.integer({ min: 1, max: 25 }), { nil: undefined }),
  conv: conversion,
  value: fc.oneof(
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    fc.bigInt({ min: 0n, max: 300n }),
    fc.constantFrom(0n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 63n, 2n ** 64n - 1n),
  ),
});
const caseArb = fc
  .tuple(fc.array(fc.tuple(fc.stringMatching(/^[a-z =:%]{0,3}$/), spec), { minLength: 1, maxLength: 3 }))
  .map(([parts]): Case => {
    let fmt = '';
    const cArgs: string[] = [];
    const args: bigint[] = [];
    for (const [text, s] of parts) {
      // A lone % in the literal text would be a conversion; double it.
      fmt += text.replace(/%/g, '%%');
      const conv = s.conv[0];
      const type = s.conv[1];
      // %c prints a byte: keep it printable so both sides compare as text.
      const value = conv === 'c' ? 0x21n + (s.value % 94n) : s.value;
      fmt += `%${s.flags}${s.width ?? ''}${conv}`;
      cArgs.push(`(${type})${value}ULL`);
      args.push(value);
    }
    return { fmt, cArgs, args };
  });

function libcOutputs(cases: readonly Case[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'bpfbox-printf-'));
  try {
    const lines = cases.map(
      (c) =>
        `  snprintf(buf, sizeof buf, "${c.fmt}"${c.cArgs.map((a) => `, ${a}`).join('')}); printf("%s\\n", buf);`,
    );
    const source = `#include <stdio.h>\nint main(void) {\n  char buf[1024];\n${lines.join('\n')}\n  return 0;\n}\n`;
    writeFileSync(join(dir, 'ref.c'), source);
    const build = spawnSync(CC, ['-w', '-o', join(dir, 'ref'), join(dir, 'ref.c')], { encoding: 'utf8' });
    if (build.status !== 0) throw new Error(build.stderr);
    const run = spawnSync(join(dir, 'ref'), { encoding: 'latin1' });
    return run.stdout.split('\n').slice(0, cases.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const noMemory = { readCString: () => -14, readBytes: () => -14 };

describe.skipIf(!ccAvailable)('bpf_trace_printk vs libc snprintf', () => {
  it('formats 400 random formats exactly like snprintf', () => {
    const cases = fc.sample(caseArb, { numRuns: 400, seed: 20261123 });
    const reference = libcOutputs(cases);
    cases.forEach((c, i) => {
      // trace_printk takes at most three arguments; vprintk (up to 12) uses the same formatter.
      const result = bprintf(cstring(c.fmt), c.args, noMemory);
      expect(result, c.fmt).toEqual({ text: reference[i], length: reference[i].length });
    });
  });
});
