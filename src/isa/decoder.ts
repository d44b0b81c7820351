/**
 * The one eBPF decoder: bytes → validated `Program`. Every consumer (interpreter, disassembler, JIT,
 * verifier) starts from its output, so every encoding rule of RFC 9669 is enforced here exactly once:
 * known opcodes, zero reserved fields, valid registers, complete lddw pairs, in-range jump targets.
 */
import { LoadError, type LoadErrorCode } from '../errors.js';
import { formOf } from './forms.js';
import type {
  AluInsn,
  AluOp,
  AtomicInsn,
  AtomicOp,
  CallInsn,
  CallOp,
  Insn,
  InsnBase,
  JumpOp,
  LddwInsn,
  LddwSource,
  Program,
  ProgramColumns,
} from './instruction.js';
import {
  BPF_ABS,
  BPF_ALU,
  BPF_ALU64,
  BPF_ATOMIC,
  BPF_DW,
  BPF_FETCH,
  BPF_IMM,
  BPF_IND,
  BPF_JMP,
  BPF_JMP32,
  BPF_LD,
  BPF_LDX,
  BPF_MAY_GOTO,
  BPF_MEM,
  BPF_MEMSX,
  BPF_ST,
  BPF_X,
  FRAME_POINTER,
  INSN_SIZE,
  REG_COUNT,
  sizeOfMemOpcode,
} from './opcodes.js';
import {
  ALU_OP_BY_CODE,
  ATOMIC_OP_BY_CODE,
  CALL_OP_CODE,
  END_OP_CODE,
  EXIT_OP_CODE,
  JUMP_OP_BY_CODE,
  LDDW_SOURCE_BY_CODE,
} from './operations.js';

export interface DecodeOptions {
  /** Section or program name included in error locations. */
  section?: string;
  /** Largest accepted program in slots (default 1,000,000 like the kernel's complexity bound). */
  maxSlots?: number;
  /**
   * Check the kernel's structural rules (default true): every subprogram ends with `exit` or an
   * unconditional jump, so execution never runs off its end, and no jump leaves its subprogram.
   */
  checkStructure?: boolean;
  /**
   * Extra function starts besides pc 0 and call targets: entry points a host calls directly (the
   * exported functions of a contract). Each must be the first slot of an instruction.
   */
  entries?: readonly number[];
}

export const DEFAULT_MAX_SLOTS = 1_000_000;

/** Raw fields of one slot. */
interface Raw {
  pc: number;
  opcode: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

/** Every field of every instruction kind; those of other kinds are undefined. */
interface AllFields {
  readonly kind: Insn['kind'];
  readonly op: AluOp | JumpOp | CallOp | AtomicOp | undefined;
  readonly is64: boolean | undefined;
  readonly useReg: boolean | undefined;
  readonly width: number | undefined;
  readonly target: number | undefined;
  readonly size: number | undefined;
  readonly signExtend: boolean | undefined;
  readonly indirect: boolean | undefined;
  readonly fetch: boolean | undefined;
  readonly source: LddwSource | undefined;
  readonly imm2: number | undefined;
}

/**
 * Builds every decoded instruction through this one object literal, with the fields of all kinds in
 * one order (undefined where a kind has none): all instructions then share one hidden class, so the
 * consumers' property reads (JIT, interpreter lowering, verifier) stay monomorphic, and each object
 * holds its fields in place (a spread copy had a shape per kind and a separate property store).
 */
function decoded(
  r: Raw,
  slots: 1 | 2,
  kind: Insn['kind'],
  op: AllFields['op'] = undefined,
  is64: boolean | undefined = undefined,
  useReg: boolean | undefined = undefined,
  width: number | undefined = undefined,
  target: number | undefined = undefined,
  size: number | undefined = undefined,
  flag: boolean | undefined = undefined,
  source: LddwSource | undefined = undefined,
  imm2: number | undefined = undefined,
): Insn {
  const insn: AllFields & InsnBase = {
    kind,
    op,
    pc: r.pc,
    opcode: r.opcode,
    dst: r.dst,
    src: r.src,
    off: r.off,
    imm: r.imm,
    slots,
    is64,
    useReg,
    width,
    target,
    size,
    // The one boolean each kind may have besides is64/useReg.
    signExtend: kind === 'load' ? flag : undefined,
    indirect: kind === 'packet_load' ? flag : undefined,
    fetch: kind === 'atomic' ? flag : undefined,
    source,
    imm2,
  };
  return insn as Insn;
}

class Decoder {
  private readonly view: DataView;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly section: string | undefined,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  raw(pc: number): Raw {
    const at = pc * INSN_SIZE;
    const regs = this.bytes[at + 1];
    return {
      pc,
      opcode: this.bytes[at],
      dst: regs & 0x0f,
      src: regs >> 4,
      off: this.view.getInt16(at + 2, true),
      imm: this.view.getInt32(at + 4, true),
    };
  }

  fail(code: LoadErrorCode, r: Raw, message: string, hint?: string): never {
    throw new LoadError(
      code,
      `${message} at pc ${r.pc} (opcode 0x${hex2(r.opcode)})`,
      { pc: r.pc, section: this.section, offset: r.pc * INSN_SIZE },
      { opcode: r.opcode, hint },
    );
  }

  /** Reserved fields must be zero (RFC 9669: "unused fields ... MUST be set to zero"). */
  zero(r: Raw, fields: readonly ('dst' | 'src' | 'off' | 'imm')[]): void {
    for (const f of fields) {
      if (r[f] !== 0) this.fail('INVALID_FIELD', r, `reserved field ${f} must be 0 but is ${r[f]}`);
    }
  }

  registers(r: Raw, writesDst: boolean): void {
    if (r.dst >= REG_COUNT) this.fail('INVALID_REGISTER', r, `invalid destination register r${r.dst}`);
    if (r.src >= REG_COUNT) this.fail('INVALID_REGISTER', r, `invalid source register r${r.src}`);
    if (writesDst && r.dst === FRAME_POINTER) {
      this.fail('WRITE_TO_R10', r, 'r10 (the frame pointer) is read-only but is written');
    }
  }

  decodeAlu(r: Raw, is64: boolean): AluInsn {
    const useReg = (r.opcode & BPF_X) !== 0;
    const _code = r.opcode >> 4;
    let op: AluOp | undefined = ALU_OP_BY_CODE.get(r.opcode & 0xf0);
    let width = 0;
    if ((r.opcode & 0xf0) === END_OP_CODE) {
      // END: byte swaps. ALU64|END with K source is the unconditional bswap.
      if (is64 && useReg) this.fail('UNKNOWN_OPCODE', r, 'unknown opcode');
      op = is64 ? 'bswap' : useReg ? 'be' : 'le';
      this.zero(r, ['src', 'off']);
      if (r.imm !== 16 && r.imm !== 32 && r.imm !== 64) {
        this.fail('INVALID_FIELD', r, `byte swap width must be 16, 32 or 64 but is ${r.imm}`);
      }
      width = r.imm;
      this.registers(r, true);
      return decoded(r, 1, 'alu', op, is64, false, width) as AluInsn;
    }
    if (op === undefined) this.fail('UNKNOWN_OPCODE', r, 'unknown opcode');
    if (op === 'neg') {
      if (useReg) this.fail('UNKNOWN_OPCODE', r, 'unknown opcode');
      this.zero(r, ['src', 'off', 'imm']);
    } else {
      if (useReg) this.zero(r, ['imm']);
      else this.zero(r, ['src']);
      if (r.off !== 0) {
        if ((op === 'div' || op === 'mod') && r.off === 1) {
          op = op === 'div' ? 'sdiv' : 'smod';
        } else if (op === 'mov' && useReg && (r.off === 8 || r.off === 16 || (r.off === 32 && is64))) {
          op = 'movsx';
          width = r.off;
        } else {
          this.fail('INVALID_FIELD', r, `reserved field off must be 0 but is ${r.off}`);
        }
      }
    }
    this.registers(r, true);
    return decoded(r, 1, 'alu', op, is64, useReg, width) as AluInsn;
  }

  decodeJump(r: Raw, is64: boolean, slotCount: number): Insn {
    const useReg = (r.opcode & BPF_X) !== 0;
    const _code = r.opcode >> 4;
    if ((r.opcode & 0xf0) === CALL_OP_CODE) return this.decodeCall(r, is64, useReg, slotCount);
    if ((r.opcode & 0xf0) === EXIT_OP_CODE) {
      if (!is64 || useReg) this.fail('UNKNOWN_OPCODE', r, 'unknown opcode');
      this.zero(r, ['dst', 'src', 'off', 'imm']);
      return decoded(r, 1, 'exit');
    }
    const op = JUMP_OP_BY_CODE.get(r.opcode & 0xf0);
    if (op === undefined) this.fail('UNKNOWN_OPCODE', r, 'unknown opcode');
    let target: number;
    if (op === 'may_goto') {
      // JMP|JCOND: only the K form of the 64-bit class exists; src selects the condition.
      if (!is64 || useReg) this.fail('UNKNOWN_OPCODE', r, 'unknown opcode');
      if (r.src !== BPF_MAY_GOTO) {
        this.fail('INVALID_FIELD', r, `JCOND src must be 0 (may_goto) but is ${r.src}`);
      }
      this.zero(r, ['dst', 'imm']);
      target = r.pc + 1 + r.off;
    } else if (op === 'ja') {
      if (useReg) this.fail('UNKNOWN_OPCODE', r, 'unknown opcode');
      this.zero(r, ['dst', 'src']);
      // JMP|JA uses off; JMP32|JA ("gotol") uses the 32-bit imm.
      if (is64) {
        this.zero(r, ['imm']);
        target = r.pc + 1 + r.off;
      } else {
        this.zero(r, ['off']);
        target = r.pc + 1 + r.imm;
      }
    } else {
      if (useReg) this.zero(r, ['imm']);
      else this.zero(r, ['src']);
      this.registers(r, false);
      target = r.pc + 1 + r.off;
    }
    return decoded(r, 1, 'jump', op, is64, useReg, undefined, target);
  }

  decodeCall(r: Raw, is64: boolean, useReg: boolean, slotCount: number): CallInsn {
    if (!is64) this.fail('UNKNOWN_OPCODE', r, 'unknown opcode');
    if (useReg) {
      // callx: the register holding the target is in dst (as LLVM and bpf_conformance encode it).
      this.zero(r, ['src', 'off', 'imm']);
      this.registers(r, false);
      return this.call(r, 'callx', -1);
    }
    this.zero(r, ['dst', 'off']);
    switch (r.src) {
      case 0:
        return this.call(r, 'helper', -1);
      case 1: {
        const target = r.pc + 1 + r.imm;
        if (target < 0 || target >= slotCount) {
          this.fail('JUMP_OUT_OF_RANGE', r, `local call target ${target} is outside the program`);
        }
        return this.call(r, 'local', target);
      }
      case 2:
        return this.call(r, 'kfunc', -1);
      default:
        return this.fail(
          'INVALID_FIELD',
          r,
          `call src must be 0 (helper), 1 (local) or 2 (kfunc) but is ${r.src}`,
        );
    }
  }

  call(r: Raw, op: CallOp, target: number): CallInsn {
    return decoded(r, 1, 'call', op, undefined, undefined, undefined, target) as CallInsn;
  }

  decodeLd(r: Raw, slotCount: number): Insn {
    const mode = r.opcode & 0xe0;
    if (mode === BPF_IMM && (r.opcode & 0x18) === BPF_DW) {
      if (r.pc + 1 >= slotCount) {
        this.fail('TRUNCATED_LDDW', r, 'lddw needs two slots but the program ends after the first');
      }
      const next = this.raw(r.pc + 1);
      if (next.opcode !== 0 || next.dst !== 0 || next.src !== 0 || next.off !== 0) {
        this.fail(
          'INVALID_LDDW',
          r,
          'the second slot of lddw must have opcode, registers and offset 0',
          'lddw is a 16-byte instruction; check that no instruction was inserted inside it',
        );
      }
      this.zero(r, ['off']);
      const source = LDDW_SOURCE_BY_CODE.get(r.src);
      if (source === undefined) this.fail('INVALID_LDDW', r, `lddw src ${r.src} is not one of 0..6`);
      this.registers({ ...r, src: 0 }, true);
      return decoded(
        r,
        2,
        'lddw',
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
        source,
        next.imm,
      ) as LddwInsn;
    }
    if (mode === BPF_ABS || mode === BPF_IND) {
      const size = sizeOfMemOpcode(r.opcode);
      if (size === 8) this.fail('UNKNOWN_OPCODE', r, 'unknown opcode');
      this.zero(r, mode === BPF_ABS ? ['dst', 'src', 'off'] : ['dst', 'off']);
      this.registers(r, false);
      return decoded(
        r,
        1,
        'packet_load',
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
        size,
        mode === BPF_IND,
      );
    }
    return this.fail('UNKNOWN_OPCODE', r, 'unknown opcode');
  }

  decodeMem(r: Raw, cls: number): Insn {
    const mode = r.opcode & 0xe0;
    const size = sizeOfMemOpcode(r.opcode);
    if (cls === BPF_LDX) {
      if (mode !== BPF_MEM && !(mode === BPF_MEMSX && size !== 8))
        this.fail('UNKNOWN_OPCODE', r, 'unknown opcode');
      this.zero(r, ['imm']);
      this.registers(r, true);
      return decoded(
        r,
        1,
        'load',
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
        size,
        mode === BPF_MEMSX,
      );
    }
    if (cls === BPF_ST) {
      if (mode !== BPF_MEM) this.fail('UNKNOWN_OPCODE', r, 'unknown opcode');
      this.zero(r, ['src']);
      this.registers(r, false);
      return decoded(r, 1, 'store', undefined, undefined, false, undefined, undefined, size);
    }
    // STX
    if (mode === BPF_MEM) {
      this.zero(r, ['imm']);
      this.registers(r, false);
      return decoded(r, 1, 'store', undefined, undefined, true, undefined, undefined, size);
    }
    if (mode === BPF_ATOMIC && (size === 4 || size === 8)) {
      // add/or/and/xor take an optional FETCH bit; xchg and cmpxchg always have it.
      const op = ATOMIC_OP_BY_CODE.get(r.imm & ~BPF_FETCH) ?? ATOMIC_OP_BY_CODE.get(r.imm);
      const fetch = (r.imm & BPF_FETCH) !== 0;
      if (op === undefined)
        this.fail('INVALID_FIELD', r, `unknown atomic operation imm 0x${(r.imm >>> 0).toString(16)}`);
      this.registers(r, false);
      // Fetching atomics write src (cmpxchg writes r0); none may write r10.
      if (fetch && r.src === FRAME_POINTER && op !== 'cmpxchg') {
        this.fail('WRITE_TO_R10', r, 'r10 (the frame pointer) is read-only but a fetching atomic writes it');
      }
      return decoded(
        r,
        1,
        'atomic',
        op,
        undefined,
        undefined,
        undefined,
        undefined,
        size,
        fetch,
      ) as AtomicInsn;
    }
    return this.fail('UNKNOWN_OPCODE', r, 'unknown opcode');
  }

  decodeOne(pc: number, slotCount: number): Insn {
    const r = this.raw(pc);
    const cls = r.opcode & 0x07;
    switch (cls) {
      case BPF_ALU:
        return this.decodeAlu(r, false);
      case BPF_ALU64:
        return this.decodeAlu(r, true);
      case BPF_JMP:
        return this.decodeJump(r, true, slotCount);
      case BPF_JMP32:
        return this.decodeJump(r, false, slotCount);
      case BPF_LD:
        return this.decodeLd(r, slotCount);
      default:
        return this.decodeMem(r, cls);
    }
  }
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

/** Decodes and validates a whole program. Throws `LoadError` naming the pc and opcode on bad input. */
export function decodeProgram(bytes: Uint8Array, options: DecodeOptions = {}): Program {
  const { section } = options;
  const maxSlots = options.maxSlots ?? DEFAULT_MAX_SLOTS;
  if (bytes.length === 0) {
    throw new LoadError('EMPTY_PROGRAM', 'the program has no instructions', { section });
  }
  if (bytes.length % INSN_SIZE !== 0) {
    throw new LoadError(
      'TRUNCATED_PROGRAM',
      `program size ${bytes.length} is not a multiple of 8 bytes; the last instruction is cut off`,
      {
        section,
        offset: bytes.length - (bytes.length % INSN_SIZE),
        pc: Math.floor(bytes.length / INSN_SIZE),
      },
    );
  }
  const slotCount = bytes.length / INSN_SIZE;
  if (slotCount > maxSlots) {
    throw new LoadError(
      'PROGRAM_TOO_LARGE',
      `program has ${slotCount} slots, more than the limit of ${maxSlots}`,
      {
        section,
      },
    );
  }
  const decoder = new Decoder(bytes, section);
  const insns: Insn[] = [];
  const insnAt = new Int32Array(slotCount).fill(-1);
  const columns = newColumns(slotCount);
  for (let pc = 0; pc < slotCount; ) {
    const insn = decoder.decodeOne(pc, slotCount);
    recordColumns(columns, insns.length, insn);
    insnAt[pc] = insns.length;
    insns.push(insn);
    pc += insn.slots;
  }
  const subprograms = new Set<number>([0]);
  for (const entry of options.entries ?? []) {
    if (!Number.isInteger(entry) || entry < 0 || entry >= slotCount || insnAt[entry] < 0) {
      throw new LoadError(
        'JUMP_OUT_OF_RANGE',
        `entry point ${entry} is not the start of an instruction of this ${slotCount}-slot program`,
        { section, pc: entry },
      );
    }
    subprograms.add(entry);
  }
  for (const insn of insns) {
    const target = checkTargets(insn, insnAt, slotCount, decoder);
    if (insn.kind !== 'jump' && target >= 0) subprograms.add(target);
  }
  const starts = [...subprograms].sort((a, b) => a - b);
  if (options.checkStructure ?? true) checkSubprograms(insns, insnAt, starts, slotCount, decoder);
  return {
    insns,
    slotCount,
    insnAt,
    bytes,
    subprograms: starts,
    columns: trimColumns(columns, insns.length),
  };
}

/** Columns for up to `slots` instructions (one per slot: lddw leaves the tail unused). */
function newColumns(slots: number): ProgramColumns {
  return {
    form: new Uint8Array(slots),
    pc: new Int32Array(slots),
    regs: new Uint8Array(slots),
    imm: new Int32Array(slots),
    target: new Int32Array(slots),
  };
}

function recordColumns(columns: ProgramColumns, i: number, insn: Insn): void {
  columns.form[i] = formOf(insn);
  columns.pc[i] = insn.pc;
  columns.regs[i] = insn.dst | (insn.src << 4);
  columns.imm[i] = insn.imm;
  columns.target[i] = insn.kind === 'jump' || insn.kind === 'call' ? insn.target : -1;
}

/** The columns of the first `count` instructions (views: a program has lddw, so slots > count). */
function trimColumns(c: ProgramColumns, count: number): ProgramColumns {
  if (c.form.length === count) return c;
  return {
    form: c.form.subarray(0, count),
    pc: c.pc.subarray(0, count),
    regs: c.regs.subarray(0, count),
    imm: c.imm.subarray(0, count),
    target: c.target.subarray(0, count),
  };
}

/**
 * Subprograms start at pc 0 and at every local call or code-address target. Like the kernel, require
 * each to end with exit or an unconditional jump, and every jump to stay inside its subprogram.
 */
function checkSubprograms(
  insns: readonly Insn[],
  insnAt: Int32Array,
  starts: readonly number[],
  slotCount: number,
  decoder: Decoder,
): void {
  for (let k = 0; k < starts.length; k++) {
    const start = starts[k];
    const end = k + 1 < starts.length ? starts[k + 1] : slotCount;
    const first = insnAt[start];
    const lastIndex = k + 1 < starts.length ? insnAt[end] - 1 : insns.length - 1;
    const last = insns[lastIndex];
    if (!(last.kind === 'exit' || (last.kind === 'jump' && last.op === 'ja'))) {
      const where = start === 0 && end === slotCount ? 'the program' : `the subprogram at pc ${start}`;
      decoder.fail(
        'NO_EXIT',
        decoder.raw(last.pc),
        `the last instruction of ${where} is neither exit nor an unconditional jump, so execution could run off its end`,
        'end every function with `exit`',
      );
    }
    for (let i = first; i <= lastIndex; i++) {
      const insn = insns[i];
      if (insn.kind === 'jump' && (insn.target < start || insn.target >= end)) {
        decoder.fail(
          'JUMP_OUT_OF_SUBPROGRAM',
          decoder.raw(insn.pc),
          `jump to pc ${insn.target} leaves the subprogram [${start}, ${end})`,
          'jumps may not cross function boundaries; use a call',
        );
      }
    }
  }
}

/** Validates the jump, call or code-address target of `insn` and returns it (-1 if it has none). */
function checkTargets(insn: Insn, insnAt: Int32Array, slotCount: number, decoder: Decoder): number {
  let target: number;
  let what: string;
  if (insn.kind === 'jump') {
    target = insn.target;
    what = 'jump';
  } else if (insn.kind === 'call' && insn.op === 'local') {
    target = insn.target;
    what = 'local call';
  } else if (insn.kind === 'lddw' && insn.source === 'code_addr') {
    target = insn.pc + 1 + insn.imm;
    what = 'code address';
  } else {
    return -1;
  }
  const r = decoder.raw(insn.pc);
  if (target < 0 || target >= slotCount) {
    decoder.fail(
      'JUMP_OUT_OF_RANGE',
      r,
      `${what} target ${target} is outside the program (slots 0..${slotCount - 1})`,
      'check the offset: it is relative to the next instruction',
    );
  }
  if (insnAt[target] < 0) {
    decoder.fail('JUMP_INTO_LDDW', r, `${what} target ${target} is the second half of an lddw`);
  }
  return target;
}
