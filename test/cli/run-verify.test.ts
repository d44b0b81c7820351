/**
 * `bpfbox run OBJ.o` and `bpfbox trace OBJ.o` verify first: a rejected program is refused with the
 * verifier's diagnostic (text on stderr, or the verifier's JSON) and exit 1; `--no-verify` runs it
 * anyway; accepted programs run as before; a tail call brings its PROG_ARRAY targets into the check;
 * `--no-verify` on a .s file is a usage error.
 */
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { clangAvailable, compileBpf, warnIfMissing } from '../elf/compile.js';
import { bpfbox, tempFiles } from './spawn.js';

warnIfMissing('test/cli/run-verify');

const NULL_SOURCE = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 8); __type(key, __u32); __type(value, __u64); } counts SEC(".maps");

SEC("xdp") int count_packets(struct xdp_md *ctx) {
  __u32 key = ctx->ingress_ifindex;
  __u64 *value = bpf_map_lookup_elem(&counts, &key);
  *value += 1;
  return XDP_PASS;
}

SEC("xdp") int count_checked(struct xdp_md *ctx) {
  __u32 key = ctx->ingress_ifindex;
  __u64 one = 1, *value = bpf_map_lookup_elem(&counts, &key);
  if (value) *value += 1; else bpf_map_update_elem(&counts, &key, &one, BPF_ANY);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
`;

const TAIL_SOURCE = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 8); __type(key, __u32); __type(value, __u64); } counts SEC(".maps");

SEC("xdp") int target(struct xdp_md *ctx) {
  __u32 key = 0;
  __u64 *value = bpf_map_lookup_elem(&counts, &key);
  return *value ? XDP_DROP : XDP_PASS;
}

struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(max_entries, 2);
  __type(key, __u32);
  __array(values, int (void *));
} jmp SEC(".maps") = { .values = { [0] = (void *)&target } };

SEC("xdp") int dispatch(struct xdp_md *ctx) {
  bpf_tail_call(ctx, &jmp, 0);
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
`;

const dir = tempFiles({
  ...(clangAvailable ? { 'prog.o': compileBpf(NULL_SOURCE), 'tail.o': compileBpf(TAIL_SOURCE) } : {}),
  'x.s': 'mov %r0, 1\nexit\n',
  'pkt.json': JSON.stringify({ packet: '00112233' }),
});
const PACKET = ['--input', join(dir, 'pkt.json')];
const file = (name: string) => join(dir, name);
const nullLine = NULL_SOURCE.slice(0, NULL_SOURCE.indexOf('*value += 1;')).split('\n').length;

describe.skipIf(!clangAvailable).concurrent('bpfbox run OBJ.o verifies first', () => {
  test('a NULL dereference is refused: the diagnostic and error[NULL_DEREF] on stderr, exit 1', async () => {
    const r = await bpfbox(['run', file('prog.o'), '--program', 'count_packets']);
    expect(r).toMatchObject({ code: 1, stdout: '' });
    // The rustc-style block of `bpfbox verify`, its verdict, then the one-line summary.
    expect(r.stderr).toMatch(/^error\[NULL_DEREF\]: /);
    expect(r.stderr).toMatch(new RegExp(`--> \\S*prog\\.c:${nullLine}:\\d+ \\(pc \\d+\\)`));
    expect(r.stderr).toMatch(/^✗ count_packets: rejected with NULL_DEREF \(/m);
    expect(r.stderr).toMatch(/^error\[NULL_DEREF\]: the verifier rejects program count_packets: /m);
    expect(r.stderr).not.toMatch(/count_checked/);
  });

  test('--json: the error with the verifier code and line, and the verifier result, exit 1', async () => {
    const r = await bpfbox(['run', file('prog.o'), '--program', 'count_packets', '--json']);
    expect(r).toMatchObject({ code: 1, stderr: '' });
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual(['ok', 'error', 'verifier']);
    expect(out.ok).toBe(false);
    expect(out.error).toMatchObject({
      code: 'NULL_DEREF',
      program: 'count_packets',
      line: nullLine,
      pc: expect.any(Number),
      hint: expect.any(String),
      message: expect.stringMatching(/^the verifier rejects program count_packets: .*NULL/),
    });
    expect(out.verifier).toMatchObject({
      ok: false,
      errors: [{ program: 'count_packets', code: 'NULL_DEREF', line: nullLine, pc: out.error.pc }],
      programs: { count_packets: { ok: false } },
    });
    // Only the program to run is checked: it makes no tail call.
    expect(Object.keys(out.verifier.programs)).toEqual(['count_packets']);
  });

  test('--no-verify runs it, and the missing check traps on the NULL pointer', async () => {
    const r = await bpfbox([
      'run',
      file('prog.o'),
      '--program',
      'count_packets',
      '--no-verify',
      '--json',
      ...PACKET,
    ]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({
      ok: false,
      error: expect.objectContaining({ code: 'MEMORY_FAULT', line: nullLine }),
    });
    const text = await bpfbox([
      'run',
      file('prog.o'),
      '--program',
      'count_packets',
      '--no-verify',
      ...PACKET,
    ]);
    expect(text).toMatchObject({ code: 1, stdout: '' });
    expect(text.stderr).toMatch(/^error\[MEMORY_FAULT\]: /);
  });

  test('an accepted program runs normally (a rejected program beside it is not run, so not checked)', async () => {
    const r = await bpfbox(['run', file('prog.o'), '--program', 'count_checked', '--json', ...PACKET]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: true,
      r0: '0x2',
      maps: { counts: [{ key: expect.any(String), value: '0100000000000000' }] },
    });
  });

  test('a tail call brings its PROG_ARRAY targets into the check', async () => {
    const r = await bpfbox(['run', file('tail.o'), '--program', 'dispatch', '--json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.error).toMatchObject({ code: 'NULL_DEREF', program: 'target' });
    expect(out.verifier.programs).toMatchObject({ dispatch: { ok: true }, target: { ok: false } });
    const skipped = await bpfbox([
      'run',
      file('tail.o'),
      '--program',
      'dispatch',
      '--no-verify',
      '--json',
      ...PACKET,
    ]);
    expect(JSON.parse(skipped.stdout)).toMatchObject({ ok: false, error: { code: 'MEMORY_FAULT' } });
  });

  test('bpfbox trace refuses it the same way; --no-verify traces it to the trap', async () => {
    const r = await bpfbox(['trace', file('prog.o'), '--program', 'count_packets', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: false,
      error: { code: 'NULL_DEREF', line: nullLine },
      verifier: { ok: false },
    });
    const text = await bpfbox(['trace', file('prog.o'), '--program', 'count_packets']);
    expect(text).toMatchObject({ code: 1, stdout: '' });
    expect(text.stderr).toMatch(/^error\[NULL_DEREF\]: the verifier rejects program count_packets: /m);
    const traced = await bpfbox([
      'trace',
      file('prog.o'),
      '--program',
      'count_packets',
      '--no-verify',
      ...PACKET,
    ]);
    expect(traced.code).toBe(1);
    expect(traced.stdout).toMatch(/\*value \+= 1;/);
    expect(traced.stderr).toMatch(/^error\[MEMORY_FAULT\]: /);
  });
});

describe.concurrent('--no-verify on raw programs', () => {
  test('is a usage error: .s/.bin/.data files are never verified (exit 2)', async () => {
    for (const command of ['run', 'trace']) {
      const r = await bpfbox([command, file('x.s'), '--no-verify']);
      expect(r).toMatchObject({ code: 2, stdout: '' });
      expect(r.stderr).toMatch(/--no-verify applies to object files \(\.o\) only, not to /);
    }
    expect(await bpfbox(['run', file('x.s')])).toMatchObject({ code: 0, stdout: '0x1\n' });
  });
});
