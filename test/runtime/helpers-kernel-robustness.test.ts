/**
 * Every kernel helper given arbitrary register values ends in a result or a typed trap, never a
 * host exception, and never writes guest memory outside what it may write.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BpfError, HelperError } from '../../src/errors.js';
import { PacketBuffer } from '../../src/runtime/contexts/packet.js';
import { KernelHelperId } from '../../src/runtime/helpers/ids.js';
import { SKB_HEADROOM, XDP_HEADROOM } from '../../src/runtime/helpers/packet-context.js';
import { Slot, slotBase } from '../../src/vm/memory/layout.js';
import { HEAP, kernel } from './helpers-kernel-setup.js';

const IDS = Object.values(KernelHelperId);

/** Register values near every interesting address, plus anything at all. */
const value = fc.oneof(
  fc.constantFrom(0n, 1n, 8n, 0xffffffffn, 2n ** 63n, 2n ** 64n - 1n, BigInt(1 << 23)),
  fc
    .tuple(
      fc.constantFrom(Slot.HEAP, Slot.STACK, Slot.PACKET, Slot.CODE, 9, 10, 15),
      fc.integer({ min: -64, max: 70000 }),
    )
    .map(([slot, off]) => BigInt.asUintN(64, BigInt(slotBase(slot) + off))),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  fc.integer({ min: -600, max: 600 }).map((n) => BigInt.asUintN(64, BigInt(n))),
);

describe('kernel helpers under arbitrary arguments', () => {
  it.each(['skb', 'xdp'] as const)('end in a result or a typed trap (%s packet)', (kind) => {
    fc.assert(
      fc.property(fc.constantFrom(...IDS), fc.array(value, { minLength: 5, maxLength: 5 }), (id, args) => {
        const k = kernel({}, [
          { name: 'm', type: 'array', keySize: 4, valueSize: 8, maxEntries: 4, flags: 0 },
        ]);
        k.runtime.packet = new PacketBuffer(k.memory, new Uint8Array(64).fill(7), {
          kind,
          headroom: kind === 'xdp' ? XDP_HEADROOM : SKB_HEADROOM,
          writable: true,
        });
        const kernelBefore = k.memory.read(k.runtime.kernel.base, 4096);
        const program = k.program(`call ${id}\nexit`);
        k.runtime.beginRun();
        try {
          const { r0 } = program.run({ args, maxInstructions: 10_000 });
          expect(r0).toBeTypeOf('bigint');
        } catch (e) {
          expect(e).toBeInstanceOf(BpfError);
          // A HelperError wrapping a host exception would be a bug in a helper.
          if (e instanceof HelperError)
            expect(e.cause === undefined || e.cause instanceof BpfError).toBe(true);
        }
        // A byte loop: toEqual on 4 KiB arrays costs more than the run itself.
        const after = k.memory.read(k.runtime.kernel.base, 4096);
        expect(after.every((b, i) => b === kernelBefore[i])).toBe(true);
      }),
      { numRuns: 600 },
    );
  });

  it('leave the heap untouched when they fail before writing', () => {
    const k = kernel();
    k.put(0, new Uint8Array(32).fill(0x5a));
    // bpf_get_current_comm into a buffer running past the heap: a fault, nothing written.
    expect(() => k.run(`lddw %r1, ${HEAP + (1 << 16) - 8}\nmov %r2, 16\ncall 16\nexit`)).toThrow(BpfError);
    expect(k.heap(0, 32)).toEqual(new Uint8Array(32).fill(0x5a));
  });
});
