/**
 * `bpfbox verify FILE`: verdicts and exit statuses on clang-19 objects, assembly and raw programs,
 * the rustc-style text (code, file:line, source, help) and the JSON contract, usage errors (exit 2)
 * and files that do not load (exit 1), and every C example of examples/ accepted.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { clangAvailable, compileBpf, warnIfMissing } from '../elf/compile.js';
import { compileExample, EXAMPLES_DIR } from '../examples/build.js';
import { bpfbox, slots, tempFiles } from './spawn.js';

warnIfMissing('test/cli/verify');

const PARSER_SOURCE = `
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("xdp")
int xdp_parse(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > data_end) return XDP_DROP;
  if (eth->h_proto != bpf_htons(ETH_P_IP)) return XDP_PASS;
  struct iphdr *ip = (void *)(eth + 1);
  if ((void *)(ip + 1) > data_end) return XDP_DROP;
  return ip->protocol == IPPROTO_UDP ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
`;

const NULL_SOURCE = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, __u32);
  __type(value, __u64);
} counts SEC(".maps");

SEC("xdp")
int count_packets(struct xdp_md *ctx) {
  __u32 key = ctx->ingress_ifindex;
  __u64 *value = bpf_map_lookup_elem(&counts, &key);
  *value += 1;
  return XDP_PASS;
}

SEC("xdp")
int count_checked(struct xdp_md *ctx) {
  __u32 key = ctx->ingress_ifindex;
  __u64 *value = bpf_map_lookup_elem(&counts, &key);
  if (value) *value += 1;
  return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
`;

const OOB_SOURCE = `
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int first_byte(struct xdp_md *ctx) {
  unsigned char *data = (void *)(long)ctx->data;
  return data[6] == 0xff ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
`;

const UNKNOWN_HELPER_SOURCE = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
static long (*no_such_helper)(void) = (void *)9999;
SEC("xdp") int calls_nothing(struct xdp_md *ctx) { return no_such_helper(); }
char LICENSE[] SEC("license") = "GPL";
`;

const CORE_SOURCE = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct task_struct { int no_such_field; } __attribute__((preserve_access_index));
SEC("kprobe/do_sys_open") int reads_missing(struct task_struct *t) { return t->no_such_field; }
char LICENSE[] SEC("license") = "GPL";
`;

/** The 1-based line of `text` in `source` (line info counts from the first line of the file). */
function lineOf(source: string, text: string): number {
  return source.slice(0, source.indexOf(text)).split('\n').length;
}

/** Writes a compiled object to a fresh directory and returns its path. */
function objectFile(source: string): string {
  return join(tempFiles({ 'prog.o': compileBpf(source) }), 'prog.o');
}

const VERDICT = /^✓ (\S+): accepted \(\d+ insns? processed, \d+ states?, [\d.]+ ms\)$/;

describe.skipIf(!clangAvailable)('bpfbox verify OBJ.o', () => {
  test('an XDP parser with its bounds checks is accepted (exit 0)', async () => {
    const file = objectFile(PARSER_SOURCE);
    const r = await bpfbox(['verify', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(VERDICT);
    expect(r.stdout).toContain('✓ xdp_parse: accepted');

    const j = await bpfbox(['verify', file, '--json']);
    expect(j.code).toBe(0);
    const json = JSON.parse(j.stdout);
    expect(json).toMatchObject({ ok: true, errors: [], programs: { xdp_parse: { ok: true, errors: [] } } });
    expect(json.stats.insns_processed).toBeGreaterThan(5);
    expect(json.stats.states).toBeGreaterThan(0);
    expect(typeof json.stats.ms).toBe('number');
    expect(json.programs.xdp_parse.stats.insns_processed).toBe(json.stats.insns_processed);
  });

  test('a missing NULL check: NULL_DEREF with the line, its source and a hint (exit 1)', async () => {
    const file = objectFile(NULL_SOURCE);
    const line = lineOf(NULL_SOURCE, '*value += 1;');
    const r = await bpfbox(['verify', file, '--program', 'count_packets']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('error[NULL_DEREF]: ');
    expect(r.stdout).toMatch(new RegExp(`--> \\S*prog\\.c:${line}:\\d+ \\(pc \\d+\\)`));
    expect(r.stdout).toContain(`${line} | *value += 1;`);
    expect(r.stdout).toMatch(/= note: r\d is map_value_or_null\(counts\), from bpf_map_lookup_elem/);
    expect(r.stdout).toMatch(/= help: .*if \(!ptr\)/);
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^✗ count_packets: rejected with NULL_DEREF \(/);
    expect(r.stdout).not.toContain('count_checked');

    const j = await bpfbox(['verify', file, '--program', 'count_packets', '--json']);
    expect(j.code).toBe(1);
    const json = JSON.parse(j.stdout);
    expect(json.ok).toBe(false);
    expect(json.errors).toHaveLength(1);
    expect(json.errors[0]).toMatchObject({ program: 'count_packets', code: 'NULL_DEREF', line });
    expect(json.errors[0].pc).toBeGreaterThan(0);
    expect(json.errors[0].message).toMatch(/NULL/);
    expect(json.errors[0].hint).toMatch(/if \(!ptr\)/);
    expect(Object.keys(json.programs)).toEqual(['count_packets']);
  });

  test('all programs of an object: one block per rejection, one verdict each, aggregated JSON', async () => {
    const file = objectFile(NULL_SOURCE);
    const r = await bpfbox(['verify', file]);
    expect(r.code).toBe(1);
    expect(r.stdout.match(/^error\[/gm)).toHaveLength(1);
    const verdicts = r.stdout.split('\n').filter((l) => /^[✓✗] /.test(l));
    expect(verdicts).toHaveLength(2);
    expect(verdicts[0]).toMatch(/^✗ count_packets: rejected with NULL_DEREF/);
    expect(verdicts[1]).toMatch(VERDICT);

    const json = JSON.parse((await bpfbox(['verify', file, '--json'])).stdout);
    expect(json.ok).toBe(false);
    expect(json.programs.count_packets.ok).toBe(false);
    expect(json.programs.count_checked).toMatchObject({ ok: true, errors: [] });
    expect(json.errors.map((e: { program: string; code: string }) => [e.program, e.code])).toEqual([
      ['count_packets', 'NULL_DEREF'],
    ]);
    const each = Object.values(json.programs) as { stats: { insns_processed: number; states: number } }[];
    expect(json.stats.insns_processed).toBe(each.reduce((t, p) => t + p.stats.insns_processed, 0));
    expect(json.stats.states).toBe(each.reduce((t, p) => t + p.stats.states, 0));

    const good = await bpfbox(['verify', file, '--program', 'count_checked']);
    expect(good.code).toBe(0);
    expect(good.stdout.trim()).toMatch(VERDICT);
  });

  test('a packet read without a bounds check: PACKET_OOB with a witness (exit 1)', async () => {
    const file = objectFile(OOB_SOURCE);
    const line = lineOf(OOB_SOURCE, 'return data[6]');
    const r = await bpfbox(['verify', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('error[PACKET_OOB]: ');
    expect(r.stdout).toMatch(new RegExp(`prog\\.c:${line}:\\d+`));
    expect(r.stdout).toMatch(/= witness: a packet of \d+ bytes/);
    expect(r.stdout).toMatch(/= help: .*data_end/);
    const json = JSON.parse((await bpfbox(['verify', file, '--json'])).stdout);
    expect(json.errors[0]).toMatchObject({ code: 'PACKET_OOB', line });
    expect(json.errors[0].hint).toMatch(/data_end/);
  });

  test('a call to a helper id that does not exist is a rejection (exit 1)', async () => {
    const r = await bpfbox(['verify', objectFile(UNKNOWN_HELPER_SOURCE)]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('error[HELPER_UNAVAILABLE]: helper #9999');
    expect(r.stdout).toMatch(/✗ calls_nothing: rejected with HELPER_UNAVAILABLE/);
  });

  test('a CO-RE relocation the kernel BTF cannot satisfy is named, not an unknown helper', async () => {
    const r = await bpfbox(['verify', objectFile(CORE_SOURCE)]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      "the CO-RE relocation (field_byte_offset of task_struct.no_such_field) cannot be satisfied by the kernel BTF: 'struct task_struct' has no field no_such_field",
    );
    expect(r.stdout).toMatch(new RegExp(`prog\\.c:${lineOf(CORE_SOURCE, 'SEC("kprobe')}:`));
    expect(r.stdout).toMatch(/= help: guard the access with bpf_core_field_exists\(\)/);
    expect(r.stdout).not.toContain('195896080');
  });

  test('a malformed object file is a load error like run reports it (exit 1)', async () => {
    const bytes = compileBpf(OOB_SOURCE);
    const file = join(tempFiles({ 'cut.o': bytes.subarray(0, 100) }), 'cut.o');
    const r = await bpfbox(['verify', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error\[BAD_ELF\]: /);
    const j = await bpfbox(['verify', file, '--json']);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ ok: false, error: { code: 'BAD_ELF' } });
  });

  test('--type does not apply to object files; an unknown --program lists the programs (exit 2)', async () => {
    const file = objectFile(NULL_SOURCE);
    const t = await bpfbox(['verify', file, '--type', 'xdp']);
    expect(t.code).toBe(2);
    expect(t.stderr).toMatch(/^error\[USAGE\]: --type applies to \.s and \.bin files/);
    const p = await bpfbox(['verify', file, '--program', 'nope']);
    expect(p.code).toBe(2);
    expect(p.stderr).toContain('programs: count_packets, count_checked');
  });
});

describe.skipIf(!clangAvailable)('bpfbox verify on every C example', () => {
  const examples = readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.bpf.c'));

  test.each(examples)('%s is accepted (exit 0)', async (source) => {
    const name = source.replace(/\.bpf\.c$/, '');
    const file = join(tempFiles({ [`${name}.bpf.o`]: compileExample(name) }), `${name}.bpf.o`);
    const r = await bpfbox(['verify', file]);
    expect(r.stdout).not.toContain('error[');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toMatch(VERDICT);
  });
});

describe('bpfbox verify on assembly and raw programs', () => {
  const dir = tempFiles({
    'pass.s': 'r0 = 2\nexit\n',
    'uninit.s': 'r0 = r2\nexit\n',
    // r0 = 1; exit
    'one.bin': slots('b700000001000000', '9500000000000000'),
  });

  test('an assembly file verifies as the program type --type gives', async () => {
    const r = await bpfbox(['verify', join(dir, 'pass.s'), '--type', 'xdp']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^✓ pass\.s: accepted \(2 insns processed, /);
    const j = await bpfbox(['verify', join(dir, 'pass.s'), '--type', 'xdp', '--json']);
    const json = JSON.parse(j.stdout);
    expect(json).toMatchObject({ ok: true, errors: [], stats: { insns_processed: 2 } });
    expect(json.programs).toBeUndefined();
  });

  test('a SEC name works as --type; raw .bin programs verify too', async () => {
    expect((await bpfbox(['verify', join(dir, 'pass.s'), '--type', 'tc'])).code).toBe(0);
    const r = await bpfbox(['verify', join(dir, 'one.bin'), '--type', 'socket_filter']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^✓ one\.bin: accepted/);
  });

  test('a rejected assembly program: code, pc and hint (exit 1)', async () => {
    const r = await bpfbox(['verify', join(dir, 'uninit.s'), '--type', 'kprobe']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('error[UNINIT_READ]: ');
    expect(r.stdout).toContain('(pc 0)');
    expect(r.stdout).toMatch(/= help: /);
    const json = JSON.parse(
      (await bpfbox(['verify', join(dir, 'uninit.s'), '--type', 'kprobe', '--json'])).stdout,
    );
    expect(json.ok).toBe(false);
    expect(json.errors[0]).toMatchObject({ code: 'UNINIT_READ', pc: 0 });
    expect(json.errors[0].hint).toBeTruthy();
  });

  test('without --type: a usage error listing the program types (exit 2)', async () => {
    const r = await bpfbox(['verify', join(dir, 'pass.s')]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error\[USAGE\]: .*pass\.s needs --type TYPE/);
    expect(r.stderr).toContain('xdp, sched_cls');
    expect(r.stderr).toContain('socket_filter');
  });

  test('an unknown --type, --program on a .s file, an unknown extension (exit 2)', async () => {
    const bad = await bpfbox(['verify', join(dir, 'pass.s'), '--type', 'bogus']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown program type "bogus"; types: socket_filter, xdp/);
    const prog = await bpfbox(['verify', join(dir, 'pass.s'), '--type', 'xdp', '--program', 'x']);
    expect(prog.code).toBe(2);
    expect(prog.stderr).toContain('--program applies to object files');
    const other = tempFiles({ 'notes.txt': 'r0 = 0\nexit\n' });
    const ext = await bpfbox(['verify', join(other, 'notes.txt'), '--type', 'xdp']);
    expect(ext.code).toBe(2);
    expect(ext.stderr).toMatch(/^error\[FILE_TYPE\]/);
  });

  test('a missing file is a usage error (exit 2)', async () => {
    const r = await bpfbox(['verify', join(dir, 'missing.o')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error\[IO\]: cannot read/);
  });
});
