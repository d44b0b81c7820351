/**
 * QUEUE (FIFO) and STACK (LIFO), kernel/bpf/queue_stack_maps.c semantics: no keys; push with
 * BPF_EXIST on a full map overwrites the oldest element (for both types), otherwise -E2BIG; pop/peek
 * on an empty map are -ENOENT. Values never leave through pointers, so they stay in host memory.
 * Syscall mapping as in the kernel: lookup = peek, update = push, lookupAndDelete = pop.
 */
import { UsageError } from '../../errors.js';
import { BPF_EXIST, BPF_F_NO_PREALLOC, BPF_NOEXIST, E2BIG, EINVAL, ENOENT } from './constants.js';
import { BpfMap, type MapEnv, requireDef, requireValueSize } from './map.js';
import type { MapDefinition } from './map-def.js';

export class QueueStackMap extends BpfMap {
  readonly lifo: boolean;
  private readonly data: Uint8Array;
  /** Index of the oldest element and the element count; the ring holds max_entries values. */
  private tail = 0;
  private count = 0;

  constructor(def: MapDefinition, env: MapEnv) {
    super(def, env);
    requireDef(def, def.keySize === 0, 'queue/stack key_size must be 0');
    requireValueSize(def);
    requireDef(def, Number.isInteger(def.maxEntries) && def.maxEntries > 0, 'max_entries must be positive');
    requireDef(
      def,
      (def.flags & BPF_F_NO_PREALLOC) === 0,
      'queue/stack maps do not support BPF_F_NO_PREALLOC',
    );
    this.lifo = def.type === 'stack';
    this.data = new Uint8Array(def.maxEntries * def.valueSize);
  }

  get size(): number {
    return this.count;
  }

  /** bpf_map_push_elem: 0, -EINVAL for bad flags, -E2BIG when full without BPF_EXIST. */
  push(src: Uint8Array, off: number, flags: number): number {
    if (flags < 0 || flags > BPF_EXIST || flags & BPF_NOEXIST) return -EINVAL;
    const n = this.def.maxEntries;
    if (this.count === n) {
      if (flags !== BPF_EXIST) return -E2BIG;
      this.tail = (this.tail + 1) % n;
      this.count--;
    }
    const slot = (this.tail + this.count) % n;
    const vs = this.def.valueSize;
    this.data.set(src.subarray(off, off + vs), slot * vs);
    this.count++;
    return 0;
  }

  /** bpf_map_peek_elem / bpf_map_pop_elem into `dst[off..]`: 0 or -ENOENT when empty. */
  take(dst: Uint8Array, off: number, remove: boolean): number {
    if (this.count === 0) return -ENOENT;
    const n = this.def.maxEntries;
    const slot = this.lifo ? (this.tail + this.count - 1) % n : this.tail;
    const vs = this.def.valueSize;
    dst.set(this.data.subarray(slot * vs, slot * vs + vs), off);
    if (remove) {
      this.count--;
      if (!this.lifo) this.tail = (this.tail + 1) % n;
    }
    return 0;
  }

  private noKey(key: Uint8Array | null): void {
    if (key !== null && key.length !== 0)
      throw new UsageError(`map "${this.name}": ${this.type} maps have no keys`);
  }

  /** Peek. */
  lookup(key: Uint8Array = new Uint8Array(0)): Uint8Array | undefined {
    this.noKey(key);
    const out = new Uint8Array(this.def.valueSize);
    return this.take(out, 0, false) === 0 ? out : undefined;
  }

  /** BPF_MAP_LOOKUP_AND_DELETE_ELEM: pop. */
  lookupAndDelete(): Uint8Array | undefined {
    const out = new Uint8Array(this.def.valueSize);
    return this.take(out, 0, true) === 0 ? out : undefined;
  }

  /** Push. */
  update(key: Uint8Array, value: Uint8Array, flags = 0): number {
    this.noKey(key);
    this.checkSize('value', value, this.def.valueSize);
    return this.push(value, 0, flags);
  }

  delete(key: Uint8Array): number {
    this.noKey(key);
    return -EINVAL;
  }

  /** Queue and stack maps cannot be iterated (-EINVAL in the kernel). */
  nextKey(key: Uint8Array | null): Uint8Array | undefined {
    this.noKey(key);
    return undefined;
  }

  /** Elements from the next one popped to the last, without removing them. */
  values(): Uint8Array[] {
    const out: Uint8Array[] = [];
    const n = this.def.maxEntries;
    const vs = this.def.valueSize;
    for (let i = 0; i < this.count; i++) {
      const slot = this.lifo ? (this.tail + this.count - 1 - i) % n : (this.tail + i) % n;
      out.push(this.data.slice(slot * vs, slot * vs + vs));
    }
    return out;
  }

  override entries(): { key: Uint8Array; value: Uint8Array }[] {
    return this.values().map((value) => ({ key: new Uint8Array(0), value }));
  }
}
