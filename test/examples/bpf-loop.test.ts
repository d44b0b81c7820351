/**
 * examples/bpf-loop.bpf.c: a bpf_loop callback sums an ARRAY map the host filled, finds its maximum,
 * stops at the first zero, and the program prints the result.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type LoadedObject, loadBpfObject } from '../../src/runtime/loader.js';
import { ArrayMap } from '../../src/runtime/maps/array.js';
import { clangAvailable, compileExample, warnIfMissing } from './build.js';

warnIfMissing('test/examples/bpf-loop');

/** Writes `values` to samples[0..] from the host, as user space would with bpf_map_update_elem. */
function fill(obj: LoadedObject, values: readonly number[]): void {
  const samples = obj.maps.get('samples', ArrayMap);
  values.forEach((value, i) => {
    const v = new Uint8Array(8);
    new DataView(v.buffer).setBigUint64(0, BigInt(value), true);
    expect(samples.update(Uint8Array.of(i, 0, 0, 0), v)).toBe(0);
  });
}

describe.skipIf(!clangAvailable)('examples/bpf-loop.bpf.c', () => {
  let bytes: Uint8Array;
  beforeAll(() => {
    bytes = compileExample('bpf-loop');
  });

  it('sums up to the first zero sample: the callback stops the loop early', () => {
    const obj = loadBpfObject(bytes);
    fill(obj, [5, 17, 3, 42, 8, 0, 99]);
    const run = obj.run('summarize');
    expect(run.r0).toBe(5n);
    // bpf_loop counts the iteration whose callback returned 1.
    expect(run.printk).toEqual(['samples=5 sum=75 max=42', 'max at 3 after 6 iterations']);
  });

  it('visits all 32 slots when none is zero, and sees host updates between runs', () => {
    const obj = loadBpfObject(bytes);
    const values = Array.from({ length: 32 }, (_, i) => (i * 37) % 101 || 1); // sum 1587, max 100 at 30
    fill(obj, values);
    expect(obj.run('summarize').printk).toEqual([
      'samples=32 sum=1587 max=100',
      'max at 30 after 32 iterations',
    ]);
    fill(obj, [2 ** 40]); // replaces samples[0] = 1
    const run = obj.run('summarize');
    expect(run.r0).toBe(32n);
    expect(run.printk).toEqual([
      `samples=32 sum=${1586 + 2 ** 40} max=${2 ** 40}`,
      'max at 0 after 32 iterations',
    ]);
  });

  it('an empty array stops at the first iteration', () => {
    const run = loadBpfObject(bytes).run('summarize');
    expect(run.r0).toBe(0n);
    expect(run.printk).toEqual(['samples=0 sum=0 max=0', 'max at 0 after 1 iterations']);
  });
});
