/**
 * MurmurHash3 x86_32 with seed 0: the hash Solana's sBPF puts in the immediate of a `call` to a
 * syscall (`call imm` with imm = murmur3_32(name)), e.g. `sol_log_` → 0x207559bd.
 */

const encoder = new TextEncoder();

/** murmur3_32 of `data` (a name is hashed as its UTF-8 bytes), as an unsigned 32-bit number. */
export function murmur3_32(data: Uint8Array | string, seed = 0): number {
  const bytes = typeof data === 'string' ? encoder.encode(data) : data;
  const len = bytes.length;
  const blocks = len & ~3;
  let h = seed | 0;
  for (let i = 0; i < blocks; i += 4) {
    const k = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    h ^= mixK(k);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = len & 3;
  if (rest > 0) {
    let tail = bytes[blocks];
    if (rest > 1) tail |= bytes[blocks + 1] << 8;
    if (rest > 2) tail |= bytes[blocks + 2] << 16;
    h ^= mixK(tail);
  }
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function mixK(k: number): number {
  let x = Math.imul(k, 0xcc9e2d51);
  x = (x << 15) | (x >>> 17);
  return Math.imul(x, 0x1b873593);
}

/** The call immediate (signed int32, as decoded instructions carry it) that imports `name`. */
export function syscallImm(name: string): number {
  return murmur3_32(name) | 0;
}
