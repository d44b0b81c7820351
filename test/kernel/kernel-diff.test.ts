/**
 * Differential test against the real kernel: random programs (every ALU/ALU64 operation in both source
 * forms, v4 sdiv/smod/movsx/bswap, forward conditional jumps of both widths, stack loads/stores of all
 * sizes incl. sign-extending loads, 32/64-bit atomics with fetch, xchg and cmpxchg) run in the
 * kernel via BPF_PROG_TEST_RUN (test/kernel/bpf-test-run.c) and in bpfbox; the folded registers must
 * agree. Skipped with a notice where gcc, libbpf or the bpf() syscall is unavailable.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeProgram } from '../../src/isa/decoder.js';
import { encodeProgram, type RawInsn } from '../../src/isa/encoder.js';
import { Interpreter } from '../../src/vm/interpreter/interpreter.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';

const COUNT = Number(process.env.BPFBOX_KERNEL_DIFF_COUNT ?? 5000);

/** Builds the runner; returns its path, or the reason it cannot be used here. */
function buildRunner(): { path: string } | { skip: string } {
  const dir = mkdtempSync(join(tmpdir(), 'bpfbox-kernel-'));
  const path = join(dir, 'bpf-test-run');
  const cc = spawnSync('gcc', ['-O2', '-o', path, join(import.meta.dirname, 'bpf-test-run.c'), '-lbpf'], {
    encoding: 'utf8',
  });
  if (cc.error || cc.status !== 0)
    return { skip: `cannot build the kernel runner (gcc + libbpf-dev): ${cc.stderr || cc.error}` };
  const probe = runInKernel(path, [encodeProgram([{ opcode: 0xb7, dst: 0, src: 0, off: 0, imm: 42 }, EXIT])]);
  if (probe[0] !== 'ok 42') return { skip: `the bpf() syscall is not usable here: ${probe[0]}` };
  return { path };
}

function runInKernel(runner: string, programs: Uint8Array[]): string[] {
  const input = programs.map((p) => Buffer.from(p).toString('hex').replace(/(..)/g, '$1 ')).join('\n');
  const r = spawnSync(runner, { input: `${input}\n`, encoding: 'utf8', maxBuffer: 1 << 26 });
  return r.stdout.trimEnd().split('\n');
}

const EXIT: RawInsn = { opcode: 0x95, dst: 0, src: 0, off: 0, imm: 0 };
const I = (opcode: number, dst: number, src: number, off: number, imm: number): RawInsn => ({
  opcode,
  dst,
  src,
  off,
  imm,
});
const reg = fc.integer({ min: 0, max: 9 });
const imm32 = fc.oneof(
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  fc.constantFrom(0, 1, -1, 31, 32, 63, 0x7fffffff, -0x80000000),
);
const value64 = fc.oneof(
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  fc.constantFrom(0n, 1n, 0xffffffffn, 0x80000000n, 0x8000000000000000n, (1n << 64n) - 1n),
  fc.bigInt({ min: 0n, max: 1000n }),
);

/** One ALU instruction the verifier accepts: no constant shift past the width, no constant division by 0. */
const aluInsn: fc.Arbitrary<RawInsn> = fc
  .tuple(fc.integer({ min: 0, max: 18 }), fc.boolean(), fc.boolean(), reg, reg, imm32)
  .map(([k, is64, useReg, dst, src, imm]) => {
    const cls = is64 ? 0x07 : 0x04;
    const width = is64 ? 64 : 32;
    const ops = [0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x90, 0xa0, 0xb0, 0xc0];
    if (k < ops.length) {
      const op = ops[k];
      const shift = op === 0x60 || op === 0x70 || op === 0xc0;
      const div = op === 0x30 || op === 0x90;
      if (useReg) return I(cls | op | 0x08, dst, src, 0, 0);
      const k2 = shift ? ((imm % width) + width) % width : div && imm === 0 ? 7 : imm;
      return I(cls | op, dst, 0, 0, k2);
    }
    switch (k) {
      case 12: // sdiv / smod (off = 1)
        return useReg ? I(cls | 0x38, dst, src, 1, 0) : I(cls | 0x30, dst, 0, 1, imm === 0 ? -3 : imm);
      case 13:
        return useReg ? I(cls | 0x98, dst, src, 1, 0) : I(cls | 0x90, dst, 0, 1, imm === 0 ? -3 : imm);
      case 14: // neg
        return I(cls | 0x80, dst, 0, 0, 0);
      case 15: // movsx
        return I(cls | 0xb8, dst, src, is64 ? [8, 16, 32][Math.abs(imm) % 3] : [8, 16][Math.abs(imm) % 2], 0);
      case 16: // le
        return I(0xd4, dst, 0, 0, [16, 32, 64][Math.abs(imm) % 3]);
      case 17: // be
        return I(0xdc, dst, 0, 0, [16, 32, 64][Math.abs(imm) % 3]);
      default: // bswap
        return I(0xd7, dst, 0, 0, [16, 32, 64][Math.abs(imm) % 3]);
    }
  });

/** A forward conditional jump; `skip` is resolved against the body length when the program is built. */
const jumpInsn = fc
  .tuple(
    fc.constantFrom(0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0),
    fc.boolean(),
    fc.boolean(),
    reg,
    reg,
    imm32,
    fc.nat(),
  )
  .map(([op, is64, useReg, dst, src, imm, skip]) => ({
    insn: I((is64 ? 0x05 : 0x06) | op | (useReg ? 0x08 : 0), dst, useReg ? src : 0, 0, useReg ? 0 : imm),
    skip,
  }));

const SIZE_BITS: Record<number, number> = { 1: 0x10, 2: 0x08, 4: 0x00, 8: 0x18 };
/** A size-aligned offset inside the 64 initialised bytes below r10 (the kernel requires aligned stack access). */
const stackSlot = fc
  .tuple(fc.constantFrom(1, 2, 4, 8), fc.nat())
  .map(([size, k]) => ({ size, off: -64 + size * (k % (64 / size)) }));

/** Stack loads (zero- and sign-extending), stores from registers and immediates, and atomics. */
const memInsn: fc.Arbitrary<RawInsn> = fc
  .tuple(
    fc.integer({ min: 0, max: 4 }),
    stackSlot,
    reg,
    reg,
    imm32,
    fc.constantFrom(0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1),
  )
  .map(([kind, { size, off }, dst, src, imm, atomicOp]) => {
    switch (kind) {
      case 0:
        return I(0x61 | SIZE_BITS[size], dst, 10, off, 0); // ldx
      case 1:
        return size === 8 ? I(0x79, dst, 10, off, 0) : I(0x81 | SIZE_BITS[size], dst, 10, off, 0); // ldxs
      case 2:
        return I(0x63 | SIZE_BITS[size], 10, src, off, 0); // stx
      case 3:
        return I(0x62 | SIZE_BITS[size], 10, 0, off, imm); // st
      default: {
        const wide = size === 8;
        const aligned = wide ? off : -64 + 4 * (((off + 64) >> 2) % 16);
        return I(wide ? 0xdb : 0xc3, 10, src, aligned, atomicOp); // atomic 64 / 32
      }
    }
  });

const programArb = fc
  .tuple(
    fc.array(value64, { minLength: 10, maxLength: 10 }),
    fc.array(
      fc.oneof(
        { arbitrary: aluInsn.map((insn) => ({ insn, skip: -1 })), weight: 4 },
        { arbitrary: memInsn.map((insn) => ({ insn, skip: -1 })), weight: 2 },
        { arbitrary: jumpInsn, weight: 1 },
      ),
      { minLength: 1, maxLength: 30 },
    ),
  )
  .map(([values, body]) => {
    const insns: RawInsn[] = values.map((v, r) => ({
      opcode: 0x18,
      dst: r,
      src: 0,
      off: 0,
      imm: Number(v & 0xffffffffn) | 0,
      imm2: Number(v >> 32n) | 0,
    }));
    // Initialise the 64 bytes below r10 so every stack read is of initialised memory.
    for (let k = 1; k <= 8; k++) insns.push(I(0x7b, 10, k, -8 * k, 0));
    body.forEach(({ insn, skip }, k) => {
      const remaining = body.length - k - 1; // jumps land inside the body or on the first fold instruction
      insns.push(skip < 0 ? insn : { ...insn, off: skip % (remaining + 1) });
    });
    // Fold r0..r9 and the 64 stack bytes into the 32-bit return value: every bit is compared.
    for (let r = 1; r <= 9; r++) insns.push(I(0x27, 0, 0, 0, 31), I(0xaf, 0, r, 0, 0));
    for (let k = 1; k <= 8; k++)
      insns.push(I(0x79, 1, 10, -8 * k, 0), I(0x27, 0, 0, 0, 31), I(0xaf, 0, 1, 0, 0));
    insns.push(I(0xbf, 1, 0, 0, 0), I(0x77, 1, 0, 0, 32), I(0xaf, 0, 1, 0, 0), EXIT);
    return encodeProgram(insns);
  });

const runner = buildRunner();
if ('skip' in runner) console.warn(`kernel differential tests skipped: ${runner.skip}`);

describe.skipIf('skip' in runner)('interpreter vs the Linux kernel (BPF_PROG_TEST_RUN)', () => {
  it(`agrees on ${COUNT} random ALU/jump/stack programs`, () => {
    const programs = fc.sample(programArb, { numRuns: COUNT, seed: 9669 });
    const kernel = runInKernel((runner as { path: string }).path, programs);
    expect(kernel).toHaveLength(programs.length);
    const memory = new GuestMemory();
    memory.mapStack();
    let compared = 0;
    const rejected: string[] = [];
    programs.forEach((bytes, k) => {
      const verdict = kernel[k];
      if (verdict.startsWith('rejected')) {
        rejected.push(verdict);
        return;
      }
      expect(verdict).toMatch(/^ok \d+$/);
      const r0 = new Interpreter(decodeProgram(bytes), { memory }).run().r0;
      const ours = Number(r0 & 0xffffffffn);
      if (ours !== Number(verdict.slice(3))) {
        throw new Error(
          `program ${k} differs: kernel ${verdict}, bpfbox 0x${ours.toString(16)}\n${Buffer.from(bytes).toString('hex')}`,
        );
      }
      compared++;
    });
    // Every generated program is valid for the kernel; a rejection means the generator needs care.
    expect(rejected).toEqual([]);
    expect(compared).toBe(COUNT);
  });
});
