/** Binary searches over ascending number arrays (call sites, function starts). */

/** Index of the last value ≤ `x`, -1 when every value is greater. */
export function lastAtOrBefore(values: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = values.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid] <= x) lo = mid + 1;
    else hi = mid - 1;
  }
  return hi;
}

/** Index of `x` in `values`, -1 when it is not there. */
export function indexInSorted(values: ArrayLike<number>, x: number): number {
  const k = lastAtOrBefore(values, x);
  return k >= 0 && values[k] === x ? k : -1;
}
