/**
 * The XDP and tc examples in the running Linux kernel (libbpf load + BPF_PROG_TEST_RUN through
 * kernel-run-object.c) and in bpfbox: the same return values, packets after the run and map contents
 * for the same packets. Skips with a notice where clang, libbpf or bpf() is not available.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBpfObject } from '../../src/runtime/loader.js';
import { ArrayMap } from '../../src/runtime/maps/array.js';
import { HashMap } from '../../src/runtime/maps/hash.js';
import { clangAvailable, compileExample } from './build.js';
import { arp, hex, ipv4 } from './packets.js';

const dir = mkdtempSync(join(tmpdir(), 'bpfbox-examples-kernel-'));

function buildRunner(): { path: string } | { skip: string } {
  if (!clangAvailable) return { skip: 'no clang-19' };
  const path = join(dir, 'kernel-run-object');
  const source = join(import.meta.dirname, 'kernel-run-object.c');
  const cc = spawnSync('cc', ['-O2', '-o', path, source, '-lbpf'], { encoding: 'utf8' });
  if (cc.status !== 0) return { skip: `cannot build the kernel runner: ${cc.stderr || cc.error}` };
  const probe = kernelRun(path, 'socket-filter', 'keep_tcp', [ipv4({ l4: 'tcp' })]);
  if (!probe[0]?.startsWith('ok ')) return { skip: `the kernel does not run the examples here: ${probe[0]}` };
  return { path };
}

/** The runner's output lines for `packets` run through `program` of examples/<name>.bpf.c. */
function kernelRun(runner: string, name: string, program: string, packets: readonly Uint8Array[]): string[] {
  const object = join(dir, `${name}.bpf.o`);
  writeFileSync(object, compileExample(name));
  const input = packets.map((p) => `${hex(p)}\n`).join('');
  const r = spawnSync(runner, [object, program], { input, encoding: 'utf8' });
  return r.stdout.trimEnd().split('\n');
}

/** u64 lanes of per-CPU values added up, as the runner prints them. */
function sumLanes(values: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(values[0].length);
  const sum = new DataView(out.buffer);
  for (const v of values) {
    const view = new DataView(v.buffer, v.byteOffset, v.byteLength);
    for (let lane = 0; lane + 8 <= v.length; lane += 8) {
      sum.setBigUint64(
        lane,
        BigInt.asUintN(64, sum.getBigUint64(lane, true) + view.getBigUint64(lane, true)),
        true,
      );
    }
  }
  return out;
}

/** The same lines from bpfbox. */
function ours(name: string, program: string, packets: readonly Uint8Array[]): string[] {
  const obj = loadBpfObject(compileExample(name));
  const lines = packets.map((packet) => {
    const { r0, result } = obj.run(program, { packet: hex(packet) });
    const out = result.kind === 'tracing' ? new Uint8Array(0) : result.packet;
    return `ok ${r0 & 0xffffffffn} ${out.length === 0 ? '-' : hex(out)}`;
  });
  for (const map of obj.maps.maps) {
    if (map.name.includes('.') || !(map instanceof ArrayMap || map instanceof HashMap)) continue;
    for (const { key, value } of map.entries()) {
      lines.push(`map ${map.name} ${hex(key)} ${hex(Array.isArray(value) ? sumLanes(value) : value)}`);
    }
  }
  return lines;
}

const runner = buildRunner();
if ('skip' in runner) console.warn(`[test/examples/kernel-agreement] SKIPPED: ${runner.skip}`);

describe.skipIf('skip' in runner)('the network examples agree with the Linux kernel', () => {
  const path = 'path' in runner ? runner.path : '';
  const traffic = [
    ipv4({ l4: 'udp', dport: 53 }),
    ipv4({ l4: 'udp', dport: 443, ttl: 1 }),
    ipv4({ l4: 'tcp', dport: 53, ttl: 200, payload: 40 }),
    ipv4({ l4: 'icmp', ttl: 64 }),
    ipv4({ l4: 'tcp', payload: 0 }),
    arp(),
    ipv4({ l4: 'udp' }).subarray(0, 30),
  ];
  // Map dumps are compared as sets: the kernel walks hash maps in its own order.
  const sorted = (lines: string[]) => [
    ...lines.filter((l) => !l.startsWith('map ')),
    ...lines.filter((l) => l.startsWith('map ')).sort(),
  ];

  // BPF_PROG_TEST_RUN refuses an skb whose IPv4 header is cut short (EINVAL): XDP only for that one.
  const whole = traffic.slice(0, -1);

  it.each([
    ['xdp-counter', 'xdp_count', traffic],
    ['tail-call', 'dispatch', traffic],
    ['tc-rewrite', 'set_ttl', whole],
  ])('%s (%s)', (name, program, packets) => {
    const theirs = kernelRun(path, name, program, packets);
    expect(theirs.filter((l) => l.startsWith('ok '))).toHaveLength(packets.length);
    expect(sorted(ours(name, program, packets))).toEqual(sorted(theirs));
  });
  // socket-filter.bpf.c is not compared: BPF_PROG_TEST_RUN hands a socket filter the skb from the
  // network header on (the Ethernet header pulled), as a filter on an AF_INET socket sees it, while
  // bpfbox (and the example) take the packet socket's view that starts at the Ethernet header.
});
