// The complete example of docs/unit-testing.md, kept identical to it (unit-testing-doc.test.ts checks)
// except for where bpfbox and the C file are, and the lines marked "repo only" (skip without clang).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { HashMap, type LoadedObject, loadBpfObject } from '../../src/index.js';
import { clangAvailable, warnIfMissing } from './build.js'; // repo only

warnIfMissing('test/examples/unit-testing'); // repo only

const SOURCE = fileURLToPath(new URL('../../examples/kprobe-counter.bpf.c', import.meta.url));

/** Builds like a libbpf project: -g emits the BTF that maps, CO-RE and source lines in errors need. */
function compile(source: string): Uint8Array {
  const object = join(mkdtempSync(join(tmpdir(), 'bpf-')), 'prog.o');
  execFileSync('clang-19', [
    ...['-target', 'bpf', '-O2', '-g', '-D__TARGET_ARCH_x86'],
    ...['-I/usr/include/x86_64-linux-gnu', '-c', source, '-o', object],
  ]);
  return readFileSync(object);
}

/** The `calls` map as { tgid: [calls, last_dfd] }: struct stats { __u64 calls; __s64 last_dfd; }. */
function stats(obj: LoadedObject): Record<number, [bigint, bigint]> {
  const out: Record<number, [bigint, bigint]> = {};
  for (const { key, value } of obj.maps.get('calls', HashMap).entries()) {
    const k = Buffer.from(key);
    const v = Buffer.from(value as Uint8Array);
    out[k.readUInt32LE(0)] = [v.readBigUInt64LE(0), v.readBigInt64LE(8)];
  }
  return out;
}

describe.skipIf(!clangAvailable)('kprobe-counter.bpf.c', () => {
  let object: Uint8Array;
  beforeAll(() => {
    object = compile(SOURCE);
  });

  it('counts calls per process (tgid) and keeps the last first argument', () => {
    const obj = loadBpfObject(object); // a fresh load: empty maps
    obj.run('count_unlinkat', { task: { pid: 100 }, regs: { di: -100 } });
    obj.run('count_unlinkat', { task: { pid: 200 }, regs: { di: 3 } });
    const run = obj.run('count_unlinkat', { task: { pid: 101, tgid: 100 }, regs: { di: 7 } });
    expect(run.r0).toBe(0n);
    expect(stats(obj)).toEqual({ 100: [2n, 7n], 200: [1n, 3n] });
  });

  it('sees what the host writes to the map between runs', () => {
    const obj = loadBpfObject(object);
    const calls = obj.maps.get('calls', HashMap);
    const key = Buffer.alloc(4);
    key.writeUInt32LE(42);
    const value = Buffer.alloc(16);
    value.writeBigUInt64LE(10n);
    expect(calls.update(key, value)).toBe(0);
    obj.run('count_unlinkat', { task: { pid: 42 }, args: [5] }); // args: PARM1..PARM6 in order
    expect(stats(obj)).toEqual({ 42: [11n, 5n] });
  });
});
