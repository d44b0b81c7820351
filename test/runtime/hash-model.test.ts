/** HASH and LRU_HASH against a plain JS Map model under random operation sequences (fast-check). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BPF_EXIST, BPF_NOEXIST, E2BIG, EEXIST, EINVAL, ENOENT } from '../../src/runtime/maps/constants.js';
import { HashMap } from '../../src/runtime/maps/hash.js';
import { readU64, setup, u32, u64 } from './fixtures.js';

type Op =
  | { kind: 'update'; key: number; value: number; flags: number; fromProgram: boolean }
  | { kind: 'delete'; key: number }
  | { kind: 'lookup'; key: number; fromProgram: boolean };

const key = fc.integer({ min: 0, max: 7 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('update' as const),
    key,
    value: fc.integer({ min: 0, max: 1000 }),
    flags: fc.constantFrom(0, 1, 2, 3),
    fromProgram: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('delete' as const), key }),
  fc.record({ kind: fc.constant('lookup' as const), key, fromProgram: fc.boolean() }),
);

/** The model: a Map whose insertion order is the recency order (oldest first). */
class Model {
  readonly m = new Map<number, number>();
  constructor(
    readonly capacity: number,
    readonly lru: boolean,
  ) {}

  private touch(k: number): void {
    if (!this.lru) return;
    const v = this.m.get(k) as number;
    this.m.delete(k);
    this.m.set(k, v);
  }

  update(k: number, v: number, flags: number): number {
    if (flags > BPF_EXIST) return -EINVAL;
    if (this.m.has(k)) {
      if (flags === BPF_NOEXIST) return -EEXIST;
      this.m.set(k, v);
      this.touch(k);
      return 0;
    }
    if (flags === BPF_EXIST) return -ENOENT;
    if (this.m.size === this.capacity) {
      if (!this.lru) return -E2BIG;
      this.m.delete(this.m.keys().next().value as number);
    }
    this.m.set(k, v);
    return 0;
  }

  delete(k: number): number {
    return this.m.delete(k) ? 0 : -ENOENT;
  }

  lookup(k: number, fromProgram: boolean): number | undefined {
    const v = this.m.get(k);
    if (v !== undefined && fromProgram) this.touch(k);
    return v;
  }
}

function check(type: 'hash' | 'lru_hash', ops: Op[]): void {
  const capacity = 4;
  const { maps, memory } = setup([{ name: 'm', type, maxEntries: capacity }]);
  const map = maps.get('m', HashMap);
  const model = new Model(capacity, type === 'lru_hash');
  for (const o of ops) {
    if (o.kind === 'update') {
      const got = o.fromProgram
        ? map.updateElem(u32(o.key), 0, u64(o.value), 0, o.flags)
        : map.update(u32(o.key), u64(o.value), o.flags);
      expect(got).toBe(model.update(o.key, o.value, o.flags));
    } else if (o.kind === 'delete') {
      expect(map.delete(u32(o.key))).toBe(model.delete(o.key));
    } else {
      const want = model.lookup(o.key, o.fromProgram);
      if (o.fromProgram) {
        const addr = map.lookupElem(u32(o.key), 0);
        expect(addr === 0 ? undefined : Number(memory.readU64(addr))).toBe(want);
      } else {
        const got = readU64(map.lookup(u32(o.key)));
        expect(got === undefined ? undefined : Number(got)).toBe(want);
      }
    }
    const keys = map.keys().map((k) => new DataView(k.buffer).getUint32(0, true));
    expect(keys.sort()).toEqual([...model.m.keys()].sort());
    expect(map.size).toBe(model.m.size);
  }
  if (type === 'lru_hash') {
    expect(map.recencyOrder().map((k) => new DataView(k.buffer).getUint32(0, true))).toEqual([
      ...model.m.keys(),
    ]);
  }
  for (const [k, v] of model.m) expect(readU64(map.lookup(u32(k)))).toBe(BigInt(v));
}

describe('hash maps against a JS Map model', () => {
  it('HASH', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => check('hash', ops)),
      { numRuns: 300 },
    );
  });

  it('LRU_HASH (exact LRU: program lookups and updates refresh, host lookups do not)', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => check('lru_hash', ops)),
      { numRuns: 300 },
    );
  });
});
