/** The chained hash table under many keys, collisions and deletions, against a Set model. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HashMap } from '../../src/runtime/maps/hash.js';
import { HashIndex, hashBytes, probedHome, QUARTER_FULL_BYTES } from '../../src/runtime/maps/hash-index.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';
import { prng } from '../support/prng.js';
import { setup, u32, u64 } from './fixtures.js';

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

describe('HashIndex', () => {
  it('finds exactly the inserted keys through insertions and deletions', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 63 })), { maxLength: 300 }),
        (keySize, ops) => {
          const capacity = 32;
          const index = new HashIndex(capacity, keySize, false);
          const model = new Set<string>();
          const keyFor = (n: number) =>
            new Uint8Array(keySize).map((_, i) => (n * (i + 3)) & (i === 0 ? 0x3f : 0x0f));
          for (const [insert, n] of ops) {
            const key = keyFor(n);
            const k = hex(key);
            const slot = index.lookup(key, 0);
            expect(slot >= 0).toBe(model.has(k));
            if (insert && slot < 0) {
              const s = index.insert(index.hash(key, 0), key, 0);
              expect(s >= 0).toBe(model.size < capacity);
              if (s >= 0) model.add(k);
            } else if (!insert && slot >= 0) {
              index.remove(slot);
              model.delete(k);
            }
            expect(index.size).toBe(model.size);
          }
          const keys: string[] = [];
          for (let s = index.first(); s >= 0; s = index.after(s)) keys.push(hex(index.key(s)));
          expect(keys.sort()).toEqual([...model].sort());
        },
      ),
      { numRuns: 200 },
    );
  });

  it('tags slots in the open table with base + slot · stride: same slots, the table holds the tags, entry 0 mirrored', () => {
    for (const keySize of [4, 8] as const) {
      const memory = new GuestMemory();
      const tagged = new HashIndex(64, keySize, false, memory, { base: 0x6000_0008, stride: 24 });
      const plain = new HashIndex(64, keySize, false);
      const random = prng(keySize);
      const live = new Map<number, Uint8Array>();
      for (let round = 0; round < 2000; round++) {
        // Few distinct keys, so inserts collide and deletes shift runs back.
        const key = new Uint8Array(keySize).map(() => random() % 3);
        key[0] = random() % 200;
        const slot = tagged.lookup(key, 0);
        expect(slot).toBe(plain.lookup(key, 0));
        if (slot < 0 && live.size < 64) {
          const s = tagged.insert(tagged.hash(key, 0), key, 0);
          expect(plain.insert(plain.hash(key, 0), key, 0)).toBe(s);
          live.set(s, key);
        } else if (slot >= 0 && random() % 2 === 0) {
          tagged.remove(slot);
          plain.remove(slot);
          live.delete(slot);
        }
      }
      // Every used entry's last word is the tag of a live slot, each live slot's once.
      const table = tagged.openTable as { byteOffset: number; mask: number };
      const words = new Int32Array(
        memory.wasm.buffer,
        table.byteOffset,
        (table.mask + 1) * (keySize / 4 + 1),
      );
      const tags = [...words.filter((_, i) => i % (keySize / 4 + 1) === keySize / 4)].filter((t) => t !== 0);
      expect(tags.sort((a, b) => a - b)).toEqual(
        [...live.keys()].map((s) => 0x6000_0008 + 24 * s).sort((a, b) => a - b),
      );
      for (const [s, key] of live) expect(tagged.lookup(key, 0)).toBe(s);
      // The entry after the last mirrors entry 0 (JIT code reads a home's next entry without a wrap).
      const st = keySize / 4 + 1;
      const end = (table.mask + 1) * st;
      expect([...new Int32Array(memory.wasm.buffer, table.byteOffset + 4 * end, st)]).toEqual([
        ...words.subarray(0, st),
      ]);
    }
    expect(() => new HashIndex(4, 4, false, undefined, { base: 0, stride: 8 })).toThrow(RangeError);
    expect(() => new HashIndex(4, 4, false, undefined, { base: 0x7fff_fff0, stride: 8 })).toThrow(RangeError);
  });

  it('hashes every byte and the length', () => {
    const a = new Uint8Array(13);
    const seen = new Set<number>([hashBytes(a, 0, 12), hashBytes(a, 0, 13)]);
    for (let i = 0; i < 13; i++) {
      const b = a.slice();
      b[i] = 1;
      seen.add(hashBytes(b, 0, 13));
    }
    expect(seen.size).toBe(15);
  });

  it('homes 4- and 8-byte keys by multiply, xor-shift, multiply, in the top bits', () => {
    const random = prng(7);
    const u32 = () => Math.floor(random() * 2 ** 32);
    const mul = (a: bigint, b: bigint) => (a * b) & 0xffffffffn;
    for (let i = 0; i < 2000; i++) {
      const [k0, k1, bits] = [u32(), u32(), 1 + (i % 31)];
      for (const keySize of [4, 8] as const) {
        const k = keySize === 4 ? BigInt(k0) : BigInt(k0) ^ mul(BigInt(k1), 0xc2b2ae35n);
        let x = mul(k, 0x85ebca6bn);
        x ^= x >> 13n;
        const want = Number(mul(x, 0x9e3779b1n) >> BigInt(32 - bits));
        expect(probedHome(keySize, k0 | 0, k1 | 0, 32 - bits)).toBe(want);
      }
    }
  });

  /**
   * Linear probing of 4,096 keys in 8,192 entries (the index's load): probes per hit and per miss,
   * for the key patterns programs use: structured keys (sequential, strided, multiples of the table
   * size or of large powers of two) must probe no longer than random ones (≈1.5 per hit, ≈2.5 per
   * miss), which a one-multiply (Fibonacci) hash fails for many strides.
   */
  const probeLengths = (keySize: 4 | 8, key: (i: number) => [number, number]) => {
    const n = 4096;
    const bits = 13;
    const mask = (1 << bits) - 1;
    const used = new Uint8Array(mask + 1);
    const home = (i: number) => probedHome(keySize, ...key(i), 32 - bits);
    const walk = (i: number, stop: (e: number) => boolean) => {
      let e = home(i);
      let p = 1;
      for (; !stop(e); p++) e = (e + 1) & mask;
      return p;
    };
    const at = new Int32Array(mask + 1).fill(-1);
    for (let i = 0; i < n; i++) {
      const e = (home(i) + walk(i, (x) => used[x] === 0) - 1) & mask;
      used[e] = 1;
      at[e] = i;
    }
    let hit = 0;
    let hitMax = 0;
    let miss = 0;
    for (let i = 0; i < n; i++) {
      const p = walk(i, (x) => at[x] === i);
      hit += p;
      hitMax = Math.max(hitMax, p);
      miss += walk(n + i, (x) => used[x] === 0);
    }
    return { hit: hit / n, hitMax, miss: miss / n };
  };
  const patterns: [string, 4 | 8, (i: number) => [number, number]][] = [
    ['u32 sequential', 4, (i) => [i, 0]],
    ['u32 stride 7919', 4, (i) => [Math.imul(i, 7919), 0]],
    ['u32 stride 987 (a Fibonacci number)', 4, (i) => [Math.imul(i, 987), 0]],
    ['u32 multiples of the table size', 4, (i) => [i << 13, 0]],
    ['u32 stride 1000', 4, (i) => [i * 1000, 0]],
    ['u32 multiples of 2^16', 4, (i) => [i << 16, 0]],
    ['u32 multiples of 2^20', 4, (i) => [i << 20, 0]],
    ['u32 random', 4, (i) => [Math.imul(i + 1, 0x2545f491) ^ (i * 0x9e37), 0]],
    ['u64 sequential', 8, (i) => [i, 0]],
    ['u64 i << 32', 8, (i) => [0, i]],
    ['u64 pid << 32 | tid', 8, (i) => [1000 + (i & 63), 1000 + (i >> 6)]],
    ['u64 multiples of 2^20', 8, (i) => [(i << 20) | 0, i >>> 12]],
    ['u64 stride 987 in both words', 8, (i) => [Math.imul(i, 987), Math.imul(i, 987)]],
  ];
  for (const [what, keySize, key] of patterns) {
    it(`probe lengths stay short for ${what} keys`, () => {
      const r = probeLengths(keySize, key);
      expect(r.hit).toBeLessThanOrEqual(1.7);
      expect(r.miss).toBeLessThanOrEqual(3);
      expect(r.hitMax).toBeLessThanOrEqual(48);
    });
  }

  it('probe lengths stay short for every stride 1..200 and 50 random strides', () => {
    const random = prng(11);
    const strides = [
      ...Array.from({ length: 200 }, (_, i) => i + 1),
      ...Array.from({ length: 50 }, () => Math.floor(random() * 2 ** 32)),
    ];
    let worst = 0;
    for (const s of strides) worst = Math.max(worst, probeLengths(4, (i) => [Math.imul(i, s), 0]).hit);
    expect(worst).toBeLessThanOrEqual(2);
  });

  it('open tables are at most a quarter full up to QUARTER_FULL_BYTES, then half full; chains keep 2×', () => {
    const entries = (capacity: number, keySize: number, memory?: GuestMemory) =>
      new HashIndex(capacity, keySize, false, memory).entries;
    expect(entries(4096, 4)).toBe(16384);
    expect(entries(4097, 4)).toBe(32768); // 256 KiB: rounded up past 4 · 4097
    expect(entries(4096, 8)).toBe(16384);
    expect(entries(4096, 12)).toBe(8192); // chained: 2×
    expect(entries(4096, 3)).toBe(8192);
    // The largest quarter-full tables (8 and 12 bytes per entry), and one key more.
    expect(entries(32768, 4)).toBe(131072);
    expect(8 * 131072).toBe(QUARTER_FULL_BYTES);
    expect(entries(32769, 4)).toBe(131072); // half full: a quarter would take 4 MiB
    expect(entries(16384, 8)).toBe(65536);
    expect(entries(16385, 8)).toBe(65536);
    expect(entries(100000, 4)).toBe(262144);
    // In a small linear memory the quarter-full table would take more than its share: half full,
    // still in the memory where JIT code probes it.
    const small = new GuestMemory({ maxBytes: 1 << 20 });
    const index = new HashIndex(8192, 4, false, small);
    expect(index.entries).toBe(16384);
    expect(index.openTable?.mask).toBe(16383);
    const roomy = new HashIndex(8192, 4, false, new GuestMemory({ maxBytes: 1 << 24 }));
    expect(roomy.openTable?.mask).toBe(32767);
    expect(roomy.openTable?.shift).toBe(17);
  });

  it('lookupAndDelete returns the value and removes the key', () => {
    const h = setup([{ name: 'h', type: 'hash' }]).maps.get('h', HashMap);
    h.update(u32(1), u64(5));
    expect(h.lookupAndDelete(u32(1))).toEqual(u64(5));
    expect(h.lookupAndDelete(u32(1))).toBeUndefined();
    expect(h.size).toBe(0);
  });
});
