/**
 * Packet helpers against the running Linux kernel (BPF_PROG_TEST_RUN through the contexts tests'
 * runner, test/runtime/contexts-kernel-run.c): the same assembled programs must give the same r0
 * (and packet) here. Skips with a notice where bpf() or libbpf is not available.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import { PacketBuffer } from '../../src/runtime/contexts/packet.js';
import { SKB_HEADROOM, XDP_HEADROOM } from '../../src/runtime/helpers/packet-context.js';
import { kernel } from './helpers-kernel-setup.js';

const BPF_PROG_TYPE_SCHED_CLS = 3;
const BPF_PROG_TYPE_XDP = 6;

const hex = (b: Uint8Array) => (b.length === 0 ? '-' : Buffer.from(b).toString('hex'));

function buildRunner(): { path: string } | { skip: string } {
  const path = join(mkdtempSync(join(tmpdir(), 'bpfbox-helpers-')), 'kernel-run');
  const cc = spawnSync(
    'cc',
    ['-O2', '-o', path, join(import.meta.dirname, 'contexts-kernel-run.c'), '-lbpf'],
    {
      encoding: 'utf8',
    },
  );
  if (cc.status !== 0) return { skip: `cannot build the kernel runner: ${cc.stderr || cc.error}` };
  const probe = run(path, [[BPF_PROG_TYPE_XDP, assemble('mov %r0, 2\nexit'), new Uint8Array(14)]]);
  if (!probe[0]?.startsWith('ok 2 ')) return { skip: `BPF_PROG_TEST_RUN is not usable here: ${probe[0]}` };
  return { path };
}

function run(path: string, runs: readonly (readonly [number, Uint8Array, Uint8Array])[]): string[] {
  const input = runs.map(([type, code, packet]) => `${type} ${hex(code)} ${hex(packet)} -`).join('\n');
  return spawnSync(path, { input: `${input}\n`, encoding: 'utf8' })
    .stdout.trimEnd()
    .split('\n');
}

/** r0 and the packet after a run here, in the runner's output format. */
function ours(kind: 'skb' | 'xdp', text: string, packet: Uint8Array): string {
  const k = kernel();
  const buffer = new PacketBuffer(k.memory, packet, {
    kind,
    headroom: kind === 'xdp' ? XDP_HEADROOM : SKB_HEADROOM,
    writable: true,
  });
  k.runtime.packet = buffer;
  const r0 = k.run(text) & 0xffffffffn;
  return `ok ${r0} ${hex(buffer.bytes())} -`;
}

const runner = buildRunner();
if ('skip' in runner) console.warn(`[helpers-kernel-diff] SKIPPED: ${runner.skip}`);

describe.skipIf('skip' in runner)('packet helpers agree with the Linux kernel', () => {
  const path = 'path' in runner ? runner.path : '';
  const packet = Uint8Array.from({ length: 60 }, (_, i) => (i * 37 + 11) & 0xff);

  it('bpf_csum_diff: random buffers, sizes (valid or not) and seeds', () => {
    const cases = fc.sample(
      fc.record({
        words: fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { minLength: 32, maxLength: 32 }),
        fromSize: fc.oneof(
          fc.integer({ min: 0, max: 16 }).map((n) => n * 4),
          fc.integer({ min: 0, max: 64 }),
        ),
        toSize: fc.oneof(
          fc.integer({ min: 0, max: 16 }).map((n) => n * 4),
          fc.integer({ min: 0, max: 64 }),
        ),
        seed: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      }),
      { numRuns: 150, seed: 7 },
    );
    const texts = cases.map((c) => {
      const fill = c.words.map((w, i) => `stw [%r10-${128 - i * 4}], ${w}`).join('\n');
      return `${fill}
        mov %r1, %r10
        add %r1, -128
        mov %r2, ${c.fromSize}
        mov %r3, %r10
        add %r3, -64
        mov %r4, ${c.toSize}
        lddw %r5, ${c.seed}
        call 28
        exit`;
    });
    const theirs = run(
      path,
      texts.map((t) => [BPF_PROG_TYPE_XDP, assemble(t), packet] as const),
    );
    texts.forEach((t, i) => {
      expect(ours('xdp', t, packet), JSON.stringify({ ...cases[i], seed: String(cases[i].seed) })).toBe(
        theirs[i],
      );
    });
  });

  it('bpf_skb_load_bytes / bpf_skb_store_bytes in tc: offsets, lengths, flags', () => {
    const cases: [number, number, number][] = [];
    for (const offset of [0, 1, 13, 50, 52, 56, 60, 61, 0x7fffffff, 0x80000000]) {
      for (const len of [1, 4, 8]) cases.push([offset, len, 0]);
    }
    for (const flags of [1, 2, 3, 4, 8, 0x10]) cases.push([20, 4, flags]);
    const texts = cases.flatMap(([offset, len, flags]) => [
      // Load: r0 = result in the top half, the loaded (or zeroed) bytes' low word in the bottom half.
      `stdw [%r10-8], -1
       mov %r1, %r1
       lddw %r2, ${offset}
       mov %r3, %r10
       add %r3, -8
       mov %r4, ${len}
       call 26
       lsh %r0, 32
       ldxw %r1, [%r10-8]
       or %r0, %r1
       rsh %r0, 0
       exit`,
      // Store: 0x44332211… at offset; r0 the result, the packet shows the write.
      `stdw [%r10-8], 0x44332211
       lddw %r2, ${offset}
       mov %r3, %r10
       add %r3, -8
       mov %r4, ${len}
       mov %r5, ${flags}
       call 9
       exit`,
    ]);
    const theirs = run(
      path,
      texts.map((t) => [BPF_PROG_TYPE_SCHED_CLS, assemble(t), packet] as const),
    );
    const mismatches = texts.flatMap((t, i) => {
      const o = ours('skb', t, packet);
      return o === theirs[i] ? [] : [`${JSON.stringify(cases[i >> 1])} ${i & 1 ? 'store' : 'load'}: ours ${o.slice(0, 16)} kernel ${theirs[i].slice(0, 16)}`];
    });
    expect(mismatches).toEqual([]);
  });
});
