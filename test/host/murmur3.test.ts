/** murmur3_32 (x86_32, seed 0) as Solana's sBPF hashes syscall names. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { murmur3_32, syscallImm } from '../../src/host/murmur3.js';

/** The reference algorithm written independently: BigInt arithmetic modulo 2^32, DataView reads. */
function reference(bytes: Uint8Array, seed = 0): number {
  const M = 0xffffffffn;
  const mul = (a: bigint, b: bigint) => (a * b) & M;
  const rotl = (x: bigint, r: bigint) => ((x << r) | (x >> (32n - r))) & M;
  const scramble = (k: bigint) => mul(rotl(mul(k, 0xcc9e2d51n), 15n), 0x1b873593n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let h = BigInt(seed);
  const whole = Math.floor(bytes.length / 4);
  for (let b = 0; b < whole; b++) {
    h ^= scramble(BigInt(view.getUint32(b * 4, true)));
    h = (mul(rotl(h, 13n), 5n) + 0xe6546b64n) & M;
  }
  let k = 0n;
  for (let i = bytes.length - 1; i >= whole * 4; i--) k = (k << 8n) | BigInt(bytes[i]);
  if (bytes.length % 4 !== 0) h ^= scramble(k);
  h ^= BigInt(bytes.length);
  h ^= h >> 16n;
  h = mul(h, 0x85ebca6bn);
  h ^= h >> 13n;
  h = mul(h, 0xc2b2ae35n);
  h ^= h >> 16n;
  return Number(h);
}

describe('murmur3_32', () => {
  // Published Solana syscall hashes (solana-sdk define-syscall, Firedancer's syscall table).
  it.each([
    ['sol_log_', 0x207559bd],
    ['sol_log_64_', 0x5c2a3178],
    ['sol_log_compute_units_', 0x52ba5096],
    ['sol_panic_', 0x686093bb],
    ['abort', 0xb6fc1a11],
    ['sol_sha256', 0x11f49d86],
    ['sol_alloc_free_', 0x83f00e8f],
    ['sol_invoke_signed_rust', 0xd7449092],
  ])('%s → 0x%s', (name, hash) => {
    expect(murmur3_32(name)).toBe(hash);
    expect(syscallImm(name)).toBe(hash | 0);
  });

  it('matches the reference on every tail length and on random bytes and seeds', () => {
    for (let n = 0; n < 12; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 0xff);
      expect(murmur3_32(bytes)).toBe(reference(bytes));
    }
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (bytes, seed) => {
          expect(murmur3_32(bytes, seed)).toBe(reference(bytes, seed));
        },
      ),
    );
  });

  it('hashes names as UTF-8', () => {
    expect(murmur3_32('żółw')).toBe(reference(new TextEncoder().encode('żółw')));
    expect(murmur3_32('')).toBe(0);
  });
});
