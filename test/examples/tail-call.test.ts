/**
 * examples/tail-call.bpf.c: a dispatcher tail-calls per IP protocol through a PROG_ARRAY filled in
 * `.maps`; an empty slot falls through to the dispatcher's own verdict.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type LoadedObject, loadBpfObject } from '../../src/runtime/loader.js';
import { HashMap } from '../../src/runtime/maps/hash.js';
import { ProgArray } from '../../src/runtime/maps/prog-array.js';
import { clangAvailable, compileExample, warnIfMissing } from './build.js';
import { arp, hex, ipv4, type L4 } from './packets.js';

warnIfMissing('test/examples/tail-call');

/** `handled` as { protocol (0 = fell through): count }. */
function handled(obj: LoadedObject): Record<number, bigint> {
  const out: Record<number, bigint> = {};
  for (const { key, value } of obj.maps.get('handled', HashMap).entries()) {
    const v = value as Uint8Array;
    out[key[0]] = new DataView(v.buffer, v.byteOffset).getBigUint64(0, true);
  }
  return out;
}

describe.skipIf(!clangAvailable)('examples/tail-call.bpf.c', () => {
  let bytes: Uint8Array;
  beforeAll(() => {
    bytes = compileExample('tail-call');
  });

  it('the PROG_ARRAY holds the two statically assigned programs', () => {
    const obj = loadBpfObject(bytes);
    const slots = obj.maps.get('by_protocol', ProgArray);
    expect([1, 6, 17].map((i) => slots.lookup(Uint8Array.of(i, 0, 0, 0)) !== undefined)).toEqual([
      true,
      false,
      true,
    ]);
  });

  it('ICMP and UDP run their handler; TCP (no slot) and ARP (not IPv4) stay in the dispatcher', () => {
    const obj = loadBpfObject(bytes);
    const run = (l4: L4) => obj.run('dispatch', { packet: hex(ipv4({ l4 })) });
    const results = [run('icmp'), run('udp'), run('tcp'), run('udp'), run('tcp'), run('tcp')].map(
      (r) => r.result.kind === 'xdp' && r.result.action,
    );
    expect(results).toEqual(['DROP', 'TX', 'PASS', 'TX', 'PASS', 'PASS']);
    const other = obj.run('dispatch', { packet: hex(arp()) });
    expect(other.result).toMatchObject({ action: 'PASS' });
    expect(handled(obj)).toEqual({ 0: 3n, 1: 1n, 17: 2n });
  });

  it('the host can fill the missing slot between runs', () => {
    const obj = loadBpfObject(bytes);
    const slots = obj.maps.get('by_protocol', ProgArray);
    const icmp = obj.program('handle_icmp').vm;
    expect(slots.set(6, icmp)).toBe(0);
    const { result } = obj.run('dispatch', { packet: hex(ipv4({ l4: 'tcp' })) });
    expect(result).toMatchObject({ action: 'DROP' });
    // The ICMP handler counts under its own protocol, whatever packet it was given.
    expect(handled(obj)).toEqual({ 1: 1n });
  });
});
