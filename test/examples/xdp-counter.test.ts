/**
 * examples/xdp-counter.bpf.c: per-CPU packet/byte counters per verdict, and the UDP port to drop
 * given as a `const volatile` global at load time.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type LoadedObject, loadBpfObject } from '../../src/runtime/loader.js';
import { ArrayMap } from '../../src/runtime/maps/array.js';
import { clangAvailable, compileExample, warnIfMissing } from './build.js';
import { arp, hex, ipv4 } from './packets.js';

warnIfMissing('test/examples/xdp-counter');

const [PASSED, DROPPED, NOT_UDP] = [0, 1, 2];

/** Counter `which` on every CPU as [packets, bytes] (struct totals { u64 packets; u64 bytes; }). */
function perCpu(obj: LoadedObject, which: number): [bigint, bigint][] {
  const values = obj.maps.get('stats', ArrayMap).lookupPerCpu(Uint8Array.of(which, 0, 0, 0)) ?? [];
  return values.map((v) => {
    const view = new DataView(v.buffer, v.byteOffset);
    return [view.getBigUint64(0, true), view.getBigUint64(8, true)];
  });
}

describe.skipIf(!clangAvailable)('examples/xdp-counter.bpf.c', () => {
  let bytes: Uint8Array;
  beforeAll(() => {
    bytes = compileExample('xdp-counter');
  });

  it('drops the default port 53 and passes the rest, counting on the CPU that ran', () => {
    const obj = loadBpfObject(bytes, { cpus: 2 });
    const dns = ipv4({ dport: 53 });
    const https = ipv4({ dport: 443, payload: 100 });
    const tcp = ipv4({ l4: 'tcp', dport: 53 });
    const run = (packet: Uint8Array, cpu: number) => {
      obj.runtime.cpu = cpu;
      return obj.run('xdp_count', { packet: hex(packet) });
    };
    const actions = [run(dns, 0), run(https, 0), run(dns, 1), run(tcp, 1), run(arp(), 0)].map(
      (r) => r.result.kind === 'xdp' && r.result.action,
    );
    expect(actions).toEqual(['DROP', 'PASS', 'DROP', 'PASS', 'PASS']);
    const n = (p: Uint8Array) => BigInt(p.length);
    expect(perCpu(obj, DROPPED)).toEqual([
      [1n, n(dns)],
      [1n, n(dns)],
    ]);
    expect(perCpu(obj, PASSED)).toEqual([
      [1n, n(https)],
      [0n, 0n],
    ]);
    expect(perCpu(obj, NOT_UDP)).toEqual([
      [1n, n(arp())],
      [1n, n(tcp)],
    ]);
  });

  it('blocked_port set at load time (skel->rodata style) changes which port is dropped', () => {
    const obj = loadBpfObject(bytes, { globals: { blocked_port: 443 } });
    const action = (dport: number) => {
      const { result } = obj.run('xdp_count', { packet: hex(ipv4({ dport })) });
      return result.kind === 'xdp' ? result.action : result.kind;
    };
    expect([action(53), action(443), action(4430)]).toEqual(['PASS', 'DROP', 'PASS']);
    expect(perCpu(obj, DROPPED).map(([packets]) => packets)).toEqual([1n]);
  });

  it('a truncated IPv4 header is not UDP; the packet is never modified', () => {
    const obj = loadBpfObject(bytes);
    const short = ipv4({ dport: 53 }).subarray(0, 30);
    const { result } = obj.run('xdp_count', { packet: hex(short) });
    expect(result).toMatchObject({ kind: 'xdp', action: 'PASS', packet: short });
    expect(perCpu(obj, NOT_UDP)).toEqual([[1n, 30n]]);
  });
});
