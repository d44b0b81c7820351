/**
 * Gas: a deterministic cost per executed instruction, the same on every engine. The default charges 1
 * per instruction (lddw, two slots, counts once); a table can price instruction classes differently.
 * Helpers add their own cost through `HelperContext.consumeGas`.
 */
import { UsageError } from '../errors.js';
import type { Insn } from '../isa/instruction.js';

/** Instruction classes a cost table can price. */
export type GasClass =
  | 'alu'
  | 'mul'
  | 'div'
  | 'jump'
  | 'call'
  | 'exit'
  | 'lddw'
  | 'load'
  | 'store'
  | 'atomic'
  | 'packet_load';

/** Cost per class; classes not listed cost `default` (1 when omitted). */
export type GasCostTable = Partial<Record<GasClass | 'default', number>>;

export function gasClassOf(insn: Insn): GasClass {
  switch (insn.kind) {
    case 'alu':
      return insn.op === 'mul'
        ? 'mul'
        : insn.op === 'div' || insn.op === 'sdiv' || insn.op === 'mod' || insn.op === 'smod'
          ? 'div'
          : 'alu';
    case 'jump':
      return 'jump';
    case 'call':
      return 'call';
    case 'exit':
      return 'exit';
    case 'lddw':
      return 'lddw';
    case 'load':
      return 'load';
    case 'store':
      return 'store';
    case 'atomic':
      return 'atomic';
    case 'packet_load':
      return 'packet_load';
  }
}

/** Validates a table once (non-negative safe integers) and returns a pricing function. */
export function gasPricer(table: GasCostTable = {}): (insn: Insn) => number {
  for (const [k, v] of Object.entries(table)) {
    if (!Number.isSafeInteger(v) || (v as number) < 0) {
      throw new UsageError(`gas cost of "${k}" must be a non-negative integer, not ${v}`);
    }
  }
  const fallback = table.default ?? 1;
  return (insn) => table[gasClassOf(insn)] ?? fallback;
}
