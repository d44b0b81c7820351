/**
 * The key side of hash-like maps: key → slot, a preallocated pool of slots, the keys' bytes (for
 * get_next_key), iteration order, and an optional recency list for LRU maps. Values live elsewhere
 * (a ValueStore in guest memory, or inner-map references), so HASH and HASH_OF_MAPS share this.
 *
 * It is a hash table over preallocated typed arrays: a lookup hashes the key bytes where they are
 * (guest memory) and compares them, as int32 words, with the stored keys, allocating nothing —
 * building JS strings or Map keys from key bytes cost 2-5x more for keys longer than a few bytes.
 * 4- and 8-byte keys are probed linearly in one flat table; other sizes are chained like the
 * kernel's htab. Given a GuestMemory, the flat table lives in a reserved block of its linear memory
 * (outside every region), where JIT code probes it in place (see lookup-table.ts): there is one copy
 * of the index, so host and program updates need no syncing.
 */
import { HASH_FOLD, HASH_MUL1, HASH_MUL2, HASH_XSHIFT } from '../../vm/map-lookup.js';
import type { GuestMemory } from '../../vm/memory/guest-memory.js';
import { SlotPool } from './value-store.js';

/**
 * Where the open-addressing table's words are: a JS array, or a GuestMemory, whose `i32` view is
 * replaced when the memory grows (so it is read afresh by every operation).
 */
interface WordStore {
  readonly i32: Int32Array;
}

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

/** One key word of murmur3's body: what it xors into the state, before the state's own round. */
function mixK(k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  return Math.imul((k << 15) | (k >>> 17), 0x1b873593);
}

/** murmur3's body round for a full 4-byte block. */
function mixH(h: number, k: number): number {
  h ^= mixK(k);
  return (Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64) | 0;
}

/** murmur3's finalizer, as an unsigned 32-bit hash. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The little-endian int32 of 4 bytes at `bytes[o..]` (any alignment). */
function word(bytes: Uint8Array, o: number): number {
  return bytes[o] | (bytes[o + 1] << 8) | (bytes[o + 2] << 16) | (bytes[o + 3] << 24);
}

/** The last `n` (1..3) bytes of a key as a zero-padded little-endian word, murmur3's tail block. */
function tailWord(bytes: Uint8Array, o: number, n: number): number {
  let k = bytes[o];
  if (n > 1) k |= bytes[o + 1] << 8;
  if (n > 2) k |= bytes[o + 2] << 16;
  return k;
}

/**
 * The home entry of a 4- or 8-byte key (little-endian words k0, k1; k1 unused for 4 bytes) in a
 * table of 2^(32 − shift) entries: multiply, xor-shift, multiply by 2^32/φ and keep the top bits (an
 * 8-byte key first folds to k0 ^ k1 · C). Two multiplies from key to probe, where murmur3's
 * finalizer took three and its body rounds two more per word; one multiply alone (Fibonacci hashing)
 * clusters keys with many common strides (multiples of 987, 1597, … : k · φ close to a fraction with
 * a small denominator), which the xor-shift between the multiplies breaks up. Probe lengths per key
 * pattern: test/runtime/hash-index.test.ts. JIT code computes the same in wasm (codegen's `probe`).
 */
export function probedHome(keySize: 4 | 8, k0: number, k1: number, shift: number): number {
  let x = Math.imul(keySize === 4 ? k0 : k0 ^ Math.imul(k1, HASH_FOLD), HASH_MUL1);
  x ^= x >>> HASH_XSHIFT;
  return Math.imul(x, HASH_MUL2) >>> shift;
}

/** murmur3 (32-bit) of `size` bytes at `bytes[off..]`: one multiply-rotate round per 4 bytes. */
export function hashBytes(bytes: Uint8Array, off: number, size: number): number {
  let h = size;
  let i = 0;
  for (; i + 4 <= size; i += 4) h = mixH(h, word(bytes, off + i));
  if (i < size) h ^= mixK(tailWord(bytes, off + i, size - i));
  return fmix(h);
}

/**
 * The largest open table (bytes) kept at most a quarter full: ≥ 4 entries per key (rounded up to a
 * power of two) probe ≈1.2 entries per hit and ≈1.4 per miss with a random-like hash, where half
 * full probes ≈1.5 and ≈2.5, and the JIT's two-entry probe (codegen's `probe`) then decides 95% of
 * lookups instead of 85% (bench/kernels/maplookup.c ~10% faster). That costs 32 bytes per max_entries
 * for u32 keys and 48 for u64 keys (at most twice that just past a power of two), about what the
 * kernel's htab spends per element on bucket and element headers; a larger table — u32 keys past
 * 32,768 max_entries, u64 past 16,384 — stays at most half full, so the quarter-full layout costs a
 * map at most 512 KiB more than the half-full one.
 */
export const QUARTER_FULL_BYTES = 1 << 20;

export class HashIndex {
  /**
   * Keys of 4 and 8 bytes (u32 and u64: the most common) live in an open-addressing table of entries
   * (key words, slot tag: see tagBase), 0 marking a free entry, probed linearly at most a quarter full (half full
   * past QUARTER_FULL_BYTES): a lookup reads one cache line, where a chain costs a bucket read, then a
   * key read per link. Others are chained.
   */
  private readonly store: WordStore;
  /** Index of the table's first word in `store.i32`. */
  private readonly openAt: number;
  /** The table is in a GuestMemory (see `openTable`). */
  private readonly inMemory: boolean;
  /** Whether keys are in the open table (else chained), and the int32s per entry there: key words + 1. */
  private readonly probed: boolean;
  private readonly stride: number;
  /**
   * What an open-table entry holds for slot s: tagBase + s · tagStride, never 0 (0 marks a free
   * entry). slot + 1 by default; a hash map's value address (see HashMap), so inline JIT lookups
   * return the entry's word as the result.
   */
  private readonly tagBase: number;
  private readonly tagStride: number;
  /** Chained keys: head slot of each bucket's chain, or -1. */
  private readonly buckets: Int32Array;
  /**
   * Bucket (or table entry) mask: at least twice as many as slots (four times for an open table up
   * to QUARTER_FULL_BYTES) keeps chains and probes short.
   */
  private readonly bucketMask: number;
  /** 32 − log2(buckets): `probedHome` keeps the top bits of the product. */
  private readonly shift: number;
  /** Chained keys: next slot in the same bucket, or -1. */
  private readonly chain: Int32Array;
  private readonly hashOf: Uint32Array;
  /**
   * The stored keys as little-endian int32 words, `keyWords` per slot, the last one zero-padded: a
   * key compares in ⌈size/4⌉ integer comparisons.
   */
  private readonly words: Int32Array;
  private readonly keyWords: number;
  /** Full 4-byte words of a key, and the bytes of its partial last word (0..3). */
  private readonly fullWords: number;
  private readonly tailBytes: number;
  private readonly pool: SlotPool;
  /** Insertion order: what get_next_key walks (the kernel walks buckets; any stable order will do). */
  private readonly order: SlotList;
  /** Least recently used first; only for LRU maps. */
  private readonly recency: SlotList | undefined;

  constructor(
    readonly capacity: number,
    readonly keySize: number,
    lru: boolean,
    memory?: GuestMemory,
    tags: { readonly base: number; readonly stride: number } = { base: 1, stride: 1 },
  ) {
    if (tags.base <= 0 || tags.stride <= 0 || tags.base + (capacity - 1) * tags.stride > 0x7fffffff) {
      throw new RangeError('HashIndex: tags must be positive int32 values');
    }
    this.tagBase = tags.base;
    this.tagStride = tags.stride;
    this.probed = keySize === 4 || keySize === 8;
    this.stride = ((keySize + 3) >>> 2) + 1;
    const chained = !this.probed;
    let buckets = 2;
    while (buckets < 2 * capacity) buckets *= 2;
    // An open table's linear memory share stays as below (`fits`): a quarter-full one that would
    // leave it is kept half full instead.
    const fits = (entries: number) =>
      memory === undefined || 4 * this.stride * entries <= memory.freeBytes / 4;
    const quarter = 2 * buckets;
    if (this.probed && 4 * this.stride * quarter <= QUARTER_FULL_BYTES && fits(quarter)) buckets = quarter;
    this.bucketMask = buckets - 1;
    this.shift = 32 - Math.log2(buckets);
    // Empty arrays for the other kind keep one object shape (monomorphic property loads).
    // An open table has one entry more than `buckets`: a copy of entry 0 (see `mirror`).
    const words = chained ? 0 : this.stride * (buckets + 1);
    // In the guest's linear memory only while it takes a small part of what the memory limit leaves
    // for regions; a larger table stays a JS array (lookups then call the helper: slower, same result).
    if (memory !== undefined && words > 0 && fits(buckets)) {
      this.openAt = memory.reserve(4 * words) >>> 2;
      this.store = memory;
      this.inMemory = true;
    } else {
      this.inMemory = false;
      this.openAt = 0;
      this.store = { i32: new Int32Array(words) };
    }
    this.buckets = new Int32Array(chained ? buckets : 0).fill(-1);
    this.chain = new Int32Array(chained ? capacity : 0).fill(-1);
    this.hashOf = new Uint32Array(capacity);
    this.pool = new SlotPool(capacity);
    this.fullWords = keySize >>> 2;
    this.tailBytes = keySize & 3;
    this.keyWords = (keySize + 3) >>> 2;
    this.words = new Int32Array(capacity * this.keyWords);
    this.order = new SlotList(capacity);
    this.recency = lru ? new SlotList(capacity) : undefined;
  }

  get size(): number {
    return this.pool.used;
  }

  /** Entries of the open table, or buckets of the chains: a power of two. */
  get entries(): number {
    return this.bucketMask + 1;
  }

  /**
   * Byte offset of the open-addressing table in the GuestMemory given to the constructor, its entry
   * mask and hash shift (`probedHome`); undefined when keys are chained or the table is a JS array.
   */
  get openTable(): { byteOffset: number; mask: number; shift: number } | undefined {
    return this.inMemory
      ? { byteOffset: 4 * this.openAt, mask: this.bucketMask, shift: this.shift }
      : undefined;
  }

  /** The key's hash: for 4- and 8-byte keys its home entry in the open table. */
  hash(bytes: Uint8Array, off: number): number {
    const ks = this.keySize;
    if (ks === 4 || ks === 8) {
      return probedHome(ks, word(bytes, off), ks === 8 ? word(bytes, off + 4) : 0, this.shift);
    }
    return hashBytes(bytes, off, ks);
  }

  /** Slot of the key at `bytes[off..]` whose hash is `hash`, or -1. */
  find(hash: number, bytes: Uint8Array, off: number): number {
    const words = this.words;
    if (this.probed) {
      const open = this.store.i32;
      const at = this.openAt;
      const mask = this.bucketMask;
      const k0 = word(bytes, off);
      if (this.keySize === 4) {
        for (let e = hash & mask; ; e = (e + 1) & mask) {
          const b = at + 2 * e;
          const s = open[b + 1];
          if (s === 0) return -1;
          if (open[b] === k0) return this.slotOf(s);
        }
      }
      const k1 = word(bytes, off + 4);
      for (let e = hash & mask; ; e = (e + 1) & mask) {
        const b = at + 3 * e;
        const s = open[b + 2];
        if (s === 0) return -1;
        if (open[b] === k0 && open[b + 1] === k1) return this.slotOf(s);
      }
    }
    const chain = this.chain;
    const hashOf = this.hashOf;
    const kw = this.keyWords;
    const full = this.fullWords;
    const tail = this.tailBytes;
    for (let slot = this.buckets[hash & this.bucketMask]; slot >= 0; slot = chain[slot]) {
      if (hashOf[slot] !== hash) continue;
      const base = slot * kw;
      let j = 0;
      while (j < full && words[base + j] === word(bytes, off + 4 * j)) j++;
      if (j < full) continue;
      if (tail === 0 || words[base + full] === tailWord(bytes, off + 4 * full, tail)) return slot;
    }
    return -1;
  }

  /** Inserts a key that is not present; returns its slot, or -1 when every slot is in use. */
  insert(hash: number, bytes: Uint8Array, off: number): number {
    const slot = this.pool.take();
    if (slot < 0) return -1;
    this.hashOf[slot] = hash;
    const base = slot * this.keyWords;
    const full = this.fullWords;
    for (let j = 0; j < full; j++) this.words[base + j] = word(bytes, off + 4 * j);
    if (this.tailBytes > 0) this.words[base + full] = tailWord(bytes, off + 4 * full, this.tailBytes);
    if (this.probed) {
      const open = this.store.i32;
      const mask = this.bucketMask;
      const st = this.stride;
      let e = hash & mask;
      while (open[this.openAt + st * e + st - 1] !== 0) e = (e + 1) & mask;
      const b = this.openAt + st * e;
      for (let j = 0; j < st - 1; j++) open[b + j] = this.words[base + j];
      open[b + st - 1] = this.tagOf(slot);
      if (e === 0) this.mirror();
    } else {
      const b = hash & this.bucketMask;
      this.chain[slot] = this.buckets[b];
      this.buckets[b] = slot;
    }
    this.order.append(slot);
    this.recency?.append(slot);
    return slot;
  }

  remove(slot: number): void {
    if (this.probed) this.unprobe(slot);
    else {
      const b = this.hashOf[slot] & this.bucketMask;
      if (this.buckets[b] === slot) this.buckets[b] = this.chain[slot];
      else {
        let p = this.buckets[b];
        while (this.chain[p] !== slot) p = this.chain[p];
        this.chain[p] = this.chain[slot];
      }
      this.chain[slot] = -1;
    }
    this.order.unlink(slot);
    this.recency?.unlink(slot);
    this.pool.give(slot);
  }

  /**
   * Removes `slot`'s entry from the open table by backward shift (no tombstones, so probes stay as
   * short as the load allows): each later entry of the run moves into the hole unless its home entry
   * lies cyclically after the hole.
   */
  private unprobe(slot: number): void {
    const open = this.store.i32;
    const at = this.openAt;
    const mask = this.bucketMask;
    const st = this.stride;
    const tag = at + st - 1; // the tag word of an entry, from the entry's first word
    const mine = this.tagOf(slot);
    let hole = this.hashOf[slot] & mask;
    while (open[st * hole + tag] !== mine) hole = (hole + 1) & mask;
    for (let e = (hole + 1) & mask; open[st * e + tag] !== 0; e = (e + 1) & mask) {
      const home = this.hashOf[this.slotOf(open[st * e + tag])] & mask;
      // Distances from home: the entry may move back to the hole if the hole is not before its home.
      if (((e - home) & mask) >= ((e - hole) & mask)) {
        open.copyWithin(at + st * hole, at + st * e, at + st * e + st);
        hole = e;
      }
    }
    open[st * hole + tag] = 0;
    this.mirror();
  }

  /**
   * Copies entry 0 to the entry after the last, so code that probes two entries from any home reads
   * the second at the next address with no wrap (codegen's `probe`); probes here wrap with the mask.
   */
  private mirror(): void {
    const st = this.stride;
    const at = this.openAt;
    this.store.i32.copyWithin(at + st * (this.bucketMask + 1), at, at + st);
  }

  /** The open table's word for `slot` (see tagBase). */
  private tagOf(slot: number): number {
    return this.tagBase + slot * this.tagStride;
  }

  /** The slot whose tag is `tag` (a non-zero word of the open table). */
  private slotOf(tag: number): number {
    return (tag - this.tagBase) / this.tagStride;
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
    const out = new Uint8Array(this.keySize);
    const base = slot * this.keyWords;
    for (let i = 0; i < out.length; i++) out[i] = this.words[base + (i >>> 2)] >>> ((i & 3) * 8);
    return out;
  }

  /** get_next_key over slots: the slot after the key's, or the first slot when the key is absent. */
  nextSlot(key: Uint8Array | null): number {
    const slot = key === null ? -1 : this.lookup(key, 0);
    return slot < 0 ? this.first() : this.after(slot);
  }
}
