/**
 * The ELF loader on real clang-19 objects: sections, symbols, programs by SEC name, the map index
 * space and the exact linked instructions. Expected listings were derived by hand from
 * `llvm-objdump-19 -dr` of the same objects: subprograms appended after the program, calls and code
 * addresses re-pointed, R_BPF_64_64 lddw turned into ld_pseudo src=5 (map idx) / src=6 (map value).
 */
import { describe, expect, it } from 'vitest';
import { disassemble } from '../../src/asm/index.js';
import { linkObject, linkProgram } from '../../src/elf/linker.js';
import {
  type BpfObject,
  findVariable,
  loadObject,
  parseSectionName,
  setVariable,
  symbolName,
} from '../../src/elf/object.js';
import {
  findSection,
  R_BPF_64_32,
  R_BPF_64_64,
  SHT_NOBITS,
  STB_GLOBAL,
  STT_FUNC,
} from '../../src/elf/reader.js';
import { LoadError } from '../../src/errors.js';
import { runProgram } from '../../src/vm/machine.js';
import {
  clangAvailable,
  compileBpf,
  MULTI_SOURCE,
  TAILCALL_SOURCE,
  TYPES_SOURCE,
  warnIfMissing,
} from './compile.js';

warnIfMissing('test/elf/object');

const listing = (text: string): string => `${text.trim().replace(/^ +/gm, '')}\n`;

function linked(object: BpfObject, name: string): string {
  return disassemble(linkProgram(object, name).program);
}

describe.skipIf(!clangAvailable)('clang-19 objects', () => {
  const multi = loadObject(compileBpf(MULTI_SOURCE));
  const types = loadObject(compileBpf(TYPES_SOURCE, ['-mcpu=v4']));
  const typesV3 = loadObject(compileBpf(TYPES_SOURCE, ['-mcpu=v3']));
  const multiV4 = loadObject(compileBpf(MULTI_SOURCE, ['-mcpu=v4']));

  it('reads sections, symbols and relocations', () => {
    const { elf } = multi;
    expect(elf.sections[0].name).toBe('');
    expect(findSection(elf, '.text')?.size).toBe(0xe8);
    expect(findSection(elf, 'xdp')?.size).toBe(0xb8);
    expect(findSection(elf, '.bss')?.type).toBe(SHT_NOBITS);
    expect(findSection(elf, '.bss')?.size).toBe(16);
    for (const name of ['.maps', 'maps', '.rodata', '.data', 'license', '.BTF', '.BTF.ext', '.symtab']) {
      expect(findSection(elf, name), name).toBeDefined();
    }
    const xdpProg = elf.symbols.find((s) => s.name === 'xdp_prog');
    expect(xdpProg).toMatchObject({ value: 0, size: 184, type: STT_FUNC, bind: STB_GLOBAL });
    expect(elf.sections[xdpProg?.shndx ?? 0].name).toBe('xdp');
    expect(elf.symbols.find((s) => s.name === 'limit')).toMatchObject({ value: 8, size: 8 });
    const relXdp = elf.relocationSections.find((r) => r.target.name === 'xdp');
    expect(relXdp?.section.name).toBe('.relxdp');
    expect(
      relXdp?.relocations.map((r) => [r.offset, r.type, symbolName(elf, elf.symbols[r.symbol])]),
    ).toEqual([
      [0x10, R_BPF_64_32, '.text'],
      [0x18, R_BPF_64_64, 'limit'],
      [0x40, R_BPF_64_64, '.text'],
      [0x68, R_BPF_64_64, 'misses'],
      [0x80, R_BPF_64_64, '.rodata'],
    ]);
    // Debug and BTF relocations are read too (and ignored by the linker).
    expect(elf.relocationSections.map((r) => r.target.name)).toContain('.BTF.ext');
  });

  it('finds programs by SEC name, several per section, and the license', () => {
    expect(multi.license).toBe('GPL');
    expect(multi.programs.map((p) => [p.name, p.sectionName, p.type, p.attachTo, p.retprobe])).toEqual([
      ['xdp_prog', 'xdp', 'xdp', undefined, undefined],
      [
        'tp_prog',
        'tracepoint/syscalls/sys_enter_execve',
        'tracepoint',
        'syscalls/sys_enter_execve',
        undefined,
      ],
      [
        'tp_prog2',
        'tracepoint/syscalls/sys_enter_execve',
        'tracepoint',
        'syscalls/sys_enter_execve',
        undefined,
      ],
      ['kp', 'kprobe/do_sys_open', 'kprobe', 'do_sys_open', false],
      ['krp', 'kretprobe/do_sys_open', 'kprobe', 'do_sys_open', true],
      ['tcp', 'tc', 'sched_cls', undefined, undefined],
      ['sock', 'socket', 'socket_filter', undefined, undefined],
    ]);
    expect(
      multi.functions.filter((f) => f.section.name === '.text').map((f) => [f.name, f.start, f.slots]),
    ).toEqual([
      ['bump', 0, 22],
      ['cb', 22, 7],
    ]);
  });

  it('knows every libbpf SEC prefix bpfbox runs', () => {
    expect(types.license).toBe('Dual BSD/GPL');
    const summary = Object.fromEntries(
      types.programs.map((p) => [
        p.name,
        {
          type: p.type,
          ...(p.attachTo && { to: p.attachTo }),
          ...(p.attachKind && { kind: p.attachKind }),
          ...(p.retprobe !== undefined && { ret: p.retprobe, user: p.user }),
          ...(p.frags && { frags: true }),
        },
      ]),
    );
    expect(summary).toEqual({
      frags: { type: 'xdp', frags: true },
      tcx_in: { type: 'sched_cls', to: 'ingress' },
      cls: { type: 'sched_cls' },
      act: { type: 'sched_act' },
      tp_short: { type: 'tracepoint', to: 'sched/sched_process_exec' },
      rawtp: { type: 'raw_tracepoint', to: 'sys_enter' },
      rawtp2: { type: 'raw_tracepoint', to: 'sys_exit' },
      up: { type: 'kprobe', to: 'bin:func', ret: false, user: true },
      urp: { type: 'kprobe', ret: true, user: true },
      fent: { type: 'tracing', to: 'do_unlinkat', kind: 'fentry' },
      fex: { type: 'tracing', to: 'do_unlinkat', kind: 'fexit' },
      fmr: { type: 'tracing', to: 'security_x', kind: 'fmod_ret' },
      tpbtf: { type: 'tracing', to: 'sched_switch', kind: 'tp_btf' },
      pe: { type: 'perf_event' },
      sc: { type: 'syscall' },
      kp_str: { type: 'kprobe', ret: false, user: false },
    });
    // global_sub (global, in .text) and twice (static, in a program section) are subprograms.
    expect(types.programs.map((p) => p.name)).not.toContain('global_sub');
    expect(types.programs.map((p) => p.name)).not.toContain('twice');
    expect(parseSectionName('tc/egress')).toEqual({ type: 'sched_cls', attachTo: 'egress' });
    expect(parseSectionName('fentry.s/vfs_read')).toEqual({
      type: 'tracing',
      attachKind: 'fentry',
      sleepable: true,
      attachTo: 'vfs_read',
    });
    expect(parseSectionName('xdp/devmap')).toBeUndefined();
    expect(parseSectionName('tracepointx')).toBeUndefined();
  });

  it('numbers maps: .maps and maps symbols in symbol order, then data sections in section order', () => {
    expect(multi.maps.map((m) => [m.index, m.kind, m.name])).toEqual([
      [0, 'btf', 'counts'],
      [1, 'legacy', 'legacy'],
      [2, 'btf', 'arr'],
      [3, 'internal', '.rodata'],
      [4, 'internal', '.data'],
      [5, 'internal', '.bss'],
    ]);
    const [counts, legacy, arr, rodata, data, bss] = multi.maps;
    expect(counts).toMatchObject({ offset: 0x20 });
    expect(arr).toMatchObject({ offset: 0 });
    expect(legacy.kind === 'legacy' && legacy.definition).toEqual({
      name: 'legacy',
      type: 'array',
      keySize: 4,
      valueSize: 8,
      maxEntries: 2,
      flags: 0,
    });
    if (rodata.kind !== 'internal' || data.kind !== 'internal' || bss.kind !== 'internal')
      throw new Error('kinds');
    expect(rodata.readonly).toBe(true);
    expect(rodata.symbols.map((s) => [s.name, s.offset, s.size])).toEqual([
      ['xdp_prog.____fmt', 16, 9],
      ['limit', 8, 8],
      ['threshold', 0, 4],
    ]);
    // const volatile initial values, little-endian, settable before load in this copy.
    const view = new DataView(rodata.data.buffer, rodata.data.byteOffset);
    expect(view.getUint32(0, true)).toBe(5);
    expect(view.getBigUint64(8, true)).toBe(7n);
    expect(new TextDecoder().decode(rodata.data.subarray(16, 24))).toBe('hello %d');
    expect(rodata.definition).toMatchObject({ type: 'array', keySize: 4, valueSize: 0x19, maxEntries: 1 });
    expect(data.readonly).toBe(false);
    expect([...data.data]).toEqual([3, 0, 0, 0, 0, 0, 0, 0]);
    expect(bss.data).toEqual(new Uint8Array(16));
    expect(bss.symbols.map((s) => s.name)).toEqual(['misses', 'hits']);
    expect(types.maps.map((m) => [m.index, m.name])).toEqual([[0, '.rodata.str1.1']]);
  });

  it('records prog_array and map-of-maps slots initialized in .maps', () => {
    const object = loadObject(compileBpf(TAILCALL_SOURCE));
    expect(object.maps.map((m) => [m.index, m.kind, m.name])).toEqual([
      [0, 'btf', 'jmp'],
      [1, 'btf', 'in0'],
      [2, 'btf', 'outer'],
    ]);
    // Both definitions have three pointer members (24 bytes) before `values`.
    expect(object.mapInitializers).toEqual([
      { map: 0, offset: 24 + 8, target: { kind: 'program', name: 't1' } },
      { map: 0, offset: 24 + 3 * 8, target: { kind: 'program', name: 't2' } },
      { map: 2, offset: 24 + 8, target: { kind: 'map', index: 1 } },
    ]);
    expect(linkProgram(object, 'dispatch').maps).toEqual([0]);
    expect(multi.mapInitializers).toEqual([]);
  });

  it('sets const volatile globals before load, like a skeleton', () => {
    const object = loadObject(compileBpf(MULTI_SOURCE));
    setVariable(object, 'threshold', 9);
    setVariable(object, 'limit', 0xfedcba9876543210n);
    setVariable(object, 'total', new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
    const rodata = findVariable(object, 'threshold')?.map;
    expect([...(rodata?.data.subarray(0, 16) ?? [])]).toEqual([
      9, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe,
    ]);
    expect([...(findVariable(object, 'total')?.map.data ?? [])]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(findVariable(object, 'hits')).toMatchObject({
      map: { name: '.bss' },
      variable: { offset: 8, size: 8 },
    });
    expect(() => setVariable(object, 'threshold', 1n << 32n)).toThrow(
      expect.objectContaining({ code: 'USAGE' }),
    );
    expect(() => setVariable(object, 'threshold', -1)).not.toThrow();
    expect(() => setVariable(object, 'nope', 1)).toThrow(
      expect.objectContaining({ code: 'USAGE', hint: expect.stringContaining('threshold') }),
    );
    expect(() => setVariable(object, 'total', new Uint8Array(4))).toThrow(
      expect.objectContaining({ code: 'USAGE' }),
    );
    // The ELF bytes themselves are untouched.
    expect(findVariable(multi, 'threshold')?.map.data[0]).toBe(5);
  });

  it('links a program with a shared subprogram, a bpf_loop callback and global data', () => {
    const l = linkProgram(multi, 'xdp_prog');
    expect(l.functions.map((f) => [f.function.name, f.start])).toEqual([
      ['xdp_prog', 0],
      ['bump', 23],
      ['cb', 45],
    ]);
    expect(l.maps).toEqual([0, 3, 4, 5]);
    expect(disassemble(l.program)).toBe(
      listing(`
      r6 = 0x1
      r1 = 0x1
      call 0x14 <L23>
      ld_pseudo	r1, 0x6, 0x3, 0x8
      r1 = *(u64 *)(r1 + 0x0)
      if r0 > r1 goto +0xe <L21>
      r1 = 0x4
      ld_pseudo	r2, 0x4, 0x24 <L45>
      r3 = 0x0
      r4 = 0x0
      call 0xb5
      ld_pseudo	r1, 0x6, 0x5
      r3 = *(u32 *)(r1 + 0x0)
      ld_pseudo	r1, 0x6, 0x3, 0x10
      r2 = 0x9
      call 0x6
      r6 = 0x2
      L21:
      r0 = r6
      exit
      L23:
      *(u32 *)(r10 - 0x4) = r1
      r2 = r10
      r2 += -0x4
      ld_pseudo	r1, 0x5, 0x0
      call 0x1
      if r0 == 0x0 goto +0x8 <L38>
      ld_pseudo	r1, 0x6, 0x3
      r1 = *(u32 *)(r1 + 0x0)
      r2 = *(u64 *)(r0 + 0x0)
      r2 += r1
      *(u64 *)(r0 + 0x0) = r2
      r0 = r2
      goto +0x6 <L44>
      L38:
      ld_pseudo	r1, 0x6, 0x5, 0x8
      r2 = *(u64 *)(r1 + 0x0)
      r2 += 0x1
      *(u64 *)(r1 + 0x0) = r2
      r0 = 0x0
      L44:
      exit
      L45:
      ld_pseudo	r2, 0x6, 0x4
      r3 = *(u64 *)(r2 + 0x0)
      r3 += r1
      *(u64 *)(r2 + 0x0) = r3
      r0 = 0x0
      exit
    `),
    );
    // Line-info map: every slot goes back to its section and original slot.
    const text = findSection(multi.elf, '.text')?.index;
    const xdp = findSection(multi.elf, 'xdp')?.index;
    expect([l.originSection[0], l.originSlot[0]]).toEqual([xdp, 0]);
    expect([l.originSection[22], l.originSlot[22]]).toEqual([xdp, 22]);
    expect([l.originSection[23], l.originSlot[23]]).toEqual([text, 0]);
    expect([l.originSection[46], l.originSlot[46]]).toEqual([text, 23]); // second slot of cb's lddw
    expect(l.originSlot.length).toBe(l.program.slotCount);
  });

  it('links each program of a shared section on its own, and legacy maps', () => {
    expect(linked(multi, 'tp_prog2')).toBe(
      listing(`
      ld_pseudo	r1, 0x6, 0x5
      r2 = *(u32 *)(r1 + 0x0)
      r2 += 0x2
      *(u32 *)(r1 + 0x0) = r2
      r1 = 0x3
      call 0x1 <L8>
      exit
      L8:
      *(u32 *)(r10 - 0x4) = r1
      r2 = r10
      r2 += -0x4
      ld_pseudo	r1, 0x5, 0x0
      call 0x1
      if r0 == 0x0 goto +0x8 <L23>
      ld_pseudo	r1, 0x6, 0x3
      r1 = *(u32 *)(r1 + 0x0)
      r2 = *(u64 *)(r0 + 0x0)
      r2 += r1
      *(u64 *)(r0 + 0x0) = r2
      r0 = r2
      goto +0x6 <L29>
      L23:
      ld_pseudo	r1, 0x6, 0x5, 0x8
      r2 = *(u64 *)(r1 + 0x0)
      r2 += 0x1
      *(u64 *)(r1 + 0x0) = r2
      r0 = 0x0
      L29:
      exit
    `),
    );
    const tp = linkProgram(multi, 'tp_prog');
    expect(tp.maps).toEqual([0, 1, 3, 5]);
    expect(disassemble(tp.program).split('\n').slice(0, 8).join('\n')).toBe(
      listing(`
      r1 = 0x2
      call 0x12 <L20>
      r1 = 0x0
      *(u32 *)(r10 - 0x4) = r1
      r2 = r10
      r2 += -0x4
      ld_pseudo	r1, 0x5, 0x1
      call 0x1
    `).trimEnd(),
    );
    expect(linked(multi, 'kp')).toBe(
      listing(`
      r1 = 0x0
      *(u32 *)(r10 - 0x4) = r1
      r2 = r10
      r2 += -0x4
      ld_pseudo	r1, 0x5, 0x2
      call 0x1
      r0 = 0x0
      exit
    `),
    );
    expect(linked(multi, 'sock')).toBe(listing('r0 = 0x0\nexit'));
  });

  it('links static calls inside a program section, global .text subprograms and .rodata.str1.1 (v3 and v4)', () => {
    for (const object of [types, typesV3]) {
      expect(linked(object, 'frags')).toBe(
        listing(`
        r1 = *(u32 *)(r1 + 0xc)
        call 0x1 <L3>
        exit
        L3:
        w0 = w1
        w0 <<= 0x1
        exit
      `),
      );
      expect(linked(object, 'tcx_in')).toBe(
        listing(`
        r1 = *(u32 *)(r1 + 0x0)
        call 0x1 <L3>
        exit
        L3:
        w0 = w1
        w0 += 0x1
        exit
      `),
      );
    }
    expect(linked(types, 'kp_str')).toBe(
      listing(`
      *(u32 *)(r10 - 0x4) = 0x3
      ld_pseudo	r1, 0x6, 0x0
      r2 = *(s32 *)(r10 - 0x4)
      r1 += r2
      r6 = *(s8 *)(r1 + 0x0)
      w1 = 0x1
      call 0x2 <L10>
      w0 += w6
      exit
      L10:
      w0 = w1
      w0 += 0x1
      exit
    `),
    );
  });

  it('linked subprogram calls run in the interpreter', () => {
    // frags: twice(ctx->ingress_ifindex) through a same-section call; tcx_in: global_sub(skb->len) in .text.
    const mem = new Uint8Array(16);
    new DataView(mem.buffer).setUint32(12, 21, true);
    new DataView(mem.buffer).setUint32(0, 41, true);
    for (const object of [types, typesV3]) {
      expect(runProgram(linkProgram(object, 'frags').program, { mem }).r0).toBe(42n);
      expect(runProgram(linkProgram(object, 'tcx_in').program, { mem }).r0).toBe(42n);
    }
  });

  it('links every program so that it decodes', () => {
    for (const object of [multi, multiV4, types, typesV3]) {
      const all = linkObject(object);
      expect(all.map((l) => l.name)).toEqual(object.programs.map((p) => p.name));
      for (const l of all) expect(l.program.slotCount * 8).toBe(l.bytes.length);
    }
  });

  it('reports externs as MISSING_SYMBOL naming the symbol and the program', () => {
    const object = loadObject(
      compileBpf(`
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
extern int some_value __attribute__((section(".data")));
extern int other_fn(int) __attribute__((weak));
SEC("xdp") int uses_extern(struct xdp_md *ctx) { return some_value; }
SEC("tc") int calls_extern(struct __sk_buff *s) { return other_fn(1); }
`),
    );
    for (const [program, symbol] of [
      ['uses_extern', 'some_value'],
      ['calls_extern', 'other_fn'],
    ]) {
      let error: unknown;
      try {
        linkProgram(object, program);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(LoadError);
      expect(error).toMatchObject({ code: 'MISSING_SYMBOL' });
      expect((error as LoadError).message).toContain(symbol);
      expect((error as LoadError).message).toContain(program);
    }
  });

  it('rejects a global function in an unknown section with a hint listing the prefixes', () => {
    const bytes = compileBpf('int __attribute__((section("weird/x"))) f(void *c) { return 0; }');
    expect(() => loadObject(bytes)).toThrow(
      expect.objectContaining({
        code: 'UNSUPPORTED_ELF',
        section: 'weird/x',
        hint: expect.stringContaining('kprobe[/…]'),
      }),
    );
  });
});
