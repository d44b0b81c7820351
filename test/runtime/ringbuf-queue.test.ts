/** RINGBUF and QUEUE/STACK: capacity, record headers, wraparound, discard, order and overwrite. */
import { describe, expect, it } from 'vitest';
import {
  BPF_EXIST,
  BPF_F_NO_PREALLOC,
  BPF_NOEXIST,
  BPF_RB_AVAIL_DATA,
  BPF_RB_CONS_POS,
  BPF_RB_PROD_POS,
  BPF_RB_RING_SIZE,
  BPF_RINGBUF_BUSY_BIT,
  BPF_RINGBUF_DISCARD_BIT,
  E2BIG,
  EAGAIN,
  EINVAL,
  ENOENT,
  ENOTSUPP,
} from '../../src/runtime/maps/constants.js';
import { MapDefinitionError } from '../../src/runtime/maps/errors.js';
import { QueueStackMap } from '../../src/runtime/maps/queue-stack.js';
import { RingBuf } from '../../src/runtime/maps/ringbuf.js';
import { bytes, setup } from './fixtures.js';

const ring = (size = 4096) => {
  const { maps, memory } = setup([
    { name: 'rb', type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: size },
  ]);
  return { rb: maps.get('rb', RingBuf), memory };
};

describe('RINGBUF', () => {
  it('reserve returns a pointer after an 8-byte header carrying BUSY until submit', () => {
    const { rb, memory } = ring();
    const p = rb.reserve(5, 0);
    expect(p).not.toBe(0);
    const view = memory.view;
    const hdr = memory.translate(p - 8, 8, 'read');
    expect(view.getUint32(hdr, true)).toBe((5 | BPF_RINGBUF_BUSY_BIT) >>> 0);
    memory.write(p, bytes(1, 2, 3, 4, 5));
    expect(rb.consume()).toEqual([]); // a busy record blocks the consumer
    expect(rb.commit(p, false)).toBe('ok');
    expect(view.getUint32(hdr, true)).toBe(5);
    expect(rb.query(BPF_RB_AVAIL_DATA)).toBe(16); // header + 5 bytes rounded up to 8
    expect(rb.consume()).toEqual([bytes(1, 2, 3, 4, 5)]);
    expect(rb.query(BPF_RB_AVAIL_DATA)).toBe(0);
    expect(rb.query(BPF_RB_CONS_POS)).toBe(16);
    expect(rb.query(BPF_RB_PROD_POS)).toBe(16);
    expect(rb.query(BPF_RB_RING_SIZE)).toBe(4096);
    expect(rb.query(99)).toBe(0);
    expect(rb.commit(p, false)).toBe('bad_pointer'); // already committed
  });

  it('discarded records are skipped; records come out in reservation order', () => {
    const { rb, memory } = ring();
    const a = rb.reserve(8, 0);
    const b = rb.reserve(8, 0);
    const c = rb.reserve(8, 0);
    memory.write(a, new Uint8Array(8).fill(1));
    memory.write(c, new Uint8Array(8).fill(3));
    rb.commit(c, false);
    rb.commit(b, true);
    expect(memory.view.getUint32(memory.translate(b - 8, 4, 'read'), true)).toBe(
      (8 | BPF_RINGBUF_DISCARD_BIT) >>> 0,
    );
    expect(rb.consume()).toEqual([]); // a is still reserved
    rb.commit(a, false);
    expect(rb.consume()).toEqual([new Uint8Array(8).fill(1), new Uint8Array(8).fill(3)]);
  });

  it('enforces capacity: the ring can hold at most size - 8 bytes of records', () => {
    const { rb } = ring();
    expect(rb.reserve(4096, 0)).toBe(0); // header + data exceed the ring
    expect(rb.reserve(4096 - 8, 0)).toBe(0); // exactly the ring size: the kernel needs one byte spare
    expect(rb.reserve(4096 - 16, 0)).not.toBe(0);
    expect(rb.reserve(0, 0)).toBe(0); // full
    expect(rb.output(bytes(1), 0, 1, 0)).toBe(-EAGAIN);
    expect(rb.reserve(8, 1)).toBe(0); // reserve takes no flags
    expect(rb.output(bytes(1), 0, 1, 4)).toBe(-EINVAL);
  });

  it('wraps records around the end of the ring, contiguous for the writer', () => {
    const { rb, memory } = ring();
    for (let round = 0; round < 5; round++) {
      const data = new Uint8Array(1000).map((_, i) => (i + round) & 0xff);
      const p = rb.reserve(data.length, 0);
      expect(p).not.toBe(0);
      memory.write(p, data); // one contiguous write even when the record crosses the end
      rb.commit(p, false);
      expect(rb.consume()).toEqual([data]);
    }
    expect(rb.query(BPF_RB_CONS_POS)).toBe(5 * 1008);
    expect(rb.output(new Uint8Array(3000).fill(7), 0, 3000, 0)).toBe(0);
    expect(rb.consume()).toEqual([new Uint8Array(3000).fill(7)]);
  });

  it('keeps the uncommitted span below the ring size even after consuming', () => {
    const { rb } = ring();
    const a = rb.reserve(2000, 0);
    const b = rb.reserve(2000, 0);
    rb.commit(b, false);
    expect(rb.consume()).toEqual([]);
    expect(rb.reserve(100, 0)).toBe(0); // a still pending: nothing fits
    rb.commit(a, false);
    expect(rb.consume()).toHaveLength(2);
    expect(rb.reserve(100, 0)).not.toBe(0);
  });

  it('refuses bad sizes at creation and syscall element ops with ENOTSUPP', () => {
    expect(() => ring(5000)).toThrow(MapDefinitionError);
    expect(() => ring(2048)).toThrow(/power of two/);
    const { rb } = ring();
    expect(rb.update(new Uint8Array(0), new Uint8Array(0))).toBe(-ENOTSUPP);
    expect(rb.delete(new Uint8Array(0))).toBe(-ENOTSUPP);
    expect(rb.nextKey(null)).toBeUndefined();
  });
});

describe('QUEUE and STACK', () => {
  const make = (type: 'queue' | 'stack') =>
    setup([{ name: 'q', type, keySize: 0, valueSize: 1, maxEntries: 3 }]).maps.get('q', QueueStackMap);
  const push = (m: QueueStackMap, v: number, flags = 0) => m.push(bytes(v), 0, flags);
  const pop = (m: QueueStackMap) => m.lookupAndDelete()?.[0];

  it('QUEUE is FIFO; BPF_EXIST overwrites the oldest when full', () => {
    const q = make('queue');
    expect(pop(q)).toBeUndefined();
    for (const v of [1, 2, 3]) expect(push(q, v)).toBe(0);
    expect(push(q, 4)).toBe(-E2BIG);
    expect(push(q, 4, BPF_EXIST)).toBe(0);
    expect(q.values().map((b) => b[0])).toEqual([2, 3, 4]);
    expect(q.lookup()?.[0]).toBe(2); // peek
    expect([pop(q), pop(q), pop(q), pop(q)]).toEqual([2, 3, 4, undefined]);
    const out = new Uint8Array(1);
    expect(q.take(out, 0, true)).toBe(-ENOENT);
  });

  it('STACK is LIFO; BPF_EXIST also drops the oldest', () => {
    const s = make('stack');
    for (const v of [1, 2, 3]) push(s, v);
    expect(push(s, 4, BPF_EXIST)).toBe(0);
    expect(s.values().map((b) => b[0])).toEqual([4, 3, 2]);
    expect([pop(s), pop(s), pop(s), pop(s)]).toEqual([4, 3, 2, undefined]);
  });

  it('flags other than 0 / BPF_EXIST are EINVAL; delete is EINVAL; keys are refused', () => {
    const q = make('queue');
    expect(push(q, 1, BPF_NOEXIST)).toBe(-EINVAL);
    expect(push(q, 1, 3)).toBe(-EINVAL);
    expect(q.delete(new Uint8Array(0))).toBe(-EINVAL);
    expect(q.update(new Uint8Array(0), bytes(9))).toBe(0);
    expect(q.entries()).toEqual([{ key: new Uint8Array(0), value: bytes(9) }]);
    expect(() => setup([{ name: 'q', type: 'queue', keySize: 4 }])).toThrow(/key_size must be 0/);
    expect(() => setup([{ name: 'q', type: 'stack', keySize: 0, flags: BPF_F_NO_PREALLOC }])).toThrow(
      /PREALLOC/,
    );
  });
});
