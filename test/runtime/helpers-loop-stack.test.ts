/** bpf_loop (181) through HelperContext.callFunction, and the simulated bpf_get_stackid (27). */
import { describe, expect, it } from 'vitest';
import { stackHash } from '../../src/runtime/helpers/stack.js';
import { MapTrap } from '../../src/runtime/maps/errors.js';
import { kernel, neg } from './helpers-kernel-setup.js';

const EINVAL = 22;
const E2BIG = 7;
const EFAULT = 14;
const EEXIST = 17;

/** bpf_loop(n, cb, &sum, flags); returns loop result << 32 | sum. cb adds i and stops when i == stop. */
const LOOP = (n: number, stop: number, flags = 0) => `
  stdw [%r10-8], 0
  mov %r1, ${n}
  lddw code_addr %r2, cb
  mov %r3, %r10
  add %r3, -8
  mov %r4, ${flags}
  call 181
  lsh %r0, 32
  ldxdw %r1, [%r10-8]
  or %r0, %r1
  exit
cb:
  ldxdw %r3, [%r2]
  add %r3, %r1
  stxdw [%r2], %r3
  mov %r0, 0
  jne %r1, ${stop}, +1
  mov %r0, 1
  exit`;

describe('bpf_loop', () => {
  it('calls the callback nr_loops times with (i, ctx) and returns the count', () => {
    const k = kernel();
    expect(k.run(LOOP(10, -1))).toBe((10n << 32n) | 45n);
    expect(k.run(LOOP(0, -1))).toBe(0n);
  });

  it('stops when the callback returns 1 and returns the iterations made', () => {
    const k = kernel();
    expect(k.run(LOOP(10, 3))).toBe((4n << 32n) | 6n);
    expect(k.run(LOOP(10, 0))).toBe(1n << 32n);
  });

  it('flags must be 0 (-EINVAL); more than 1 << 23 loops is -E2BIG; no callback runs', () => {
    const k = kernel();
    expect(k.run(LOOP(10, -1, 1)) >> 32n).toBe(BigInt.asUintN(32, BigInt(-EINVAL)));
    expect(k.run(LOOP(10, -1, 1)) & 0xffffffffn).toBe(0n);
    const big = LOOP(0, -1).replace('mov %r1, 0', `lddw %r1, ${(1 << 23) + 1}`);
    expect(k.run(big)).toBe((neg(E2BIG) << 32n) & 0xffff_ffff_ffff_ffffn);
  });

  it('runs 1 << 23 iterations at the limit', { timeout: 60_000 }, () => {
    const k = kernel();
    const text = LOOP(0, -1).replace('mov %r1, 0', `lddw %r1, ${1 << 23}`);
    const r0 = k.program(text).run({ maxInstructions: 1e9 }).r0;
    const n = BigInt(1 << 23);
    expect(r0).toBe((n << 32n) | ((n * (n - 1n)) / 2n));
  });
});

describe('bpf_get_stackid', () => {
  const defs = [
    { name: 'stacks', type: 'array' as const, keySize: 4, valueSize: 8 * 4, maxEntries: 100, flags: 0 },
  ];
  const GET = (flags: number) => `mov %r1, 0\nlddw map_idx %r2, 0\nlddw %r3, ${flags}\ncall 27\nexit`;

  it('gives a stable id for the simulated stack and records it', () => {
    const stack = [0xffffffff81001000n, 0xffffffff81002000n, 0xffffffff81003000n];
    const k = kernel({ kernelStack: stack }, defs);
    const id = k.run(GET(0));
    expect(id).toBe(BigInt(stackHash(stack) & 127));
    expect(k.run(GET(0))).toBe(id);
    expect(k.runtime.stackTraces.get('stacks')?.get(Number(id))).toEqual(stack);
    // Skipping frames is another stack.
    const skipped = k.run(GET(1));
    expect(k.runtime.stackTraces.get('stacks')?.get(Number(skipped))).toEqual(stack.slice(1));
  });

  it('user stacks, -EFAULT when skipping everything, -EINVAL for unknown flags', () => {
    const k = kernel({ userStack: [0x401000n, 0x402000n] }, defs);
    const id = k.run(GET(1 << 8));
    expect(k.runtime.stackTraces.get('stacks')?.get(Number(id))).toEqual([0x401000n, 0x402000n]);
    expect(k.run(GET((1 << 8) | 2))).toBe(neg(EFAULT));
    expect(k.run(GET(1 << 11))).toBe(neg(EINVAL));
  });

  it('a different stack in the same bucket is -EEXIST unless BPF_F_REUSE_STACKID', () => {
    const one = [{ ...defs[0], maxEntries: 1 }];
    const k = kernel({ kernelStack: [1n, 2n] }, one);
    expect(k.run(GET(0))).toBe(0n);
    k.runtime.kernelStack = [3n];
    expect(k.run(GET(0))).toBe(neg(EEXIST));
    expect(k.run(GET(1 << 10))).toBe(0n);
    expect(k.runtime.stackTraces.get('stacks')?.get(0)).toEqual([3n]);
  });

  it('needs a map reference', () => {
    const k = kernel({}, defs);
    expect(() => k.run('mov %r1, 0\nmov %r2, 5\nmov %r3, 0\ncall 27\nexit')).toThrow(MapTrap);
  });
});
