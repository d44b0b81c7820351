/**
 * Bad programs: every one is reported as a typed error with a code, the pc and a message, with exit
 * status 1 — never a crash or a stack trace.
 */
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { MemoryFault } from '../../src/errors.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { Interpreter } from '../../src/vm/interpreter/interpreter.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';
import { PERM_READ, Slot } from '../../src/vm/memory/layout.js';
import { bpfbox, slots, tempFiles } from './spawn.js';

const EXIT = '9500000000000000';

const dir = tempFiles({
  // lddw r0, … with its second slot missing.
  'truncated-lddw.bin': slots('1800000044332211'),
  // opcode 0xff: ALU64 with operation code 0xf, which does not exist.
  'unknown-opcode.bin': slots('ff00000000000000', EXIT),
  // ja +5; exit
  'jump-out.bin': slots('0500050000000000', EXIT),
  'jump-out.s': 'mov %r0, 0\nja +5\nexit\n',
  'recursion.s': 'call local f\nexit\nf:\ncall local f\nexit\n',
  // lddw r1, <code address of the function at slot 4> (src = 4); stb [r1], 0: code is never writable.
  'write-code.bin': slots('1841000003000000', '0000000000000000', '7201000000000000', EXIT, EXIT),
  'oob-read.s': 'ldxdw %r0, [%r1]\nexit\n',
  'null-read.s': 'ldxb %r0, [%r1+16]\nexit\n',
  'loop.s': 'ja -1\nexit\n',
});

interface Case {
  file: string;
  args?: string[];
  code: string;
  pc: number;
  message: RegExp;
}

const cases: Case[] = [
  { file: 'truncated-lddw.bin', code: 'TRUNCATED_LDDW', pc: 0, message: /lddw needs two slots/ },
  { file: 'unknown-opcode.bin', code: 'UNKNOWN_OPCODE', pc: 0, message: /unknown opcode.*0xff/ },
  { file: 'jump-out.bin', code: 'JUMP_OUT_OF_RANGE', pc: 0, message: /jump target 6 is outside the program/ },
  // The assembler validates too: the decoder's code, reported at the source line.
  {
    file: 'jump-out.s',
    code: 'JUMP_OUT_OF_RANGE',
    pc: 1,
    message: /line 2, column 1: jump target 7 is outside the program/,
  },
  { file: 'recursion.s', code: 'CALL_DEPTH_EXCEEDED', pc: 2, message: /maximum call depth/ },
  { file: 'write-code.bin', code: 'MEMORY_FAULT', pc: 2, message: /write of 1 byte at 0x80000020/ },
  {
    file: 'oob-read.s',
    args: ['--mem', '01020304'],
    code: 'MEMORY_FAULT',
    pc: 0,
    message: /read of 8 bytes.*past the end/,
  },
  { file: 'null-read.s', code: 'MEMORY_FAULT', pc: 0, message: /read of 1 byte at 0x10.*null pointer/ },
  {
    file: 'loop.s',
    args: ['--max-insns', '1000'],
    code: 'INSTRUCTION_LIMIT',
    pc: 0,
    message: /instruction limit of 1000/,
  },
];

describe.concurrent('typed errors from bad programs', () => {
  test.each(cases.map((c) => [c.file, c]))('%s', async (_name, c) => {
    const r = await bpfbox(['run', join(dir, c.file), ...(c.args ?? []), '--json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.ok).toBe(false);
    expect(out.error).toMatchObject({ code: c.code, pc: c.pc, message: expect.stringMatching(c.message) });
  });

  // Without --json: one load error, one trap, one assembly error.
  test.each(cases.filter((c) => /truncated|null-read|jump-out\.s/.test(c.file)).map((c) => [c.file, c]))(
    'without --json: %s',
    async (_name, c) => {
      const r = await bpfbox(['run', join(dir, c.file), ...(c.args ?? [])]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr.split('\n')[0]).toMatch(new RegExp(`^error\\[${c.code}\\]: .*${c.message.source}`));
      expect(r.stderr).not.toMatch(/\n\s+at /);
    },
  );

  test('traps report the instructions executed until the trap', async () => {
    const r = await bpfbox(['run', join(dir, 'loop.s'), '--max-insns', '1000', '--json']);
    expect(JSON.parse(r.stdout).error).toMatchObject({
      instructions: expect.any(Number),
      hint: expect.any(String),
    });
  });
});

describe('a write to a read-only region (API)', () => {
  test('is a MEMORY_FAULT naming the region', () => {
    const memory = new GuestMemory();
    memory.mapStack();
    const rodata = memory.map(Slot.RODATA, 'rodata', 16, PERM_READ, Uint8Array.from([7]));
    // ldxb r0, [r1]; stb [r1], 1; exit
    const program = decodeProgram(slots('7110000000000000', '7201000001000000', EXIT));
    const vm = new Interpreter(program, { memory });
    let error: unknown;
    try {
      vm.run({ args: [rodata.guestBase] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MemoryFault);
    expect(error).toMatchObject({ code: 'MEMORY_FAULT', pc: 1, access: 'write', instructions: 2 });
    expect((error as MemoryFault).message).toMatch(/rodata is not write?able/);
  });
});
