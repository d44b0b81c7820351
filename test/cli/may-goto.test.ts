/**
 * A clang-19 object with a `can_loop` loop (may_goto) through the CLI: `verify` accepts it, and `run`
 * executes the loop BPF_MAX_LOOPS times on both engines with the same result and instruction count.
 */
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { clangAvailable, compileBpf, warnIfMissing } from '../elf/compile.js';
import { bpfbox, tempFiles } from './spawn.js';

warnIfMissing('test/cli/may-goto');

const SOURCE = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#define can_loop ({ __label__ l_break, l_continue; int ret = 1; \\
  asm volatile goto("may_goto %l[l_break]" :::: l_break); goto l_continue; \\
  l_break: ret = 0; l_continue:; ret; })

SEC("xdp") int spin(struct xdp_md *ctx) {
  __u64 n = 0;
  while (can_loop) n++;
  return n >> 20; /* 8M iterations: 8 */
}

char LICENSE[] SEC("license") = "GPL";
`;

const dir = tempFiles({
  ...(clangAvailable ? { 'spin.o': compileBpf(SOURCE) } : {}),
  'pkt.json': JSON.stringify({ packet: '00112233' }),
});
const file = (name: string) => join(dir, name);

describe.skipIf(!clangAvailable).concurrent('bpfbox with a can_loop object', () => {
  test('verify accepts it', async () => {
    const r = await bpfbox(['verify', file('spin.o')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^✓ spin: accepted/m);
  });

  test('run executes BPF_MAX_LOOPS iterations on both engines', async () => {
    const runs = await Promise.all(
      ['interp', 'jit'].map((engine) =>
        bpfbox([
          'run',
          file('spin.o'),
          '--input',
          file('pkt.json'),
          '--max-insns',
          '100000000',
          '--engine',
          engine,
          '--json',
        ]),
      ),
    );
    const [interp, jit] = runs.map((r) => {
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout);
    });
    expect(interp).toMatchObject({ ok: true, r0: '0x8' });
    expect(interp.instructions).toBeGreaterThan(2 * 8 * 1024 * 1024);
    expect(jit).toMatchObject({ ok: true, r0: '0x8', instructions: interp.instructions });
  });
});
