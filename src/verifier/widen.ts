/**
 * Widening at a may_goto: when a loop bounded by may_goto comes back to it with a state the previous
 * iteration's does not include, the new state is replaced by one that includes both, with every
 * growing scalar bound pushed to its extreme. The result includes `cur` (so exploring it covers every
 * execution `cur` stands for), and each widening moves some bound or byte towards its top, so the
 * iterations reach a state the previous one includes after a few rounds and the path is pruned there.
 * Pointers that differ are left as they are (like the kernel, which widens scalars only).
 */
import { scalarEquals, scalarWiden } from './scalar.js';
import { EMPTY_SLOT, type Slot, type State } from './state.js';
import { NOT_INIT, type RegState, scalar } from './types.js';

function widenReg(old: RegState, cur: RegState): RegState {
  if (old === cur) return cur;
  if (old.kind === 'not_init' || cur.kind === 'not_init') return NOT_INIT;
  if (old.kind !== 'scalar' || cur.kind !== 'scalar') return cur;
  if (old.id === cur.id && scalarEquals(old.value, cur.value)) return cur;
  const value = scalarWiden(old.value, cur.value);
  // A changed value may no longer equal the registers it was linked with.
  return scalar(value, value === cur.value ? cur.id : 0);
}

function widenSlot(old: Slot | undefined, cur: Slot | undefined): Slot | undefined {
  if (old === cur) return cur;
  const o = old ?? EMPTY_SLOT;
  const c = cur ?? EMPTY_SLOT;
  if (o.spill !== undefined && c.spill !== undefined && o.bytes === c.bytes) {
    const spill = widenReg(o.spill, c.spill);
    return spill === c.spill ? cur : spill.kind === 'not_init' ? undefined : { bytes: c.bytes, spill };
  }
  if (o.bytes === c.bytes && o.spill === c.spill) return cur;
  // Byte by byte: never written on either side stays unreadable, anything else is unknown data.
  let bytes = '';
  for (let j = 0; j < 8; j++) {
    const ob = o.bytes[j];
    const cb = c.bytes[j];
    bytes += ob === 'i' || cb === 'i' ? 'i' : ob === cb && cb !== 's' ? cb : 'm';
  }
  return bytes === EMPTY_SLOT.bytes ? undefined : { bytes };
}

/** Widens `cur` in place against `old`, a state of the same frames at the same may_goto. */
export function widenState(old: State, cur: State): void {
  for (let f = 0; f < cur.frames.length; f++) {
    const of = old.frames[f];
    const cf = cur.frames[f];
    for (let r = 0; r < cf.regs.length; r++) cf.regs[r] = widenReg(of.regs[r], cf.regs[r]);
    for (let i = 0; i < cf.stack.length; i++) cf.stack[i] = widenSlot(of.stack[i], cf.stack[i]);
  }
}
