/**
 * Our LLVM-syntax printer against the real thing: C programs exercising every instruction class are
 * compiled with clang-19 at -mcpu=v1..v4, the .text bytes are disassembled by llvm-objdump-19 and by
 * us, and the listings must agree line by line. The objdump text must also assemble back to the
 * original bytes. Random valid programs (including forms clang never emits: gotol, ld_pseudo, packet
 * loads, kfunc calls) go through llvm-mc-19 + llvm-objdump-19 the same way.
 *
 * Normalizations, the only ones applied (see src/asm/llvm-printer.ts for why each exists):
 * 1. Only instruction lines are compared. objdump's file/section headers, `<sym>:` lines and blank
 *    lines, and our `L<pc>:` label lines are dropped. The slot-number column is compared as is.
 * 2. A trailing target annotation ` <…>` is removed from both sides (objdump names symbols,
 *    `<f+0x68>`, we name labels, `<L13>`); the targets they denote are checked to be equal.
 * 3. 32-bit atomics (opcode 0xc3) are compared with `llvm-objdump --mattr=+alu32`, everything else
 *    with objdump's default mode (which cannot decode them: `<unknown>` or a lost fetch bit).
 * 4. Random programs only: `ld_pseudo`'s fourth operand (second-slot imm) and the imm of an
 *    indirect packet load (`skb[r2 + 0x4]`) are removed from our text; objdump does not print them.
 * Parsing objdump text back: `<sym>:` lines become labels `sym:` and a `call N` whose target is a
 * function start becomes `call sym` (objdump prints local and helper calls alike, as LLVM's own
 * assembler reads `call sym`).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { assemble, disassemble } from '../../src/asm/index.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { encodeProgram } from '../../src/isa/encoder.js';
import type { Program } from '../../src/isa/instruction.js';
import { programArbitrary } from '../support/arbitrary.js';
import { hexBytes } from './data.js';

const CLANG = 'clang-19';
const OBJDUMP = 'llvm-objdump-19';
const OBJCOPY = 'llvm-objcopy-19';
const MC = 'llvm-mc-19';

const missing = [CLANG, OBJDUMP, OBJCOPY, MC].filter((tool) => spawnSync(tool, ['--version']).status !== 0);
if (missing.length > 0) {
  console.warn(
    `[test/asm/llvm-objdump] SKIPPED: ${missing.join(', ')} not found; install clang-19 and llvm-19 to compare the LLVM printer with llvm-objdump (CI does).`,
  );
}

const HEADER = `
typedef unsigned long long u64; typedef long long s64; typedef unsigned int u32; typedef int s32;
typedef unsigned short u16; typedef short s16; typedef unsigned char u8; typedef signed char s8;
`;

type Cpu = 'v1' | 'v2' | 'v3' | 'v4';
const ALL_CPUS: readonly Cpu[] = ['v1', 'v2', 'v3', 'v4'];

/** C programs; `cpus` lists the levels clang accepts them at (signed division needs v4, …). */
const PROGRAMS: readonly { name: string; cpus: readonly Cpu[]; source: string }[] = [
  {
    name: 'alu',
    cpus: ALL_CPUS,
    source: `
u64 alu64(u64 *p, s64 *q) {
  u64 a = p[0], b = p[1]; s64 c = q[0], d = q[1];
  p[2] = a + b; p[3] = a - b; p[4] = a * b; p[5] = a / b; p[6] = a % b;
  p[7] = a | b; p[8] = a & b; p[9] = a ^ b; p[10] = a << b; p[11] = a >> b;
  q[2] = c >> d; q[5] = -c;
  p[12] = a + 7; p[13] = a - 0x12345; p[14] = a * 3; p[15] = a / 10; p[16] = a % 10;
  p[17] = a | 0x80; p[18] = a & 0xff00; p[19] = a ^ -1; p[20] = a << 5; p[21] = a >> 7;
  q[6] = c >> 9; q[9] = c + -1; q[10] = c * -2147483647 - 1;
  q[11] = (s64)(s8)d; q[12] = (s64)(s16)d; q[13] = (s64)(s32)d;
  p[22] = __builtin_bswap16((u16)a); p[23] = __builtin_bswap32((u32)a); p[24] = __builtin_bswap64(a);
  p[25] = 0x1122334455667788ULL; p[26] = 0xffffffffffffffffULL; p[27] = 0x8000000000000000ULL;
  p[28] = 0x7fffffff; p[29] = 0x80000000ULL; p[30] = -2147483648LL;
  return a;
}
u32 alu32(u32 *p, s32 *q) {
  u32 a = p[0], b = p[1]; s32 c = q[0], d = q[1];
  p[2] = a + b; p[3] = a - b; p[4] = a * b; p[5] = a / b; p[6] = a % b;
  p[7] = a | b; p[8] = a & b; p[9] = a ^ b; p[10] = a << b; p[11] = a >> b;
  q[2] = c >> d; q[5] = -c;
  p[12] = a + 7; p[13] = a - 0x12345; p[14] = a * 3; p[15] = a / 10; p[16] = a % 10;
  p[17] = a | 0x80; p[18] = a & 0xff00; p[19] = a ^ 0xffff; p[20] = a << 5; p[21] = a >> 7;
  q[6] = c >> 9; q[9] = (s32)(s8)d; q[10] = (s32)(s16)d;
  return a;
}`,
  },
  {
    name: 'sdiv',
    cpus: ['v4'],
    source: `
s64 sdiv64(s64 *q) { s64 c = q[0], d = q[1]; q[3] = c / d; q[4] = c % d; q[7] = c / -7; q[8] = c % 13; return c; }
s32 sdiv32(s32 *q) { s32 c = q[0], d = q[1]; q[3] = c / d; q[4] = c % d; q[7] = c / -7; q[8] = c % 13; return c; }`,
  },
  {
    name: 'jumps',
    cpus: ALL_CPUS,
    source: `
#define T(n, cond) if (cond) r += n;
u64 jumps(u64 a, u64 b, s64 c, s64 d, u32 *w) {
  u64 r = 0; u32 x = w[0], y = w[1]; s32 sx = (s32)w[2], sy = (s32)w[3];
  T(1, a == b) T(2, a != b) T(3, a > b) T(4, a >= b) T(5, a < b) T(6, a <= b) T(7, a & b)
  T(8, c > d) T(9, c >= d) T(10, c < d) T(11, c <= d)
  T(12, a == 5) T(13, a != 6) T(14, a > 7) T(15, a >= 8) T(16, a < 9) T(17, a <= 10) T(18, a & 0x40)
  T(19, c > -3) T(20, c >= -4) T(21, c < -5) T(22, c <= -6)
  T(23, x == y) T(24, x != y) T(25, x > y) T(26, x >= y) T(27, x < y) T(28, x <= y) T(29, x & y)
  T(30, sx > sy) T(31, sx >= sy) T(32, sx < sy) T(33, sx <= sy)
  T(34, x == 5) T(35, x != 6) T(36, x > 7) T(37, x >= 8) T(38, x < 9) T(39, x <= 10) T(40, x & 0x40)
  T(41, sx > -3) T(42, sx >= -4) T(43, sx < -5) T(44, sx <= -6)
  while (r < a) { r += r * 3 + 1; if (r == 77) break; }
  return r;
}`,
  },
  {
    name: 'mem',
    cpus: ALL_CPUS,
    source: `
struct S { u8 a; u16 b; u32 c; u64 d; s8 e; s16 f; s32 g; };
s64 mem(struct S *s, volatile u8 *buf, s64 i) {
  volatile u64 stack[8]; volatile u32 st32[4]; volatile u16 st16[4]; volatile u8 st8[4];
  stack[0] = s->d; stack[1] = 0x12345678; stack[2] = -1; st32[1] = 7; st16[2] = 0xfff; st8[3] = 0x80;
  st32[0] = s->c; st16[0] = s->b; st8[0] = s->a;
  s->a = 1; s->b = 2; s->c = 3; s->d = 4; s->e = -1; s->f = -2; s->g = -3;
  buf[100] = (u8)i; ((volatile u16 *)buf)[200] = (u16)i; ((volatile u32 *)buf)[300] = (u32)i;
  return (s64)s->e + s->f + s->g + stack[0] + stack[1] + st32[0] + st16[0] + st8[0] + st32[1] + st16[2]
    + st8[3] + buf[-3] + ((volatile s16 *)buf)[-40] + ((volatile s32 *)buf)[5000];
}`,
  },
  {
    name: 'atomics64',
    cpus: ALL_CPUS,
    source: `
u64 atomics64(u64 *p, u64 v) {
  __sync_fetch_and_add(p, v); __sync_fetch_and_or(p + 1, v); __sync_fetch_and_and(p + 2, v);
  __sync_fetch_and_xor(p + 3, v); __sync_fetch_and_add(p - 4, 5);
  u64 r = __sync_fetch_and_add(p + 4, v);
  r += __sync_fetch_and_or(p + 5, v); r += __sync_fetch_and_and(p + 6, v); r += __sync_fetch_and_xor(p + 7, v);
  r += __sync_lock_test_and_set(p + 8, v);
  r += __sync_val_compare_and_swap(p + 9, r, v);
  return r;
}`,
  },
  {
    name: 'atomics32',
    cpus: ['v3', 'v4'],
    source: `
u32 atomics32(u32 *p, u32 v) {
  __sync_fetch_and_add(p, v); __sync_fetch_and_or(p + 1, v); __sync_fetch_and_and(p + 2, v);
  __sync_fetch_and_xor(p + 3, v); __sync_fetch_and_add(p - 4, 5);
  u32 r = __sync_fetch_and_add(p + 4, v);
  r += __sync_fetch_and_or(p + 5, v); r += __sync_fetch_and_and(p + 6, v); r += __sync_fetch_and_xor(p + 7, v);
  r += __sync_lock_test_and_set(p + 8, v);
  r += __sync_val_compare_and_swap(p + 9, r, v);
  return r;
}`,
  },
  {
    name: 'calls',
    cpus: ALL_CPUS,
    source: `
static long (*helper5)(long, long) = (void *)5;
static long (*helper1)(void *, const void *) = (void *)1;
__attribute__((noinline)) static u64 square(u64 x) { return x * x + 0x1122334455667788ULL; }
__attribute__((noinline)) static u64 collatz(u64 n) { return n <= 1 ? 0 : 1 + collatz(n & 1 ? 3 * n + 1 : n / 2); }
__attribute__((noinline)) static u64 pick(u64 a, u64 b, u64 c, u64 d, u64 e) { return a > b ? c + d : e; }
u64 calls(u64 a, u64 b) {
  u64 r = square(a) + collatz(b);
  r += helper5((long)r, 3);
  r += (u64)helper1((void *)r, (void *)a);
  return r + square(r) + pick(a, b, r, 7, 9);
}
typedef long (*fn)(long);
long indirect(fn f, long x) { return f(x) + 1; }`,
  },
  {
    // Forms clang's code generator does not pick on its own (every comparison in both widths, mod,
    // all byte swaps, legacy packet loads, ld_pseudo) written as inline asm, assembled by LLVM itself.
    name: 'inline_asm',
    cpus: ALL_CPUS,
    source: `
u64 inline_asm(u64 a, u64 b) {
  asm volatile(${JSON.stringify(
    [
      ...['==', '!=', '>', '>=', '<', '<=', 's>', 's>=', 's<', 's<=', '&'].flatMap((op) =>
        ['r', 'w'].flatMap((r) => [`if ${r}1 ${op} ${r}2 goto +0`, `if ${r}1 ${op} -3 goto +0`]),
      ),
      'r1 %%= r2',
      'w1 %%= w2',
      'r1 %%= 7',
      'w1 %%= 7',
      ...['le', 'be', 'bswap'].flatMap((op) => [16, 32, 64].map((w) => `r1 = ${op}${w} r1`)),
      'gotol +1',
      'goto +0',
      'r0 = *(u8 *)skb[4]',
      'r0 = *(u16 *)skb[-4]',
      'r0 = *(u32 *)skb[r2]',
      'ld_pseudo r1, 1, 7',
      'ld_pseudo r1, 2, 0xfffffffe',
      'callx r1',
      'call 0x7fffffff',
      'r1 = -2147483648',
      'w1 = 0xffffffff',
    ].join('\n'),
  )} ::: "r0", "r1", "r2");
  return a + b;
}`,
  },
  {
    // may_goto from the can_loop macro of the kernel's bpf_experimental.h.
    name: 'may_goto',
    cpus: ALL_CPUS,
    source: `
#define can_loop ({ __label__ l_break, l_continue; int ret = 1; \\
  asm volatile goto("may_goto %l[l_break]" :::: l_break); goto l_continue; \\
  l_break: ret = 0; l_continue:; ret; })
int may_goto(volatile int *p) {
  int i = 0, s = 0;
  while (can_loop) s += i++;
  for (i = 0; i < p[0] && can_loop; i++) s += p[i & 7];
  return s;
}`,
  },
  {
    // More than 32767 slots between a jump and its target: clang emits gotol (v4 only).
    name: 'gotol',
    cpus: ['v4'],
    source: `
#define R4(x) x x x x
#define R16(x) R4(R4(x))
#define R256(x) R16(R16(x))
int big(volatile int *p, int n) {
  if (n > 3) { R16(R256(R4(p[1] = p[2] + n;))) }
  return p[0];
}`,
  },
];

/** One disassembly listing: instruction text by slot, and function symbols by name. */
interface Listing {
  readonly text: Map<number, string>;
  readonly functions: Map<string, number>;
}

function run(command: string, args: readonly string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${result.stderr}`);
  return result.stdout;
}

function objdump(object: string, alu32: boolean): Listing {
  const out = run(OBJDUMP, ['-d', '--no-show-raw-insn', ...(alu32 ? ['--mattr=+alu32'] : []), object]);
  const text = new Map<number, string>();
  const functions = new Map<string, number>();
  for (const line of out.split('\n')) {
    const insn = /^ *(\d+):\t(.*)$/.exec(line);
    if (insn) text.set(Number(insn[1]), insn[2]);
    const fn = /^([0-9a-f]{16}) <(.+)>:$/.exec(line);
    if (fn) functions.set(fn[2], Number.parseInt(fn[1], 16) / 8);
  }
  return { text, functions };
}

const ANNOTATION = / <([^<>]+)>$/;

/** Slot an objdump annotation denotes: `<f+0x68>` is byte 0x68 after symbol f. */
function objdumpTarget(annotation: string, functions: Map<string, number>): number {
  const m = /^(.+?)(?:\+0x([0-9a-f]+))?$/.exec(annotation)!;
  return functions.get(m[1])! + Number.parseInt(m[2] ?? '0', 16) / 8;
}

/** Our listing as slot → text (label lines dropped), with the annotation's target. */
function ourListing(program: Program): Map<number, { text: string; target?: number }> {
  const out = new Map<number, { text: string; target?: number }>();
  for (const line of disassemble(program, { syntax: 'llvm', addresses: true }).trimEnd().split('\n')) {
    const m = /^ *(\d+):\t(.*)$/.exec(line);
    if (m === null) {
      expect(line).toMatch(/^L\d+:$/);
      continue;
    }
    const label = ANNOTATION.exec(m[2]);
    const target = label && /^L\d+$/.test(label[1]) ? Number(label[1].slice(1)) : undefined;
    out.set(Number(m[1]), { text: m[2].replace(ANNOTATION, ''), target });
  }
  return out;
}

/** A coarse name of an instruction's form, for the coverage check. */
function insnClass(insn: Program['insns'][number]): string {
  switch (insn.kind) {
    case 'alu':
      return insn.width !== 0 && insn.op !== 'movsx'
        ? `${insn.op}${insn.width}`
        : `${insn.op}${insn.is64 ? 64 : 32}`;
    case 'jump':
      return `${insn.op}${insn.is64 ? 64 : 32}`;
    case 'atomic':
      return `${insn.fetch ? 'fetch' : 'atomic'}_${insn.op}${insn.size * 8}`;
    case 'load':
      return `load${insn.signExtend ? 's' : ''}${insn.size}`;
    case 'store':
      return `store${insn.useReg ? 'x' : ''}${insn.size}`;
    case 'call':
      return `call_${insn.op}`;
    default:
      return insn.kind;
  }
}

/** Normalization 4, for random programs only. */
function dropUnprinted(text: string): string {
  return text
    .replace(/^(ld_pseudo\t\S+ \S+ \S+), \S+$/, '$1')
    .replace(/skb\[(r\d+) [+-] 0x[0-9a-f]+\]/, 'skb[$1]');
}

/** Compares our disassembly of `bytes` with objdump's listings of the object holding them. */
function compareWithObjdump(
  bytes: Uint8Array,
  object: string,
  normalize: (s: string) => string = (s) => s,
): void {
  const program = decodeProgram(bytes, { checkStructure: false });
  const plain = objdump(object, false);
  const alu32 = objdump(object, true);
  const ours = ourListing(program);
  expect([...ours.keys()]).toEqual([...plain.text.keys()]);
  for (const insn of program.insns) {
    const listing = insn.opcode === 0xc3 ? alu32 : plain;
    const theirs = listing.text.get(insn.pc)!;
    const mine = ours.get(insn.pc)!;
    expect(`${insn.pc}: ${normalize(mine.text)}`).toBe(`${insn.pc}: ${theirs.replace(ANNOTATION, '')}`);
    const annotation = ANNOTATION.exec(theirs);
    if (annotation) expect(mine.target).toBe(objdumpTarget(annotation[1], listing.functions));
  }
}

/** objdump's listing as assembler input (see the header comment for the two rewrites). */
function objdumpAsSource(object: string, program: Program): string {
  const plain = objdump(object, false);
  const alu32 = objdump(object, true);
  const starts = new Map([...plain.functions].map(([name, pc]) => [pc, name]));
  const lines: string[] = [];
  for (const insn of program.insns) {
    const name = starts.get(insn.pc);
    if (name !== undefined) lines.push(`${name}:`);
    let text = (insn.opcode === 0xc3 ? alu32 : plain).text.get(insn.pc)!;
    const call = /^call (-?0x[0-9a-f]+)$/.exec(text);
    const callee = call ? starts.get(insn.pc + 1 + Number(call[1])) : undefined;
    if (callee !== undefined) text = `call ${callee}`;
    lines.push(`${String(insn.pc).padStart(8)}:\t${text}`);
  }
  return lines.join('\n');
}

describe.skipIf(missing.length > 0)('LLVM syntax vs llvm-objdump-19', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bpfbox-asm-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cases = PROGRAMS.flatMap((p) => p.cpus.map((cpu) => ({ ...p, file: `${p.name}.c`, cpu })));

  it.each(cases)('$file at -mcpu=$cpu', ({ name, source, cpu }) => {
    const base = join(dir, `${name}-${cpu}`);
    writeFileSync(`${base}.c`, HEADER + source);
    run(CLANG, ['-target', 'bpf', '-O2', '-g', `-mcpu=${cpu}`, '-c', `${base}.c`, '-o', `${base}.o`]);
    run(OBJCOPY, ['-O', 'binary', '--only-section=.text', `${base}.o`, `${base}.bin`]);
    const bytes = new Uint8Array(readFileSync(`${base}.bin`));
    expect(bytes.length).toBeGreaterThan(0);

    compareWithObjdump(bytes, `${base}.o`);

    const program = decodeProgram(bytes, { checkStructure: false });
    // objdump text → our assembler → the original bytes.
    expect(hexBytes(assemble(objdumpAsSource(`${base}.o`, program), { syntax: 'llvm' }))).toBe(
      hexBytes(bytes),
    );
    // And our own listing, with and without the slot column.
    expect(hexBytes(assemble(disassemble(program, { syntax: 'llvm' })))).toBe(hexBytes(bytes));
    expect(hexBytes(assemble(disassemble(program, { syntax: 'llvm', addresses: true })))).toBe(
      hexBytes(bytes),
    );
  });

  it('the compiled programs cover every instruction class', () => {
    // Guards against a clang that stops emitting some form: list what the objects contained.
    const seen = new Set<string>();
    for (const { name, cpu } of cases) {
      const bytes = new Uint8Array(readFileSync(join(dir, `${name}-${cpu}.bin`)));
      for (const insn of decodeProgram(bytes, { checkStructure: false }).insns) seen.add(insnClass(insn));
    }
    const bits = (ops: string[], widths: number[]) => ops.flatMap((op) => widths.map((w) => `${op}${w}`));
    const required = [
      ...bits(
        ['add', 'sub', 'mul', 'div', 'mod', 'or', 'and', 'xor', 'lsh', 'rsh', 'arsh', 'neg', 'mov'],
        [32, 64],
      ),
      ...bits(['sdiv', 'smod', 'movsx'], [32, 64]),
      ...bits(['le', 'be', 'bswap'], [16, 32, 64]),
      ...bits(['jeq', 'jne', 'jgt', 'jge', 'jlt', 'jle', 'jsgt', 'jsge', 'jslt', 'jsle', 'jset'], [32, 64]),
      'ja64',
      'ja32',
      'may_goto64',
      ...[1, 2, 4, 8].flatMap((size) => [`load${size}`, `store${size}`, `storex${size}`]),
      ...[1, 2, 4].map((size) => `loads${size}`),
      'packet_load',
      ...bits(['atomic_add', 'atomic_or', 'atomic_and', 'atomic_xor'], [32, 64]),
      ...bits(['fetch_add', 'fetch_or', 'fetch_and', 'fetch_xor', 'fetch_xchg', 'fetch_cmpxchg'], [32, 64]),
      'call_helper',
      'call_local',
      'call_callx',
      'lddw',
      'exit',
    ];
    expect(required.filter((r) => !seen.has(r))).toEqual([]);
  });

  it('random valid programs through llvm-mc and llvm-objdump', () => {
    // One object holding many programs, each under its own symbol (they concatenate to a valid program).
    const programs = fc.sample(programArbitrary(40), { numRuns: 300, seed: 0x5eed }).map(encodeProgram);
    const lines = ['\t.text'];
    programs.forEach((bytes, n) => {
      lines.push(`prog${n}:`);
      for (let i = 0; i < bytes.length; i += 8)
        lines.push(`\t.byte\t${[...bytes.subarray(i, i + 8)].join(', ')}`);
    });
    const base = join(dir, 'random');
    writeFileSync(`${base}.s`, `${lines.join('\n')}\n`);
    run(MC, ['-triple', 'bpf', '-filetype=obj', `${base}.s`, '-o', `${base}.o`]);
    const all = new Uint8Array(programs.reduce((n, p) => n + p.length, 0));
    programs.reduce((at, p) => {
      all.set(p, at);
      return at + p.length;
    }, 0);
    compareWithObjdump(all, `${base}.o`, dropUnprinted);
  });
});
