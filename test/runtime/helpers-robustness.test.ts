/** Map helpers with arbitrary register values: every call returns a value or stops with a typed trap. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BpfError, Trap } from '../../src/errors.js';
import { MapHelperId } from '../../src/runtime/helpers/maps.js';
import { mapHandle } from '../../src/runtime/maps/host-api.js';
import { Slot, slotBase } from '../../src/vm/memory/layout.js';
import { program, setup } from './fixtures.js';

const DEFS = [
  { name: 'hash', type: 'hash' as const },
  { name: 'arr', type: 'percpu_array' as const },
  { name: 'lru', type: 'lru_hash' as const, maxEntries: 2 },
  { name: 'rb', type: 'ringbuf' as const, keySize: 0, valueSize: 0, maxEntries: 4096 },
  { name: 'q', type: 'stack' as const, keySize: 0 },
  { name: 'ev', type: 'perf_event_array' as const, valueSize: 4, maxEntries: 0 },
  { name: 'jmp', type: 'prog_array' as const, valueSize: 4 },
];

const stackTop = slotBase(Slot.STACK) + 512 * 8;
const register = fc.oneof(
  fc.constantFrom(...DEFS.map((_, i) => BigInt(mapHandle(i)))),
  fc.integer({ min: 1, max: 64 }).map((n) => BigInt(stackTop - 8 * n)),
  fc.integer({ min: 0, max: 5000 }).map((n) => BigInt(slotBase(Slot.MAP_VALUES) + n)),
  fc.constantFrom(0n, 1n, 2n, 3n, 8n, 0xffffffffn, BigInt(mapHandle(DEFS.length))),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
);

describe('map helpers with arbitrary arguments', () => {
  it('never crash: a result or a typed trap', () => {
    const { maps, memory } = setup(DEFS, 2);
    const ids = Object.values(MapHelperId);
    fc.assert(
      fc.property(fc.constantFrom(...ids), fc.array(register, { minLength: 5, maxLength: 5 }), (id, regs) => {
        const text = `${regs.map((r, i) => `lddw %r${i + 1}, ${r}`).join('\n')}\ncall ${id}\nexit`;
        const vm = program(maps, memory, text);
        try {
          const { r0 } = vm.run();
          expect(typeof r0).toBe('bigint');
        } catch (e) {
          expect(e).toBeInstanceOf(BpfError);
          expect(e).toBeInstanceOf(Trap);
        }
      }),
      { numRuns: 1500 },
    );
  });
});
