/** Assembled programs run on prepared contexts: packets through __sk_buff/xdp_md, tracing records. */
import { describe, expect, it } from 'vitest';
import { MemoryFault } from '../../src/errors.js';
import {
  contextResultJson,
  field,
  PT_REGS,
  SK_BUFF,
  StructContext,
  XDP_MD,
} from '../../src/runtime/contexts/index.js';
import { USER_SLOT } from '../../src/runtime/helpers/sim-memory.js';
import { Slot, slotBase } from '../../src/vm/memory/layout.js';
import { hex, ipv4Packet, runAgain, runOn } from './contexts-fixtures.js';

const off = (name: string) => field(SK_BUFF, name).offset;
const TC = { type: 'sched_cls' } as const;
const SOCKET = { type: 'socket_filter' } as const;
const XDP = { type: 'xdp' } as const;

describe('__sk_buff (tc, socket filter)', () => {
  const packet = ipv4Packet({ dport: 53 });

  it('skb->len is the packet length', () => {
    const { r0 } = runOn(TC, { packet: hex(packet) }, `ldxw %r0, [%r1+${off('len')}]\nexit`);
    expect(r0).toBe(BigInt(packet.length));
  });

  it('data/data_end are real guest addresses: a bounds-checked parse reads the EtherType', () => {
    const { r0 } = runOn(
      TC,
      { packet: hex(packet) },
      `
      ldxw %r2, [%r1+${off('data')}]
      ldxw %r3, [%r1+${off('data_end')}]
      mov %r4, %r2
      add %r4, 14
      mov %r0, 0
      jgt %r4, %r3, out
      ldxh %r0, [%r2+12]
      be16 %r0
    out:
      exit`,
    );
    expect(r0).toBe(0x0800n);
  });

  it('protocol, family, addresses and ports come from the headers (network byte order where the UAPI says)', () => {
    const { ctx } = runOn(TC, { packet: hex(packet) }, 'mov %r0, 0\nexit');
    expect(ctx.r1).toBe(BigInt(slotBase(Slot.INPUT)));
    const run = runOn(
      TC,
      { packet: hex(packet) },
      `
      ldxw %r0, [%r1+${off('protocol')}]
      ldxw %r2, [%r1+${off('remote_port')}]
      lsh %r2, 16
      or %r0, %r2
      ldxw %r2, [%r1+${off('local_port')}]
      lsh %r2, 32
      or %r0, %r2
      exit`,
    );
    // protocol: htons(0x0800) = 0x0008; remote_port: htons(1234) = 0xd204; local_port host order 53.
    expect(run.r0).toBe((53n << 32n) | (0xd204n << 16n) | 0x0008n);
    const ip = runOn(TC, { packet: hex(packet) }, `ldxw %r0, [%r1+${off('remote_ip4')}]\nexit`);
    expect(ip.r0).toBe(0x0100000an); // 10.0.0.1 in network order, read as a little-endian u32
  });

  it('writes to mark, priority and cb[] are read back; the verdict is named', () => {
    const { result } = runOn(
      TC,
      { packet: hex(packet), mark: 5, cb: [1, 2] },
      `
      ldxw %r2, [%r1+${off('mark')}]
      add %r2, 37
      stxw [%r1+${off('mark')}], %r2
      stw [%r1+${off('priority')}], 6
      stw [%r1+${off('cb') + 16}], 99
      mov %r0, 2
      exit`,
    );
    expect(result.kind).toBe('skb');
    if (result.kind !== 'skb') return;
    expect(result.verdict).toBe('SHOT');
    expect(result.fields.mark).toBe(42n);
    expect(result.fields.priority).toBe(6n);
    expect(result.fields.cb).toEqual([1n, 2n, 0n, 0n, 99n]);
    expect(Object.keys(result.fields).sort()).toEqual(
      ['cb', 'mark', 'priority', 'queue_mapping', 'tc_classid', 'tc_index', 'tstamp'].sort(),
    );
  });

  it('tc may rewrite packet bytes directly; the packet after the run shows it', () => {
    const { result } = runOn(
      TC,
      { packet: hex(packet) },
      `
      ldxw %r2, [%r1+${off('data')}]
      ldxw %r3, [%r1+${off('data_end')}]
      mov %r4, %r2
      add %r4, 24
      jgt %r4, %r3, out
      stb [%r2+22], 1
    out:
      mov %r0, 0
      exit`,
    );
    if (result.kind !== 'skb') throw new Error('expected an skb result');
    expect(result.packet[22]).toBe(1);
    expect(hex(result.packet.subarray(23))).toBe(hex(packet.subarray(23)));
  });

  it('LD_ABS reads from data: a socket filter keeps the bytes it returns', () => {
    const { r0, result } = runOn(
      SOCKET,
      { packet: hex(packet) },
      'ldabsh 12\njne %r0, 0x800, drop\nmov %r0, 20\nexit\ndrop:\nmov %r0, 0\nexit',
    );
    expect(r0).toBe(20n);
    if (result.kind !== 'skb') throw new Error('expected an skb result');
    expect(result.keep).toBe(20);
    expect(result.verdict).toBeUndefined();
    const oob = runOn(SOCKET, { packet: hex(packet) }, `ldabsb ${packet.length}\nmov %r0, 7\nexit`);
    expect(oob.r0).toBe(0n); // out of bounds ends the program with 0, as in the kernel
  });

  it('a socket filter cannot write the packet, and nothing outside [data, data_end) is mapped', () => {
    const write = () =>
      runOn(
        SOCKET,
        { packet: hex(packet) },
        `ldxw %r2, [%r1+${off('data')}]\nstb [%r2+0], 1\nmov %r0, 0\nexit`,
      );
    expect(write).toThrow(MemoryFault);
    const before = () =>
      runOn(TC, { packet: hex(packet) }, `ldxw %r2, [%r1+${off('data')}]\nldxb %r0, [%r2-1]\nexit`);
    expect(before).toThrow(MemoryFault);
    const after = () =>
      runOn(TC, { packet: hex(packet) }, `ldxw %r2, [%r1+${off('data_end')}]\nldxb %r0, [%r2+0]\nexit`);
    expect(after).toThrow(MemoryFault);
  });

  it('input fields: ifindex, vlan, protocol override, hash, tstamp (u64)', () => {
    const { ctx, memory } = runOn(
      TC,
      {
        packet: hex(packet),
        ifindex: 7,
        ingress_ifindex: 3,
        vlan_tci: 100,
        hash: '0xdeadbeef',
        tstamp: '0x123456789abc',
      },
      'mov %r0, 0\nexit',
    );
    const u32 = (name: string) =>
      memory.view.getUint32(Number(memory.translate(ctx.r1 + BigInt(off(name)), 4, 'read')), true);
    expect(u32('ifindex')).toBe(7);
    expect(u32('ingress_ifindex')).toBe(3);
    expect(u32('vlan_present')).toBe(1);
    expect(u32('vlan_tci')).toBe(100);
    expect(u32('vlan_proto')).toBe(0x0081); // htons(ETH_P_8021Q)
    expect(u32('hash')).toBe(0xdeadbeef);
    expect(memory.readU64(ctx.r1 + BigInt(off('tstamp')))).toBe(0x123456789abcn);
  });

  it('pkt_type from the destination MAC as eth_type_trans sets it on an Ethernet device', () => {
    const pktType = (mac: number[]) => {
      const p = ipv4Packet();
      p.set(mac);
      return runOn(TC, { packet: hex(p) }, `ldxw %r0, [%r1+${off('pkt_type')}]\nexit`).r0;
    };
    expect(pktType([0xff, 0xff, 0xff, 0xff, 0xff, 0xff])).toBe(1n); // PACKET_BROADCAST
    expect(pktType([0x33, 0x33, 0, 0, 0, 1])).toBe(2n); // PACKET_MULTICAST
    expect(pktType([0x02, 0, 0, 0, 0, 2])).toBe(0n); // PACKET_HOST
    expect(
      runOn(TC, { packet: hex(ipv4Packet()), pkt_type: 4 }, `ldxw %r0, [%r1+${off('pkt_type')}]\nexit`).r0,
    ).toBe(4n);
  });

  it('reset() restores context, packet and pointers for the next event', () => {
    const run = runOn(TC, { packet: hex(packet) }, `stw [%r1+${off('mark')}], 1\nmov %r0, 0\nexit`);
    run.ctx.reset();
    expect(run.memory.read(run.ctx.r1 + BigInt(off('mark')), 4)).toEqual(new Uint8Array(4));
    const again = run.vm.run({ args: [run.ctx.r1] });
    expect(again.r0).toBe(0n);
  });
});

describe('xdp_md', () => {
  const xoff = (name: string) => field(XDP_MD, name).offset;
  /** XDP_DROP for UDP to port 53, XDP_PASS otherwise. */
  const DROP_DNS = `
    ldxw %r2, [%r1+${xoff('data')}]
    ldxw %r3, [%r1+${xoff('data_end')}]
    mov %r0, 2
    mov %r4, %r2
    add %r4, 42
    jgt %r4, %r3, out
    ldxh %r5, [%r2+12]
    jne %r5, 0x0008, out
    ldxb %r5, [%r2+23]
    jne %r5, 17, out
    ldxh %r5, [%r2+36]
    be16 %r5
    jne %r5, 53, out
    mov %r0, 1
  out:
    exit`;

  it('drops UDP port 53 and passes the rest', () => {
    expect(runOn(XDP, { packet: hex(ipv4Packet({ dport: 53 })) }, DROP_DNS).result).toMatchObject({
      action: 'DROP',
    });
    expect(runOn(XDP, { packet: hex(ipv4Packet({ dport: 80 })) }, DROP_DNS).result).toMatchObject({
      action: 'PASS',
    });
    expect(
      runOn(XDP, { packet: hex(ipv4Packet({ proto: 'tcp', dport: 53 })) }, DROP_DNS).result,
    ).toMatchObject({
      action: 'PASS',
    });
    expect(runOn(XDP, { packet: '0102' }, DROP_DNS).result).toMatchObject({ action: 'PASS' });
  });

  it('actions by value; other values are no action', () => {
    const names = [0, 1, 2, 3, 4, 5].map((v) => runOn(XDP, { packet: '00' }, `mov %r0, ${v}\nexit`).result);
    expect(names.map((r) => (r.kind === 'xdp' ? r.action : 'x'))).toEqual([
      'ABORTED',
      'DROP',
      'PASS',
      'TX',
      'REDIRECT',
      undefined,
    ]);
  });

  it('data_meta sits before data; ingress_ifindex and rx_queue_index from the input', () => {
    const { r0, result } = runOn(
      XDP,
      { packet: hex(ipv4Packet()), meta: '2a000000', rx_queue_index: 3 },
      `
      ldxw %r2, [%r1+${xoff('data_meta')}]
      ldxw %r3, [%r1+${xoff('data')}]
      mov %r0, %r3
      sub %r0, %r2
      ldxw %r4, [%r2+0]
      lsh %r4, 8
      or %r0, %r4
      ldxw %r4, [%r1+${xoff('rx_queue_index')}]
      lsh %r4, 16
      or %r0, %r4
      exit`,
    );
    expect(r0).toBe((3n << 16n) | (42n << 8n) | 4n);
    if (result.kind !== 'xdp') throw new Error('expected xdp');
    expect(hex(result.meta)).toBe('2a000000');
  });

  it('bpf_xdp_adjust_head/tail/meta move the pointers the program sees, and the window with them', () => {
    const packet = ipv4Packet();
    const ran = runOn(
      XDP,
      { packet: hex(packet) },
      `
      mov %r6, %r1
      mov %r2, -4
      call 44
      mov %r1, %r6
      mov %r2, -10
      call 65
      mov %r1, %r6
      mov %r2, -8
      call 54
      ldxw %r2, [%r6+${xoff('data')}]
      stw [%r2+0], 0x04030201
      ldxw %r3, [%r6+${xoff('data_meta')}]
      stw [%r3+0], 0x2a
      ldxw %r0, [%r6+${xoff('data_end')}]
      sub %r0, %r2
      exit`,
      true,
    );
    expect(ran.r0).toBe(BigInt(packet.length + 4 - 10));
    const { result, ctx } = ran;
    if (result.kind !== 'xdp') throw new Error('expected xdp');
    expect(hex(result.packet)).toBe(`01020304${hex(packet.subarray(0, packet.length - 10))}`);
    expect(hex(result.meta)).toBe('2a00000000000000');
    // The grown head is mapped; the shrunk tail is not.
    const end = BigInt(ctx.packet?.dataEnd ?? 0);
    expect(() => ran.memory.read(end, 1)).toThrow(MemoryFault);
    ctx.reset();
    expect(hex(ctx.packet?.bytes() ?? new Uint8Array(0))).toBe(hex(packet));
    expect(ctx.packet?.meta().length).toBe(0);
    expect(
      runAgain(
        ran,
        `ldxw %r2, [%r1+${xoff('data')}]\nldxw %r0, [%r1+${xoff('data_end')}]\nsub %r0, %r2\nexit`,
      ),
    ).toBe(BigInt(packet.length));
  });
});

describe('tracing contexts', () => {
  const task = { pid: 4242, tgid: 4240, uid: 1001, comm: 'cat' };

  it('tracepoint sys_enter_openat: args by field name, filename points at the string in user memory', () => {
    const { r0, ctx, memory } = runOn(
      { type: 'tracepoint', attachTo: 'syscalls/sys_enter_openat' },
      { task, args: { dfd: -100, filename: '/etc/passwd', flags: 0x80000 } },
      `
      ldxdw %r0, [%r1+16]
      add %r0, 100
      exit`,
    );
    expect(r0).toBe(0n); // dfd = AT_FDCWD (-100) sign-extended
    const record = memory.read(ctx.r1, 48);
    const v = new DataView(record.buffer);
    expect(v.getInt32(4, true)).toBe(4242); // common_pid
    expect(v.getInt32(8, true)).toBe(257); // __syscall_nr of openat on x86-64
    expect(v.getBigUint64(32, true)).toBe(0x80000n);
    const pointer = v.getBigUint64(24, true);
    expect(pointer >> 28n).toBe(BigInt(USER_SLOT));
    if (!(ctx instanceof StructContext)) throw new Error('expected a struct context');
    expect(new TextDecoder().decode(ctx.userMemory?.read(Number(pointer), 12))).toBe('/etc/passwd\0');
    // User memory is not the program's to load from: only bpf_probe_read_user* reads it.
    expect(() => memory.read(pointer, 1)).toThrow(MemoryFault);
  });

  it('bpf_probe_read_user_str reads the filename through the kernel helpers', () => {
    const { r0, memory } = runOn(
      { type: 'tracepoint', attachTo: 'syscalls/sys_enter_openat' },
      { task, args: { filename: '/etc/passwd' } },
      `
      ldxdw %r3, [%r1+24]
      mov %r1, %r10
      add %r1, -16
      mov %r2, 16
      call 114
      ldxb %r1, [%r10-11]
      lsh %r0, 8
      or %r0, %r1
      exit`,
      true,
    );
    expect(r0).toBe((12n << 8n) | BigInt('p'.charCodeAt(0)));
    expect(memory.region(USER_SLOT)?.name).toBe('user');
  });

  it('execve argv is a NULL-terminated array of string pointers', () => {
    const { r0, ctx } = runOn(
      { type: 'tracepoint', attachTo: 'syscalls/sys_enter_execve' },
      { args: { filename: '/bin/ls', argv: ['ls', '-l'] } },
      'ldxdw %r0, [%r1+24]\nexit',
    );
    if (!(ctx instanceof StructContext) || ctx.userMemory === undefined) throw new Error('no user memory');
    const user = ctx.userMemory;
    const argv = new DataView(user.read(Number(r0), 24).buffer);
    const str = (p: bigint) => new TextDecoder().decode(user.read(Number(p), 3));
    expect([str(argv.getBigUint64(0, true)), str(argv.getBigUint64(8, true))]).toEqual(['ls\0', '-l\0']);
    expect(argv.getBigUint64(16, true)).toBe(0n);
  });

  it('sys_exit_* has the return value; generic sys_enter_* takes the number and six args', () => {
    const exit = runOn(
      { type: 'tracepoint', attachTo: 'syscalls/sys_exit_read' },
      { args: { ret: -11 } },
      'ldxdw %r0, [%r1+16]\nldxw %r2, [%r1+8]\nexit',
    );
    expect(BigInt.asIntN(64, exit.r0)).toBe(-11n);
    const generic = runOn(
      { type: 'tracepoint', attachTo: 'syscalls/sys_enter_futex' },
      { args: { __syscall_nr: 202, arg5: 9 } },
      'ldxw %r0, [%r1+8]\nldxdw %r2, [%r1+56]\nlsh %r2, 32\nor %r0, %r2\nexit',
    );
    expect(generic.r0).toBe((9n << 32n) | 202n);
  });

  it('sched_process_exec: __data_loc filename is (len << 16 | offset) with the string appended', () => {
    const { r0, ctx, memory } = runOn(
      { type: 'tracepoint', attachTo: 'sched/sched_process_exec' },
      { task, args: { filename: '/usr/bin/cat' } },
      `
      ldxw %r2, [%r1+8]
      mov %r3, %r2
      and %r3, 0xffff
      add %r3, %r1
      ldxb %r0, [%r3+9]
      rsh %r2, 16
      lsh %r2, 8
      or %r0, %r2
      exit`,
    );
    expect(r0).toBe((13n << 8n) | BigInt('c'.charCodeAt(0)));
    const record = memory.read(ctx.r1, 36);
    const v = new DataView(record.buffer);
    expect(v.getUint32(8, true)).toBe((13 << 16) | 20);
    expect(v.getInt32(12, true)).toBe(4242); // pid defaults to the task's
    expect(new TextDecoder().decode(record.subarray(20, 33))).toBe('/usr/bin/cat\0');
  });

  it('sched_process_exit and fork default their comm and pids from the task', () => {
    const exit = runOn(
      { type: 'tracepoint', attachTo: 'sched/sched_process_exit' },
      { task },
      'ldxw %r0, [%r1+24]\nexit',
    );
    expect(exit.r0).toBe(4242n);
    expect(new TextDecoder().decode(exit.memory.read(exit.ctx.r1 + 8n, 4))).toBe('cat\0');
    const fork = runOn(
      { type: 'tracepoint', attachTo: 'sched/sched_process_fork' },
      { task, args: { child_pid: 5000, child_comm: 'a-very-long-command-name' } },
      'ldxw %r0, [%r1+44]\nldxw %r2, [%r1+24]\nlsh %r2, 32\nor %r0, %r2\nexit',
    );
    expect(fork.r0).toBe((4242n << 32n) | 5000n);
    // strscpy into char[16]: 15 bytes and a NUL
    expect(new TextDecoder().decode(fork.memory.read(fork.ctx.r1 + 28n, 16))).toBe('a-very-long-com\0');
  });

  it('any event with a tracefs format given in the input', () => {
    const format = `name: netif_receive_skb
ID: 1500
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:void * skbaddr;\toffset:8;\tsize:8;\tsigned:0;
\tfield:unsigned int len;\toffset:16;\tsize:4;\tsigned:0;
\tfield:__data_loc char[] name;\toffset:20;\tsize:4;\tsigned:0;

print fmt: "dev=%s skbaddr=%p len=%u", __get_str(name), REC->skbaddr, REC->len
`;
    const { r0, ctx, memory } = runOn(
      { type: 'tracepoint', attachTo: 'net/netif_receive_skb' },
      { format, args: { len: 1500, name: 'eth0' } },
      'ldxw %r0, [%r1+16]\nexit',
    );
    expect(r0).toBe(1500n);
    expect(memory.readU64(ctx.r1) & 0xffffn).toBe(1500n); // common_type is the format's ID
    expect(ctx.access.readable).toEqual([{ name: 'record', offset: 8, size: ctx.access.layout.size - 8 }]);
  });

  it('kprobe: PT_REGS_PARM1..6 are di si dx cx r8 r9; kretprobe return value in ax', () => {
    const parm = (n: string) => field(PT_REGS, n).offset;
    const { r0 } = runOn(
      { type: 'kprobe', attachTo: 'do_sys_openat2' },
      { regs: { di: 3, si: 5 }, args: [1, 2, 3, 4, 5, 6] },
      `ldxdw %r0, [%r1+${parm('di')}]\nldxdw %r2, [%r1+${parm('r9')}]\nlsh %r2, 8\nor %r0, %r2\nexit`,
    );
    expect(r0).toBe((6n << 8n) | 3n); // regs win over args for the same register
    const ret = runOn(
      { type: 'kprobe', attachTo: 'do_sys_openat2', retprobe: true },
      { ret: -2 },
      `ldxdw %r0, [%r1+${parm('ax')}]\nexit`,
    );
    expect(BigInt.asIntN(64, ret.r0)).toBe(-2n);
    const str = runOn(
      { type: 'kprobe', user: true },
      { args: ['hello'] },
      `ldxdw %r3, [%r1+${parm('di')}]\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 8\ncall 114\nldxb %r0, [%r10-7]\nexit`,
      true,
    );
    expect(str.r0).toBe(BigInt('e'.charCodeAt(0)));
  });

  it('raw_tp and fentry: a u64 argument array; fexit finds the return value after the args', () => {
    const raw = runOn(
      { type: 'raw_tracepoint', attachTo: 'sched_switch' },
      { args: [0, '0xffffffffffffffff'] },
      'ldxdw %r0, [%r1+8]\nexit',
    );
    expect(raw.r0).toBe(0xffffffffffffffffn);
    const fexit = runOn(
      { type: 'tracing', attachTo: 'do_unlinkat', attachKind: 'fexit' },
      { args: [-100, 7], ret: 0x55 },
      'ldxdw %r0, [%r1+16]\nexit',
    );
    expect(fexit.r0).toBe(0x55n);
    expect(fexit.ctx.access.layout.fields.map((f) => f.name)).toEqual(['arg0', 'arg1', 'ret']);
  });

  it('the task is part of the context, with defaults', () => {
    const { ctx } = runOn(
      { type: 'kprobe' },
      { task: { pid: 7, comm: 'x', parent: { pid: 1, comm: 'init' } } },
      'mov %r0, 0\nexit',
    );
    expect(ctx.task).toMatchObject({ pid: 7, tgid: 7, uid: 1000, gid: 1000, comm: 'x' });
    expect(ctx.task.parent).toMatchObject({ pid: 1, tgid: 1, comm: 'init' });
  });
});

describe('result JSON for the CLI contract', () => {
  it('hex packet, named action/verdict, skb fields as 0x strings; nothing for tracing types', () => {
    const tc = runOn(TC, { packet: '0a0b', mark: 7 }, `stw [%r1+${off('cb')}], 255\nmov %r0, 0\nexit`);
    expect(contextResultJson(tc.result)).toMatchObject({
      packet: '0a0b',
      verdict: 'OK',
      skb: { mark: '0x7', cb: ['0xff', '0x0', '0x0', '0x0', '0x0'], tstamp: '0x0' },
    });
    const sock = runOn(SOCKET, { packet: '0a0b' }, 'mov %r0, -1\nexit');
    expect(contextResultJson(sock.result)).toMatchObject({ packet: '0a0b', keep: 2 });
    const xdp = runOn(XDP, { packet: 'ff', meta: '01020304' }, 'mov %r0, 9\nexit');
    expect(contextResultJson(xdp.result)).toEqual({ packet: 'ff', meta: '01020304', action: 'INVALID' });
    expect(contextResultJson(runOn({ type: 'raw_tracepoint' }, {}, 'mov %r0, 0\nexit').result)).toEqual({});
  });
});
