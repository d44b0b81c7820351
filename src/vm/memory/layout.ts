/**
 * The guest address layout. Guest addresses are 64-bit; mapped memory lives in the low 4 GiB, split
 * into 16 slots of 256 MiB. Slot `k` starts at `k << 28` and holds at most one region, which starts at
 * the slot base (the stack is the exception: its lower bound moves with the call depth). Everything in a
 * slot past its region's end is unmapped, so every region is followed by a guard gap of at least
 * 256 MiB minus its size, and slot 0 (the first 256 MiB, including address 0) is never mapped.
 *
 * A check is therefore: high 32 bits zero; slot = addr >>> 28; o = addr - windowStart (same slot, so
 * it fits 32 bits); unsigned o + size <= length-for-this-access-kind (0 when the permission is
 * missing). One table load per field, one subtraction, one unsigned compare — cheap in the
 * interpreter. The JIT uses derived fields of the same entry (the last address an access of each size
 * and kind may start at) instead: see TABLE_LAST_READ.
 */

export const SLOT_SHIFT = 28;
export const SLOT_SIZE = 1 << SLOT_SHIFT;
export const SLOT_MASK = SLOT_SIZE - 1;
export const SLOT_COUNT = 16;
/** Largest region that fits a slot while keeping at least one page of guard gap. */
export const MAX_REGION_SIZE = SLOT_SIZE - 4096;

/** Fixed slot assignment. The base address of a slot is `slot << 28`. */
export const Slot = {
  /** 0x0000_0000: never mapped, so null and small offsets from null fault. */
  NULL: 0,
  /** 0x1000_0000: read-only data (.rodata). */
  RODATA: 1,
  /** 0x2000_0000: read-write globals (.data, .bss). */
  DATA: 2,
  /** 0x3000_0000: heap for host-provided allocation. */
  HEAP: 3,
  /** 0x4000_0000: program input (`-- mem` of conformance tests, later the context struct). */
  INPUT: 4,
  /** 0x5000_0000: packet data of network program types. */
  PACKET: 5,
  /** 0x6000_0000: map values, so programs get real pointers into maps. */
  MAP_VALUES: 6,
  /** 0x7000_0000: call frames, growing down from the top. */
  STACK: 7,
  /** 0x8000_0000: code addresses (lddw src=4, callx targets); never readable or writable. */
  CODE: 8,
} as const;
export type SlotName = keyof typeof Slot;

export function slotBase(slot: number): number {
  return slot * SLOT_SIZE;
}

export const PERM_READ = 1;
export const PERM_WRITE = 2;
export type Permissions = 0 | 1 | 2 | 3;

export function permString(p: number): string {
  return `${p & PERM_READ ? 'r' : '-'}${p & PERM_WRITE ? 'w' : '-'}`;
}

/** Default stack: 512 bytes per frame (the kernel's MAX_BPF_STACK) and 8 frames (MAX_CALL_FRAMES). */
export const DEFAULT_FRAME_SIZE = 512;
export const DEFAULT_MAX_FRAMES = 8;

/**
 * Host-side placement: the first `CONTROL_BLOCK_SIZE` bytes of the linear memory hold the region table
 * (never mapped into guest space); regions follow, each aligned to `HOST_ALIGN`.
 */
export const CONTROL_BLOCK_SIZE = 4096;
export const HOST_ALIGN = 4096;
export const WASM_PAGE = 65536;

/**
 * Field indices of one slot's entry in the region table (Int32 words, TABLE_STRIDE per slot). The
 * first four describe the window; the rest are derived from them by `writeTableEntry` (the only
 * writer), so the JIT decides an access with two compares of the 64-bit address and no arithmetic.
 */
/**
 * Guest address of the window's first byte (slot base + start), an unsigned 32-bit value (stored as
 * int32); at least 1, so that no address passes a `last` of 0.
 */
export const TABLE_ABS_START = 0;
export const TABLE_LEN_READ = 1;
export const TABLE_LEN_WRITE = 2;
export const TABLE_HOST_BASE = 3;
/** hostBase − absStart (mod 2^32): the host offset of an accepted address is its low half + delta. */
export const TABLE_HOST_DELTA = 4;
/**
 * Per access size (index `sizeIndex(size)`), the highest guest address such an access may start at:
 * absStart + len − size, or 0 (below absStart) when the permission is missing or the window is shorter
 * than the access. An access is allowed exactly when absStart ≤ addr ≤ last as unsigned 64-bit values:
 * one pair of compares tests the high half, the window start, the window end and the permission. The
 * stack's end never moves, so a call changes none of these fields.
 */
export const TABLE_LAST_READ = 5;
export const TABLE_LAST_WRITE = 9;
export const TABLE_STRIDE = 16;
/** log2(TABLE_STRIDE): word index of a slot's entry = slot << TABLE_SHIFT. */
export const TABLE_SHIFT = 4;
/** The access sizes of the `last` fields, in index order. */
export const ACCESS_SIZES = [1, 2, 4, 8] as const;

/** Index of an access size (1, 2, 4, 8) among the `last` fields. */
export function sizeIndex(size: number): number {
  return 31 - Math.clz32(size);
}

/**
 * Writes one region-table entry (or a row with the same layout, e.g. a precomputed stack window) at
 * word `at`: the window [start, start + len) of `slot` (1..15), `len` per access kind (0 when the
 * permission is missing), mapped at host offset `hostBase`.
 */
export function writeTableEntry(
  table: Int32Array,
  at: number,
  slot: number,
  start: number,
  lenRead: number,
  lenWrite: number,
  hostBase: number,
): void {
  // Only slot 0 (never mapped) could start at 0.
  const absStart = Math.max(slotBase(slot) + start, 1);
  table[at + TABLE_ABS_START] = absStart | 0;
  table[at + TABLE_LEN_READ] = lenRead;
  table[at + TABLE_LEN_WRITE] = lenWrite;
  table[at + TABLE_HOST_BASE] = hostBase;
  table[at + TABLE_HOST_DELTA] = (hostBase - absStart) | 0;
  for (let k = 0; k < ACCESS_SIZES.length; k++) {
    const size = ACCESS_SIZES[k];
    table[at + TABLE_LAST_READ + k] = lenRead >= size ? (absStart + lenRead - size) | 0 : 0;
    table[at + TABLE_LAST_WRITE + k] = lenWrite >= size ? (absStart + lenWrite - size) | 0 : 0;
  }
}
