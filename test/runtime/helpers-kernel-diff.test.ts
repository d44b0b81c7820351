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
  // BPF_PROG_TEST_RUN's data_out of an XDP program starts at data_meta.
  const out = kind === 'xdp' ? Uint8Array.from([...buffer.meta(), ...buffer.bytes()]) : buffer.bytes();
  return `ok ${r0} ${hex(out)} -`;
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
      return o === theirs[i]
        ? []
        : [
            `${JSON.stringify(cases[i >> 1])} ${i & 1 ? 'store' : 'load'}: ours ${o.slice(0, 16)} kernel ${theirs[i].slice(0, 16)}`,
          ];
    });
    expect(mismatches).toEqual([]);
  });

  it('bpf_l3_csum_replace / bpf_l4_csum_replace: sizes, flags, offsets, random words', () => {
    const cases = fc.sample(
      fc.record({
        helper: fc.constantFrom(10, 11),
        offset: fc.oneof(fc.constantFrom(0, 1, 24, 58, 59, 60, 0x10000), fc.integer({ min: 0, max: 30 })),
        // Size 0/2/4, bad sizes, and the L4 flags (pseudo header, mangled 0, enforce, IPv6, unknown).
        flags: fc.oneof(
          fc.constantFrom(0, 2, 4),
          fc.constantFrom(1, 3, 8, 0x10 | 2, 0x20 | 2, 0x60 | 2, 0x80 | 4, 0x100 | 2),
        ),
        from: fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
        to: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      }),
      { numRuns: 200, seed: 11 },
    );
    const texts = cases.map(
      (c) => `lddw %r2, ${c.offset}
        lddw %r3, ${c.from}
        lddw %r4, ${c.to}
        mov %r5, ${c.flags}
        call ${c.helper}
        exit`,
    );
    // Word 24..25 zero too, so BPF_F_MARK_MANGLED_0 meets an absent checksum.
    const withZero = Uint8Array.from(packet);
    withZero.set([0, 0], 24);
    const theirs = run(
      path,
      texts.map((t) => [BPF_PROG_TYPE_SCHED_CLS, assemble(t), withZero] as const),
    );
    const mismatches = texts.flatMap((t, i) => {
      const o = ours('skb', t, withZero);
      const c = cases[i];
      return o === theirs[i]
        ? []
        : [
            `${JSON.stringify({ ...c, from: String(c.from), to: String(c.to) })}: ours ${o} kernel ${theirs[i]}`,
          ];
    });
    expect(mismatches).toEqual([]);
  });

  it('bpf_trace_printk: the same length or error for valid and invalid formats', () => {
    const formats: [string, (bigint | 'str')[]][] = [
      ['hello', []],
      ['%d %u %x %X', [-5n, -1n, 0xbeefn, 0xbeefn]],
      ['%ld %lu %lx', [-1n, -1n, -1n]],
      ['%lld|%llu|%llx', [2n ** 63n, 2n ** 64n - 2n, 7n]],
      ['[%5d] [%-5d] [%05d]', [42n, 42n, -42n]],
      ['[%+d] [% d] [%+u]', [42n, 42n, 42n]],
      ['%c%c%c', [0x41n, 0x42n, 0x43n]],
      ['100%% %i', [1n]],
      ['%p %px %pK', [0xffff888012345678n, 0x10n, 0n]],
      ['%s!', ['str']],
      ['[%20s]', ['str']],
      ['%1000d', [1n]],
      ['%d %d %d %d', [1n, 2n, 3n]],
      ['%.2d', [1n]],
      ['%#x', [1n]],
      ['%hd', [1n]],
      ['%f', [1n]],
      ['%sabc', ['str']],
      ['%pM', [0n]],
      ['%pI4', ['str']],
      ['%pi6', ['str']],
      ['abc%', [1n]],
      ['tab\there', []],
    ];
    const texts = formats.map(([fmt, args]) => {
      const bytes = new TextEncoder().encode(`${fmt}\0`);
      const padded = new Uint8Array(Math.ceil(bytes.length / 8) * 8);
      padded.set(bytes);
      const view = new DataView(padded.buffer);
      const stores: string[] = [];
      for (let o = 0; o < padded.length; o += 8) {
        stores.push(`lddw %r1, ${view.getBigUint64(o, true)}\nstxdw [%r10-${512 - o}], %r1`);
      }
      // 'str' stands for a pointer to the 16-byte string 'world' on the stack (%s, %pI4, %pi6).
      const arg = (a: bigint | 'str', i: number) =>
        a === 'str'
          ? `mov %r${3 + i}, %r10\nadd %r${3 + i}, -16`
          : `lddw %r${3 + i}, ${BigInt.asUintN(64, a)}`;
      return `${stores.join('\n')}
        lddw %r1, 0x646c726f77
        stxdw [%r10-16], %r1
        stdw [%r10-8], 0
        ${args.slice(0, 3).map(arg).join('\n')}
        mov %r1, %r10
        add %r1, -512
        mov %r2, ${bytes.length}
        call 6
        exit`;
    });
    const theirs = run(
      path,
      texts.map((t) => [BPF_PROG_TYPE_XDP, assemble(t), packet] as const),
    );
    const mismatches = texts.flatMap((t, i) => {
      const o = ours('xdp', t, packet);
      return o === theirs[i]
        ? []
        : [`${formats[i][0]}: ours ${o.slice(0, 16)} kernel ${theirs[i].slice(0, 16)}`];
    });
    expect(mismatches).toEqual([]);
  });

  it('XDP redirect, adjust_head/meta/tail return what the kernel returns', () => {
    const texts = [
      ...[0, 1].map((flags) => `mov %r1, 3\nmov %r2, ${flags}\ncall 23\nexit`),
      ...[-4, -8, -2, -36, 4, -32, -252, -256].map((d) => `mov %r1, %r1\nmov %r2, ${d}\ncall 54\nexit`),
      ...[-300, -14, 0, 47, 46].map((d) => `mov %r2, ${d}\ncall 44\nexit`),
      ...[-47, -46, 100, 4000].map((d) => `mov %r2, ${d}\ncall 65\nexit`),
    ];
    const theirs = run(
      path,
      texts.map((t) => [BPF_PROG_TYPE_XDP, assemble(t), packet] as const),
    );
    const mismatches = texts.flatMap((t, i) => {
      const o = ours('xdp', t, packet);
      return o === theirs[i]
        ? []
        : [
            `${t.split('\n').slice(0, 2).join('; ')}: ours ${o.slice(0, 40)} kernel ${theirs[i].slice(0, 40)}`,
          ];
    });
    expect(mismatches).toEqual([]);
  });

  it('bpf_trace_printk: random format strings get the same length or error', () => {
    const token = fc.constantFrom(
      '%',
      '%%',
      'd',
      'u',
      'x',
      'X',
      'i',
      'l',
      'c',
      's',
      'p',
      'K',
      'k',
      'h',
      '.',
      '#',
      '0',
      '-',
      '+',
      ' ',
      '5',
      '12',
      'a',
      ',',
      '\n',
    );
    const formats = fc.sample(
      fc.array(token, { minLength: 1, maxLength: 10 }).map((t) => t.join('')),
      { numRuns: 300, seed: 42 },
    );
    const args = [7n, 300n, 0xfffffffffffffff0n];
    const texts = formats.map((fmt) => {
      const bytes = new TextEncoder().encode(`${fmt}\0`);
      const padded = new Uint8Array(Math.ceil(bytes.length / 8) * 8);
      padded.set(bytes);
      const view = new DataView(padded.buffer);
      const stores: string[] = [];
      for (let o = 0; o < padded.length; o += 8) {
        stores.push(`lddw %r1, ${view.getBigUint64(o, true)}\nstxdw [%r10-${512 - o}], %r1`);
      }
      return `${stores.join('\n')}
        ${args.map((a, i) => `lddw %r${3 + i}, ${a}`).join('\n')}
        mov %r1, %r10
        add %r1, -512
        mov %r2, ${bytes.length}
        call 6
        exit`;
    });
    const theirs = run(
      path,
      texts.map((t) => [BPF_PROG_TYPE_XDP, assemble(t), packet] as const),
    );
    const mismatches = texts.flatMap((t, i) => {
      const o = ours('xdp', t, packet);
      return o === theirs[i]
        ? []
        : [`${JSON.stringify(formats[i])}: ours ${o.slice(0, 16)} kernel ${theirs[i].slice(0, 16)}`];
    });
    expect(mismatches).toEqual([]);
  });
});
