/**
 * Work memory of the compiler, reused from one compilation to the next. The analysis and the code
 * generator need int32 work arrays of a few words per instruction; allocating them afresh for every
 * program costs more than filling them at small sizes, and at 1M instructions (tens of MB) page
 * faults and full garbage collections on a heap that holds the decoded program. Up to
 * `KEEP_BYTES` the buffer stays for the next compilation; a larger one is held through a WeakRef, so
 * an idle host gives it back to the garbage collector.
 *
 * One borrower at a time: a nested compilation (a host callback compiling another program while one
 * is being compiled) gets fresh memory instead.
 */

/** Largest work buffer kept for good: 4 MB, enough for programs of about 160k instructions. */
const KEEP_BYTES = 4 << 20;

let kept: Int32Array | undefined;
let weak: WeakRef<Int32Array> | undefined;
let lent = false;

/** An Int32Array of `length` elements with unspecified contents; give it back with `releaseWork`. */
export function borrowWork(length: number): Int32Array {
  if (lent) return new Int32Array(length);
  lent = true;
  const cached = kept ?? weak?.deref();
  if (cached !== undefined && cached.length >= length) return cached.subarray(0, length);
  const fresh = new Int32Array(length);
  if (length * 4 <= KEEP_BYTES) {
    kept = fresh;
    weak = undefined;
  } else {
    kept = undefined;
    weak = new WeakRef(fresh);
  }
  return fresh;
}

/** Returns memory from `borrowWork` (a no-op for memory that was not pooled). */
export function releaseWork(work: Int32Array): void {
  if (work.buffer === (kept ?? weak?.deref())?.buffer) lent = false;
}
