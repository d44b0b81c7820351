/** The chained hash table under many keys, collisions and deletions, against a Set model. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HashMap } from '../../src/runtime/maps/hash.js';
import { HashIndex, hashBytes } from '../../src/runtime/maps/hash-index.js';
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

  it('lookupAndDelete returns the value and removes the key', () => {
    const h = setup([{ name: 'h', type: 'hash' }]).maps.get('h', HashMap);
    h.update(u32(1), u64(5));
    expect(h.lookupAndDelete(u32(1))).toEqual(u64(5));
    expect(h.lookupAndDelete(u32(1))).toBeUndefined();
    expect(h.size).toBe(0);
  });
});
