/** examples/kprobe-counter.bpf.c: calls per process in a HASH map and the last PT_REGS_PARM1 seen. */
import { beforeAll, describe, expect, it } from 'vitest';
import { type LoadedObject, loadBpfObject } from '../../src/runtime/loader.js';
import { HashMap } from '../../src/runtime/maps/hash.js';
import { clangAvailable, compileExample, warnIfMissing } from './build.js';

warnIfMissing('test/examples/kprobe-counter');

/** The map as { tgid: [calls, last_dfd] }, decoded from struct stats { u64 calls; s64 last_dfd; }. */
function counts(obj: LoadedObject): Record<number, [bigint, bigint]> {
  const out: Record<number, [bigint, bigint]> = {};
  for (const { key, value } of obj.maps.get('calls', HashMap).entries()) {
    const v = new DataView((value as Uint8Array).buffer, (value as Uint8Array).byteOffset);
    out[new DataView(key.buffer, key.byteOffset).getUint32(0, true)] = [
      v.getBigUint64(0, true),
      v.getBigInt64(8, true),
    ];
  }
  return out;
}

describe.skipIf(!clangAvailable)('examples/kprobe-counter.bpf.c', () => {
  let bytes: Uint8Array;
  beforeAll(() => {
    bytes = compileExample('kprobe-counter');
  });

  it('counts calls per tgid over several events and keeps the last first argument', () => {
    const obj = loadBpfObject(bytes);
    const AT_FDCWD = -100;
    const events = [
      { task: { pid: 100 }, regs: { di: AT_FDCWD } },
      { task: { pid: 200 }, regs: { di: 3 } },
      { task: { pid: 101, tgid: 100 }, regs: { di: 7 } }, // another thread of process 100
      { task: { pid: 100 }, args: [AT_FDCWD] }, // PARM1 given positionally: the same register (di)
    ];
    const r0s = events.map((e) => obj.run('count_unlinkat', e).r0);
    expect(r0s).toEqual([0n, 0n, 0n, 0n]);
    expect(counts(obj)).toEqual({ 100: [3n, -100n], 200: [1n, 3n] });
  });

  it('the host can read, reset and delete entries between runs', () => {
    const obj = loadBpfObject(bytes);
    obj.run('count_unlinkat', { task: { pid: 200 }, regs: { di: 3 } });
    obj.run('count_unlinkat', { task: { pid: 200 }, regs: { di: 4 } });
    expect(counts(obj)).toEqual({ 200: [2n, 4n] });
    const calls = obj.maps.get('calls', HashMap);
    const key = Uint8Array.of(200, 0, 0, 0);
    expect(calls.delete(key)).toBe(0);
    expect(counts(obj)).toEqual({});
    obj.run('count_unlinkat', { task: { pid: 200 }, regs: { di: 9 } });
    expect(counts(obj)[200]).toEqual([1n, 9n]);
  });
});
