/**
 * Parser for the uBPF / bpf_conformance assembly dialect (FORMAT.md §4): `mnemonic op1, op2, op3` with
 * optional commas, `%rN` registers, `[%rN+off]` memory operands, labels and `+N`/`-N` jump targets.
 * Operands are read generically first, so every mnemonic gets the same operand-count and operand-kind
 * messages.
 *
 * Extensions beyond bpf_conformance (all printed by our disassembler so its output re-assembles):
 * legacy packet loads `ldabsw 4` / `ldindw %r2, 4`, and lddw variants with a non-zero src written
 * like `call local`: `lddw map_fd %r1, 5`, `lddw map_value %r1, 5, 8` (third number = second imm),
 * `lddw code_addr %r1, label`.
 */
import * as build from './builders.js';
import type { Cursor, Target } from './cursor.js';
import type { SourcePos } from './lexer.js';
import type { NumberLiteral } from './numbers.js';
import { splitImm64 } from './numbers.js';
import { type Encoded, type StatementSink, targetField } from './statements.js';
import { ATOMIC_OPS, buildMnemonicTable, type UbpfMnemonic } from './ubpf-names.js';

const MNEMONICS = buildMnemonicTable();

const REGISTER_EXPECTED = 'a register like %r1';

type Operand =
  | { readonly kind: 'reg'; readonly reg: number; readonly text: string; readonly pos: SourcePos }
  | {
      readonly kind: 'mem';
      readonly base: number;
      readonly off: number;
      readonly text: string;
      readonly pos: SourcePos;
    }
  | { readonly kind: 'num'; readonly literal: NumberLiteral; readonly text: string; readonly pos: SourcePos }
  | { readonly kind: 'name'; readonly name: string; readonly text: string; readonly pos: SourcePos };

function parseRegister(c: Cursor): Operand & { kind: 'reg' } {
  const t = c.peek();
  if (t?.kind !== 'percent') return c.failExpected(REGISTER_EXPECTED);
  const m = /^%r(\d+)$/.exec(t.text);
  if (m === null) return c.failExpected(REGISTER_EXPECTED);
  const reg = c.registerNumber(t, Number(m[1]), '%r0..%r10');
  c.next();
  return { kind: 'reg', reg, text: t.text, pos: t };
}

/** `[%rN]`, `[%rN+off]`, `[%rN-off]`. */
function parseMemory(c: Cursor): Operand & { kind: 'mem' } {
  const open = c.expectPunct('[', 'a memory operand like [%r1+8]');
  const base = parseRegister(c);
  let off = 0;
  let text = `[${base.text}`;
  if (c.isPunct('+') || c.isPunct('-')) {
    const literal = c.number('an offset');
    off = c.off16(literal);
    text += literal.text;
  }
  c.expectPunct(']', '"]" closing the memory operand');
  return { kind: 'mem', base: base.reg, off, text: `${text}]`, pos: open };
}

function parseOperand(c: Cursor): Operand {
  const t = c.peek()!;
  if (t.kind === 'percent') return parseRegister(c);
  if (c.isPunct('[')) return parseMemory(c);
  if (t.kind === 'ident') {
    c.next();
    return { kind: 'name', name: t.text, text: t.text, pos: t };
  }
  if (c.atNumber()) {
    const literal = c.number('a number');
    return { kind: 'num', literal, text: literal.text, pos: literal };
  }
  return c.failExpected('an operand: a register, [memory], number or label');
}

/** The operand list of one instruction, with the checks every mnemonic needs. */
class Operands {
  constructor(
    private readonly c: Cursor,
    private readonly mnemonic: string,
    readonly list: readonly Operand[],
  ) {}

  get length(): number {
    return this.list.length;
  }

  /** Requires exactly `n` operands; `shape` shows the accepted form, e.g. `%rD, [%rS+off]`. */
  count(n: number, shape: string): void {
    if (this.list.length === n) return;
    const plural = n === 1 ? '' : 's';
    const at = this.list.length > n ? this.list[n].pos : this.c.pos();
    throw this.c.error(
      `wrong number of operands for ${this.mnemonic}: expected ${n} operand${plural} (${this.mnemonic} ${shape}), found ${this.list.length}`,
      `${this.mnemonic} ${shape}`,
      at,
    );
  }

  private fail(i: number, expected: string): never {
    const op = this.list[i];
    throw this.c.error(
      `expected ${expected} as operand ${i + 1} of ${this.mnemonic}, found "${op.text}"`,
      expected,
      op.pos,
    );
  }

  reg(i: number): number {
    const op = this.list[i];
    return op.kind === 'reg' ? op.reg : this.fail(i, REGISTER_EXPECTED);
  }

  mem(i: number): { base: number; off: number } {
    const op = this.list[i];
    return op.kind === 'mem' ? op : this.fail(i, 'a memory operand like [%r1+8]');
  }

  num(i: number, expected = 'a number'): NumberLiteral {
    const op = this.list[i];
    return op.kind === 'num' ? op.literal : this.fail(i, expected);
  }

  imm32(i: number): number {
    return this.c.imm32(this.num(i, 'an immediate'));
  }

  name(i: number): string | undefined {
    const op = this.list[i];
    return op?.kind === 'name' ? op.name : undefined;
  }

  /** A register or a 32-bit immediate (ALU and jump sources). */
  source(i: number): build.Source {
    const op = this.list[i];
    if (op.kind === 'reg') return { reg: op.reg };
    if (op.kind === 'num') return { imm: this.c.imm32(op.literal) };
    return this.fail(i, 'a register or an immediate');
  }

  /** A label, or an explicit `+N`/`-N`: bpf_conformance reads an unsigned word as a label name. */
  target(i: number): Target {
    const op = this.list[i];
    if (op.kind === 'name') return { kind: 'label', name: op.name, pos: op.pos };
    if (op.kind === 'num' && op.literal.explicitSign) return { kind: 'offset', literal: op.literal };
    return this.fail(i, 'a label or a +N/-N slot offset');
  }
}

export function parseUbpfStatement(c: Cursor, sink: StatementSink): void {
  const head = c.next()!;
  if (head.kind !== 'ident') c.failExpected('an instruction mnemonic', head);
  const mnemonic = MNEMONICS.get(head.text);
  if (mnemonic === undefined) {
    throw c.error(
      `unknown mnemonic "${head.text}"`,
      'an instruction mnemonic such as mov, ldxw, jeq or exit',
      head,
    );
  }
  const list: Operand[] = [];
  while (!c.atEnd()) {
    list.push(parseOperand(c));
    c.acceptPunct(',');
  }
  const ops = new Operands(c, head.text, list);
  // The first exit also defines the label `exit` (an explicit `exit:` label takes precedence).
  if (mnemonic.kind === 'exit') sink.label('exit', head, true);
  const { insn, fixup } = encode(c, mnemonic, ops);
  sink.add(insn, head, fixup);
}

/** The instruction a mnemonic and its operands stand for. */
function encode(c: Cursor, mnemonic: UbpfMnemonic, ops: Operands): Encoded {
  switch (mnemonic.kind) {
    case 'alu':
      ops.count(2, '%rD, %rS or imm');
      return { insn: build.alu(mnemonic.op, mnemonic.is64, ops.reg(0), ops.source(1)) };
    case 'neg':
      ops.count(1, '%rD');
      return { insn: build.alu('neg', mnemonic.is64, ops.reg(0)) };
    case 'movsx':
      ops.count(2, '%rD, %rS');
      return { insn: build.alu('movsx', mnemonic.is64, ops.reg(0), { reg: ops.reg(1) }, mnemonic.width) };
    case 'swap':
      ops.count(1, '%rD');
      return { insn: build.alu(mnemonic.op, true, ops.reg(0), undefined, mnemonic.width) };
    case 'load': {
      ops.count(2, '%rD, [%rS+off]');
      const dst = ops.reg(0);
      const { base, off } = ops.mem(1);
      return { insn: build.load(mnemonic.size, mnemonic.signExtend, dst, base, off) };
    }
    case 'store': {
      ops.count(2, mnemonic.useReg ? '[%rD+off], %rS' : '[%rD+off], imm');
      const { base, off } = ops.mem(0);
      return {
        insn: build.store(
          mnemonic.size,
          base,
          off,
          mnemonic.useReg ? { reg: ops.reg(1) } : { imm: ops.imm32(1) },
        ),
      };
    }
    case 'packet':
      if (mnemonic.indirect) {
        ops.count(2, '%rS, imm');
        return { insn: build.packetLoad(true, mnemonic.size, ops.reg(0), ops.imm32(1)) };
      }
      ops.count(1, 'imm');
      return { insn: build.packetLoad(false, mnemonic.size, 0, ops.imm32(0)) };
    case 'lddw':
      return parseLddw(c, ops);
    case 'ja': {
      ops.count(1, 'target');
      const { value, fixup } = targetField(c, ops.target(0), mnemonic.long ? 'imm' : 'off');
      return { insn: build.ja(mnemonic.long, value), fixup };
    }
    case 'may_goto': {
      ops.count(1, 'target');
      const { value, fixup } = targetField(c, ops.target(0), 'off');
      return { insn: build.mayGoto(value), fixup };
    }
    case 'jump': {
      ops.count(3, '%rD, %rS or imm, target');
      const dst = ops.reg(0);
      const source = ops.source(1);
      const { value, fixup } = targetField(c, ops.target(2), 'off');
      return { insn: build.jump(mnemonic.op, mnemonic.is64, dst, source, value), fixup };
    }
    case 'call':
      return parseCall(c, ops);
    case 'exit':
      ops.count(0, '');
      return { insn: build.exit() };
    case 'lock':
      return parseLock(c, ops);
  }
}

function parseLddw(c: Cursor, ops: Operands): Encoded {
  const keyword = ops.name(0);
  const source = build.LDDW_SOURCES.find((k) => k === keyword);
  if (keyword !== undefined && source === undefined) {
    throw c.error(
      `unknown lddw variant "${keyword}"`,
      `one of ${build.LDDW_SOURCES.join(', ')}, or a register`,
      ops.list[0].pos,
    );
  }
  if (source === undefined || source === 'imm64') {
    const first = source === undefined ? 0 : 1;
    ops.count(first + 2, source === undefined ? '%rD, imm64' : 'imm64 %rD, imm64');
    const value = c.field(ops.num(first + 1, 'a 64-bit immediate'), 'imm64', 'immediate');
    const { imm, imm2 } = splitImm64(value);
    return { insn: build.lddw('imm64', ops.reg(first), imm, imm2) };
  }
  // Variants: `lddw map_value %r1, 5[, imm2]`; the code address is a target (label or +N).
  if (ops.length !== 3 && ops.length !== 4) {
    ops.count(3, `${source} %rD, ${source === 'code_addr' ? 'target' : 'imm'}[, imm2]`);
  }
  const dst = ops.reg(1);
  const imm2 = ops.length === 4 ? ops.imm32(3) : 0;
  if (source === 'code_addr') {
    const { value, fixup } = targetField(c, ops.target(2), 'imm');
    return { insn: build.lddw(source, dst, value, imm2), fixup };
  }
  return { insn: build.lddw(source, dst, ops.imm32(2), imm2) };
}

/** `call N`, `call %rX`, `call helper N|%rX`, `call local target`, `call runtime N`. */
function parseCall(c: Cursor, ops: Operands): Encoded {
  const shape = 'imm | %rX | local target | runtime imm';
  if (ops.length === 1) {
    const op = ops.list[0];
    if (op.kind === 'reg') return { insn: build.callx(op.reg) };
    if (op.kind === 'num') return { insn: build.callHelper(ops.imm32(0)) };
    throw c.error(
      `expected a helper number, a register, or "local"/"runtime"/"helper" and a target after call, found "${op.text}"`,
      `call ${shape}`,
      op.pos,
    );
  }
  ops.count(2, shape);
  const mode = ops.name(0);
  switch (mode) {
    case 'helper': {
      const op = ops.list[1];
      return { insn: op.kind === 'reg' ? build.callx(op.reg) : build.callHelper(ops.imm32(1)) };
    }
    case 'local': {
      const { value, fixup } = targetField(c, ops.target(1), 'imm');
      return { insn: build.callLocal(value), fixup };
    }
    case 'runtime':
      return { insn: build.callKfunc(ops.imm32(1)) };
    default:
      throw c.error(`unknown call mode "${ops.list[0].text}"`, 'helper, local or runtime', ops.list[0].pos);
  }
}

/** `lock [fetch] OP [%rD+off], %rS` with OP in add/and/or/xor/xchg/cmpxchg (+32). */
function parseLock(c: Cursor, ops: Operands): Encoded {
  const fetch = ops.name(0) === 'fetch';
  const first = fetch ? 1 : 0;
  const shape = '[fetch] op [%rD+off], %rS';
  if (ops.length !== first + 3) {
    throw c.error(
      `wrong number of operands for lock: expected lock ${shape}, found ${ops.length} operand${ops.length === 1 ? '' : 's'}`,
      `lock ${shape}`,
      ops.length > first + 3 ? ops.list[first + 3].pos : c.pos(),
    );
  }
  const word = ops.name(first);
  const m = word === undefined ? null : /^([a-z]+?)(32|64)?$/.exec(word);
  const op = ATOMIC_OPS.find((o) => o === m?.[1]);
  if (m === null || op === undefined) {
    throw c.error(
      `unknown atomic operation "${ops.list[first].text}"`,
      `one of ${ATOMIC_OPS.join(', ')} (with an optional 32 suffix)`,
      ops.list[first].pos,
    );
  }
  const { base, off } = ops.mem(first + 1);
  const src = ops.reg(first + 2);
  return { insn: build.atomic(op, m[2] === '32' ? 4 : 8, fetch, base, src, off) };
}
