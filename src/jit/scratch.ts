/**
 * Work memory of the compiler, reused from one compilation to the next. The analysis and the code
 * generator need work arrays of a few words per instruction, and the module is written into a byte
 * buffer; allocating them afresh for every program costs more than filling them at small sizes, and
 * at 1M instructions (tens of MB) page faults (see `workBuffer` for garbage collections). Up to
 * `KEEP_BYTES` a pool's buffer stays for the next compilation; a larger one is held through a
 * WeakRef, so the next garbage collection of an idle host takes it back.
 *
 * A borrowed buffer leaves its pool until it is released: a nested compilation (a host callback
 * compiling another program while one is being compiled) gets fresh memory instead, and a buffer
 * that is never released only costs the next borrower an allocation.
 */

/** Largest buffer a pool keeps for good: 4 MB, enough for programs of about 160k instructions. */
const KEEP_BYTES = 4 << 20;

/**
 * Memory that never leaves the compiler is a SharedArrayBuffer where there is one (browsers without
 * cross-origin isolation have none). V8 counts an ArrayBuffer's bytes as external memory of the
 * isolate, and 64 MB of it since the last full collection starts one: the first compile of a
 * 10^6-instruction program grows the pools by ~90 MB, so V8 would mark the whole heap (the decoded
 * program's ~190 MB) during that compile, which then pays the marking write barrier on its pointer
 * stores while the concurrent marker takes the second core. Shared memory is not counted per
 * isolate, and typed arrays over it have the same hidden classes. The module buffer stays an
 * ArrayBuffer (`plainBuffer`): WebAssembly.Module takes no shared memory by the JS API's rules.
 */
export const workBuffer: (bytes: number) => ArrayBufferLike =
  typeof SharedArrayBuffer === 'function'
    ? (bytes) => new SharedArrayBuffer(bytes)
    : (bytes) => new ArrayBuffer(bytes);

/** Memory whose bytes leave the compiler (see workBuffer). */
export const plainBuffer = (bytes: number): ArrayBuffer => new ArrayBuffer(bytes);

/** One reusable buffer, made by `allocate`. */
export class WorkPool<B extends ArrayBufferLike> {
  private kept: B | undefined;
  private weak: WeakRef<B> | undefined;

  constructor(private readonly allocate: (bytes: number) => B) {}

  /** A buffer of at least `bytes` bytes with unspecified contents; give it back with `release`. */
  borrow(bytes: number): B {
    const cached = this.kept ?? this.weak?.deref();
    this.kept = undefined;
    this.weak = undefined;
    if (cached !== undefined && cached.byteLength >= bytes) return cached;
    // A quarter more than asked: a slightly larger next program reuses the buffer instead of
    // faulting in fresh pages and leaving the old buffer to a GC (pages never touched cost nothing).
    return this.allocate(bytes + (bytes >>> 2));
  }

  /** Returns a buffer to the pool, which keeps the larger of it and the one it holds. */
  release(buffer: B): void {
    const held = this.kept ?? this.weak?.deref();
    if (held !== undefined && held.byteLength >= buffer.byteLength) return;
    if (buffer.byteLength <= KEEP_BYTES) {
      this.kept = buffer;
      this.weak = undefined;
    } else {
      this.kept = undefined;
      this.weak = new WeakRef(buffer);
    }
  }
}

/** The analysis' and then the code generator's int32 work arrays (one at a time). */
const work = new WorkPool(workBuffer);

/** An Int32Array of `length` elements with unspecified contents; give it back with `releaseWork`. */
export function borrowWork(length: number): Int32Array {
  return new Int32Array(work.borrow(4 * length), 0, length);
}

/** Returns memory from `borrowWork`. */
export function releaseWork(array: Int32Array): void {
  work.release(array.buffer);
}
