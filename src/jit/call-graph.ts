/**
 * Closure over the local-call graph of a program's functions: what a function may do includes what
 * the functions it calls may do. Shared by the JIT's analyses of calls (call-registers.ts: registers
 * written; codegen's window-free functions; slot-prediction.ts: functions that reach host code).
 */

/**
 * mask[f] |= mask[g] & keep for every call f → g, to the fixed point: a worklist over callers, so
 * each function is revisited only when a callee's mask grew (linear in calls × mask bits).
 */
export function closeOver(
  mask: Uint16Array,
  callees: readonly (readonly number[])[],
  callers: readonly (readonly number[])[],
  keep: number,
): void {
  const stack: number[] = [];
  const queued = new Uint8Array(mask.length);
  for (let k = 0; k < mask.length; k++) {
    stack.push(k);
    queued[k] = 1;
  }
  while (stack.length > 0) {
    const f = stack.pop() as number;
    queued[f] = 0;
    let m = mask[f];
    for (const g of callees[f]) m |= mask[g] & keep;
    if (m === mask[f]) continue;
    mask[f] = m;
    for (const c of callers[f]) {
      if (queued[c] === 0) {
        queued[c] = 1;
        stack.push(c);
      }
    }
  }
}
