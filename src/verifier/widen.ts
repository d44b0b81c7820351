/**
 * Widening at a may_goto: when a loop bounded by may_goto comes back to it with a state no earlier
 * iteration's includes, the new state is replaced by one that includes it. A scalar some earlier
 * iteration already had (a value that cycles, like an offset wrapping around) stays exact; any other
 * is joined with the previous iteration's with every growing bound pushed to its extreme — a stand-in
 * for the kernel, which widens the scalars it has not marked precise. The result includes `cur` (so
 * exploring it covers every execution `cur` stands for), and each widening moves some bound or byte
 * towards its top, so the iterations soon reach a state an earlier one includes and are pruned there.
 * Pointers that differ are left as they are (as in the kernel).
 */
import { scalarEquals, scalarIncludes, scalarWiden } from './scalar.js';
import { EMPTY_SLOT, type Slot, type State } from './state.js';
import { NOT_INIT, type RegState, scalar } from './types.js';

/** True when `cur` is a scalar value some earlier iteration already had (`at(k)`: its value there). */
function seen(count: number, at: (k: number) => RegState | undefined, cur: RegState): boolean {
  if (cur.kind !== 'scalar') return false;
  for (let k = 0; k < count; k++) {
    const e = at(k);
    if (e?.kind === 'scalar' && scalarIncludes(e.value, cur.value)) return true;
  }
  return false;
}

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

/**
 * Widens `cur` in place against `earlier`, the states of the previous iterations at the same may_goto
 * (same frames), newest first.
 */
export function widenState(earlier: readonly State[], cur: State): void {
  const old = earlier[0];
  const n = earlier.length;
  for (let f = 0; f < cur.frames.length; f++) {
    const of = old.frames[f];
    const cf = cur.frames[f];
    for (let r = 0; r < cf.regs.length; r++) {
      const c = cf.regs[r];
      if (c === of.regs[r] || seen(n, (k) => earlier[k].frames[f].regs[r], c)) continue;
      cf.regs[r] = widenReg(of.regs[r], c);
    }
    for (let i = 0; i < cf.stack.length; i++) {
      const c = cf.stack[i];
      if (c === of.stack[i]) continue;
      if (c?.spill !== undefined && seen(n, (k) => earlier[k].frames[f].stack[i]?.spill, c.spill)) continue;
      cf.stack[i] = widenSlot(of.stack[i], c);
    }
  }
}
