/**
 * RINGBUF under random reserve / submit / discard / consume sequences (fast-check): the consumer sees
 * exactly the submitted records, in reservation order, byte for byte — across wraparound — and space
 * accounting follows the kernel's rule (reservation fails iff the unconsumed or uncommitted span would
 * reach the ring size).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BPF_RB_AVAIL_DATA } from '../../src/runtime/maps/constants.js';
import { RingBuf } from '../../src/runtime/maps/ringbuf.js';
import { setup } from './fixtures.js';

type Op =
  | { kind: 'reserve'; size: number }
  | { kind: 'commit'; pick: number; discard: boolean }
  | { kind: 'consume' };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('reserve' as const), size: fc.integer({ min: 0, max: 1500 }) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('commit' as const), pick: fc.nat(), discard: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('consume' as const) }) },
);

interface Rec {
  pos: number;
  len: number;
  data: Uint8Array;
  state: 'busy' | 'submitted' | 'discarded';
  addr: number;
}

describe('RINGBUF model', () => {
  it('delivers exactly the submitted records, in order, intact', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const size = 4096;
        const { maps, memory } = setup([
          { name: 'rb', type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: size },
        ]);
        const rb = maps.get('rb', RingBuf);
        let records: Rec[] = []; // not yet consumed, in position order
        let prod = 0;
        let cons = 0;
        let stamp = 1;
        for (const o of ops) {
          if (o.kind === 'reserve') {
            const len = Math.ceil((o.size + 8) / 8) * 8;
            const pending = records.find((r) => r.state === 'busy')?.pos ?? prod;
            const fits = prod + len - cons <= size - 1 && prod + len - pending <= size - 1;
            const addr = rb.reserve(o.size, 0);
            expect(addr !== 0).toBe(fits);
            if (addr !== 0) {
              const data = new Uint8Array(o.size).map((_, i) => (stamp * 31 + i) & 0xff);
              stamp++;
              memory.write(addr, data);
              records.push({ pos: prod, len, data, state: 'busy', addr });
              prod += len;
            }
          } else if (o.kind === 'commit') {
            const busy = records.filter((r) => r.state === 'busy');
            if (busy.length === 0) continue;
            const r = busy[o.pick % busy.length];
            expect(rb.commit(r.addr, o.discard)).toBe('ok');
            r.state = o.discard ? 'discarded' : 'submitted';
          } else {
            const firstBusy = records.findIndex((r) => r.state === 'busy');
            const done = firstBusy < 0 ? records : records.slice(0, firstBusy);
            expect(rb.consume()).toEqual(done.filter((r) => r.state === 'submitted').map((r) => r.data));
            for (const r of done) cons += r.len;
            records = records.slice(done.length);
          }
          expect(rb.query(BPF_RB_AVAIL_DATA)).toBe(prod - cons);
        }
      }),
      { numRuns: 300 },
    );
  });
});
