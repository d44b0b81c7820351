/**
 * `bpfbox inspect OBJ.o` and `bpfbox run OBJ.o` on clang-19 objects: the JSON contracts exactly,
 * packets in and out, tracing contexts (task, tracepoint args, kprobe regs), `rodata` overrides,
 * `--repeat` on persistent maps, ring buffer and perf events, and one error per class (the JIT engine
 * and the `--repeat` timing fields: run-timing.test.ts).
 */
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { clangAvailable, compileBpf, warnIfMissing } from '../elf/compile.js';
import { bpfbox, tempFiles } from './spawn.js';

warnIfMissing('test/cli/elf');

const XDP_SOURCE = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 port = 53;
const volatile char tag[8] = "abc";
__u64 seen = 0;

struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 8); __type(key, __u32); __type(value, __u64); } counts SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); } events SEC(".maps");

SEC("xdp") int entry(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
  __u32 k = port;
  __u64 one = 1, *v = bpf_map_lookup_elem(&counts, &k);
  if (v) __sync_fetch_and_add(v, 1); else bpf_map_update_elem(&counts, &k, &one, BPF_ANY);
  seen++;
  __u32 *r = bpf_ringbuf_reserve(&events, 4, 0);
  if (r) { *r = (__u32)seen; bpf_ringbuf_submit(r, 0); }
  bpf_printk("seen %llu port %u tag %s", seen, port, tag);
  if (data + 2 > end) return XDP_DROP;
  ((__u8 *)data)[0] ^= 0xff;
  return XDP_PASS;
}

SEC("kprobe/do_sys_open") int faulty(void *ctx) {
  volatile int *p = (int *)(long)12345;
  return *p;
}

char LICENSE[] SEC("license") = "GPL";
`;

const TRACE_SOURCE = `
#include <linux/bpf.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct { __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY); __uint(key_size, 4); __uint(value_size, 4); } out SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, __u32); } per SEC(".maps");

struct openat_args { unsigned long long common; int nr; long dfd; const char *filename; long flags; long mode; };
SEC("tracepoint/syscalls/sys_enter_openat")
int openat(struct openat_args *ctx) {
  char comm[16], name[32];
  __u64 id = bpf_get_current_pid_tgid();
  bpf_get_current_comm(comm, sizeof(comm));
  bpf_probe_read_user_str(name, sizeof(name), ctx->filename);
  bpf_printk("pid %d comm %s opens %s", (__u32)id, comm, name);
  __u32 uid = (__u32)bpf_get_current_uid_gid();
  bpf_perf_event_output(ctx, &out, BPF_F_CURRENT_CPU, &uid, sizeof(uid));
  return id >> 32;
}

SEC("kprobe/do_unlinkat")
int BPF_KPROBE(unlink, long dfd, long name) {
  __u32 k = 0, *v = bpf_map_lookup_elem(&per, &k);
  if (v) *v += bpf_get_prandom_u32() & 0xff;
  return dfd + name * 10;
}

SEC("kprobe/do_unlinkat")
int noisy(void *ctx) {
  bpf_printk("about to fault");
  return *(volatile int *)(long)16;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
`;

const TC_SOURCE = `
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
SEC("tc") int mark(struct __sk_buff *skb) { skb->mark = skb->len; return TC_ACT_SHOT; }
char LICENSE[] SEC("license") = "GPL";
`;

function compileObjects(): Record<string, Uint8Array> {
  const prog = compileBpf(XDP_SOURCE);
  return {
    'prog.o': prog,
    'broken.o': prog.slice(0, 200),
    'trace.o': compileBpf(TRACE_SOURCE, ['-D__TARGET_ARCH_x86']),
    'tc.o': compileBpf(TC_SOURCE),
  };
}

const dir = tempFiles({
  ...(clangAvailable ? compileObjects() : {}),
  'xdp.json': JSON.stringify({ packet: '0011223344', rodata: { port: '0x1f90', tag: 'xyz' } }),
  'openat.json': JSON.stringify({
    task: { pid: 4242, tgid: 4240, uid: 1000, comm: 'cat' },
    args: { filename: '/etc/hosts', flags: 0 },
  }),
  'regs.json': JSON.stringify({ regs: { di: 7, si: 3 } }),
  'tc.json': JSON.stringify({ packet: '00'.repeat(20) }),
  'bad.json': '{"packet": "00",',
  'array.json': '[1, 2]',
  'typo.json': JSON.stringify({ packet: '0011', regs: { di: 1 } }),
  'badrodata.json': JSON.stringify({ packet: '0011', rodata: { nope: 1 } }),
  'badvalue.json': JSON.stringify({ packet: '0011', rodata: { port: 'eighty' } }),
  'x.s': 'mov %r0, 1\nexit\n',
});
const file = (name: string) => join(dir, name);
const json = (stdout: string): Record<string, unknown> => JSON.parse(stdout);

describe.skipIf(!clangAvailable).concurrent('bpfbox inspect', () => {
  test('--json: programs and maps (internal maps named as libbpf names them)', async () => {
    const r = await bpfbox(['inspect', file('prog.o'), '--json']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(json(r.stdout)).toEqual({
      programs: [
        { name: 'entry', section: 'xdp', type: 'xdp', insns: expect.any(Number) },
        { name: 'faulty', section: 'kprobe/do_sys_open', type: 'kprobe', insns: 3 },
      ],
      maps: [
        { name: 'counts', type: 'hash', key_size: 4, value_size: 8, max_entries: 8 },
        { name: 'events', type: 'ringbuf', key_size: 0, value_size: 0, max_entries: 4096 },
        // port (4) + tag (8) + the printk format string.
        { name: 'prog.rodata', type: 'array', key_size: 4, value_size: 12 + 25, max_entries: 1 },
        { name: 'prog.bss', type: 'array', key_size: 4, value_size: 8, max_entries: 1 },
      ],
    });
  });

  test('--json: perf event and per-CPU maps, tracing program types', async () => {
    const r = json((await bpfbox(['inspect', file('trace.o'), '--json'])).stdout);
    expect(r.programs).toEqual([
      {
        name: 'openat',
        section: 'tracepoint/syscalls/sys_enter_openat',
        type: 'tracepoint',
        insns: expect.any(Number),
      },
      { name: 'unlink', section: 'kprobe/do_unlinkat', type: 'kprobe', insns: expect.any(Number) },
      { name: 'noisy', section: 'kprobe/do_unlinkat', type: 'kprobe', insns: expect.any(Number) },
    ]);
    expect(r.maps).toEqual([
      { name: 'out', type: 'perf_event_array', key_size: 4, value_size: 4, max_entries: expect.any(Number) },
      { name: 'per', type: 'percpu_array', key_size: 4, value_size: 4, max_entries: 1 },
      { name: 'trace.rodata', type: 'array', key_size: 4, value_size: expect.any(Number), max_entries: 1 },
    ]);
  });

  test('readable form: programs, maps with flags, globals with sizes and types, license', async () => {
    const r = await bpfbox(['inspect', file('prog.o')]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n').map((l) => l.trim().split(/\s{2,}/));
    expect(lines).toContainEqual(['entry', 'xdp', 'xdp', expect.stringMatching(/^\d+$/)]);
    expect(lines).toContainEqual(['prog.rodata', 'array', '4', '37', '1', '0x480']);
    expect(lines).toContainEqual(['port', '.rodata', '4', 'const volatile __u32']);
    expect(lines).toContainEqual(['tag', '.rodata', '8', 'const volatile char [8]']);
    expect(lines).toContainEqual(['seen', '.bss', '8', '__u64']);
    expect(r.stdout).toContain('license: GPL');
  });

  test('a truncated object is a load error (exit 1)', async () => {
    const r = await bpfbox(['inspect', file('broken.o'), '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error\[BAD_ELF\]: /);
  });
});

describe.skipIf(!clangAvailable).concurrent('bpfbox run OBJ.o', () => {
  test('XDP: packet in and out, rodata overrides, --repeat keeps maps and accumulates events', async () => {
    const r = await bpfbox([
      'run',
      file('prog.o'),
      '--program',
      'entry',
      '--input',
      file('xdp.json'),
      '--repeat',
      '3',
      '--json',
    ]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(json(r.stdout)).toEqual({
      ok: true,
      r0: '0x2',
      instructions: expect.any(Number),
      ns_per_run_median: expect.any(Number),
      compile_ns: expect.any(Number),
      printk: ['seen 1 port 8080 tag xyz', 'seen 2 port 8080 tag xyz', 'seen 3 port 8080 tag xyz'],
      ringbuf: ['01000000', '02000000', '03000000'],
      perf: [],
      // The same input each run: the packet starts from IN.json again, so one flip.
      packet: 'ff11223344',
      meta: '',
      action: 'PASS',
      maps: {
        counts: [{ key: '901f0000', value: '0300000000000000' }],
        'prog.rodata': [{ key: '00000000', value: expect.stringMatching(/^901f000078797a0000000000/) }],
        'prog.bss': [{ key: '00000000', value: '0300000000000000' }],
      },
    });
  });

  test('XDP without rodata: defaults; a too-short packet drops', async () => {
    const r = json(
      (
        await bpfbox(
          ['run', file('prog.o'), '--program', 'entry', '--input', '-', '--json'],
          '{"packet":"00"}',
        )
      ).stdout,
    );
    expect(r).toMatchObject({
      ok: true,
      r0: '0x1',
      action: 'DROP',
      packet: '00',
      printk: ['seen 1 port 53 tag abc'],
    });
    expect(r.maps).toMatchObject({ counts: [{ key: '35000000', value: '0100000000000000' }] });
  });

  test('readable summary: r0 with its meaning, printk, events, packet, maps', async () => {
    const r = await bpfbox([
      'run',
      file('prog.o'),
      '--program',
      'entry',
      '--input',
      file('xdp.json'),
      '--repeat',
      '2',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('r0: 0x2 (XDP_PASS)\n');
    expect(r.stdout).toContain('printk:\n  seen 1 port 8080 tag xyz\n  seen 2 port 8080 tag xyz\n');
    expect(r.stdout).toContain('ringbuf:\n  01000000\n  02000000\n');
    expect(r.stdout).toContain('packet: ff11223344\n');
    expect(r.stdout).toContain('counts (1 entry)\n    901f0000: 0200000000000000\n');
  });

  test('tracepoint: task (pid, tgid, uid, comm) and args, perf event output', async () => {
    const r = await bpfbox([
      'run',
      file('trace.o'),
      '--program',
      'openat',
      '--input',
      file('openat.json'),
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toEqual({
      ok: true,
      r0: `0x${(4240).toString(16)}`,
      instructions: expect.any(Number),
      printk: ['pid 4242 comm cat opens /etc/hosts'],
      ringbuf: [],
      perf: ['e8030000'],
      // Perf event arrays and ring buffers hold events, not entries: they are left out of "maps".
      maps: { per: [{ key: '00000000', value: ['00000000'] }], 'trace.rodata': expect.any(Array) },
    });
  });

  test('kprobe: regs; --cpus shapes per-CPU values; --seed makes bpf_get_prandom_u32 reproducible', async () => {
    const args = ['run', file('trace.o'), '--program', 'unlink', '--input', file('regs.json'), '--json'];
    const [a, b, c] = await Promise.all([
      bpfbox([...args, '--cpus', '2', '--seed', '1']),
      bpfbox([...args, '--cpus', '2', '--seed', '1']),
      bpfbox([...args, '--cpus', '2', '--seed', '2']),
    ]);
    expect(json(a.stdout)).toMatchObject({ ok: true, r0: '0x25' }); // 7 + 3 * 10
    const per = (r: typeof a) => (json(r.stdout).maps as Record<string, { value: string[] }[]>).per[0].value;
    expect(per(a)).toHaveLength(2);
    expect(per(a)[1]).toBe('00000000'); // only CPU 0 ran
    expect(per(b)).toEqual(per(a));
    expect(per(c)).not.toEqual(per(a));
  });

  test('the only program runs without --program; tc verdict and __sk_buff fields', async () => {
    const r = json((await bpfbox(['run', file('tc.o'), '--input', file('tc.json'), '--json'])).stdout);
    expect(r).toMatchObject({ ok: true, r0: '0x2', verdict: 'SHOT', packet: '00'.repeat(20) });
    expect((r.skb as Record<string, string>).mark).toBe('0x14');
    const text = await bpfbox(['run', file('tc.o'), '--input', file('tc.json')]);
    expect(text.stdout).toMatch(/^r0: 0x2 \(TC_ACT_SHOT\)\n/);
  });

  test('--gas-limit: gas_used, and OUT_OF_GAS exits 1 with the gas used', async () => {
    const base = ['run', file('prog.o'), '--program', 'entry', '--input', file('xdp.json'), '--json'];
    const ok = json((await bpfbox([...base, '--gas-limit', '100000'])).stdout);
    expect(ok.gas_used).toBe(ok.instructions);
    const r = await bpfbox([...base, '--gas-limit', '5']);
    expect(r.code).toBe(1);
    expect(json(r.stdout)).toEqual({
      ok: false,
      error: expect.objectContaining({ code: 'OUT_OF_GAS', pc: expect.any(Number) }),
      gas_used: 5,
    });
  });
});

describe.skipIf(!clangAvailable).concurrent('bpfbox run OBJ.o: errors', () => {
  test('a trap: JSON with the source line, exit 1; error[CODE] on stderr without --json', async () => {
    // The verifier rejects it (run-verify.test.ts); --no-verify runs it to its trap.
    const r = await bpfbox(['run', file('prog.o'), '--program', 'faulty', '--no-verify', '--json']);
    expect(r.code).toBe(1);
    const out = json(r.stdout);
    expect(out).toEqual({ ok: false, error: expect.objectContaining({ code: 'MEMORY_FAULT', pc: 1 }) });
    expect(out.error).toMatchObject({
      file: expect.stringMatching(/prog\.c$/),
      message: expect.stringContaining('return *p;'),
    });
    const text = await bpfbox(['run', file('prog.o'), '--program', 'faulty', '--no-verify']);
    expect(text).toMatchObject({ code: 1, stdout: '' });
    expect(text.stderr).toMatch(/^error\[MEMORY_FAULT\]: read of 4 bytes at 0x3039/);
  });

  test('a trap in a repeated run names the run; without --json the printk lines before it are shown', async () => {
    const args = ['run', file('trace.o'), '--program', 'noisy', '--repeat', '2', '--no-verify'];
    const [text, asJson] = await Promise.all([bpfbox(args), bpfbox([...args, '--json'])]);
    expect(text).toMatchObject({ code: 1, stdout: 'printk:\n  about to fault\n' });
    expect(text.stderr).toMatch(/^error\[MEMORY_FAULT\]: read of 4 bytes at 0x10 .* \(run 1 of 2\)\n$/);
    expect(asJson.code).toBe(1);
    expect(json(asJson.stdout)).toEqual({
      ok: false,
      error: expect.objectContaining({
        code: 'MEMORY_FAULT',
        message: expect.stringMatching(/\(run 1 of 2\)$/),
      }),
    });
  });

  test('a load error is JSON with --json, exit 1', async () => {
    const r = await bpfbox(['run', file('broken.o'), '--json']);
    expect(r.code).toBe(1);
    expect(json(r.stdout)).toEqual({ ok: false, error: expect.objectContaining({ code: 'BAD_ELF' }) });
  });

  test('missing or unknown program: usage error listing the programs, exit 2', async () => {
    const none = await bpfbox(['run', file('prog.o'), '--json']);
    expect(none).toMatchObject({ code: 2, stdout: '' });
    expect(none.stderr).toBe(
      'error[USAGE]: the object has 2 programs; choose one with --program NAME (programs: entry, faulty)\n',
    );
    const wrong = await bpfbox(['run', file('prog.o'), '--program', 'nope']);
    expect(wrong).toMatchObject({
      code: 2,
      stderr: 'error[USAGE]: the object has no program named nope (programs: entry, faulty)\n',
    });
  });

  test('malformed IN.json, a non-object, an unknown key, bad rodata: exit 2', async () => {
    const run = (input: string) =>
      bpfbox(['run', file('prog.o'), '--program', 'entry', '--input', file(input), '--json']);
    const [bad, array, typo, unknownGlobal, badValue, missing] = await Promise.all(
      ['bad.json', 'array.json', 'typo.json', 'badrodata.json', 'badvalue.json', 'none.json'].map(run),
    );
    for (const r of [bad, array, typo, unknownGlobal, badValue, missing])
      expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(bad.stderr).toMatch(/^error\[DATA_FORMAT\]: .*bad\.json is not valid JSON/);
    expect(array.stderr).toMatch(/^error\[DATA_FORMAT\]: .*array\.json must hold a JSON object/);
    expect(typo.stderr).toBe('error[USAGE]: regs: unknown key\n');
    expect(unknownGlobal.stderr).toBe(
      'error[USAGE]: rodata.nope: the object has no global variable nope (globals: entry.____fmt, port, tag, seen)\n',
    );
    expect(badValue.stderr).toBe('error[DATA_FORMAT]: rodata.port: expected an integer, got "eighty"\n');
    expect(missing.stderr).toMatch(/^error\[IO\]: cannot read .*none\.json/);
  });

  test('flags of the other kind of input are rejected', async () => {
    const mem = await bpfbox(['run', file('prog.o'), '--mem', '00']);
    expect(mem).toMatchObject({
      code: 2,
      stderr: 'error[USAGE]: --mem does not apply to object files; give the context with --input IN.json\n',
    });
    const program = await bpfbox(['run', file('x.s'), '--program', 'entry']);
    expect(program).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--program applies to object files'),
    });
    const repeat = await bpfbox(['run', file('prog.o'), '--program', 'entry', '--repeat', '0']);
    expect(repeat).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--repeat must be a positive integer'),
    });
    expect(await bpfbox(['run', file('x.s')])).toMatchObject({ code: 0, stdout: '0x1\n' });
  });
});
