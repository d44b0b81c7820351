/**
 * The key side of hash-like maps: key → slot, a preallocated pool of slots, the keys' bytes (for
 * get_next_key), iteration order, and an optional recency list for LRU maps. Values live elsewhere
 * (a ValueStore in guest memory, or inner-map references), so HASH and HASH_OF_MAPS share this.
 */
import { keyOf } from './map.js';
import { SlotPool } from './value-store.js';

export type HashKey = number | string;

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

export class HashIndex {
  private readonly slotOf = new Map<HashKey, number>();
  private readonly hashOf: HashKey[];
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
    this.pool = new SlotPool(capacity);
    this.hashOf = new Array<HashKey>(capacity).fill(0);
    this.keyBytes = new Uint8Array(capacity * keySize);
    this.order = new SlotList(capacity);
    this.recency = lru ? new SlotList(capacity) : undefined;
  }

  get size(): number {
    return this.pool.used;
  }

  hash(bytes: Uint8Array, off: number): HashKey {
    return keyOf(bytes, off, this.keySize);
  }

  /** Slot of the key, or -1. */
  find(hash: HashKey): number {
    return this.slotOf.get(hash) ?? -1;
  }

  /** Inserts a key that is not present; returns its slot, or -1 when every slot is in use. */
  insert(hash: HashKey, bytes: Uint8Array, off: number): number {
    const slot = this.pool.take();
    if (slot < 0) return -1;
    this.slotOf.set(hash, slot);
    this.hashOf[slot] = hash;
    this.keyBytes.set(bytes.subarray(off, off + this.keySize), slot * this.keySize);
    this.order.append(slot);
    this.recency?.append(slot);
    return slot;
  }

  remove(slot: number): void {
    this.slotOf.delete(this.hashOf[slot]);
    this.order.unlink(slot);
    this.recency?.unlink(slot);
    this.pool.give(slot);
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
    const slot = key === null ? -1 : this.find(this.hash(key, 0));
    return slot < 0 ? this.first() : this.after(slot);
  }
}
