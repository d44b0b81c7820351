/** CO-RE engine on hand-built BTF and instructions: runs without clang. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBtf } from '../../src/elf/btf.js';
import type { BtfCoreRelo, CoreReloKindName } from '../../src/elf/btf-ext.js';
import { applyCoreRelocations, CORE_POISON_HELPER, essentialName } from '../../src/elf/core.js';
import { vmlinuxBtf } from '../../src/elf/vmlinux.js';
import { BpfError, LoadError } from '../../src/errors.js';
import { CredOffset, TaskStructOffset } from '../../src/runtime/helpers/task-struct.js';
import { BtfBuilder } from './btf-builder.js';

/** Local BTF: struct task_struct___v1 { long tgid; int pid; struct cred *cred; short gone; }; struct cred { u32 uid; }. */
function localBtf() {
  const b = new BtfBuilder();
  const int = b.int('int', 4, true);
  const long = b.int('long', 8, true);
  const short = b.int('short', 2, true);
  const cred = b.struct('cred', 4, [['euid', int, 0]]);
  const credPtr = b.ptr(cred);
  const task = b.struct('task_struct___v1', 32, [
    ['tgid', long, 0],
    ['pid', int, 64],
    ['cred', credPtr, 128],
    ['gone', short, 192],
  ]);
  return { btf: parseBtf(b.build()), task, cred };
}

function insns(...words: readonly [code: number, regs: number, off: number, imm: number][]): Uint8Array {
  const out = new Uint8Array(words.length * 8);
  const v = new DataView(out.buffer);
  words.forEach(([code, regs, off, imm], i) => {
    v.setUint8(i * 8, code);
    v.setUint8(i * 8 + 1, regs);
    v.setInt16(i * 8 + 2, off, true);
    v.setInt32(i * 8 + 4, imm, true);
  });
  return out;
}

const relo = (insn: number, typeId: number, access: string, kind: CoreReloKindName): BtfCoreRelo => ({
  insn,
  typeId,
  accessString: access,
  access: access.split(':').map(Number),
  kind,
});

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

describe('applyCoreRelocations on hand-built BTF', () => {
  const { btf, task, cred } = localBtf();

  it('patches LDX offsets, narrows an 8-byte load to the 4-byte target, patches ALU imm and ST offsets', () => {
    const code = insns(
      [0x79, 0x21, 0, 0], // r1 = *(u64 *)(r2 + 0)   tgid (local long)
      [0x61, 0x21, 8, 0], // r1 = *(u32 *)(r2 + 8)   pid
      [0x07, 0x02, 0, 16], // r2 += 16               &cred
      [0x62, 0x02, 8, 5], // *(u32 *)(r2 + 8) = 5    pid
      [0xb7, 0x00, 0, 4], // r0 = 4                  sizeof(pid)
      [0x95, 0, 0, 0],
    );
    const r = applyCoreRelocations(
      code,
      [
        relo(0, task, '0:0', 'field_byte_offset'),
        relo(1, task, '0:1', 'field_byte_offset'),
        relo(2, task, '0:2', 'field_byte_offset'),
        relo(3, task, '0:1', 'field_byte_offset'),
        relo(4, task, '0:1', 'field_byte_size'),
      ],
      btf,
    );
    expect(r.failed).toEqual([]);
    const v = view(r.bytes);
    expect(v.getUint8(0)).toBe(0x61);
    expect(v.getInt16(2, true)).toBe(TaskStructOffset.tgid);
    expect(v.getInt16(10, true)).toBe(TaskStructOffset.pid);
    expect(v.getInt32(20, true)).toBe(TaskStructOffset.cred);
    expect(v.getInt16(26, true)).toBe(TaskStructOffset.pid);
    expect(v.getInt32(36, true)).toBe(4);
    expect(code[0]).toBe(0x79); // input untouched
  });

  it('a missing field: exists is 0, a required offset is poisoned and reported', () => {
    const code = insns([0xb7, 0, 0, 1], [0x69, 0x21, 24, 0], [0x95, 0, 0, 0]);
    const r = applyCoreRelocations(
      code,
      [relo(0, task, '0:3', 'field_exists'), relo(1, task, '0:3', 'field_byte_offset')],
      btf,
      undefined,
      {
        lineAt: () => ({ insn: 1, file: 'prog.c', text: 'x', line: 9, column: 2 }),
      },
    );
    expect(r.applied).toEqual([
      { insn: 0, kind: 'field_exists', spec: 'task_struct___v1.gone', localValue: 1, targetValue: 0 },
    ]);
    expect(r.failed).toEqual([
      {
        insn: 1,
        kind: 'field_byte_offset',
        spec: 'task_struct___v1.gone',
        reason: "'struct task_struct' has no field gone",
        source: 'prog.c:9',
        poisoned: true,
      },
    ]);
    expect(view(r.bytes).getInt32(12, true)).toBe(CORE_POISON_HELPER);
  });

  it('an incompatible field type (int vs kuid_t struct) fails instead of reading garbage', () => {
    const r = applyCoreRelocations(
      insns([0x61, 0x21, 0, 0]),
      [relo(0, cred, '0:0', 'field_byte_offset')],
      btf,
    );
    expect(r.failed[0]?.reason).toMatch(/euid is 'kuid_t' in the target/);
    // The same access by name in vmlinux (cred.euid.val) resolves through the typedef'd struct.
    expect(vmlinuxBtf().member(vmlinuxBtf().find('cred', 'struct')?.id ?? 0, 'euid.val')?.byteOffset).toBe(
      CredOffset.euid,
    );
  });

  it('a bitfield load that would need another size is poisoned (libbpf fail_memsz_adjust)', () => {
    const b = new BtfBuilder();
    const short = b.int('short', 2, false);
    const t = b.struct('task_struct', 8, [['flags', short, 32, 3]]);
    const r = applyCoreRelocations(
      insns([0x69, 0x21, 4, 0]),
      [relo(0, t, '0:0', 'field_byte_offset')],
      parseBtf(b.build()),
    );
    expect(r.failed[0]?.reason).toMatch(/2-byte access cannot be resized to the target field's 4 bytes/);
    expect(view(r.bytes).getInt32(4, true)).toBe(CORE_POISON_HELPER);
  });

  it('bad records and unpatchable instructions are LoadError BAD_BTF', () => {
    const code = insns([0x0f, 0x21, 0, 0], [0x95, 0, 0, 0]);
    const cases: BtfCoreRelo[] = [
      relo(5, task, '0:1', 'field_byte_offset'), // past the end
      relo(0, 999, '0:1', 'field_byte_offset'), // no such type
      relo(0, task, '0:9', 'field_byte_offset'), // no such member
      relo(0, task, '0:1', 'field_byte_offset'), // register-source ALU
      relo(1, task, '0:1', 'field_byte_offset'), // exit cannot be patched
    ];
    for (const c of cases) {
      let error: unknown;
      try {
        applyCoreRelocations(code, [c], btf);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(LoadError);
      expect((error as LoadError).code).toBe('BAD_BTF');
    }
  });

  it('a mismatched original value is rejected like libbpf ("unexpected insn")', () => {
    expect(() =>
      applyCoreRelocations(insns([0x61, 0x21, 12, 0]), [relo(0, task, '0:1', 'field_byte_offset')], btf),
    ).toThrow(/offset 12 is not the expected 8/);
  });

  it('essentialName strips ___flavour suffixes only', () => {
    expect(essentialName('task_struct___v1')).toBe('task_struct');
    expect(essentialName('___x')).toBe('___x');
    expect(essentialName('pid')).toBe('pid');
  });

  it('random records over random instructions: a result or a typed error, never a crash', () => {
    const kinds: CoreReloKindName[] = [
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
    ];
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 64 }),
        fc.array(
          fc.record({
            insn: fc.integer({ min: -1, max: 9 }),
            typeId: fc.integer({ min: -1, max: 8 }),
            access: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 0, maxLength: 4 }),
            kind: fc.constantFrom(...kinds),
          }),
          { maxLength: 4 },
        ),
        (bytes, records) => {
          const rs = records.map((x) => ({ ...x, accessString: x.access.join(':') }));
          try {
            const r = applyCoreRelocations(bytes, rs, btf);
            expect(r.bytes.length).toBe(bytes.length);
          } catch (e) {
            expect(e).toBeInstanceOf(BpfError);
          }
        },
      ),
      { numRuns: 3000, seed: 7 },
    );
  });
});
