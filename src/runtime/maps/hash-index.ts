/**
 * The key side of hash-like maps: key → slot, a preallocated pool of slots, the keys' bytes (for
 * get_next_key), iteration order, and an optional recency list for LRU maps. Values live elsewhere
 * (a ValueStore in guest memory, or inner-map references), so HASH and HASH_OF_MAPS share this.
 *
 * Like the kernel's htab it is a chained hash table over preallocated arrays: a lookup hashes the key
 * bytes where they are (guest memory) and compares them with the stored keys, allocating nothing —
 * building JS strings or Map keys from key bytes cost 2-5x more for keys longer than a few bytes.
 */
import { SlotPool } from './value-store.js';

/** Doubly linked list over slot numbers in two Int32Arrays; -1 ends it. */
class SlotList {
  readonly next: Int32Array;
  readonly prev: Int32Array;
  head = -1;
  tail = -1;

  constructor(capacity: number) {
    this.next = new Int32Array(capacity).fill(-1);
    this.prev = new Int32Array(capacity).fill(-1);
  }

  append(slot: number): void {
    this.prev[slot] = this.tail;
    this.next[slot] = -1;
    if (this.tail >= 0) this.next[this.tail] = slot;
    else this.head = slot;
    this.tail = slot;
  }

  unlink(slot: number): void {
    const p = this.prev[slot];
    const n = this.next[slot];
    if (p >= 0) this.next[p] = n;
    else this.head = n;
    if (n >= 0) this.prev[n] = p;
    else this.tail = p;
    this.next[slot] = -1;
    this.prev[slot] = -1;
  }
}

/** murmur3 (32-bit) of `size` bytes at `bytes[off..]`: one multiply-rotate round per 4 bytes. */
export function hashBytes(bytes: Uint8Array, off: number, size: number): number {
  let h = size;
  let i = 0;
  for (; i + 4 <= size; i += 4) {
    const o = off + i;
    let k = bytes[o] | (bytes[o + 1] << 8) | (bytes[o + 2] << 16) | (bytes[o + 3] << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    h ^= k;
    h = (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) | 0;
  }
  if (i < size) {
    let k = 0;
    for (let shift = 0; i < size; i++, shift += 8) k |= bytes[off + i] << shift;
    k = Math.imul(k, 0xcc9e2d51);
    h ^= Math.imul((k << 15) | (k >>> 17), 0x1b873593);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export class HashIndex {
  /** Head slot of each bucket's chain, or -1; twice as many buckets as slots keeps chains short. */
  private readonly buckets: Int32Array;
  private readonly bucketMask: number;
  /** Next slot in the same bucket, or -1. */
  private readonly chain: Int32Array;
  private readonly hashOf: Uint32Array;
  private readonly keyBytes: Uint8Array;
  private readonly pool: SlotPool;
  /** Insertion order: what get_next_key walks (the kernel walks buckets; any stable order will do). */
  private readonly order: SlotList;
  /** Least recently used first; only for LRU maps. */
  private readonly recency: SlotList | undefined;

  constructor(
    readonly capacity: number,
    readonly keySize: number,
    lru: boolean,
  ) {
    let buckets = 2;
    while (buckets < 2 * capacity) buckets *= 2;
    this.buckets = new Int32Array(buckets).fill(-1);
    this.bucketMask = buckets - 1;
    this.chain = new Int32Array(capacity).fill(-1);
    this.hashOf = new Uint32Array(capacity);
    this.pool = new SlotPool(capacity);
    this.keyBytes = new Uint8Array(capacity * keySize);
    this.order = new SlotList(capacity);
    this.recency = lru ? new SlotList(capacity) : undefined;
  }

  get size(): number {
    return this.pool.used;
  }

  hash(bytes: Uint8Array, off: number): number {
    return hashBytes(bytes, off, this.keySize);
  }

  /** Slot of the key at `bytes[off..]` whose hash is `hash`, or -1. */
  find(hash: number, bytes: Uint8Array, off: number): number {
    const ks = this.keySize;
    const keys = this.keyBytes;
    for (let slot = this.buckets[hash & this.bucketMask]; slot >= 0; slot = this.chain[slot]) {
      if (this.hashOf[slot] !== hash) continue;
      const base = slot * ks;
      let i = 0;
      while (i < ks && keys[base + i] === bytes[off + i]) i++;
      if (i === ks) return slot;
    }
    return -1;
  }

  /** Inserts a key that is not present; returns its slot, or -1 when every slot is in use. */
  insert(hash: number, bytes: Uint8Array, off: number): number {
    const slot = this.pool.take();
    if (slot < 0) return -1;
    const b = hash & this.bucketMask;
    this.chain[slot] = this.buckets[b];
    this.buckets[b] = slot;
    this.hashOf[slot] = hash;
    const ks = this.keySize;
    for (let i = 0; i < ks; i++) this.keyBytes[slot * ks + i] = bytes[off + i];
    this.order.append(slot);
    this.recency?.append(slot);
    return slot;
  }

  remove(slot: number): void {
    const b = this.hashOf[slot] & this.bucketMask;
    if (this.buckets[b] === slot) this.buckets[b] = this.chain[slot];
    else {
      let p = this.buckets[b];
      while (this.chain[p] !== slot) p = this.chain[p];
      this.chain[p] = this.chain[slot];
    }
    this.chain[slot] = -1;
    this.order.unlink(slot);
    this.recency?.unlink(slot);
    this.pool.give(slot);
  }

  /** Slot of the key at `bytes[off..]`, or -1. */
  lookup(bytes: Uint8Array, off: number): number {
    return this.find(this.hash(bytes, off), bytes, off);
  }

  /** Marks the slot most recently used (LRU maps). */
  touch(slot: number): void {
    const r = this.recency;
    if (r !== undefined && r.tail !== slot) {
      r.unlink(slot);
      r.append(slot);
    }
  }

  /** The least recently used slot (LRU maps), or -1 when empty. */
  leastRecent(): number {
    return this.recency?.head ?? -1;
  }

  /** Slots from least to most recently used (insertion order when not LRU). */
  byRecency(): number[] {
    const list = this.recency ?? this.order;
    const out: number[] = [];
    for (let s = list.head; s >= 0; s = list.next[s]) out.push(s);
    return out;
  }

  first(): number {
    return this.order.head;
  }

  after(slot: number): number {
    return this.order.next[slot];
  }

  key(slot: number): Uint8Array {
    return this.keyBytes.slice(slot * this.keySize, (slot + 1) * this.keySize);
  }

  /** get_next_key over slots: the slot after the key's, or the first slot when the key is absent. */
  nextSlot(key: Uint8Array | null): number {
    const slot = key === null ? -1 : this.lookup(key, 0);
    return slot < 0 ? this.first() : this.after(slot);
  }
}
