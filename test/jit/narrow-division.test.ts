/**
 * The JIT divides in 32 bits where both operands are known zero-extended (src/jit/narrow-registers.ts).
 * Each program here sets a register so that its upper half is NOT zero right where a wrong "narrow"
 * fact would divide in 32 bits (lddw, negative immediates, arithmetic shifts, 64-bit byte swaps,
 * sign-extending loads, atomic fetches, a join of two paths), and the interpreter's 64-bit result
 * differs from the 32-bit one. The narrow cases check the 32-bit path against 64-bit semantics too.
 */
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import { EXECUTOR_KINDS, EXECUTORS } from '../../src/executors.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';

function run(kind: (typeof EXECUTOR_KINDS)[number], source: string): bigint {
  const memory = new GuestMemory();
  memory.mapStack();
  const program = decodeProgram(assemble(source));
  return EXECUTORS[kind](program, { memory }).run({ args: [], maxInstructions: 1000 }).r0;
}

function expectEverywhere(source: string, r0: bigint): void {
  for (const kind of EXECUTOR_KINDS) expect(run(kind, source), kind).toBe(r0);
}

/** r1 = 0xffff_fff0 and r2 = 7, both zero-extended the way clang does it. */
const NARROW = `
  r1 = -16
  r1 <<= 32
  r1 >>= 32
  r2 = 7
`;

describe('JIT 32-bit division of narrow operands', () => {
  it('divides and takes the modulo of zero-extended values above 2^31 as unsigned', () => {
    expectEverywhere(`${NARROW}\n r0 = r1\n r0 %= r2\n exit`, 0xfffffff0n % 7n);
    expectEverywhere(`${NARROW}\n r0 = r1\n r0 /= r2\n exit`, 0xfffffff0n / 7n);
    expectEverywhere(`${NARROW}\n r0 = r1\n r0 /= 3\n exit`, 0xfffffff0n / 3n);
    expectEverywhere(`${NARROW}\n w3 = w1\n r0 = r3\n r0 %= r2\n exit`, 0xfffffff0n % 7n);
    expectEverywhere(
      `${NARROW}\n *(u32 *)(r10 - 8) = r1\n r0 = *(u32 *)(r10 - 8)\n r0 %= r2\n exit`,
      0xfffffff0n % 7n,
    );
  });

  it('keeps 64-bit semantics for division and modulo by zero', () => {
    expectEverywhere(`${NARROW}\n r2 = 0\n r0 = r1\n r0 %= r2\n exit`, 0xfffffff0n);
    expectEverywhere(`${NARROW}\n r2 = 0\n r0 = r1\n r0 /= r2\n exit`, 0n);
  });

  it('divides in 64 bits where an operand may have upper bits set', () => {
    const big = 0x1_0000_0005n;
    // lddw, and an add after the zero extension.
    expectEverywhere(`r0 = ${big} ll\n r2 = 3\n r0 %= r2\n exit`, big % 3n);
    expectEverywhere(`${NARROW}\n r1 += r1\n r0 = r1\n r0 %= r2\n exit`, (2n * 0xfffffff0n) % 7n);
    // A negative immediate is sign-extended: 0xffff_ffff / 2^64−1 is 0, not 1.
    expectEverywhere('r1 = -1\n r1 <<= 32\n r1 >>= 32\n r2 = -1\n r1 /= r2\n r0 = r1\n exit', 0n);
    // An arithmetic shift keeps the sign bits; a right shift by less than 32 keeps upper bits.
    expectEverywhere(`r1 = -16\n r1 s>>= 32\n r0 = r1\n r0 %= 7\n exit`, (2n ** 64n - 1n) % 7n);
    expectEverywhere(`r1 = -16\n r1 >>= 31\n r0 = r1\n r0 %= 7\n exit`, (2n ** 33n - 1n) % 7n);
    // A 64-bit byte swap (in the 32-bit ALU class) and bswap64.
    expectEverywhere(`r1 = 1\n r1 = be64 r1\n r0 = r1\n r0 %= 7\n exit`, 2n ** 56n % 7n);
    expectEverywhere(`r1 = 1\n r1 = bswap64 r1\n r0 = r1\n r0 %= 7\n exit`, 2n ** 56n % 7n);
    // A sign-extending load and a 64-bit load.
    expectEverywhere(
      `r1 = -16\n *(u32 *)(r10 - 8) = r1\n r0 = *(s32 *)(r10 - 8)\n r0 %= 7\n exit`,
      (2n ** 64n - 16n) % 7n,
    );
    expectEverywhere(
      `r1 = -16\n *(u64 *)(r10 - 8) = r1\n r0 = *(u64 *)(r10 - 8)\n r0 %= 7\n exit`,
      (2n ** 64n - 16n) % 7n,
    );
  });

  it('forgets a narrow register that an atomic fetch overwrites', () => {
    expectEverywhere(
      `r1 = -16\n *(u64 *)(r10 - 8) = r1\n ${NARROW}\n r1 = atomic_fetch_add((u64 *)(r10 - 8), r1)\n r0 = r1\n r0 %= r2\n exit`,
      (2n ** 64n - 16n) % 7n,
    );
  });

  it('forgets narrow registers where two paths join', () => {
    // r1 is narrow on the fall-through path only; the jump brings r1 = 2^64 − 16.
    const join = `
      r1 = -16
      r2 = 7
      if r2 > 5 goto join
      r1 <<= 32
      r1 >>= 32
    join:
      r0 = r1
      r0 %= r2
      exit`;
    expectEverywhere(join, (2n ** 64n - 16n) % 7n);
  });
});
