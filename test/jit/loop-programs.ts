/**
 * Loop nests as clang lays them out, in LLVM assembler syntax, shared by the layout tests
 * (control-flow.test.ts) and the long-run meter tests (metering.test.ts).
 */

/**
 * The sieve kernel's control flow over a 64-byte stack buffer (18 primes below 64): the outer loop
 * shares its first instruction with the marking loop and its mid entry (`check`) with the loop
 * [next, if r2 > 31 goto next] inside it.
 */
export const SIEVE = `
  r0 = 0
  r1 = 4
  r2 = 2
  r3 = 1
  r4 = 64
  goto check
inner:
  r6 = r10
  r6 += -64
  r6 += r5
  *(u8 *)(r6 + 0) = r3
  r5 += r2
  if r4 > r5 goto inner
next:
  r1 += 2
  r2 += 1
  if r2 == 64 goto done
check:
  r5 = r10
  r5 += -64
  r5 += r2
  r5 = *(u8 *)(r5 + 0)
  if r5 != 0 goto next
  r0 += 1
  if r2 > 31 goto next
  r5 = r1
  goto inner
done:
  exit
`;

/**
 * Trial division as clang-19 lays out the prime kernel (primes below `limit`): the outer loop's end jumps into the middle of
 * the inner loop, whose header is the outer loop's first instruction; the code before both enters
 * the outer loop at the same instruction as the loop [done_n, if r3 > r5 goto done_n] inside it. The
 * inner loop nests in an outer loop reaching down to that jump, so no cycle needs the dispatch, and
 * the outer jump raises the flag of a mid entry that the outer loop's start must pass on.
 */
export function clangPrime(limit = 200): string {
  return `
  r0 = 0
  r1 = ${limit}
  r2 = 3
  if r2 > r1 goto out
  r2 = 2
  r3 = 4
  goto outer_entry
inner_top:
  r5 += 1
  r7 = r5
  r7 *= r7
  r7 <<= 32
  r7 >>= 32
  r0 = 1
  if r7 > r6 goto done_n
inner_entry:
  r0 = r5
  r0 <<= 32
  r0 >>= 32
  r6 = r2
  r6 <<= 32
  r6 >>= 32
  r7 = r6
  r7 %= r0
  r0 = 0
  if r7 != 0 goto inner_top
done_n:
  r0 += r4
  r2 += 1
  r4 = r2
  r4 <<= 32
  r4 >>= 32
  if r1 > r4 goto outer_entry
  goto out
outer_entry:
  r4 = r0
  r0 = 1
  r5 = r2
  r5 <<= 32
  r5 >>= 32
  if r3 > r5 goto done_n
  r5 = 2
  goto inner_entry
out:
  exit
`;
}
