/**
 * Parser for the LLVM BPF syntax as printed by llvm-objdump and clang -S (`r0 = *(u64 *)(r1 + 0x2)`,
 * `if w1 s> 0x5 goto +0x3 <LBB0_2>`, `r1 = 0x1122334455667788 ll`). Jump targets may be relative
 * (`+0x3`, `-2`) or a label (`goto LBB0_2`); a trailing `<…>` annotation is ignored on jumps and marks
 * a bpf-to-bpf call on `call N` (see llvm-printer.ts). With the slot column that statements.ts skips,
 * objdump listings can be pasted as they are.
 */
import type { RawInsn } from '../isa/encoder.js';
import type { AluOp, AtomicOp, JumpOp } from '../isa/instruction.js';
import * as build from './builders.js';
import type { Cursor } from './cursor.js';
import type { Token } from './lexer.js';
import {
  ALU_OPERATOR,
  ATOMIC_OPERATOR,
  atomicFetchName,
  exchangeName,
  JUMP_OPERATOR,
  KFUNC_ANNOTATION,
} from './llvm-names.js';
import { splitImm64 } from './numbers.js';
import { type Encoded, type StatementSink, targetField } from './statements.js';

const INSTRUCTION_EXPECTED =
  'an instruction such as "r0 = 0x1", "if r1 > 0x5 goto +0x3", "call 0x1" or "exit"';
interface Register {
  readonly num: number;
  /** `r` (64-bit view) rather than `w` (32-bit view). */
  readonly wide: boolean;
  readonly token: Token;
}

function invert<K extends string>(table: Partial<Record<K, string>>, exclude?: K): Map<string, K> {
  const out = new Map<string, K>();
  for (const [k, v] of Object.entries(table) as [K, string][]) if (k !== exclude) out.set(v, k);
  return out;
}

const ALU_BY_OPERATOR = invert<AluOp>(ALU_OPERATOR, 'mov');
const JUMP_BY_OPERATOR = invert<JumpOp>(JUMP_OPERATOR);
const ATOMIC_BY_OPERATOR = invert<AtomicOp>(ATOMIC_OPERATOR);
const FETCH_BY_NAME = new Map<string, AtomicOp>(
  (['add', 'or', 'and', 'xor'] as const).map((op) => [atomicFetchName(op), op]),
);
const EXCHANGE_BY_NAME = new Map<string, { op: 'xchg' | 'cmpxchg'; size: 4 | 8 }>(
  (['xchg', 'cmpxchg'] as const).flatMap((op) =>
    ([4, 8] as const).map((size) => [exchangeName(op, size), { op, size }] as const),
  ),
);

function isRegisterName(t: Token | undefined): boolean {
  return t?.kind === 'ident' && /^[rw]\d+$/.test(t.text);
}

function parseRegister(c: Cursor, expected = 'a register like r1'): Register {
  const t = c.peek();
  if (!isRegisterName(t)) return c.failExpected(expected);
  const num = c.registerNumber(t!, Number(t!.text.slice(1)), 'r0..r10');
  c.next();
  return { num, wide: t!.text[0] === 'r', token: t! };
}

/** A register of the given view (`r` for 64-bit, `w` for 32-bit); `either` accepts both. */
function parseRegisterOf(c: Cursor, wide: boolean | 'either'): Register {
  const expected =
    wide === 'either'
      ? 'a register like r1 or w1'
      : wide
        ? 'a 64-bit register like r1'
        : 'a 32-bit register like w1';
  const r = parseRegister(c, expected);
  if (wide !== 'either' && r.wide !== wide) c.failExpected(expected, r.token);
  return r;
}

/** The same register again (`r1 = -r1`, `r1 = be16 r1`, the value register of fetching atomics). */
function expectSameRegister(c: Cursor, expected: Register): void {
  const what = `${expected.wide ? 'r' : 'w'}${expected.num}`;
  const r = parseRegister(c, `${what} (the same register as the destination)`);
  if (r.num !== expected.num || r.wide !== expected.wide) {
    c.failExpected(`${what} (the same register as the destination)`, r.token);
  }
}

/** `rN`, `rN + off`, `rN - off` (inside parentheses or a function call). */
function parseBaseOffset(c: Cursor): { base: number; off: number } {
  const base = parseRegisterOf(c, true);
  let off = 0;
  if (c.isPunct('+') || c.isPunct('-')) off = c.off16(c.number('an offset like 0x8'));
  return { base: base.num, off };
}

function parseParenMemory(c: Cursor): { base: number; off: number } {
  c.expectPunct('(', 'a memory operand like (r1 + 0x8)');
  const m = parseBaseOffset(c);
  c.expectPunct(')', '")" closing the memory operand');
  return m;
}

/** `(u32 *)`: returns the size in bytes and whether it was a signed (`s`) type. */
function parsePointerType(c: Cursor, allowed: readonly string[]): { size: build.MemSize; signed: boolean } {
  const expected = `a pointer type like (${allowed[0]} *)`;
  c.expectPunct('(', expected);
  const t = c.peek();
  if (t?.kind !== 'ident' || !allowed.includes(t.text)) c.failExpected(`one of ${allowed.join(', ')}`);
  c.next();
  c.expectPunct('*', '"*" in the pointer type');
  c.expectPunct(')', '")" closing the pointer type');
  return { size: (Number(t.text.slice(1)) / 8) as build.MemSize, signed: t.text[0] === 's' };
}

const UNSIGNED_TYPES = ['u8', 'u16', 'u32', 'u64'];
const LOAD_TYPES = [...UNSIGNED_TYPES, 's8', 's16', 's32'];
const PACKET_TYPES = ['u8', 'u16', 'u32'];
const ATOMIC_TYPES = ['u32', 'u64'];

function acceptAnnotation(c: Cursor): Token | undefined {
  return c.peek()?.kind === 'annotation' ? c.next() : undefined;
}

/** A register (matching `wide`) or a signed 32-bit immediate. */
function parseSource(c: Cursor, wide: boolean): build.Source {
  if (isRegisterName(c.peek())) return { reg: parseRegisterOf(c, wide).num };
  if (c.atNumber()) return { imm: c.imm32(c.number('an immediate')) };
  return c.failExpected(`a register like ${wide ? 'r1' : 'w1'} or an immediate`);
}

export function parseLlvmStatement(c: Cursor, sink: StatementSink): void {
  const head = c.peek()!;
  const { insn, fixup } = parseInstruction(c);
  c.expectEnd();
  sink.add(insn, head, fixup);
}

function parseInstruction(c: Cursor): Encoded {
  const head = c.peek()!;
  if (c.isPunct('*')) return parseStore(c);
  if (head.kind !== 'ident') return c.failExpected(INSTRUCTION_EXPECTED);
  if (isRegisterName(head)) return parseAssignment(c, parseRegister(c));
  c.next();
  switch (head.text) {
    case 'exit':
      return { insn: build.exit() };
    case 'call':
      return parseCall(c);
    case 'callx':
      return { insn: build.callx(parseRegisterOf(c, true).num) };
    case 'goto':
    case 'gotol': {
      const long = head.text === 'gotol';
      const { value, fixup } = targetField(c, c.target(), long ? 'imm' : 'off');
      acceptAnnotation(c);
      return { insn: build.ja(long, value), fixup };
    }
    case 'may_goto': {
      const { value, fixup } = targetField(c, c.target(), 'off');
      acceptAnnotation(c);
      return { insn: build.mayGoto(value), fixup };
    }
    case 'if':
      return parseConditional(c);
    case 'lock':
      return parseLock(c);
    case 'ld_pseudo':
      return parseLdPseudo(c);
    default:
      return c.failExpected(INSTRUCTION_EXPECTED, head);
  }
}

/** `call 0x5` (helper), `call 0x2 <L9>` (bpf-to-bpf), `call 0x7 <kfunc>`, `call name` (bpf-to-bpf). */
function parseCall(c: Cursor): Encoded {
  if (c.isIdent()) {
    const { value, fixup } = targetField(c, c.target(), 'imm');
    acceptAnnotation(c);
    return { insn: build.callLocal(value), fixup };
  }
  if (!c.atNumber()) c.failExpected('a helper number or a function label');
  const imm = c.imm32(c.number('a helper number'));
  const annotation = acceptAnnotation(c);
  if (annotation === undefined) return { insn: build.callHelper(imm) };
  return { insn: annotation.text === KFUNC_ANNOTATION ? build.callKfunc(imm) : build.callLocal(imm) };
}

/** `if r1 s> 0x5 goto +0x3 <annotation>`. */
function parseConditional(c: Cursor): Encoded {
  const dst = parseRegisterOf(c, 'either');
  const t = c.peek();
  const op = t?.kind === 'punct' ? JUMP_BY_OPERATOR.get(t.text) : undefined;
  if (op === undefined) return c.failExpected(`a comparison (${[...JUMP_BY_OPERATOR.keys()].join(' ')})`);
  c.next();
  const source = parseSource(c, dst.wide);
  c.expectIdent('goto');
  const { value, fixup } = targetField(c, c.target(), 'off');
  acceptAnnotation(c);
  return { insn: build.jump(op, dst.wide, dst.num, source, value), fixup };
}

/** `*(u32 *)(r1 + 0x4) = r2 | w2 | imm`. */
function parseStore(c: Cursor): Encoded {
  c.expectPunct('*');
  const { size } = parsePointerType(c, UNSIGNED_TYPES);
  const { base, off } = parseParenMemory(c);
  c.expectPunct('=');
  // objdump prints wN for sub-64-bit stores in alu32 mode and rN otherwise; both mean the same.
  if (isRegisterName(c.peek())) {
    const src = parseRegisterOf(c, size === 8 ? true : 'either');
    return { insn: build.store(size, base, off, { reg: src.num }) };
  }
  return { insn: build.store(size, base, off, { imm: c.imm32(c.number('a register or an immediate')) }) };
}

/** `lock *(u64 *)(r1 + 0x0) += r2`. */
function parseLock(c: Cursor): Encoded {
  c.expectPunct('*', '"*(u64 *)" after lock');
  const { size } = parsePointerType(c, ATOMIC_TYPES);
  const { base, off } = parseParenMemory(c);
  const t = c.peek();
  const op = t?.kind === 'punct' ? ATOMIC_BY_OPERATOR.get(t.text) : undefined;
  if (op === undefined) return c.failExpected('one of += |= &= ^=');
  c.next();
  // Default-mode objdump prints the 32-bit form with rN, alu32 mode with wN.
  const src = parseRegisterOf(c, size === 8 ? true : 'either');
  return { insn: build.atomic(op, size as 4 | 8, false, base, src.num, off) };
}

/** `ld_pseudo r1, 0x2, 0x5[, imm2]`: lddw with a non-zero src. */
function parseLdPseudo(c: Cursor): Encoded {
  const dst = parseRegisterOf(c, true);
  c.expectPunct(',');
  const srcLiteral = c.number('the lddw source (1..6)');
  const source = build.LDDW_SOURCES[Number(srcLiteral.value)];
  if (source === undefined || srcLiteral.value < 0n) {
    throw c.error(`lddw source ${srcLiteral.text} is not one of 0..6`, 'an lddw source 0..6', srcLiteral);
  }
  c.expectPunct(',');
  const imm = c.imm32(c.number('an immediate'));
  const imm2 = c.acceptPunct(',') ? c.imm32(c.number('an immediate')) : 0;
  acceptAnnotation(c);
  return { insn: build.lddw(source, dst.num, imm, imm2) };
}

function parseAssignment(c: Cursor, dst: Register): Encoded {
  const t = c.peek();
  if (t?.kind === 'punct' && t.text !== '=') {
    const op = ALU_BY_OPERATOR.get(t.text);
    if (op === undefined) return c.failExpected('"=" or an operator like +=');
    c.next();
    return { insn: build.alu(op, dst.wide, dst.num, parseSource(c, dst.wide)) };
  }
  c.expectPunct('=', '"=" or an operator like +=');
  const rhs = c.peek();
  if (c.isPunct('*')) return parseLoad(c, dst);
  if (c.isPunct('(')) {
    // Sign-extending move: `r1 = (s8)r2`.
    c.next();
    const type = c.peek();
    const width = type?.kind === 'ident' ? { s8: 8, s16: 16, s32: 32 }[type.text] : undefined;
    if (width === undefined) return c.failExpected('s8, s16 or s32');
    c.next();
    c.expectPunct(')');
    const src = parseRegisterOf(c, dst.wide);
    return { insn: build.alu('movsx', dst.wide, dst.num, { reg: src.num }, width) };
  }
  if (c.isPunct('-') && isRegisterName(c.peek(1))) {
    c.next();
    expectSameRegister(c, dst);
    return { insn: build.alu('neg', dst.wide, dst.num) };
  }
  if (c.atNumber()) {
    const literal = c.number('an immediate');
    if (c.isIdent('ll')) {
      c.next();
      if (!dst.wide) c.failExpected('a 64-bit register like r1 for an lddw', dst.token);
      const { imm, imm2 } = splitImm64(c.field(literal, 'imm64', 'immediate'));
      return { insn: build.lddw('imm64', dst.num, imm, imm2) };
    }
    return { insn: build.alu('mov', dst.wide, dst.num, { imm: c.imm32(literal) }) };
  }
  if (isRegisterName(rhs)) {
    return { insn: build.alu('mov', dst.wide, dst.num, { reg: parseRegisterOf(c, dst.wide).num }) };
  }
  if (rhs?.kind !== 'ident') return c.failExpected('a value: register, immediate, memory load or operation');
  const swap = /^(le|be|bswap)(16|32|64)$/.exec(rhs.text);
  if (swap !== null) {
    c.next();
    expectSameRegister(c, dst);
    return { insn: build.alu(swap[1] as 'le' | 'be' | 'bswap', true, dst.num, undefined, Number(swap[2])) };
  }
  const fetch = FETCH_BY_NAME.get(rhs.text);
  if (fetch !== undefined) {
    // r2 = atomic_fetch_add((u64 *)(r1 + 0x0), r2)
    c.next();
    c.expectPunct('(');
    const { size } = parsePointerType(c, ATOMIC_TYPES);
    const { base, off } = parseParenMemory(c);
    c.expectPunct(',');
    expectWidth(c, dst, size === 8);
    expectSameRegister(c, dst);
    c.expectPunct(')');
    return { insn: build.atomic(fetch, size as 4 | 8, true, base, dst.num, off) };
  }
  const exchange = EXCHANGE_BY_NAME.get(rhs.text);
  if (exchange !== undefined) {
    // r2 = xchg_64(r1 + 0x0, r2); r0 = cmpxchg_64(r1 + 0x0, r0, r2)
    c.next();
    c.expectPunct('(');
    const { base, off } = parseBaseOffset(c);
    c.expectPunct(',');
    expectWidth(c, dst, exchange.size === 8);
    let src = dst.num;
    if (exchange.op === 'cmpxchg') {
      if (dst.num !== 0) c.failExpected(`${dst.wide ? 'r0' : 'w0'} (cmpxchg always writes r0)`, dst.token);
      expectSameRegister(c, dst);
      c.expectPunct(',');
      src = parseRegisterOf(c, dst.wide).num;
    } else {
      expectSameRegister(c, dst);
    }
    c.expectPunct(')');
    return { insn: build.atomic(exchange.op, exchange.size, true, base, src, off) };
  }
  return c.failExpected('a value: register, immediate, memory load or operation');
}

function expectWidth(c: Cursor, r: Register, wide: boolean): void {
  if (r.wide !== wide)
    c.failExpected(wide ? 'a 64-bit register like r1' : 'a 32-bit register like w1', r.token);
}

/** `r1 = *(u32 *)(r2 + 0x4)`, `r1 = *(s8 *)(…)`, `r0 = *(u32 *)skb[0x4]`, `r0 = *(u8 *)skb[r2]`. */
function parseLoad(c: Cursor, dst: Register): Encoded {
  c.expectPunct('*');
  const { size, signed } = parsePointerType(c, LOAD_TYPES);
  if (c.isIdent('skb')) {
    c.next();
    if (signed || size === 8) c.failExpected(`one of ${PACKET_TYPES.join(', ')} for a packet load`);
    if (!dst.wide || dst.num !== 0) c.failExpected('r0 (packet loads always write r0)', dst.token);
    c.expectPunct('[', '"[" after skb');
    let insn: RawInsn;
    if (isRegisterName(c.peek())) {
      // Indirect: skb[r2] or, with a non-zero imm, skb[r2 + 0x4] (imm is 32 bits here).
      const src = parseRegisterOf(c, true);
      const imm = c.isPunct('+') || c.isPunct('-') ? c.imm32(c.number('an offset into the packet')) : 0;
      insn = build.packetLoad(true, size as 1 | 2 | 4, src.num, imm);
    } else {
      insn = build.packetLoad(false, size as 1 | 2 | 4, 0, c.imm32(c.number('an offset into the packet')));
    }
    c.expectPunct(']');
    return { insn };
  }
  // alu32-mode objdump writes wN for zero-extending loads below 64 bits.
  if (!dst.wide && (signed || size === 8)) c.failExpected('a 64-bit register like r1', dst.token);
  const { base, off } = parseParenMemory(c);
  return { insn: build.load(size, signed, dst.num, base, off) };
}
