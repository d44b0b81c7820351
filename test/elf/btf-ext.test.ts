/**
 * `.BTF.ext` on clang-19 output: line info against `llvm-objdump-19 -d -l` of the same object (which
 * reads the DWARF line table), func_info against the symbol table, CO-RE relocations of
 * `BPF_CORE_READ(task, real_parent, tgid)` against the instructions they patch; malformed sections.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { parseBtf } from '../../src/elf/btf.js';
import { type BtfExt, parseBtfExt } from '../../src/elf/btf-ext.js';
import { LoadError } from '../../src/errors.js';
import { BtfBuilder, buildBtfExt, type ExtSubsection } from './btf-builder.js';
import { cleanupCompiled, compileBpf, HAVE_BPF_TOOLCHAIN, warnIfMissing } from './btf-fixtures.js';

warnIfMissing('test/elf/btf-ext');
afterAll(cleanupCompiled);

const PROGRAM_C = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct {
  int pid;
  int tgid;
  struct task_struct *real_parent;
  char comm[16];
} __attribute__((preserve_access_index));

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 64);
  __type(key, int);
  __type(value, long);
} counts SEC(".maps");

static __attribute__((noinline)) long bump(int key)
{
  long one = 1;
  long *v = bpf_map_lookup_elem(&counts, &key);
  if (v) {
    __sync_fetch_and_add(v, 1);
    return *v;
  }
  bpf_map_update_elem(&counts, &key, &one, BPF_ANY);
  return one;
}

static __attribute__((noinline)) int twice(int x)
{
  return x * 2 + (int)bump(x);
}

SEC("tracepoint/sched/sched_process_exec")
int on_exec(void *ctx)
{
  struct task_struct *task = (void *)bpf_get_current_task();
  int ppid = BPF_CORE_READ(task, real_parent, tgid);
  int has_pid = bpf_core_field_exists(task->pid);
  int size = bpf_core_type_size(struct task_struct);
  return twice(ppid) + has_pid + size;
}

SEC("xdp")
int count_xdp(struct xdp_md *ctx)
{
  int i, sum = 0;
  for (i = 0; i < 4; i++)
    sum += (int)bump(i);
  return sum > 100 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
`;

/** Source line per instruction index, per section, from `llvm-objdump -d -l` text. */
function objdumpLines(text: string): Map<string, Map<number, { file: string; line: number }>> {
  const out = new Map<string, Map<number, { file: string; line: number }>>();
  let section: Map<number, { file: string; line: number }> | undefined;
  let current: { file: string; line: number } | undefined;
  for (const row of text.split('\n')) {
    const sec = /^Disassembly of section (.*):$/.exec(row);
    if (sec) {
      section = new Map();
      out.set(sec[1], section);
      current = undefined;
      continue;
    }
    const loc = /^; (\/.*):(\d+)$/.exec(row);
    if (loc) {
      current = { file: loc[1], line: Number(loc[2]) };
      continue;
    }
    const insn = /^\s*(\d+):\t/.exec(row);
    if (insn && section && current) section.set(Number(insn[1]), current);
  }
  return out;
}

describe.skipIf(!HAVE_BPF_TOOLCHAIN)('.BTF.ext of a clang-19 object', () => {
  const compiled = HAVE_BPF_TOOLCHAIN ? compileBpf('ext', PROGRAM_C) : undefined;
  const btf = compiled === undefined ? undefined : parseBtf(compiled.btf);
  const ext: BtfExt | undefined = compiled === undefined ? undefined : parseBtfExt(compiled.btfExt, btf!);
  const sourceLines = compiled === undefined ? [] : readFileSync(compiled.source, 'utf8').split('\n');

  it('has records for every code section', () => {
    expect([...ext!.sections.keys()].sort()).toEqual(['.text', 'tracepoint/sched/sched_process_exec', 'xdp']);
  });

  it('line records point at the lines llvm-objdump shows for the same instructions', () => {
    const listing = objdumpLines(compiled!.objdump('-d', '-l'));
    let checked = 0;
    for (const [name, records] of ext!.sections) {
      const lines = listing.get(name)!;
      expect(lines, name).toBeDefined();
      for (const r of records.lineInfo) {
        expect(r.file).toBe(compiled!.source);
        const entry = records.funcInfo.find((f) => f.insn === r.insn);
        if (entry !== undefined && r.column === 0) {
          // LLVM opens each function with a record of its declaration line (DWARF starts at the body).
          expect(r.text).toContain(`${entry.name}(`);
        } else {
          expect(lines.get(r.insn), `${name} insn ${r.insn}`).toEqual({ file: r.file, line: r.line });
          expect(r.column).toBeGreaterThan(0);
        }
        expect(r.text).toBe(sourceLines[r.line - 1].trimEnd());
        checked++;
      }
      // Every instruction maps (by the last record at or before it) to a line of the function it is in.
      const count = Math.max(...lines.keys()) + 1;
      for (let i = 0; i < count; i++) {
        const at = ext!.lineAt(name, i);
        expect(at, `${name} insn ${i}`).toBeDefined();
        expect(at!.insn).toBeLessThanOrEqual(i);
      }
    }
    expect(checked).toBeGreaterThan(15);
    expect(ext!.lineAt('xdp', 0)?.text).toMatch(/int count_xdp|int i, sum = 0|sum \+=|for \(/);
    expect(ext!.lineAt('no-such-section', 0)).toBeUndefined();
  });

  it('func_info names every function at its symbol offset', () => {
    const symbols = new Map(
      compiled!
        .symbols()
        .filter((s) => s.kind === 'F')
        .map((s) => [`${s.section}/${s.name}`, s.value / 8]),
    );
    const seen: string[] = [];
    for (const [name, records] of ext!.sections) {
      for (const f of records.funcInfo) {
        expect(symbols.get(`${name}/${f.name}`), `${name}/${f.name}`).toBe(f.insn);
        expect(btf!.get(f.typeId).kind).toBe('func');
        seen.push(f.name);
      }
    }
    expect(seen.sort()).toEqual(['bump', 'count_xdp', 'on_exec', 'twice']);
    expect(
      ext!
        .section('.text')
        .funcInfo.map((f) => f.name)
        .sort(),
    ).toEqual(['bump', 'twice']);
  });

  it('CO-RE relocations of BPF_CORE_READ(task, real_parent, tgid) and friends', () => {
    const relos = ext!.section('tracepoint/sched/sched_process_exec').coreRelos;
    const task = btf!.find('task_struct', 'struct')!;
    const code = compiled!.section('tracepoint/sched/sched_process_exec');
    const imm = (insn: number): number =>
      new DataView(code.buffer, code.byteOffset).getInt32(insn * 8 + 4, true);
    const spec = (access: readonly number[]): string => btf!.access(task.id, access).spec;
    const offsets = relos.filter((r) => r.kind === 'field_byte_offset');
    expect(offsets.map((r) => [r.typeId, r.accessString, spec(r.access)])).toEqual([
      [task.id, '0:2', 'task_struct.real_parent'],
      [task.id, '0:1', 'task_struct.tgid'],
    ]);
    // The instruction carries the local offset of the field, which the loader will rewrite.
    for (const r of offsets) {
      const field = btf!.access(task.id, r.access);
      expect(imm(r.insn)).toBe(field.byteOffset);
      expect(btf!.member(task.id, field.spec.split('.')[1])!.byteOffset).toBe(field.byteOffset);
    }
    expect(btf!.render(btf!.access(task.id, [0, 2]).type)).toBe('struct task_struct *');
    expect(btf!.access(task.id, [0, 3, 5])).toMatchObject({
      byteOffset: 16 + 5,
      spec: 'task_struct.comm[5]',
    });
    expect(btf!.access(task.id, [2])).toMatchObject({ byteOffset: 2 * 32, spec: 'task_struct[2]' });
    expect(() => btf!.access(task.id, [0, 9])).toThrow(/member 9 does not exist \(4 members\)/);
    expect(() => btf!.access(task.id, [0, 0, 1])).toThrow(/index 1 applied to a int/);
    const exists = relos.find((r) => r.kind === 'field_exists')!;
    expect([exists.accessString, spec(exists.access), imm(exists.insn)]).toEqual([
      '0:0',
      'task_struct.pid',
      1,
    ]);
    const size = relos.find((r) => r.kind === 'type_size')!;
    expect([size.typeId, size.accessString, imm(size.insn)]).toEqual([task.id, '0', btf!.size(task.id)]);
    expect(ext!.section('xdp').coreRelos).toEqual([]);
  });

  it('truncated real .BTF.ext sections are BAD_BTF', () => {
    const bytes = compiled!.btfExt;
    for (const length of [0, 1, 8, 23, 31, 40, bytes.length - 4, bytes.length - 1]) {
      expect(() => parseBtfExt(bytes.subarray(0, length), btf!), `length ${length}`).toThrow(LoadError);
    }
  });
});

describe('.BTF.ext errors', () => {
  const b = new BtfBuilder();
  const int = b.int('int', 4, true);
  const proto = b.funcProto(int, [['ctx', 0]]);
  const fn = b.func('main', proto);
  const sec = b.str('xdp');
  const file = b.str('/src/a.c');
  const text = b.str('return 0;');
  const access = b.str('0:1');
  const btf = parseBtf(b.build());
  const none: ExtSubsection = { recordSize: 8, sections: [] };
  const funcs = (records: number[][], recordSize = 8): ExtSubsection => ({
    recordSize,
    sections: [{ nameOff: sec, records }],
  });
  const lines = (records: number[][]): ExtSubsection => ({
    recordSize: 16,
    sections: [{ nameOff: sec, records }],
  });
  const relos = (records: number[][]): ExtSubsection => ({
    recordSize: 16,
    sections: [{ nameOff: sec, records }],
  });
  const good = (): Uint8Array =>
    buildBtfExt(
      funcs([[0, fn]]),
      lines([
        [0, file, text, (7 << 10) | 3],
        [16, file, text, 8 << 10],
      ]),
      relos([[8, int, access, 0]]),
    );

  const badExt = (bytes: Uint8Array, message: RegExp): void => {
    let error: unknown;
    try {
      parseBtfExt(bytes, btf);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LoadError);
    expect((error as LoadError).code).toBe('BAD_BTF');
    expect((error as LoadError).section).toBe('.BTF.ext');
    expect((error as LoadError).message).toMatch(message);
  };

  it('a hand-built section parses, instruction offsets become indexes', () => {
    const ext = parseBtfExt(good(), btf);
    const s = ext.section('xdp');
    expect(s.funcInfo).toEqual([{ insn: 0, typeId: fn, name: 'main' }]);
    expect(s.lineInfo).toEqual([
      { insn: 0, file: '/src/a.c', text: 'return 0;', line: 7, column: 3 },
      { insn: 2, file: '/src/a.c', text: 'return 0;', line: 8, column: 0 },
    ]);
    expect(s.coreRelos).toEqual([
      { insn: 1, typeId: int, accessString: '0:1', access: [0, 1], kind: 'field_byte_offset' },
    ]);
    expect(ext.lineAt('xdp', 1)?.line).toBe(7);
    expect(ext.lineAt('xdp', 5)?.line).toBe(8);
  });

  it('the original 24-byte header (no CO-RE relocations) parses', () => {
    const ext = parseBtfExt(buildBtfExt(funcs([[0, fn]]), lines([[8, file, text, 5 << 10]])), btf);
    expect(ext.section('xdp').funcInfo.map((f) => f.name)).toEqual(['main']);
    expect(ext.section('xdp').lineInfo.map((l) => [l.insn, l.line])).toEqual([[1, 5]]);
    expect(ext.section('xdp').coreRelos).toEqual([]);
  });

  it('header problems', () => {
    badExt(good().subarray(0, 12), /header at byte 0 needs 24 bytes/);
    const magic = good();
    magic[1] = 0;
    badExt(magic, /bad magic/);
    const version = good();
    version[2] = 9;
    badExt(version, /version 9/);
    const hdr = good();
    new DataView(hdr.buffer).setUint32(4, 4, true);
    badExt(hdr, /header length 4/);
    const off = good();
    new DataView(off.buffer).setUint32(12, 5000, true);
    badExt(off, /func_info .* lies outside the section/);
  });

  it('record problems', () => {
    badExt(buildBtfExt(funcs([[0, fn]], 4), none, none), /func_info record size 4 is invalid/);
    badExt(buildBtfExt(funcs([[0, 99]]), none, none), /type id 99, but the last .BTF type id is 3/);
    badExt(buildBtfExt(funcs([[0, int]]), none, none), /refers to type \[1\], a int, not a function/);
    badExt(buildBtfExt(funcs([[4, fn]]), none, none), /instruction offset 4 is not a multiple of 8/);
    badExt(buildBtfExt(none, lines([[0, 9999, text, 0]]), none), /string offset 9999/);
    badExt(buildBtfExt(none, none, relos([[0, int, access, 13]])), /unknown kind 13/);
    badExt(buildBtfExt(none, none, relos([[0, int, b.str('int'), 0]])), /malformed access string "int"/);
    const nameOff = buildBtfExt(
      { recordSize: 8, sections: [{ nameOff: 7777, records: [[0, fn]] }] },
      none,
      none,
    );
    badExt(nameOff, /string offset 7777/);
  });

  it('truncated records', () => {
    const bytes = good();
    const view = new DataView(bytes.buffer);
    // Claim more line records than the subsection holds.
    const lineStart = 32 + view.getUint32(16, true);
    view.setUint32(lineStart + 8, 50, true);
    badExt(bytes, /line_info for section 'xdp' has 50 records of 16 bytes/);
    const short = good();
    const sv = new DataView(short.buffer);
    sv.setUint32(20, sv.getUint32(20, true) - 6, true); // line_info length cuts into a section header
    badExt(short, /line_info/);
  });
});
