/**
 * The decoded form of one eBPF instruction, shared by every consumer (interpreter, assembler,
 * disassembler, later the JIT and the verifier). The raw fields are kept verbatim; the derived fields
 * (`kind`, `op`, `is64`, …) spare consumers from re-deriving the encoding.
 */

export type AluOp =
  | 'add'
  | 'sub'
  | 'mul'
  | 'div'
  | 'sdiv'
  | 'or'
  | 'and'
  | 'lsh'
  | 'rsh'
  | 'neg'
  | 'mod'
  | 'smod'
  | 'xor'
  | 'mov'
  | 'movsx'
  | 'arsh'
  | 'le'
  | 'be'
  | 'bswap';

export type JumpOp =
  | 'ja'
  | 'jeq'
  | 'jgt'
  | 'jge'
  | 'jset'
  | 'jne'
  | 'jsgt'
  | 'jsge'
  | 'jlt'
  | 'jle'
  | 'jslt'
  | 'jsle'
  | 'may_goto';

export type CallOp = 'helper' | 'local' | 'kfunc' | 'callx';

export type AtomicOp = 'add' | 'or' | 'and' | 'xor' | 'xchg' | 'cmpxchg';

export type LddwSource =
  | 'imm64'
  | 'map_fd'
  | 'map_value'
  | 'var_addr'
  | 'code_addr'
  | 'map_idx'
  | 'map_idx_value';

/** The raw fields every kind has. */
export interface InsnBase {
  /** Slot index of the instruction (lddw takes two slots). */
  readonly pc: number;
  readonly opcode: number;
  readonly dst: number;
  readonly src: number;
  /** Signed 16-bit offset field. */
  readonly off: number;
  /** Signed 32-bit immediate. */
  readonly imm: number;
  /** 1, or 2 for lddw. */
  readonly slots: 1 | 2;
}

/** ALU/ALU64 including neg, movsx and byte swaps. `width` is 8/16/32 for movsx, 16/32/64 for swaps. */
export interface AluInsn extends InsnBase {
  readonly kind: 'alu';
  readonly op: AluOp;
  readonly is64: boolean;
  readonly useReg: boolean;
  readonly width: number;
}

/**
 * JMP/JMP32 conditional and unconditional jumps; `target` is the absolute destination pc. `may_goto`
 * (JMP|JCOND) falls through while its frame's hidden loop counter lasts and jumps once it is spent.
 */
export interface JumpInsn extends InsnBase {
  readonly kind: 'jump';
  readonly op: JumpOp;
  readonly is64: boolean;
  readonly useReg: boolean;
  readonly target: number;
}

/** Helper call (imm = id), local call (target = pc), kfunc (imm = BTF id) or callx (dst = register). */
export interface CallInsn extends InsnBase {
  readonly kind: 'call';
  readonly op: CallOp;
  readonly target: number;
}

export interface ExitInsn extends InsnBase {
  readonly kind: 'exit';
}

/** 64-bit immediate load; `imm2` is the second slot's imm (high word for imm64). */
export interface LddwInsn extends InsnBase {
  readonly kind: 'lddw';
  readonly source: LddwSource;
  readonly imm2: number;
}

/** Legacy packet loads LD_ABS / LD_IND. */
export interface PacketLoadInsn extends InsnBase {
  readonly kind: 'packet_load';
  readonly indirect: boolean;
  readonly size: 1 | 2 | 4;
}

/** LDX (zero- or sign-extending) load: dst = *(size *)(src + off). */
export interface LoadInsn extends InsnBase {
  readonly kind: 'load';
  readonly size: 1 | 2 | 4 | 8;
  readonly signExtend: boolean;
}

/** ST (imm) or STX (register) store: *(size *)(dst + off) = imm | src. */
export interface StoreInsn extends InsnBase {
  readonly kind: 'store';
  readonly size: 1 | 2 | 4 | 8;
  readonly useReg: boolean;
}

/** Atomic read-modify-write on *(size *)(dst + off). */
export interface AtomicInsn extends InsnBase {
  readonly kind: 'atomic';
  readonly op: AtomicOp;
  readonly size: 4 | 8;
  readonly fetch: boolean;
}

export type Insn =
  | AluInsn
  | JumpInsn
  | CallInsn
  | ExitInsn
  | LddwInsn
  | PacketLoadInsn
  | LoadInsn
  | StoreInsn
  | AtomicInsn;

/** A decoded program: instructions in order plus the map from slot index to instruction. */
export interface Program {
  readonly insns: readonly Insn[];
  /** Number of 8-byte slots. */
  readonly slotCount: number;
  /** `insnAt[pc]` is the index into `insns` of the instruction starting at slot `pc`, or -1 (lddw tail). */
  readonly insnAt: Int32Array;
  /** Start pcs of the subprograms, ascending: 0 and every local call or code-address target. */
  readonly subprograms: readonly number[];
  /** The raw bytes the program was decoded from. */
  readonly bytes: Uint8Array;
  /** The same instructions as columns, for passes over every instruction of a big program. */
  readonly columns: ProgramColumns;
}

/**
 * The decoded instructions as typed arrays indexed like `Program.insns`: 14 bytes per instruction
 * instead of a ~176-byte object, so a pass over a million instructions stays in the caches (the
 * JIT's analysis reads these; code generation reads the objects). Made by the decoder with the
 * objects, and kept equal to them by whoever rewrites a program's immediates.
 */
export interface ProgramColumns {
  /** The instruction's form (forms.ts `FORMS`): kind, op and flags. */
  readonly form: Uint8Array;
  /** Its pc (`Insn.pc`). */
  readonly pc: Int32Array;
  /** `dst | src << 4`, as encoded. */
  readonly regs: Uint8Array;
  /** Its imm (`Insn.imm`; the first slot's for lddw). */
  readonly imm: Int32Array;
  /** The target pc of a jump or a local call (`Insn.target`), -1 for every other instruction. */
  readonly target: Int32Array;
}

/** The instruction that starts at slot `pc`, or undefined for the second slot of an lddw or out of range. */
export function insnAtPc(program: Program, pc: number): Insn | undefined {
  const i = pc >= 0 && pc < program.slotCount ? program.insnAt[pc] : -1;
  return i >= 0 ? program.insns[i] : undefined;
}
