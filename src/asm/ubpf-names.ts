/**
 * Mnemonics of the uBPF / bpf_conformance syntax (FORMAT.md §4). The printer spells instructions with
 * the functions below and the parser's mnemonic table is generated from the same functions, so the two
 * directions cannot drift apart.
 */
import type { AluOp, AtomicOp, JumpOp } from '../isa/instruction.js';
import { ALU_OP_CODE, ATOMIC_OP_CODE, JUMP_OP_CODE } from '../isa/operations.js';
import type { MemSize } from './builders.js';

export const SIZE_SUFFIX: Record<MemSize, string> = { 1: 'b', 2: 'h', 4: 'w', 8: 'dw' };

/** Two-operand ALU operations (`add %r1, %r2` / `add %r1, 5`): all but neg, movsx and the swaps. */
export const BINARY_ALU_OPS: readonly AluOp[] = (Object.keys(ALU_OP_CODE) as AluOp[]).filter(
  (op) => !['neg', 'movsx', 'le', 'be', 'bswap'].includes(op),
);

export const CONDITIONAL_JUMP_OPS: readonly JumpOp[] = (Object.keys(JUMP_OP_CODE) as JumpOp[]).filter(
  (op) => op !== 'ja' && op !== 'may_goto',
);

export const ATOMIC_OPS: readonly AtomicOp[] = Object.keys(ATOMIC_OP_CODE) as AtomicOp[];

/** ALU64 and JMP take no suffix (canonical) or `64`; ALU and JMP32 take `32`. */
function widthSuffix(is64: boolean): string {
  return is64 ? '' : '32';
}

export function aluMnemonic(op: AluOp, is64: boolean): string {
  return `${op}${widthSuffix(is64)}`;
}

/** `movsx832`: source width then destination width. */
export function movsxMnemonic(width: number, is64: boolean): string {
  return `movsx${width}${is64 ? 64 : 32}`;
}

export function swapMnemonic(op: 'le' | 'be' | 'bswap', width: number): string {
  return `${op}${width}`;
}

export function jumpMnemonic(op: JumpOp, is64: boolean): string {
  return `${op}${widthSuffix(is64)}`;
}

export function loadMnemonic(size: MemSize, signExtend: boolean): string {
  return `ldx${signExtend ? 's' : ''}${SIZE_SUFFIX[size]}`;
}

export function storeMnemonic(size: MemSize, useReg: boolean): string {
  return `st${useReg ? 'x' : ''}${SIZE_SUFFIX[size]}`;
}

export function packetMnemonic(indirect: boolean, size: 1 | 2 | 4): string {
  return `ld${indirect ? 'ind' : 'abs'}${SIZE_SUFFIX[size]}`;
}

/** The word after `lock` (`add`, `add32`, `cmpxchg32`). */
export function atomicOpName(op: AtomicOp, size: 4 | 8): string {
  return `${op}${size === 4 ? '32' : ''}`;
}

/** What a mnemonic means; the parser's table maps every accepted spelling to one of these. */
export type UbpfMnemonic =
  | { readonly kind: 'alu'; readonly op: AluOp; readonly is64: boolean }
  | { readonly kind: 'neg'; readonly is64: boolean }
  | { readonly kind: 'movsx'; readonly width: number; readonly is64: boolean }
  | { readonly kind: 'swap'; readonly op: 'le' | 'be' | 'bswap'; readonly width: number }
  | { readonly kind: 'load'; readonly size: MemSize; readonly signExtend: boolean }
  | { readonly kind: 'store'; readonly size: MemSize; readonly useReg: boolean }
  | { readonly kind: 'packet'; readonly indirect: boolean; readonly size: 1 | 2 | 4 }
  | { readonly kind: 'lddw' }
  | { readonly kind: 'ja'; readonly long: boolean }
  | { readonly kind: 'may_goto' }
  | { readonly kind: 'jump'; readonly op: JumpOp; readonly is64: boolean }
  | { readonly kind: 'call' }
  | { readonly kind: 'exit' }
  | { readonly kind: 'lock' };

const SIZES: readonly MemSize[] = [1, 2, 4, 8];
const SWAP_WIDTHS = [16, 32, 64] as const;

/** Every mnemonic the parser accepts, including the aliases `add64`, `jeq64`, `swap16`. */
export function buildMnemonicTable(): ReadonlyMap<string, UbpfMnemonic> {
  const table = new Map<string, UbpfMnemonic>();
  for (const is64 of [true, false]) {
    for (const op of BINARY_ALU_OPS) table.set(aluMnemonic(op, is64), { kind: 'alu', op, is64 });
    table.set(aluMnemonic('neg', is64), { kind: 'neg', is64 });
    for (const op of CONDITIONAL_JUMP_OPS) table.set(jumpMnemonic(op, is64), { kind: 'jump', op, is64 });
  }
  // Explicit 64 suffix (FORMAT.md §4: "no suffix or 64").
  for (const op of BINARY_ALU_OPS) table.set(`${op}64`, { kind: 'alu', op, is64: true });
  table.set('neg64', { kind: 'neg', is64: true });
  for (const op of CONDITIONAL_JUMP_OPS) table.set(`${op}64`, { kind: 'jump', op, is64: true });
  for (const width of [8, 16]) {
    table.set(movsxMnemonic(width, false), { kind: 'movsx', width, is64: false });
    table.set(movsxMnemonic(width, true), { kind: 'movsx', width, is64: true });
  }
  table.set(movsxMnemonic(32, true), { kind: 'movsx', width: 32, is64: true });
  for (const width of SWAP_WIDTHS) {
    for (const op of ['le', 'be', 'bswap'] as const)
      table.set(swapMnemonic(op, width), { kind: 'swap', op, width });
    table.set(`swap${width}`, { kind: 'swap', op: 'bswap', width });
  }
  for (const size of SIZES) {
    table.set(loadMnemonic(size, false), { kind: 'load', size, signExtend: false });
    if (size !== 8) table.set(loadMnemonic(size, true), { kind: 'load', size, signExtend: true });
    table.set(storeMnemonic(size, false), { kind: 'store', size, useReg: false });
    table.set(storeMnemonic(size, true), { kind: 'store', size, useReg: true });
    if (size !== 8) {
      table.set(packetMnemonic(false, size), { kind: 'packet', indirect: false, size });
      table.set(packetMnemonic(true, size), { kind: 'packet', indirect: true, size });
    }
  }
  table.set('lddw', { kind: 'lddw' });
  table.set('ja', { kind: 'ja', long: false });
  table.set('ja32', { kind: 'ja', long: true });
  table.set('may_goto', { kind: 'may_goto' });
  table.set('call', { kind: 'call' });
  table.set('exit', { kind: 'exit' });
  table.set('lock', { kind: 'lock' });
  return table;
}
