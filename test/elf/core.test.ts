import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseBtf } from '../../src/elf/btf.js';
import { parseBtfExt } from '../../src/elf/btf-ext.js';
import { applyCoreRelocations, CORE_POISON_HELPER } from '../../src/elf/core.js';
import { KERNEL_SK_BUFF, vmlinuxBtf } from '../../src/elf/vmlinux.js';
import { BpfError } from '../../src/errors.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { field } from '../../src/runtime/contexts/layout.js';
import { PT_REGS } from '../../src/runtime/contexts/pt-regs.js';
import { CredOffset, TASK_STRUCT, TaskStructOffset } from '../../src/runtime/helpers/task-struct.js';
import { HelperRegistry } from '../../src/vm/helpers.js';
import { Interpreter } from '../../src/vm/interpreter/interpreter.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';
import { PERM_READ, Slot } from '../../src/vm/memory/layout.js';
import { clangAvailable, compileBpf, warnIfMissing } from './compile.js';

const OBJCOPY = 'llvm-objcopy-19';

// Local declaration in a different field order than vmlinux, plus a field vmlinux lacks.
const SOURCE = `
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct {
  int pid;
  int tgid;
  struct task_struct *real_parent;
  char comm[16];
  int no_such_field;
} __attribute__((preserve_access_index));

SEC("kprobe/read") int core_read(struct task_struct *task) {
  return BPF_CORE_READ(task, real_parent, tgid);
}
SEC("kprobe/direct") int direct(struct task_struct *task) {
  return task->real_parent->tgid + task->comm[1];
}
SEC("kprobe/exists") int exists(struct task_struct *task) {
  return bpf_core_field_exists(task->no_such_field) * 10 + bpf_core_field_exists(task->pid);
}
SEC("kprobe/missing") int missing(struct task_struct *task) {
  return task->no_such_field;
}
SEC("kprobe/types") int types(struct task_struct *task) {
  return bpf_core_type_size(struct task_struct) * 1000 + bpf_core_field_size(task->comm);
}
char LICENSE[] SEC("license") = "GPL";
`;

interface Compiled {
  text(section: string): Uint8Array;
  btf: ReturnType<typeof parseBtf>;
  ext: ReturnType<typeof parseBtfExt>;
}

function extract(object: Uint8Array, sections: readonly string[]): Map<string, Uint8Array> {
  const dir = mkdtempSync(join(tmpdir(), 'bpfbox-core-'));
  try {
    const o = join(dir, 'prog.o');
    writeFileSync(o, object);
    const out = new Map<string, Uint8Array>();
    for (const s of sections) {
      const f = join(dir, 'section.bin');
      const r = spawnSync(OBJCOPY, [`--dump-section=${s}=${f}`, o, join(dir, 'scratch.o')], {
        encoding: 'utf8',
      });
      if (r.status !== 0) throw new Error(`${OBJCOPY} failed:\n${r.stderr}`);
      out.set(s, new Uint8Array(readFileSync(f)));
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const PROGRAMS = ['kprobe/read', 'kprobe/direct', 'kprobe/exists', 'kprobe/missing', 'kprobe/types'];
const haveTools = clangAvailable && spawnSync(OBJCOPY, ['--version']).status === 0;
if (!haveTools) warnIfMissing('core');

/** Kernel memory holding a task and its parent at the vmlinux offsets. */
const KERNEL_BASE = Slot.HEAP * 2 ** 28;
type Setup = (view: DataView, task: number, cred: number) => void;
function kernelMemory(setup?: Setup): { memory: GuestMemory; task: number } {
  const bytes = new Uint8Array(512);
  const v = new DataView(bytes.buffer);
  const task = 0;
  const parent = 256;
  v.setInt32(task + TaskStructOffset.pid, 1234, true);
  v.setInt32(task + TaskStructOffset.tgid, 1200, true);
  v.setBigUint64(task + TaskStructOffset.real_parent, BigInt(KERNEL_BASE + parent), true);
  bytes.set(new TextEncoder().encode('bash'), task + TaskStructOffset.comm);
  v.setInt32(parent + TaskStructOffset.pid, 77, true);
  v.setInt32(parent + TaskStructOffset.tgid, 70, true);
  setup?.(v, task, 384);
  const memory = new GuestMemory();
  memory.map(Slot.HEAP, 'kernel', bytes.length, PERM_READ, bytes);
  memory.mapStack();
  return { memory, task: KERNEL_BASE + task };
}

/** bpf_probe_read_kernel (113) over guest memory, enough for BPF_CORE_READ. */
function probeHelpers(): HelperRegistry {
  return new HelperRegistry().define(113, 'bpf_probe_read_kernel', (ctx) => {
    ctx.memory.write(ctx.arg(1), ctx.memory.read(ctx.arg(3), ctx.argNumber(2)));
    return 0;
  });
}

function run(bytes: Uint8Array, helpers = probeHelpers(), setup?: Setup): bigint {
  const { memory, task } = kernelMemory(setup);
  const vm = new Interpreter(decodeProgram(bytes), { memory, helpers });
  return BigInt.asIntN(32, vm.run({ args: [task] }).r0);
}

describe.skipIf(!haveTools)('CO-RE relocations of a clang-19 object against the built-in vmlinux', () => {
  let compiled: Compiled;
  beforeAll(() => {
    const object = compileBpf(SOURCE);
    const sections = extract(object, ['.BTF', '.BTF.ext', ...PROGRAMS]);
    const btf = parseBtf(sections.get('.BTF') ?? new Uint8Array());
    const ext = parseBtfExt(sections.get('.BTF.ext') ?? new Uint8Array(), btf);
    compiled = { btf, ext, text: (s) => sections.get(s) ?? new Uint8Array() };
  });
  const relocate = (section: string) =>
    applyCoreRelocations(
      compiled.text(section),
      compiled.ext.section(section).coreRelos,
      compiled.btf,
      undefined,
      {
        section,
        lineAt: (insn) => compiled.ext.lineAt(section, insn),
      },
    );

  it('BPF_CORE_READ(task, real_parent, tgid) is patched to the vmlinux offsets and reads the parent tgid', () => {
    const r = relocate('kprobe/read');
    expect(r.failed).toEqual([]);
    const offsets = r.applied.map((a) => [a.spec, a.localValue, a.targetValue]);
    expect(offsets).toContainEqual(['task_struct.real_parent', 8, TaskStructOffset.real_parent]);
    expect(offsets).toContainEqual(['task_struct.tgid', 4, TaskStructOffset.tgid]);
    expect(run(r.bytes)).toBe(70n);
    // Unpatched, the local layout's real_parent offset reads pid/tgid as a pointer and faults.
    expect(() => run(compiled.text('kprobe/read'))).toThrow(/not mapped/);
  });

  it('direct preserve_access_index loads get their LDX offsets patched', () => {
    const r = relocate('kprobe/direct');
    expect(r.failed).toEqual([]);
    expect(r.applied.map((a) => a.targetValue)).toEqual(
      expect.arrayContaining([
        TaskStructOffset.real_parent,
        TaskStructOffset.tgid,
        TaskStructOffset.comm + 1,
      ]),
    );
    expect(run(r.bytes)).toBe(70n + BigInt('a'.charCodeAt(0)));
  });

  it('bpf_core_field_exists is 0 for a field vmlinux lacks and 1 for one it has', () => {
    const r = relocate('kprobe/exists');
    expect(r.failed).toEqual([]);
    expect(r.applied.map((a) => [a.kind, a.targetValue])).toEqual(
      expect.arrayContaining([
        ['field_exists', 0],
        ['field_exists', 1],
      ]),
    );
    expect(run(r.bytes)).toBe(1n);
  });

  it('type and field sizes come from the target', () => {
    const r = relocate('kprobe/types');
    expect(r.failed).toEqual([]);
    expect(run(r.bytes)).toBe(BigInt(TASK_STRUCT.size * 1000 + 16));
  });

  it('a required field the target lacks poisons the instruction and is reported with its source line', () => {
    const r = relocate('kprobe/missing');
    expect(r.failed).toHaveLength(1);
    const f = r.failed[0];
    expect(f?.spec).toBe('task_struct.no_such_field');
    expect(f?.reason).toContain('no field no_such_field');
    expect(f?.source).toMatch(/prog\.c:\d+$/);
    const view = new DataView(r.bytes.buffer, r.bytes.byteOffset);
    expect(view.getUint8((f?.insn ?? 0) * 8)).toBe(0x85);
    expect(view.getInt32((f?.insn ?? 0) * 8 + 4, true)).toBe(CORE_POISON_HELPER);
    let error: unknown;
    try {
      run(r.bytes);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BpfError);
    expect(String(error)).toMatch(/195896080|0xbad2310/i);
  });

  it('mutated relocation records end in typed errors or reports, never a crash', () => {
    const section = 'kprobe/read';
    const relos = compiled.ext.section(section).coreRelos;
    const text = compiled.text(section);
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed % n;
    };
    const kinds = [
      'field_byte_offset',
      'field_byte_size',
      'field_exists',
      'field_signed',
      'field_lshift_u64',
      'field_rshift_u64',
      'type_id_local',
      'type_id_target',
      'type_exists',
      'type_size',
      'enumval_exists',
      'enumval_value',
      'type_matches',
    ] as const;
    for (let i = 0; i < 2000; i++) {
      const mutated = relos.map((r) => {
        const access = rand(3) === 0 ? [rand(4), rand(12), rand(20)].slice(0, 1 + rand(3)) : r.access;
        return {
          insn: rand(4) === 0 ? rand(text.length / 8 + 4) : r.insn,
          typeId: rand(4) === 0 ? rand(compiled.btf.count + 3) : r.typeId,
          access,
          accessString: access.join(':'),
          kind: rand(3) === 0 ? (kinds[rand(kinds.length)] ?? r.kind) : r.kind,
        };
      });
      try {
        const out = applyCoreRelocations(text, mutated, compiled.btf);
        expect(out.bytes.length).toBe(text.length);
      } catch (e) {
        expect(e).toBeInstanceOf(BpfError);
      }
    }
  });
});

// Flavoured names, a wider local pid (load narrowed), type/enum relocations via ld_imm64, a bitfield.
const FLAVOURS = `#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct cred___mine { struct { unsigned int val; } uid; } __attribute__((preserve_access_index));
struct task_struct___old {
  long long pid;
  const struct cred___mine *cred;
  unsigned int flags : 3;
} __attribute__((preserve_access_index));
struct no_such_struct { int x; } __attribute__((preserve_access_index));
enum pid_type___x { PIDTYPE_PID, PIDTYPE_TGID };

SEC("kprobe/flavour") int flavour(struct task_struct___old *task) {
  return task->pid + task->cred->uid.val;
}
SEC("kprobe/typeinfo") int typeinfo(void *ctx) {
  return bpf_core_type_exists(struct no_such_struct) * 100 + bpf_core_type_exists(struct task_struct___old) * 10
    + (bpf_core_type_id_kernel(struct task_struct___old) != 0);
}
SEC("kprobe/enums") int enums(void *ctx) {
  return bpf_core_enum_value_exists(enum pid_type___x, PIDTYPE_TGID);
}
SEC("kprobe/enumval") int enumval(void *ctx) {
  return bpf_core_enum_value(enum pid_type___x, PIDTYPE_TGID);
}
struct pt_regs { long si; long di; } __attribute__((preserve_access_index));
struct sk_buff { void *data; unsigned int len; __u32 mark; } __attribute__((preserve_access_index));
SEC("kprobe/regs") int regs(struct pt_regs *ctx) {
  struct sk_buff *skb = (struct sk_buff *)ctx->di;
  return ctx->si + BPF_CORE_READ(skb, len) + BPF_CORE_READ(skb, mark);
}
SEC("kprobe/nosize") int nosize(void *ctx) {
  return bpf_core_type_size(struct no_such_struct) + 7;
}
SEC("kprobe/bits") int bits(struct task_struct___old *task) {
  return BPF_CORE_READ_BITFIELD_PROBED(task, flags);
}
char LICENSE[] SEC("license") = "GPL";
`;

describe.skipIf(!haveTools)('CO-RE flavours, size adjustment, type and enum relocations', () => {
  let compiled: Compiled;
  const sections = [
    'kprobe/flavour',
    'kprobe/typeinfo',
    'kprobe/enums',
    'kprobe/enumval',
    'kprobe/nosize',
    'kprobe/bits',
    'kprobe/regs',
  ];
  beforeAll(() => {
    const got = extract(compileBpf(FLAVOURS), ['.BTF', '.BTF.ext', ...sections]);
    const btf = parseBtf(got.get('.BTF') ?? new Uint8Array());
    const ext = parseBtfExt(got.get('.BTF.ext') ?? new Uint8Array(), btf);
    compiled = { btf, ext, text: (s) => got.get(s) ?? new Uint8Array() };
  });
  const relocate = (section: string) =>
    applyCoreRelocations(compiled.text(section), compiled.ext.section(section).coreRelos, compiled.btf);

  it('task_struct___old matches task_struct; the 8-byte pid load becomes a 4-byte load', () => {
    const r = relocate('kprobe/flavour');
    expect(r.failed).toEqual([]);
    const pidInsn = r.applied.find((a) => a.spec === 'task_struct___old.pid')?.insn ?? -1;
    expect(r.bytes[pidInsn * 8]).toBe(0x61); // ldxw
    expect(
      run(r.bytes, new HelperRegistry(), (v, task, cred) => {
        v.setBigUint64(task + TaskStructOffset.cred, BigInt(KERNEL_BASE + cred), true);
        v.setUint32(cred + CredOffset.uid, 1000, true);
      }),
    ).toBe(1234n + 1000n);
  });

  it('type_exists / type_id_target in ld_imm64 and enumval_exists', () => {
    const t = relocate('kprobe/typeinfo');
    expect(t.failed).toEqual([]);
    const target = vmlinuxBtf().find('task_struct', 'struct')?.id;
    expect(t.applied.find((a) => a.kind === 'type_id_target')?.targetValue).toBe(target);
    expect(run(t.bytes)).toBe(11n);
    const e = relocate('kprobe/enums');
    // vmlinux has no enum pid_type: exists is 0, not a failure.
    expect(e.failed).toEqual([]);
    expect(run(e.bytes)).toBe(0n);
  });

  it('type_size of a missing type is 0; enumval_value of a missing enum poisons both ld_imm64 halves', () => {
    const size = relocate('kprobe/nosize');
    expect(size.failed).toEqual([]);
    expect(run(size.bytes)).toBe(7n);
    const value = relocate('kprobe/enumval');
    expect(value.failed.map((f) => [f.kind, f.reason])).toEqual([
      ['enumval_value', 'type pid_type is not in the target BTF'],
    ]);
    const view = new DataView(value.bytes.buffer, value.bytes.byteOffset);
    const at = (value.failed[0]?.insn ?? 0) * 8;
    for (const half of [at, at + 8]) {
      expect(view.getUint8(half)).toBe(0x85);
      expect(view.getInt32(half + 4, true)).toBe(CORE_POISON_HELPER);
    }
    expect(() => run(value.bytes)).toThrow(BpfError);
  });

  it('pt_regs and sk_buff fields relocate to the x86-64 and simulated kernel layouts', () => {
    const r = relocate('kprobe/regs');
    expect(r.failed).toEqual([]);
    const bySpec = new Map(r.applied.map((a) => [a.spec, a.targetValue]));
    expect(bySpec.get('pt_regs.di')).toBe(field(PT_REGS, 'di').offset);
    expect(bySpec.get('pt_regs.si')).toBe(field(PT_REGS, 'si').offset);
    expect(bySpec.get('sk_buff.len')).toBe(field(KERNEL_SK_BUFF, 'len').offset);
    expect(bySpec.get('sk_buff.mark')).toBe(field(KERNEL_SK_BUFF, 'mark').offset);
  });

  it('a local bitfield read from a full target field', () => {
    const r = relocate('kprobe/bits');
    expect(r.failed).toEqual([]);
    expect(
      run(r.bytes, probeHelpers(), (v, task) => v.setUint32(task + TaskStructOffset.flags, 5, true)),
    ).toBe(5n);
  });
});

describe('built-in vmlinux BTF', () => {
  it('describes task_struct at the simulated kernel offsets', () => {
    const btf = vmlinuxBtf();
    const task = btf.find('task_struct', 'struct');
    expect(task).toBeDefined();
    const id = task?.id ?? 0;
    expect(btf.size(id)).toBe(TASK_STRUCT.size);
    for (const [name, offset] of Object.entries({ ...TaskStructOffset, __state: TaskStructOffset.state })) {
      if (name === 'state') continue;
      expect(btf.member(id, name)?.byteOffset).toBe(offset);
    }
    expect(btf.render(btf.member(id, 'real_parent')?.type ?? 0)).toBe('struct task_struct *');
    expect(btf.member(btf.find('cred', 'struct')?.id ?? 0, 'uid.val')?.byteOffset).toBe(4);
    expect(btf.member(btf.find('pt_regs', 'struct')?.id ?? 0, 'di')?.byteOffset).toBe(112);
    expect(btf.find('sk_buff', 'struct')).toBeDefined();
    expect(btf.find('trace_entry', 'struct')).toBeDefined();
  });
});
