/**
 * Work memory of the compiler, reused from one compilation to the next. At 1M instructions the
 * analysis and the code generator need tens of MB of temporary int32 arrays; allocating them afresh
 * for every program costs page faults and, on a heap that holds a large decoded program, full
 * garbage collections that take longer than the compilation itself. The buffer is held through a
 * WeakRef, so an idle host gives it back to the garbage collector.
 *
 * One borrower at a time: a nested compilation (a host callback compiling another program while one
 * is being compiled) gets fresh memory instead.
 */

let pool: WeakRef<Int32Array> | undefined;
let lent = false;

/** An Int32Array of `length` elements with unspecified contents; give it back with `releaseWork`. */
export function borrowWork(length: number): Int32Array {
  if (lent) return new Int32Array(length);
  lent = true;
  const cached = pool?.deref();
  if (cached !== undefined && cached.length >= length) return cached.subarray(0, length);
  const fresh = new Int32Array(length);
  pool = new WeakRef(fresh);
  return fresh;
}

/** Returns memory from `borrowWork` (a no-op for memory that was not pooled). */
export function releaseWork(work: Int32Array): void {
  if (work.buffer === pool?.deref()?.buffer) lent = false;
}
