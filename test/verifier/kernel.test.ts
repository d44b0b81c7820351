/**
 * The running kernel's verifier as ground truth: every corpus object is loaded with libbpf
 * (test/verifier/kernel-verdict.c) and the kernel's verdict must be the one the corpus records —
 * bpfbox's own verdict unless the case names a deliberate difference — and a kernel rejection must be for
 * the same reason as bpfbox's (its log line matches the code's pattern in KERNEL_REASON). Skipped with a notice where gcc,
 * libbpf-dev, clang-19 or a usable bpf() syscall (root) is missing.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/assembler.js';
import type { ProgramType } from '../../src/elf/object.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { KernelHelperId } from '../../src/runtime/helpers/ids.js';
import { MapHelperId } from '../../src/runtime/helpers/maps.js';
import { verifyRaw } from '../../src/verifier/index.js';
import { clangAvailable, compileBpf } from '../elf/compile.js';
import { ASM_CORPUS } from './asm-corpus.js';
import { CORPUS, PRELUDE } from './corpus.js';
import { programSeed, RANDOM_PROGRAM_MAPS, randomProgram } from './random-programs.js';

const RANDOM_COUNT = Number(process.env.BPFBOX_VERIFIER_KERNEL_COUNT ?? 600);
/** BPF_PROG_TYPE_XDP. */
const PROG_TYPE_XDP = 6;

const dir = mkdtempSync(join(tmpdir(), 'bpfbox-verifier-kernel-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The runners' paths (objects, raw programs of a type), or why the kernel cannot be asked here. */
function setup(): { runner: string; typed: string } | { skip: string } {
  if (!clangAvailable) return { skip: 'clang-19 is not installed' };
  const runner = join(dir, 'kernel-verdict');
  const cc = spawnSync('gcc', ['-O2', '-o', runner, join(import.meta.dirname, 'kernel-verdict.c'), '-lbpf'], {
    encoding: 'utf8',
  });
  if (cc.error || cc.status !== 0)
    return { skip: `cannot build the runner (gcc + libbpf-dev): ${cc.stderr || cc.error}` };
  const probe = join(dir, 'probe.o');
  writeFileSync(probe, compileBpf(`${PRELUDE}\nSEC("xdp") int p(struct xdp_md *c) { return XDP_PASS; }`));
  const out = spawnSync(runner, [probe], { encoding: 'utf8' }).stdout.trim();
  if (out !== 'accepted') return { skip: `the bpf() syscall is not usable here: ${out}` };
  const typed = join(dir, 'kernel-raw');
  const cc3 = spawnSync('gcc', ['-O2', '-o', typed, join(import.meta.dirname, 'kernel-raw.c'), '-lbpf'], {
    encoding: 'utf8',
  });
  if (cc3.error || cc3.status !== 0)
    return { skip: `cannot build the typed raw runner: ${cc3.stderr || cc3.error}` };
  return { runner, typed };
}

/**
 * What the kernel's last log line says when it rejects for the same reason as bpfbox, per bpfbox code:
 * a rejection for an unrelated reason is a disagreement even when both verdicts are "rejected".
 */
const KERNEL_REASON: Record<string, RegExp> = {
  NULL_DEREF: /_or_null/,
  PACKET_OOB: /outside of the packet/,
  UNINIT_READ: /!read_ok|invalid (indirect )?read from stack/,
  UNBOUNDED_LOOP: /too large|old state|infinite loop|jumps is too complex/,
  REF_LEAK: /reference leak/,
  CTX_WRITE: /invalid bpf_context access/,
  CTX_ACCESS: /invalid bpf_context access|ctx (access|ptr)/,
  HELPER_ARG: /type=|expected|known constant|zero-sized|min value is negative/,
  HELPER_UNAVAILABLE: /cannot use helper|unknown func/,
  STACK_OOB: /stack/,
  MISALIGNED_ACCESS: /misaligned/,
  MAP_VALUE_OOB: /allowed memory range|unbounded memory access/,
  MEM_OOB: /allowed memory range/,
  READONLY_WRITE: /write into map forbidden/,
  INVALID_MEM_ACCESS: /invalid mem access 'scalar'|register fill|BPF_ATOMIC stores into/,
  POINTER_ARITH: /pointer|unbounded min value/,
  DIV_BY_ZERO: /div by zero/,
  INVALID_SHIFT: /invalid shift/,
  INVALID_RETURN: /return|should have been in|R0 is not a scalar/,
  CALL_DEPTH: /too deep|back-edge|recursive/,
  FUNC_ARG: /Caller passes invalid args/,
  FUNC_PROTO: /Caller passes invalid args/,
  UNSUPPORTED: /last insn is not an exit|jump out of range/,
  UNREACHABLE_INSN: /unreachable insn/,
  COMPLEXITY_LIMIT: /too large|too complex/,
};

/**
 * The typed runner's line for each raw program (`type`: the BPF_PROG_TYPE_* number): "accepted", or
 * "rejected" with the kernel's log line.
 */
function kernelVerdicts(typed: string, progs: readonly { type: number; code: Uint8Array }[]): string[] {
  const input = progs.map((p) => `${p.type} ${Buffer.from(p.code).toString('hex').replace(/(..)/g, '$1 ')}`);
  return spawnSync(typed, { input: `${input.join('\n')}\n`, encoding: 'utf8', maxBuffer: 1 << 26 })
    .stdout.trimEnd()
    .split('\n');
}

/** Why the kernel's answer disagrees with the recorded one, or undefined when it agrees. */
function disagreement(expect: string, expected: string, got: string): string | undefined {
  const verdict = got.startsWith('accepted') ? 'accepted' : got.startsWith('rejected') ? 'rejected' : got;
  if (verdict !== expected) return `expected ${expected}, kernel said "${got}"`;
  const reason = KERNEL_REASON[expect];
  if (verdict === 'rejected' && reason && !reason.test(got))
    return `the kernel rejects for another reason than ${expect}: "${got}"`;
  return undefined;
}

const env = setup();
if ('skip' in env) console.warn(`[verifier kernel agreement] SKIPPED: ${env.skip}`);

describe.skipIf('skip' in env)('verifier corpus against the running kernel', () => {
  it('the kernel reaches the recorded verdict, for the same reason, on every corpus object', () => {
    if (!('runner' in env)) return;
    const paths = CORPUS.map((c, i) => {
      const p = join(dir, `case${i}.o`);
      writeFileSync(p, compileBpf(PRELUDE + c.source));
      return p;
    });
    const lines = spawnSync(env.runner, paths, { encoding: 'utf8', maxBuffer: 1 << 24 })
      .stdout.trimEnd()
      .split('\n');
    const mismatches: string[] = [];
    CORPUS.forEach((c, i) => {
      const expected = c.kernel?.verdict ?? (c.expect === 'ok' ? 'accepted' : 'rejected');
      if (expected === 'skip') return;
      const why = disagreement(c.expect, expected, lines[i] ?? 'no output');
      if (why) mismatches.push(`${c.name}: ${why}`);
    });
    expect(mismatches).toEqual([]);
    expect(lines).toHaveLength(CORPUS.length);
    // Compiling every corpus object with clang-19 one after the other takes most of this time.
  }, 180_000);

  it('the kernel reaches the recorded verdict, for the same reason, on every assembly corpus program', () => {
    if (!('typed' in env)) return;
    // As socket filters (BPF_PROG_TYPE_SOCKET_FILTER = 1) through the typed runner, whose log shows the
    // kernel's error line.
    const lines = kernelVerdicts(
      env.typed,
      ASM_CORPUS.map((c) => ({ type: 1, code: assemble(c.asm) })),
    );
    const mismatches: string[] = [];
    ASM_CORPUS.forEach((c, i) => {
      const expected = c.kernel?.verdict ?? (c.expect === 'ok' ? 'accepted' : 'rejected');
      const why = disagreement(c.expect, expected, lines[i] ?? 'no output');
      if (why) mismatches.push(`${c.name}: ${why}`);
    });
    expect(mismatches).toEqual([]);
  });

  /**
   * Verdicts of bpfbox and the kernel on random XDP programs: the mismatches (bpfbox's reason, the
   * kernel's, the program) and bpfbox's verdict per program.
   */
  function compareRandom(typed: string, texts: readonly string[]): { mismatches: string[]; ok: boolean[] } {
    const codes = texts.map((t) => assemble(t));
    const lines = kernelVerdicts(
      typed,
      codes.map((code) => ({ type: PROG_TYPE_XDP, code })),
    );
    const mismatches: string[] = [];
    const ok = texts.map((text, i) => {
      // The kernel runs as root here, which may read uninitialized stack.
      const r = verifyRaw(decodeProgram(codes[i]), {
        programType: 'xdp',
        allowUninitStack: true,
        mapDefinitions: RANDOM_PROGRAM_MAPS,
        // Loops that run out of budget are rejected either way; a smaller budget keeps this fast.
        maxInsns: 100_000,
      });
      const kernel = lines[i] ?? 'no output';
      if (kernel.startsWith('accepted') !== r.ok) {
        mismatches.push(`bpfbox: ${r.ok ? 'accepted' : r.errors[0].message}; kernel: ${kernel}\n${text}`);
      }
      return r.ok;
    });
    return { mismatches, ok };
  }

  it(`${RANDOM_COUNT} random XDP programs: bpfbox and the kernel agree on every verdict`, () => {
    if (!('typed' in env)) return;
    const texts = fc
      .sample(programSeed, { numRuns: RANDOM_COUNT, seed: 7 })
      // Every other program also uses an array map and a ring buffer; every third has counted loops.
      .map((seed, i) => randomProgram(seed, { maps: i % 2 === 0, loops: i % 3 === 0 }));
    const { mismatches, ok } = compareRandom(env.typed, texts);
    expect(mismatches.slice(0, 3)).toEqual([]);
    expect(ok.filter(Boolean).length).toBeGreaterThan(RANDOM_COUNT / 20);
  });

  it(`${RANDOM_COUNT / 3} random XDP programs with may_goto loops: bpfbox and the kernel agree`, () => {
    if (!('typed' in env)) return;
    const texts = fc
      .sample(programSeed, { numRuns: RANDOM_COUNT / 3, seed: 11 })
      .map((seed, i) => randomProgram(seed, { maps: i % 2 === 0, loops: true, mayGoto: true }));
    const { mismatches, ok } = compareRandom(env.typed, texts);
    expect(mismatches.slice(0, 3)).toEqual([]);
    // Most random programs fail for other reasons; some may_goto loops must be accepted by both.
    expect(texts.filter((t, i) => ok[i] && t.includes('may_goto')).length).toBeGreaterThan(0);
  });

  it('every context load and store (offset, size) of 7 program types: bpfbox and the kernel agree', () => {
    if (!('typed' in env)) return;
    const types: [ProgramType, number, number][] = [
      ['socket_filter', 1, 200],
      ['sched_cls', 3, 200],
      ['xdp', 6, 32],
      ['kprobe', 2, 176],
      ['tracepoint', 5, 64],
      ['raw_tracepoint', 17, 112],
      ['perf_event', 7, 200],
    ];
    const progs: { type: ProgramType; code: number; text: string }[] = [];
    for (const [type, code, max] of types) {
      for (let off = 0; off < max; off++) {
        for (const size of ['u8', 'u16', 'u32', 'u64']) {
          progs.push({ type, code, text: `r0 = *(${size} *)(r1 + ${off})\nr0 = 0\nexit` });
          progs.push({ type, code, text: `r2 = 0\n*(${size} *)(r1 + ${off}) = r2\nr0 = 0\nexit` });
        }
      }
    }
    const codes = progs.map((p) => assemble(p.text));
    const lines = kernelVerdicts(
      env.typed,
      progs.map((p, i) => ({ type: p.code, code: codes[i] })),
    );
    const mismatches: string[] = [];
    progs.forEach((p, i) => {
      const r = verifyRaw(decodeProgram(codes[i]), { programType: p.type });
      const kernel = lines[i] ?? 'no output';
      if (kernel.startsWith('accepted') !== r.ok)
        mismatches.push(`${p.type}: ${p.text.split('\n')[0]}... kernel: ${kernel}`);
    });
    expect(mismatches.slice(0, 5)).toEqual([]);
  });

  it('helper availability per program type (every helper with a prototype, 7 types) matches the kernel', () => {
    if (!('typed' in env)) return;
    const types: [ProgramType, number][] = [
      ['socket_filter', 1],
      ['sched_cls', 3],
      ['xdp', 6],
      ['kprobe', 2],
      ['tracepoint', 5],
      ['raw_tracepoint', 17],
      ['perf_event', 7],
    ];
    const ids = [...Object.values(KernelHelperId), ...Object.values(MapHelperId)];
    const progs = types.flatMap(([type, code]) =>
      ids.map((id) => ({
        type,
        code,
        id,
        text: `r1 = 0\nr2 = 0\nr3 = 0\nr4 = 0\nr5 = 0\ncall ${id}\nr0 = 0\nexit`,
      })),
    );
    const codes = progs.map((p) => assemble(p.text));
    const lines = kernelVerdicts(
      env.typed,
      progs.map((p, i) => ({ type: p.code, code: codes[i] })),
    );
    const mismatches: string[] = [];
    progs.forEach((p, i) => {
      const r = verifyRaw(decodeProgram(codes[i]), { programType: p.type });
      const kernel = lines[i] ?? 'no output';
      const kernelRefuses = /unknown func|cannot use helper/.test(kernel);
      const refuses = !r.ok && r.errors[0].code === 'HELPER_UNAVAILABLE';
      if (kernelRefuses !== refuses) mismatches.push(`${p.type} helper #${p.id}: kernel: ${kernel}`);
    });
    expect(mismatches).toEqual([]);
  });
});
