/**
 * examples/tc-rewrite.bpf.c: TTL set with bpf_skb_store_bytes, IP checksum patched with
 * bpf_l3_csum_replace; the result must be a valid header equal to one built with the new TTL.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type LoadedObject, loadBpfObject } from '../../src/runtime/loader.js';
import { ArrayMap } from '../../src/runtime/maps/array.js';
import { clangAvailable, compileExample, warnIfMissing } from './build.js';
import { arp, hex, internetChecksum, ipv4 } from './packets.js';

warnIfMissing('test/examples/tc-rewrite');

function rewritten(obj: LoadedObject): bigint {
  const v = obj.maps.get('rewritten', ArrayMap).lookup(new Uint8Array(4)) ?? new Uint8Array(8);
  return new DataView(v.buffer, v.byteOffset).getBigUint64(0, true);
}

function runTc(obj: LoadedObject, packet: Uint8Array) {
  const { result } = obj.run('set_ttl', { packet: hex(packet) });
  if (result.kind !== 'skb') throw new Error(`not an skb result: ${result.kind}`);
  return result;
}

describe.skipIf(!clangAvailable)('examples/tc-rewrite.bpf.c', () => {
  let bytes: Uint8Array;
  beforeAll(() => {
    bytes = compileExample('tc-rewrite');
  });

  it('rewrites the TTL to 64 with a correct incremental checksum, for any starting TTL', () => {
    const obj = loadBpfObject(bytes);
    for (const ttl of [1, 63, 65, 128, 255]) {
      const result = runTc(obj, ipv4({ l4: 'tcp', ttl }));
      expect(result.verdict).toBe('OK');
      // Byte-identical to the packet built with TTL 64 from scratch (checksum computed in full).
      expect(hex(result.packet)).toBe(hex(ipv4({ l4: 'tcp', ttl: 64 })));
      expect(internetChecksum(result.packet.subarray(14, 34))).toBe(0);
    }
    expect(rewritten(obj)).toBe(5n);
  });

  it('leaves packets alone when the TTL is already right or the frame is not IPv4', () => {
    const obj = loadBpfObject(bytes);
    for (const packet of [ipv4({ ttl: 64 }), arp(), ipv4().subarray(0, 20)]) {
      const result = runTc(obj, packet);
      expect(result.verdict).toBe('OK');
      expect(result.packet).toEqual(packet);
    }
    expect(rewritten(obj)).toBe(0n);
  });

  it('new_ttl is a load-time parameter', () => {
    const obj = loadBpfObject(bytes, { globals: { new_ttl: 8 } });
    const result = runTc(obj, ipv4({ l4: 'udp', ttl: 200, dport: 9 }));
    expect(result.packet[22]).toBe(8);
    expect(hex(result.packet)).toBe(hex(ipv4({ l4: 'udp', ttl: 8, dport: 9 })));
  });
});
