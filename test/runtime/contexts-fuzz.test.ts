/**
 * Hostile and random inputs: any JSON for any program type ends in a context or a typed error (and a
 * rejected input maps nothing); any packet bytes give a context whose fields agree with the headers.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BpfError } from '../../src/errors.js';
import {
  type ContextSpec,
  createProgramContext,
  field,
  inputKeys,
  rangeAllows,
  SK_BUFF,
  SOCKET_FILTER_ACCESS,
  TC_ACCESS,
  XDP_ACCESS,
  XDP_MD,
} from '../../src/runtime/contexts/index.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';
import { hex } from './contexts-fixtures.js';

const SPECS: readonly ContextSpec[] = [
  { type: 'socket_filter' },
  { type: 'sched_cls' },
  { type: 'xdp' },
  { type: 'tracepoint', attachTo: 'syscalls/sys_enter_execve' },
  { type: 'tracepoint', attachTo: 'sched/sched_process_fork' },
  { type: 'tracepoint', attachTo: 'syscalls/sys_enter_futex' },
  { type: 'kprobe', retprobe: true },
  { type: 'perf_event' },
  { type: 'raw_tracepoint' },
  { type: 'tracing', attachKind: 'fexit' },
  { type: 'syscall' },
];

/** Objects with the keys a type understands (and a few it does not), holding arbitrary JSON. */
function inputFor(spec: ContextSpec) {
  const keys = [...inputKeys(spec), 'bogus'];
  const value = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.uint8Array({ maxLength: 80 }).map(hex),
    fc.dictionary(
      fc.constantFrom('filename', 'argv', 'pid', 'comm', 'di', 'ret', 'parent', 'child_pid'),
      fc.jsonValue({ maxDepth: 2 }),
    ),
    fc.array(
      fc.oneof(fc.integer(), fc.string(), fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }).map(String)),
    ),
  );
  return fc.dictionary(fc.constantFrom(...keys), value, { maxKeys: 4 });
}

describe('random inputs', () => {
  it.each(SPECS.map((s) => [JSON.stringify(s), s] as const))('%s: a context or a typed error', (_, spec) => {
    fc.assert(
      fc.property(inputFor(spec), (input) => {
        const memory = new GuestMemory();
        try {
          const ctx = createProgramContext(memory, spec, input);
          expect(ctx.r1 > 0n).toBe(true);
          ctx.result(0n);
          ctx.reset();
        } catch (e) {
          expect(e).toBeInstanceOf(BpfError);
          expect(memory.mappedRegions()).toEqual([]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('any packet: len, data_end - data and protocol agree with the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.constantFrom('sched_cls', 'xdp'), (packet, type) => {
        const memory = new GuestMemory();
        const ctx = createProgramContext(memory, { type }, { packet: hex(packet) });
        const layout = type === 'xdp' ? XDP_MD : SK_BUFF;
        const u32 = (name: string) =>
          Number(memory.readU64(ctx.r1 + BigInt(field(layout, name).offset)) & 0xffffffffn);
        expect(u32('data_end') - u32('data')).toBe(packet.length);
        expect(memory.read(u32('data'), packet.length)).toEqual(packet);
        if (type === 'sched_cls') {
          expect(u32('len')).toBe(packet.length);
          const proto = packet.length >= 14 ? packet[12] | (packet[13] << 8) : 0;
          expect(u32('protocol')).toBe(proto);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('access lists', () => {
  const at = (name: string) => field(SK_BUFF, name).offset;
  it('follow the kernel: tc writes mark and cb, socket filters only cb, XDP nothing', () => {
    expect(rangeAllows(TC_ACCESS.writable, at('mark'), 4)).toBe(true);
    expect(rangeAllows(TC_ACCESS.writable, at('cb') + 16, 4)).toBe(true);
    expect(rangeAllows(TC_ACCESS.writable, at('cb') + 18, 4)).toBe(false);
    expect(rangeAllows(TC_ACCESS.writable, at('len'), 4)).toBe(false);
    expect(rangeAllows(SOCKET_FILTER_ACCESS.writable, at('mark'), 4)).toBe(false);
    expect(rangeAllows(SOCKET_FILTER_ACCESS.writable, at('cb'), 4)).toBe(true);
    expect(rangeAllows(SOCKET_FILTER_ACCESS.readable, at('data'), 4)).toBe(false);
    expect(rangeAllows(TC_ACCESS.readable, at('data'), 4)).toBe(true);
    expect(rangeAllows(TC_ACCESS.readable, at('family'), 4)).toBe(false);
    expect(XDP_ACCESS.writable).toEqual([]);
    expect(rangeAllows(XDP_ACCESS.readable, field(XDP_MD, 'egress_ifindex').offset, 4)).toBe(false);
  });
});
