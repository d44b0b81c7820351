/**
 * Context layouts against the real UAPI structs: gcc compiles a program printing offsetof/sizeof of
 * every field bpfbox lays out, and the two must agree. Tracepoint formats are compared with the running
 * kernel's tracefs format files when they are readable.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  PERF_EVENT_DATA,
  PT_REGS,
  SK_BUFF,
  type StructLayout,
  XDP_MD,
} from '../../src/runtime/contexts/index.js';
import { builtinTracepoint } from '../../src/runtime/contexts/tracepoint-events.js';
import { parseTracepointFormat } from '../../src/runtime/contexts/tracepoint-format.js';

function hasGcc(): boolean {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'bpfbox-ctx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The UAPI spells the x86-64 registers with their r/e prefixes; the kernel (and bpfbox) without. */
const UAPI_REG: Record<string, string> = {
  bp: 'rbp',
  bx: 'rbx',
  ax: 'rax',
  cx: 'rcx',
  dx: 'rdx',
  si: 'rsi',
  di: 'rdi',
  orig_ax: 'orig_rax',
  ip: 'rip',
  flags: 'eflags',
  sp: 'rsp',
};

/** Compiles and runs a C program printing `name offset size` per field and `sizeof size` per struct. */
function measure(struct: string, layout: StructLayout, rename: (n: string) => string = (n) => n): string[] {
  const lines = layout.fields.map(
    (f) =>
      `  printf("${f.name} %zu %zu\\n", offsetof(${struct}, ${rename(f.name)}), sizeof(((${struct} *)0)->${rename(f.name)}));`,
  );
  const src = `#include <stddef.h>
#include <stdio.h>
#include <linux/bpf.h>
#include <linux/bpf_perf_event.h>
#include <asm/ptrace.h>
int main(void) {
${lines.join('\n')}
  printf("sizeof %zu\\n", sizeof(${struct}));
  return 0;
}
`;
  const name = struct.replace(/\W+/g, '_');
  writeFileSync(join(dir, `${name}.c`), src);
  execFileSync('gcc', ['-o', join(dir, name), join(dir, `${name}.c`)]);
  return execFileSync(join(dir, name), { encoding: 'utf8' }).trim().split('\n');
}

function ours(layout: StructLayout): string[] {
  return [...layout.fields.map((f) => `${f.name} ${f.offset} ${f.size}`), `sizeof ${layout.size}`];
}

describe.skipIf(!hasGcc())('context structs match the UAPI headers (gcc offsetof/sizeof)', () => {
  it('struct __sk_buff', () => {
    expect(ours(SK_BUFF)).toEqual(measure('struct __sk_buff', SK_BUFF));
  });
  it('struct xdp_md', () => {
    expect(ours(XDP_MD)).toEqual(measure('struct xdp_md', XDP_MD));
  });
  it('struct pt_regs (x86-64)', () => {
    expect(ours(PT_REGS)).toEqual(measure('struct pt_regs', PT_REGS, (n) => UAPI_REG[n] ?? n));
  });
  it('struct bpf_perf_event_data', () => {
    expect(ours(PERF_EVENT_DATA)).toEqual(measure('struct bpf_perf_event_data', PERF_EVENT_DATA));
  });
});

const TRACEFS = ['/sys/kernel/tracing/events', '/sys/kernel/debug/tracing/events'].find((d) => {
  try {
    return existsSync(join(d, 'syscalls/sys_enter_openat/format'));
  } catch {
    return false;
  }
});

const EVENTS = [
  'syscalls/sys_enter_execve',
  'syscalls/sys_enter_openat',
  'syscalls/sys_enter_read',
  'syscalls/sys_enter_write',
  'syscalls/sys_enter_close',
  'syscalls/sys_enter_exit_group',
  'syscalls/sys_exit_openat',
  'syscalls/sys_exit_read',
  'raw_syscalls/sys_enter',
  'raw_syscalls/sys_exit',
  'sched/sched_process_exec',
  'sched/sched_process_exit',
  'sched/sched_process_fork',
];

describe('tracepoint formats', () => {
  it.skipIf(TRACEFS !== undefined)(
    'tracefs is not readable here: compared against the built-in tables only',
    () => {
      console.warn(
        'notice: no readable tracefs format files; built-in tracepoint layouts not checked against the kernel',
      );
      for (const e of EVENTS) expect(builtinTracepoint(e)).toBeDefined();
    },
  );

  it.skipIf(TRACEFS === undefined).each(EVENTS)('%s matches the kernel format file', (event) => {
    const kernel = parseTracepointFormat(readFileSync(join(TRACEFS ?? '', event, 'format'), 'utf8'));
    const builtin = builtinTracepoint(event)?.format;
    // Kernels disagree on the sign of __data_loc words (signed:1 before 6.x); it is not a value.
    const shape = (f: { name: string; offset: number; size: number; signed: boolean; kind: string }) => ({
      name: f.name,
      offset: f.offset,
      size: f.size,
      signed: f.kind === 'integer' ? f.signed : undefined,
      kind: f.kind,
    });
    expect(builtin?.fields.map(shape)).toEqual(kernel.fields.map(shape));
  });

  it('common header, syscall arguments widened to u64, __data_loc', () => {
    const openat = builtinTracepoint('syscalls/sys_enter_openat')?.format;
    expect(openat?.fields.map((f) => [f.name, f.offset, f.size, f.kind])).toEqual([
      ['common_type', 0, 2, 'integer'],
      ['common_flags', 2, 1, 'integer'],
      ['common_preempt_count', 3, 1, 'integer'],
      ['common_pid', 4, 4, 'integer'],
      ['__syscall_nr', 8, 4, 'integer'],
      ['dfd', 16, 8, 'integer'],
      ['filename', 24, 8, 'pointer'],
      ['flags', 32, 8, 'integer'],
      ['mode', 40, 8, 'integer'],
    ]);
    const exec = builtinTracepoint('sched/sched_process_exec')?.format;
    expect(exec?.fields.find((f) => f.name === 'filename')).toMatchObject({
      kind: 'data_loc',
      text: true,
      offset: 8,
    });
    expect(exec?.size).toBe(20);
    const exit = builtinTracepoint('syscalls/sys_exit_read')?.format;
    expect(exit?.fields.slice(4).map((f) => [f.name, f.offset, f.size, f.signed])).toEqual([
      ['__syscall_nr', 8, 4, true],
      ['ret', 16, 8, true],
    ]);
    expect(builtinTracepoint('syscalls/sys_enter_frobnicate')?.generic).toBe(true);
    expect(builtinTracepoint('net/netif_receive_skb')).toBeUndefined();
  });
});
