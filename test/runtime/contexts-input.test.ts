/** IN.json validation: every bad value is a typed error naming its JSON path; nothing is mapped then. */
import { describe, expect, it } from 'vitest';
import { FormatError, UsageError } from '../../src/errors.js';
import {
  type ContextSpec,
  createProgramContext,
  inputKeys,
  makeTask,
  parseTracepointFormat,
  StructContext,
  truncateComm,
} from '../../src/runtime/contexts/index.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';

function fails(spec: ContextSpec, input: unknown) {
  const memory = new GuestMemory();
  try {
    createProgramContext(memory, spec, input);
  } catch (e) {
    // Rejected input leaves the memory untouched, so the caller may retry with fixed input.
    expect(memory.mappedRegions()).toEqual([]);
    return e;
  }
  throw new Error('expected the input to be rejected');
}

const EXEC = { type: 'tracepoint', attachTo: 'syscalls/sys_enter_execve' } as const;
const XDP = { type: 'xdp' } as const;

describe('IN.json errors', () => {
  it.each([
    [EXEC, { args: { filename: true } }, FormatError, 'args.filename: expected a string'],
    [{ type: 'kprobe' }, { args: [null] }, FormatError, 'args[0]: expected an integer, a string'],
    [EXEC, { args: { argv: [{ x: 1 }] } }, UsageError, 'args.argv[0].x: unknown key'],
    [EXEC, { args: { bogus: 1 } }, UsageError, 'args.bogus: sys_enter_execve has no field bogus'],
    [EXEC, { args: [] }, FormatError, 'args: expected an object'],
    [EXEC, { task: { pid: 'abc' } }, FormatError, 'task.pid: expected an integer, got "abc"'],
    [EXEC, { task: { parent: { comm: 3 } } }, FormatError, 'task.parent.comm: expected a string'],
    [EXEC, { task: { pid: 1e9 } }, FormatError, 'task.pid: 1000000000 is above the kernel'],
    [EXEC, { packet: '00' }, UsageError, 'packet: unknown key'],
    [EXEC, 'nope', FormatError, 'input: expected an object'],
    [
      { type: 'tracepoint', attachTo: 'sched/sched_process_exit' },
      { args: { pid: 2 ** 40 } },
      FormatError,
      'args.pid: 1099511627776 does not fit in 32 bits',
    ],
    [
      { type: 'tracepoint', attachTo: 'sched/sched_process_exec' },
      { args: { filename: ['x'] } },
      FormatError,
      'args.filename: expected a string',
    ],
    [
      { type: 'tracepoint', attachTo: 'syscalls/sys_enter_futex' },
      { args: {} },
      UsageError,
      'args.__syscall_nr: bpfbox does not know',
    ],
    [
      { type: 'tracepoint', attachTo: 'net/netif_rx' },
      {},
      UsageError,
      'format: bpfbox has no built-in layout',
    ],
    [
      { type: 'tracepoint', attachTo: 'x/y' },
      { format: 'format:\n\tgarbage\n' },
      UsageError,
      'tracepoint format line 2 is not a field',
    ],
    [XDP, {}, UsageError, 'packet: a xdp program needs a packet'],
    [XDP, { packet: 'abc' }, FormatError, 'packet: odd number of hex digits'],
    [XDP, { packet: 'zz' }, FormatError, 'packet: "z" at digit 0 is not a hex digit'],
    [XDP, { packet: '00', meta: '010203' }, UsageError, 'meta: 3 bytes'],
    [XDP, { packet: '00', mark: 1 }, UsageError, 'mark: unknown key'],
    [
      XDP,
      { packet: '00', ingress_ifindex: -(2 ** 40) },
      FormatError,
      'ingress_ifindex: -1099511627776 does not fit',
    ],
    [{ type: 'sched_cls' }, { packet: '00', cb: [1, 2, 3, 4, 5, 6] }, FormatError, 'cb: cb has 5 elements'],
    [{ type: 'sched_cls' }, { packet: '00', cb: [1, 'x'] }, FormatError, 'cb[1]: expected an integer'],
    [{ type: 'sched_cls' }, { packet: '00', mark: 1.5 }, FormatError, 'mark: expected an integer'],
    [{ type: 'kprobe' }, { regs: { rax: 1 } }, UsageError, 'regs.rax: unknown key'],
    [{ type: 'kprobe' }, { args: [1, 2, 3, 4, 5, 6, 7] }, UsageError, 'args: x86-64 passes at most 6'],
    [{ type: 'kprobe' }, { ret: 1 }, UsageError, 'ret: unknown key'],
    [{ type: 'raw_tracepoint' }, { args: Array(13).fill(0) }, UsageError, 'args: 13 arguments'],
    [{ type: 'tracing', attachKind: 'fentry' }, { ret: 1 }, UsageError, 'ret: unknown key'],
    [{ type: 'raw_tracepoint' }, { args: [{ hex: 'qq' }] }, FormatError, 'args[0].hex: "q" at digit 0'],
  ] as const)('%o %j', (spec, input, type, message) => {
    const e = fails(spec as ContextSpec, input);
    expect(e).toBeInstanceOf(type);
    expect((e as Error).message).toContain(message);
  });

  it('unknown keys name the ones that exist; rodata passes through to the loader', () => {
    const e = fails(XDP, { packet: '00', pakcet: '00' }) as UsageError;
    expect(e.hint).toContain('packet');
    const memory = new GuestMemory();
    expect(() => createProgramContext(memory, XDP, { packet: '00', rodata: { x: 1 } })).not.toThrow();
    expect(inputKeys({ type: 'kprobe', retprobe: true })).toContain('ret');
  });

  it('integers: numbers, decimal/hex/octal/binary strings, negatives two-complemented', () => {
    const memory = new GuestMemory();
    const ctx = createProgramContext(
      memory,
      { type: 'raw_tracepoint' },
      { args: ['0x10', '-1', '0b101', '0o17', 12, { string: '42' }] },
    );
    const v = (i: number) => memory.readU64(ctx.r1 + BigInt(8 * i));
    expect([v(0), v(1), v(2), v(3), v(4)]).toEqual([16n, 2n ** 64n - 1n, 5n, 15n, 12n]);
    if (!(ctx instanceof StructContext)) throw new Error('expected a struct context');
    expect(new TextDecoder().decode(ctx.userMemory?.read(Number(v(5)), 3))).toBe('42\0');
  });

  it('packets accept separators as tcpdump and Wireshark print them', () => {
    const memory = new GuestMemory();
    const ctx = createProgramContext(memory, XDP, { packet: '0x01:02 03-04' });
    expect([...(ctx.packet?.bytes() ?? [])]).toEqual([1, 2, 3, 4]);
  });
});

describe('task and formats', () => {
  it('comm is truncated like the kernel: 15 bytes of whole characters', () => {
    expect(truncateComm('0123456789abcdefgh')).toBe('0123456789abcde');
    expect(truncateComm('short')).toBe('short');
    expect(new TextEncoder().encode(truncateComm('ééééééééé')).length).toBeLessThanOrEqual(15);
    expect(makeTask({ pid: 5, parent: null }).parent).toBeUndefined();
  });

  it('format parser: arrays, __rel_loc, pointers, bad declarations', () => {
    const f = parseTracepointFormat(
      'format:\n\tfield:unsigned long args[6];\toffset:16;\tsize:48;\tsigned:0;\n\tfield:__rel_loc char[] s;\toffset:64;\tsize:4;\tsigned:0;\n\tfield:const char * p;\toffset:72;\tsize:8;\tsigned:0;\n',
    );
    expect(f.fields.map((x) => [x.name, x.kind, x.elementSize])).toEqual([
      ['args', 'array', 8],
      ['s', 'rel_loc', 4],
      ['p', 'pointer', 8],
    ]);
    expect(() =>
      parseTracepointFormat('format:\n\tfield:int x[3];\toffset:8;\tsize:10;\tsigned:0;\n'),
    ).toThrow(UsageError);
    expect(() => parseTracepointFormat('name: empty\n')).toThrow('no fields');
  });

  it('__rel_loc offsets count from the end of the field', () => {
    const format =
      'name: t\nformat:\n\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\tfield:__rel_loc char[] s;\toffset:8;\tsize:4;\tsigned:0;\n';
    const memory = new GuestMemory();
    const ctx = createProgramContext(
      memory,
      { type: 'tracepoint', attachTo: 'a/t' },
      { format, args: { s: 'hi' } },
    );
    const word = Number(memory.readU64(ctx.r1 + 8n) & 0xffffffffn);
    expect(word).toBe((3 << 16) | 0); // data right after the field: offset 0 from its end
    expect(new TextDecoder().decode(memory.read(ctx.r1 + 12n, 3))).toBe('hi\0');
  });
});
