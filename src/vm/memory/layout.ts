/**
 * The guest address layout. Guest addresses are 64-bit; mapped memory lives in the low 4 GiB, split
 * into 16 slots of 256 MiB. Slot `k` starts at `k << 28` and holds at most one region, which starts at
 * the slot base (the stack is the exception: its lower bound moves with the call depth). Everything in a
 * slot past its region's end is unmapped, so every region is followed by a guard gap of at least
 * 256 MiB minus its size, and slot 0 (the first 256 MiB, including address 0) is never mapped.
 *
 * A check is therefore: high 32 bits zero; slot = addr >>> 28; o = (addr & 0x0fffffff) - regionStart;
 * unsigned o + size <= length-for-this-access-kind (0 when the permission is missing). One table load
 * per field, one subtraction, one unsigned compare — cheap in the interpreter and in the JIT's wasm.
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

/** Field indices of one slot's entry in the region table (Int32 words, 4 per slot). */
export const TABLE_START = 0;
export const TABLE_LEN_READ = 1;
export const TABLE_LEN_WRITE = 2;
export const TABLE_HOST_BASE = 3;
export const TABLE_STRIDE = 4;
