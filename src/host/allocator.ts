/**
 * The heap's bump allocator, with the semantics of Solana's `sol_alloc_free_` syscall: allocations are
 * 8-byte aligned, never freed individually, and all released by `Instance.reset()`.
 */

/** Alignment of every allocation (Solana's BPF_ALIGN_OF_U128). */
export const HEAP_ALIGN = 8;

export class BumpAllocator {
  private used = 0;

  constructor(
    /** Guest address of the heap. */
    readonly base: number,
    /** Heap size in bytes (0: every allocation fails). */
    readonly size: number,
  ) {}

  /** Guest address of `bytes` fresh bytes, or 0 when the heap cannot hold them. */
  alloc(bytes: number | bigint): number {
    const start = Math.ceil(this.used / HEAP_ALIGN) * HEAP_ALIGN;
    if (BigInt(bytes) > BigInt(this.size - start)) return 0;
    this.used = start + Number(bytes);
    return this.base + start;
  }

  /** Bytes handed out so far, alignment padding included. */
  get allocated(): number {
    return this.used;
  }

  reset(): void {
    this.used = 0;
  }
}
