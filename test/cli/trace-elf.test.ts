/**
 * `bpfbox trace OBJ.o` on clang-19 objects: a source header whenever the `.BTF.ext` line changes,
 * `line`/`file`/`source` on JSON steps, helper and subprogram names on calls, tail calls followed,
 * traps located in the source, the same result and input handling as `bpfbox run OBJ.o`.
 */
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { clangAvailable, compileBpf, warnIfMissing } from '../elf/compile.js';
import { bpfbox, tempFiles } from './spawn.js';

warnIfMissing('test/cli/trace-elf');

const SOURCE = `#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>

struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 8); __type(key, __u32); __type(value, __u64); } counts SEC(".maps");
const volatile __u8 want = IPPROTO_UDP;

static __attribute__((noinline)) int twice(int x) { return x * 2; }

SEC("xdp") int count_udp(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
  struct iphdr *ip = data + sizeof(struct ethhdr);
  if ((void *)(ip + 1) > end) return XDP_PASS;
  if (ip->protocol != want)
    return XDP_PASS;
  __u32 k = twice(ip->protocol);
  __u64 one = 1, *v = bpf_map_lookup_elem(&counts, &k);
  if (v) *v += 1;
  else bpf_map_update_elem(&counts, &k, &one, BPF_ANY);
  bpf_printk("proto %u", ip->protocol);
  return XDP_DROP;
}

SEC("kprobe/do_unlinkat") int faulty(void *ctx) {
  bpf_printk("about to fault");
  return *(volatile int *)(long)16;
}

SEC("xdp") int target(struct xdp_md *c) {
  return XDP_TX;
}
struct {
  __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
  __uint(max_entries, 2);
  __uint(key_size, 4);
  __array(values, int (void *));
} jmp SEC(".maps") = { .values = { [1] = (void *)&target } };
SEC("xdp") int dispatch(struct xdp_md *c) {
  bpf_tail_call(c, &jmp, c->rx_queue_index);
  return XDP_PASS; /* empty slot */
}
char LICENSE[] SEC("license") = "GPL";
`;

/** BTF-defined maps need -g, so the object without debug info has none. */
const PLAIN_SOURCE = `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp") int plain(struct xdp_md *ctx) { return bpf_get_prandom_u32() & 1 ? XDP_PASS : XDP_DROP; }
`;

/** 1-based line of the (unique) source line containing `text`. */
function lineOf(text: string): number {
  const lines = SOURCE.split('\n');
  const hits = lines.flatMap((l, i) => (l.includes(text) ? [i + 1] : []));
  if (hits.length !== 1) throw new Error(`"${text}" is on ${hits.length} lines`);
  return hits[0];
}

/** Ethernet + IPv4 header with the given protocol, padded. */
const packet = (protocol: number) =>
  `${'ff'.repeat(6)}${'00'.repeat(6)}0800` +
  `450000200000000040${protocol.toString(16).padStart(2, '0')}0000${'00'.repeat(8)}` +
  '00'.repeat(12);

const dir = tempFiles({
  ...(clangAvailable ? { 'prog.o': compileBpf(SOURCE), 'nodebug.o': compileBpf(PLAIN_SOURCE, ['-g0']) } : {}),
  'udp.json': JSON.stringify({ packet: packet(17) }),
  'tcp-wanted.json': JSON.stringify({ packet: packet(6), rodata: { want: 6 } }),
  'queue1.json': JSON.stringify({ packet: '00', rx_queue_index: 1 }),
  'queue0.json': JSON.stringify({ packet: '00', rx_queue_index: 0 }),
  'x.s': 'mov %r0, 1\nexit\n',
});
const file = (name: string) => join(dir, name);
const jsonLines = (stdout: string) =>
  stdout
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
/** Text lines of the trace before the result (steps and headers). */
const stepLines = (stdout: string) => stdout.split('\n').filter((l) => /^\s{2}\S|^\s+\d+\s+\d+\s/.test(l));
const HEADER = /^ {2}prog\.c:(\d+) {2}(.*)$/;

describe.skipIf(!clangAvailable).concurrent('bpfbox trace OBJ.o', () => {
  test('a header with file:line and the trimmed source text before each line change', async () => {
    const r = await bpfbox(['trace', file('prog.o'), '--program', 'count_udp', '--input', file('udp.json')]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const lines = stepLines(r.stdout);
    const headers = lines.flatMap((l) => {
      const m = HEADER.exec(l);
      return m ? [{ line: Number(m[1]), text: m[2] }] : [];
    });
    expect(headers).toContainEqual({
      line: lineOf('ip->protocol != want'),
      text: 'if (ip->protocol != want)',
    });
    expect(headers).toContainEqual({
      line: lineOf('bpf_printk("proto'),
      text: 'bpf_printk("proto %u", ip->protocol);',
    });
    // Headers only when the line changes: never twice in a row, never the same line back to back.
    for (let i = 1; i < lines.length; i++) {
      if (HEADER.test(lines[i])) expect(HEADER.test(lines[i - 1])).toBe(false);
    }
    for (let i = 1; i < headers.length; i++) expect(headers[i]).not.toEqual(headers[i - 1]);
    // Under the header of the comparison, the program reads the protocol byte (packet + 14 + 9).
    const at = lines.findIndex((l) => l.startsWith(`  prog.c:${lineOf('ip->protocol != want')}`));
    const block = lines.slice(
      at + 1,
      lines.findIndex((l, i) => i > at && HEADER.test(l)),
    );
    expect(block.join('\n')).toMatch(/\[read 1 @ 0x50000117\]/);
    // The result as `bpfbox run` prints it.
    expect(r.stdout).toMatch(/^r0: 0x1 \(XDP_DROP\)$/m);
    expect(r.stdout).toMatch(/^printk:\n {2}proto 17$/m);
    expect(r.stdout).toMatch(/^ {2}counts \(1 entry\)\n {4}22000000: 0100000000000000$/m);
  });

  test('calls show helper and subprogram names; subprogram steps carry their own lines', async () => {
    const r = await bpfbox(['trace', file('prog.o'), '--program', 'count_udp', '--input', file('udp.json')]);
    expect(r.code).toBe(0);
    for (const name of ['twice', 'bpf_map_lookup_elem', 'bpf_map_update_elem', 'bpf_trace_printk'])
      expect(r.stdout).toMatch(new RegExp(`^\\s+\\d+\\s+\\d+\\s+call ${name}\\s`, 'm'));
    expect(r.stdout).not.toMatch(/call 0x/);
    const lines = stepLines(r.stdout);
    const call = lines.findIndex((l) => /call twice/.test(l));
    expect(lines[call + 1]).toBe(
      `  prog.c:${lineOf('int twice')}  static __attribute__((noinline)) int twice(int x) { return x * 2; }`,
    );
  });

  test('--json: steps carry line, file and source; the summary is `run --json`', async () => {
    const args = ['--program', 'count_udp', '--input', file('udp.json'), '--json'];
    const [r, run] = await Promise.all([
      bpfbox(['trace', file('prog.o'), ...args]),
      bpfbox(['run', file('prog.o'), ...args]),
    ]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const objects = jsonLines(r.stdout);
    const steps = objects.slice(0, -1);
    expect(objects.at(-1)).toEqual(JSON.parse(run.stdout));
    expect(steps.length).toBe((objects.at(-1) as { instructions: number }).instructions);
    for (const s of steps) {
      expect(s).toMatchObject({ line: expect.any(Number), file: expect.stringMatching(/\/prog\.c$/) });
      expect(s).not.toHaveProperty('program');
    }
    const compare = steps.find((s) => s.line === lineOf('ip->protocol != want'));
    expect(compare).toMatchObject({ source: 'if (ip->protocol != want)' });
    expect(steps.filter((s) => String(s.insn).startsWith('call ')).map((s) => s.insn)).toEqual([
      'call twice',
      'call bpf_map_lookup_elem',
      'call bpf_map_update_elem',
      'call bpf_trace_printk',
    ]);
  });

  test('IN.json rodata is applied as for `bpfbox run`', async () => {
    const r = await bpfbox([
      'trace',
      file('prog.o'),
      '--program',
      'count_udp',
      '--input',
      file('tcp-wanted.json'),
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^printk:\n {2}proto 6$/m);
    expect(r.stdout).toMatch(/^r0: 0x1 \(XDP_DROP\)$/m);
  });

  test('a trap: the trapping step under its source line, printk, the error with file:line', async () => {
    const line = lineOf('return *(volatile int *)(long)16;');
    const r = await bpfbox(['trace', file('prog.o'), '--program', 'faulty', '--no-verify']);
    expect(r.code).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.at(-2)).toBe('printk:');
    expect(lines.at(-1)).toBe('  about to fault');
    expect(lines.at(-4)).toBe(`  prog.c:${line}  return *(volatile int *)(long)16;`);
    expect(lines.at(-3)).toMatch(/r0 = \*\(u32 \*\)\(r1 \+ 0x0\)\s+\[read 4 @ 0x10\]$/);
    expect(r.stderr).toMatch(
      new RegExp(`^error\\[MEMORY_FAULT\\]: .*prog\\.c:${line}: return \\*\\(volatile`),
    );

    const j = await bpfbox(['trace', file('prog.o'), '--program', 'faulty', '--no-verify', '--json']);
    expect(j.code).toBe(1);
    const objects = jsonLines(j.stdout);
    expect(objects.at(-2)).toMatchObject({ line, insn: 'r0 = *(u32 *)(r1 + 0x0)' });
    expect(objects.at(-1)).toMatchObject({
      ok: false,
      error: { code: 'MEMORY_FAULT', line, pc: objects.at(-2)?.pc },
    });
  });

  test('a tail call continues with the target program and its lines', async () => {
    const r = await bpfbox([
      'trace',
      file('prog.o'),
      '--program',
      'dispatch',
      '--input',
      file('queue1.json'),
    ]);
    expect(r.code).toBe(0);
    const lines = stepLines(r.stdout);
    const at = lines.findIndex((l) => /call bpf_tail_call/.test(l));
    expect(lines.slice(at + 1, at + 3)).toEqual([
      '  => tail call into target',
      `  prog.c:${lineOf('return XDP_TX;')}  return XDP_TX;`,
    ]);
    expect(r.stdout).toMatch(/^r0: 0x3 \(XDP_TX\)$/m);

    const j = await bpfbox([
      'trace',
      file('prog.o'),
      '--program',
      'dispatch',
      '--input',
      file('queue1.json'),
      '--json',
    ]);
    const steps = jsonLines(j.stdout).slice(0, -1);
    expect(steps.at(-1)).toMatchObject({
      program: 'target',
      pc: 1,
      insn: 'exit',
      line: lineOf('return XDP_TX;'),
    });

    // An empty slot: the call fails and the caller goes on at its next line.
    const miss = await bpfbox([
      'trace',
      file('prog.o'),
      '--program',
      'dispatch',
      '--input',
      file('queue0.json'),
    ]);
    expect(miss.stdout).not.toMatch(/tail call into/);
    expect(miss.stdout).toContain(`  prog.c:${lineOf('empty slot')}  return XDP_PASS; /* empty slot */`);
    expect(miss.stdout).toMatch(/^r0: 0x2 \(XDP_PASS\)$/m);
  });

  test('without debug info: the steps and helper names, no headers or line fields', async () => {
    const r = await bpfbox(['trace', file('nodebug.o'), '--input', file('udp.json')]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).not.toMatch(/\.c:\d/);
    expect(r.stdout).toMatch(/^\s+\d+\s+\d+\s+call bpf_get_prandom_u32\s/m);
    const j = await bpfbox(['trace', file('nodebug.o'), '--input', file('udp.json'), '--json']);
    const steps = jsonLines(j.stdout).slice(0, -1);
    expect(steps.length).toBeGreaterThan(1);
    for (const s of steps) expect(Object.keys(s)).not.toContain('line');
  });

  test('--max-insns stops the trace with INSTRUCTION_LIMIT', async () => {
    const r = await bpfbox([
      'trace',
      file('prog.o'),
      '--program',
      'count_udp',
      '--input',
      file('udp.json'),
      '--max-insns',
      '4',
      '--json',
    ]);
    expect(r.code).toBe(1);
    const objects = jsonLines(r.stdout);
    expect(objects).toHaveLength(5);
    expect(objects[4]).toMatchObject({ ok: false, error: { code: 'INSTRUCTION_LIMIT', instructions: 4 } });
  });
});

describe.skipIf(!clangAvailable).concurrent('bpfbox trace OBJ.o: bad flags exit 2', () => {
  test.each([
    [['--program', 'count_udp', '--mem', '00'], /--mem does not apply to object files/],
    [['--program', 'count_udp', '--max-insns', '0'], /--max-insns must be a positive integer/],
    [['--program', 'nope'], /no program named nope \(programs: .*count_udp/],
    [[], /choose one with --program NAME/],
    [['--program', 'count_udp', '--input', 'missing.json'], /missing\.json/],
    [['--program', 'count_udp', '--bogus'], /unknown option '--bogus'/],
  ])('%j', async (args, message) => {
    const r = await bpfbox(['trace', file('prog.o'), ...args]);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toMatch(message);
  });

  test('--program and --input do not apply to .s files', async () => {
    for (const flag of ['--program', '--input']) {
      const r = await bpfbox(['trace', file('x.s'), flag, 'x']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${flag} applies to object files (.o) only`);
    }
  });
});
