/**
 * Programs clang-19 compiled from C against the UAPI headers and libbpf's bpf_tracing.h run on the
 * contexts unchanged: `(void *)(long)ctx->data` is a real pointer, narrow __sk_buff loads hit the right
 * bytes, BPF_KPROBE/BPF_PROG find their arguments, LD_ABS reads the packet.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSectionName } from '../../src/elf/object.js';
import { type ContextSpec, field, SK_BUFF, writeField } from '../../src/runtime/contexts/index.js';
import { hex, ipv4Packet, runBytes } from './contexts-fixtures.js';

const SOURCE = `
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");

SEC("xdp")
int xdp_drop_dns(struct xdp_md *ctx) {
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > data_end) return XDP_PASS;
  if (eth->h_proto != bpf_htons(ETH_P_IP)) return XDP_PASS;
  struct iphdr *ip = (void *)(eth + 1);
  if ((void *)(ip + 1) > data_end) return XDP_PASS;
  if (ip->protocol != IPPROTO_UDP) return XDP_PASS;
  struct udphdr *udp = (void *)ip + ip->ihl * 4;
  if ((void *)(udp + 1) > data_end) return XDP_PASS;
  return udp->dest == bpf_htons(53) ? XDP_DROP : XDP_PASS;
}

SEC("tc")
int tc_mark(struct __sk_buff *skb) {
  if (skb->protocol != bpf_htons(ETH_P_IP)) return TC_ACT_OK;
  void *data = (void *)(long)skb->data;
  void *data_end = (void *)(long)skb->data_end;
  struct iphdr *ip = data + sizeof(struct ethhdr);
  if ((void *)(ip + 1) > data_end) return TC_ACT_SHOT;
  skb->mark = skb->len;
  skb->cb[1] = ip->ttl;
  ip->ttl -= 1;
  skb->priority = skb->ifindex;
  return TC_ACT_OK;
}

SEC("socket")
int sock_udp(struct __sk_buff *skb) {
  if (load_half(skb, 12) != ETH_P_IP) return 0;
  return load_byte(skb, 23) == IPPROTO_UDP ? skb->len : 0;
}

struct openat_args { unsigned long long common; int nr; long dfd; const char *filename; long flags; long mode; };
SEC("tracepoint/syscalls/sys_enter_openat")
int tp_openat(struct openat_args *ctx) {
  char name[16];
  long n = bpf_probe_read_user_str(name, sizeof(name), ctx->filename);
  return name[5] | (n << 8) | (ctx->flags << 16) | (ctx->nr == 257 ? 1 << 24 : 0);
}

struct exec_args { unsigned long long common; unsigned int filename_loc; int pid; int old_pid; };
SEC("tp/sched/sched_process_exec")
int tp_exec(struct exec_args *ctx) {
  const char *s = (const char *)ctx + (ctx->filename_loc & 0xffff);
  return s[5] | (ctx->pid << 8);
}

SEC("kprobe/do_unlinkat")
int BPF_KPROBE(kp, int dfd, long name, long c, long d, long e) { return dfd + c * 10 + e * 100; }

SEC("kretprobe/do_unlinkat")
int BPF_KRETPROBE(krp, long ret) { return ret + 1; }

SEC("fentry/do_unlinkat")
int BPF_PROG(fe, int dfd, long b) { return dfd + b; }

SEC("fexit/do_unlinkat")
int BPF_PROG(fx, int dfd, long b, long ret) { return ret * 2; }

SEC("raw_tp/sched_switch")
int BPF_PROG(rtp, int preempt, long prev) { return prev; }

SEC("xdp_adjust")
int adjust_and_tx(struct xdp_md *ctx) {
  if (bpf_xdp_adjust_head(ctx, -4)) return XDP_ABORTED;
  if (bpf_xdp_adjust_tail(ctx, -6)) return XDP_ABORTED;
  void *data = (void *)(long)ctx->data;
  void *data_end = (void *)(long)ctx->data_end;
  if (data + 4 > data_end) return XDP_ABORTED;
  __builtin_memcpy(data, "\x01\x02\x03\x04", 4);
  return XDP_TX;
}

SEC("tc_fields")
int read_fields(struct __sk_buff *skb) {
  return skb->len | skb->protocol << 16;
}

SEC("tc_fields2")
int read_fields2(struct __sk_buff *skb) {
  return skb->pkt_type | skb->ifindex << 4 | skb->wire_len << 8 | skb->vlan_present << 24 | (skb->data_meta == skb->data) << 28;
}

char LICENSE[] SEC("license") = "GPL";
`;

function hasClang(): boolean {
  try {
    execFileSync('clang-19', ['--version'], { stdio: 'ignore' });
    execFileSync('llvm-objcopy-19', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'bpfbox-ctx-clang-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sectionBytes(object: string, section: string): Uint8Array {
  const out = join(dir, `${section.replace(/\W/g, '_')}.bin`);
  execFileSync('llvm-objcopy-19', ['-O', 'binary', `--only-section=${section}`, object, out]);
  return new Uint8Array(readFileSync(out));
}

/** Builds the BPF_PROG_TEST_RUN runner; its path, or why the kernel cannot be asked here. */
function kernelRunner(): { path: string } | { skip: string } {
  const path = join(dir, 'contexts-kernel-run');
  const cc = spawnSync(
    'gcc',
    ['-O2', '-o', path, join(import.meta.dirname, 'contexts-kernel-run.c'), '-lbpf'],
    {
      encoding: 'utf8',
    },
  );
  if (cc.error || cc.status !== 0)
    return { skip: `cannot build the kernel runner: ${cc.stderr || cc.error}` };
  // r0 = 2 (XDP_PASS) as an XDP program: a plain probe of bpf() and BPF_PROG_TEST_RUN.
  const probe = inKernel(path, [
    [6, Uint8Array.from([0xb7, 0, 0, 0, 2, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]), new Uint8Array(14)],
  ]);
  if (!probe[0]?.startsWith('ok 2 ')) return { skip: `BPF_PROG_TEST_RUN is not usable here: ${probe[0]}` };
  return { path };
}

/** Runs [prog_type, code, packet, ctx?] in the kernel; one output line each (see contexts-kernel-run.c). */
function inKernel(
  runner: string,
  runs: readonly (readonly [number, Uint8Array, Uint8Array, Uint8Array?])[],
): string[] {
  const input = runs.map(
    ([type, code, packet, ctx]) => `${type} ${hex(code)} ${hex(packet)} ${ctx ? hex(ctx) : '-'}`,
  );
  const r = spawnSync(runner, { input: `${input.join('\n')}\n`, encoding: 'utf8' });
  return r.stdout.trimEnd().split('\n');
}

describe.skipIf(!hasClang())('clang-compiled programs on their contexts', () => {
  const object = join(dir, 'p.o');
  beforeAll(() => {
    writeFileSync(join(dir, 'p.c'), SOURCE);
    execFileSync('clang-19', [
      '-target',
      'bpf',
      '-O2',
      '-D__TARGET_ARCH_x86',
      '-I/usr/include/x86_64-linux-gnu',
      '-c',
      join(dir, 'p.c'),
      '-o',
      object,
    ]);
  });

  /** The program of SEC `section` (these use no maps, so its bytes need no relocation), run on `input`. */
  function run(section: string, input: unknown, spec: ContextSpec | undefined = parseSectionName(section)) {
    if (spec === undefined) throw new Error(`unknown section ${section}`);
    return runBytes(spec, input, sectionBytes(object, section), true);
  }

  it('XDP parser drops UDP port 53', () => {
    expect(run('xdp', { packet: hex(ipv4Packet({ dport: 53 })) }).result).toMatchObject({ action: 'DROP' });
    expect(run('xdp', { packet: hex(ipv4Packet({ dport: 443 })) }).result).toMatchObject({ action: 'PASS' });
    expect(run('xdp', { packet: '0800' }).result).toMatchObject({ action: 'PASS' });
  });

  it('tc: protocol check, mark = len, cb[1] = ttl, ttl decremented in the packet, priority = ifindex', () => {
    const packet = ipv4Packet();
    const { result } = run('tc', { packet: hex(packet), ifindex: 9 });
    expect(result).toMatchObject({ kind: 'skb', verdict: 'OK' });
    if (result.kind !== 'skb') return;
    expect(result.fields.mark).toBe(BigInt(packet.length));
    expect(result.fields.priority).toBe(9n);
    expect(result.fields.cb).toEqual([0n, 64n, 0n, 0n, 0n]);
    expect(result.packet[22]).toBe(63);
  });

  it('socket filter with LD_ABS keeps UDP packets whole and drops TCP', () => {
    const udp = ipv4Packet();
    expect(run('socket', { packet: hex(udp) }).result).toMatchObject({ keep: udp.length });
    expect(run('socket', { packet: hex(ipv4Packet({ proto: 'tcp' })) }).result).toMatchObject({ keep: 0 });
  });

  it('tracepoint: args by name, bpf_probe_read_user_str of the filename', () => {
    const { r0 } = run('tracepoint/syscalls/sys_enter_openat', {
      args: { filename: '/etc/hosts', flags: 2 },
    });
    expect(r0).toBe((1n << 24n) | (2n << 16n) | (11n << 8n) | BigInt('h'.charCodeAt(0)));
  });

  it('tracepoint: __data_loc string and pid of sched_process_exec', () => {
    const { r0 } = run('tp/sched/sched_process_exec', { task: { pid: 77 }, args: { filename: '/bin/true' } });
    expect(r0).toBe((77n << 8n) | BigInt('t'.charCodeAt(0)));
  });

  it('BPF_KPROBE and BPF_KRETPROBE', () => {
    expect(run('kprobe/do_unlinkat', { args: [3, 0, 4, 0, 5] }).r0).toBe(3n + 40n + 500n);
    expect(run('kprobe/do_unlinkat', { regs: { di: 1, dx: 2, r8: 3 } }).r0).toBe(1n + 20n + 300n);
    expect(run('kretprobe/do_unlinkat', { ret: 41 }).r0).toBe(42n);
  });

  it('BPF_PROG on fentry, fexit (return value after the args) and raw_tp', () => {
    expect(run('fentry/do_unlinkat', { args: [5, 6] }).r0).toBe(11n);
    expect(run('fexit/do_unlinkat', { args: [5, 6], ret: 21 }).r0).toBe(42n);
    expect(run('raw_tp/sched_switch', { args: [0, '0x1234'] }).r0).toBe(0x1234n);
  });
});

const BPF_PROG_TYPE_SCHED_CLS = 3;
const BPF_PROG_TYPE_XDP = 6;
const runner = hasClang() ? kernelRunner() : { skip: 'no clang-19' };
if ('skip' in runner) console.warn(`context kernel comparison skipped: ${runner.skip}`);

describe.skipIf('skip' in runner)('the same programs in the Linux kernel (BPF_PROG_TEST_RUN) agree', () => {
  const object = join(dir, 'k.o');
  beforeAll(() => {
    writeFileSync(join(dir, 'k.c'), SOURCE);
    execFileSync('clang-19', [
      '-target',
      'bpf',
      '-O2',
      '-D__TARGET_ARCH_x86',
      '-I/usr/include/x86_64-linux-gnu',
      '-c',
      join(dir, 'k.c'),
      '-o',
      object,
    ]);
  });
  const path = 'path' in runner ? runner.path : '';

  it('XDP: verdicts, and the packet after bpf_xdp_adjust_head/tail and a write', () => {
    for (const packet of [
      ipv4Packet({ dport: 53 }),
      ipv4Packet({ dport: 80 }),
      ipv4Packet({ proto: 'tcp' }),
    ]) {
      for (const section of ['xdp', 'xdp_adjust']) {
        const code = sectionBytes(object, section);
        const [kernel] = inKernel(path, [[BPF_PROG_TYPE_XDP, code, packet]]);
        const ours = runBytes({ type: 'xdp' }, { packet: hex(packet) }, code, true);
        if (ours.result.kind !== 'xdp') throw new Error('expected xdp');
        expect(`ok ${ours.r0} ${hex(ours.result.packet)} -`).toBe(kernel);
      }
    }
  });

  it('tc: verdict, rewritten packet and the __sk_buff fields it wrote (mark, priority, cb)', () => {
    const packet = ipv4Packet();
    const code = sectionBytes(object, 'tc');
    // The kernel runs tc programs on loopback (ifindex 1) with the context fields it accepts as input.
    const ctx = new Uint8Array(SK_BUFF.size);
    writeField(ctx, SK_BUFF, 'mark', 5);
    writeField(ctx, SK_BUFF, 'cb', 9, 0, 4);
    writeField(ctx, SK_BUFF, 'ifindex', 1);
    const [kernel] = inKernel(path, [[BPF_PROG_TYPE_SCHED_CLS, code, packet, ctx]]);
    const [status, retval, dataOut, ctxOut] = kernel.split(' ');
    expect(status).toBe('ok');
    const ours = runBytes(
      { type: 'sched_cls' },
      { packet: hex(packet), mark: 5, cb: [9], ifindex: 1 },
      code,
      true,
    );
    if (ours.result.kind !== 'skb') throw new Error('expected skb');
    expect(BigInt(retval)).toBe(ours.r0);
    expect(hex(ours.result.packet)).toBe(dataOut);
    const view = new DataView(Uint8Array.from(Buffer.from(ctxOut, 'hex')).buffer);
    const u32 = (name: string, i = 0) => BigInt(view.getUint32(field(SK_BUFF, name).offset + 4 * i, true));
    expect(ours.result.fields.mark).toBe(u32('mark'));
    expect(ours.result.fields.priority).toBe(u32('priority'));
    expect(ours.result.fields.cb).toEqual([0, 1, 2, 3, 4].map((i) => u32('cb', i)));
  });

  it('tc: len, protocol, pkt_type (host, multicast), ifindex, wire_len, vlan_present, data_meta', () => {
    const packets = [ipv4Packet(), ipv4Packet({ proto: 'tcp', payload: 100 }), ipv4Packet({ dport: 5353 })];
    packets[0].fill(0, 0, 6); // the loopback device's own address: PACKET_HOST
    packets[1].fill(0, 0, 6); // (broadcast is PACKET_MULTICAST on loopback, which has no broadcast address)
    packets[2].set([0x01, 0x00, 0x5e, 0, 0, 0xfb]);
    for (const packet of packets) {
      for (const section of ['tc_fields', 'tc_fields2']) {
        const code = sectionBytes(object, section);
        // With a context the kernel sets wire_len as the qdisc layer does (= len); without, it stays 0.
        const ctx = new Uint8Array(SK_BUFF.size);
        writeField(ctx, SK_BUFF, 'ifindex', 1);
        const [kernel] = inKernel(path, [[BPF_PROG_TYPE_SCHED_CLS, code, packet, ctx]]);
        const ours = runBytes({ type: 'sched_cls' }, { packet: hex(packet), ifindex: 1 }, code, true);
        expect(`${section} ok ${ours.r0} ${hex(packet)}`).toBe(
          `${section} ${kernel.split(' ').slice(0, 3).join(' ')}`,
        );
      }
    }
  });
});
