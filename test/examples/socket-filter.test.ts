/** examples/socket-filter.bpf.c: IPv4 TCP kept whole (r0 = skb->len), the rest dropped (r0 = 0). */
import { beforeAll, describe, expect, it } from 'vitest';
import { type LoadedObject, loadBpfObject } from '../../src/runtime/loader.js';
import { ArrayMap } from '../../src/runtime/maps/array.js';
import { clangAvailable, compileExample, warnIfMissing } from './build.js';
import { arp, hex, ipv4 } from './packets.js';

warnIfMissing('test/examples/socket-filter');

function outcome(obj: LoadedObject, which: number): bigint {
  const v = obj.maps.get('outcomes', ArrayMap).lookup(Uint8Array.of(which, 0, 0, 0)) ?? new Uint8Array(8);
  return new DataView(v.buffer, v.byteOffset).getBigUint64(0, true);
}

describe.skipIf(!clangAvailable)('examples/socket-filter.bpf.c', () => {
  let bytes: Uint8Array;
  beforeAll(() => {
    bytes = compileExample('socket-filter');
  });

  it('keeps TCP packets whole and drops UDP, ICMP, ARP and runts', () => {
    const obj = loadBpfObject(bytes);
    const packets = {
      tcp: ipv4({ l4: 'tcp', payload: 40 }),
      udp: ipv4({ l4: 'udp' }),
      icmp: ipv4({ l4: 'icmp' }),
      arp: arp(),
      runt: ipv4({ l4: 'tcp' }).subarray(0, 20), // ends before the IP protocol byte
      tcp2: ipv4({ l4: 'tcp', payload: 0 }),
    };
    const kept = Object.entries(packets).map(([name, p]) => {
      const { r0, result } = obj.run('keep_tcp', { packet: hex(p) });
      return [name, r0, result.kind === 'skb' ? result.keep : undefined];
    });
    expect(kept).toEqual([
      ['tcp', 94n, 94],
      ['udp', 0n, 0],
      ['icmp', 0n, 0],
      ['arp', 0n, 0],
      ['runt', 0n, 0],
      ['tcp2', 54n, 54],
    ]);
    expect([outcome(obj, 0), outcome(obj, 1)]).toEqual([2n, 4n]);
  });
});
