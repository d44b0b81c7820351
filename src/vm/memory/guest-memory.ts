/**
 * The one memory model: a `WebAssembly.Memory` holding a region table (control block) and the bytes of
 * every mapped region. Interpreter, helpers, the host API and later the JIT all go through the table
 * described in layout.ts, so they agree on every address and every permission.
 */
import { type AccessKind, MemoryFault, UsageError } from '../../errors.js';
import {
  CONTROL_BLOCK_SIZE,
  DEFAULT_FRAME_SIZE,
  DEFAULT_MAX_FRAMES,
  HOST_ALIGN,
  MAX_REGION_SIZE,
  PERM_READ,
  PERM_WRITE,
  type Permissions,
  permString,
  SLOT_COUNT,
  SLOT_SHIFT,
  Slot,
  slotBase,
  TABLE_ABS_START,
  TABLE_HOST_BASE,
  TABLE_LEN_READ,
  TABLE_LEN_WRITE,
  TABLE_SHIFT,
  TABLE_STRIDE,
  WASM_PAGE,
  writeTableEntry,
} from './layout.js';

/** Row layout of `GuestMemory.stackWindows`: region-table words, then the frame pointer. */
export const STACK_WINDOW_FP = TABLE_STRIDE;
export const STACK_WINDOW_STRIDE = TABLE_STRIDE + 1;

export interface Region {
  readonly name: string;
  readonly slot: number;
  /** Guest address of the first byte. */
  readonly guestBase: number;
  readonly size: number;
  readonly perms: Permissions;
  /** Offset of the first byte in the linear memory. */
  readonly hostBase: number;
}

export interface GuestMemoryOptions {
  /** Upper bound of the linear memory in bytes (default 1 GiB). */
  maxBytes?: number;
}

export class GuestMemory {
  readonly wasm: WebAssembly.Memory;
  /** Views over `wasm.buffer`; refreshed when the memory grows. */
  u8!: Uint8Array;
  view!: DataView;
  /** Int32 view of the whole linear memory (word `i` at byte `4·i`); refreshed with the others. */
  i32!: Int32Array;
  /** Region table: TABLE_STRIDE Int32 words per slot, inside the control block. */
  table!: Int32Array;
  private readonly regions: (Region | undefined)[] = new Array(SLOT_COUNT).fill(undefined);
  /** Host space an unmapped region left behind, per slot, reused by the slot's next mapping. */
  private readonly spare: ({ hostBase: number; capacity: number } | undefined)[] = new Array(SLOT_COUNT).fill(
    undefined,
  );
  private hostTop = CONTROL_BLOCK_SIZE;
  private readonly maxBytes: number;
  /** Stack geometry, set by mapStack. */
  private frameSize = 0;
  private maxFrames = 0;
  /**
   * Precomputed stack window per call depth, STACK_WINDOW_STRIDE words each: the region-table entry
   * of the stack slot, then the frame pointer (r10) of that depth. Calls copy one row.
   */
  stackWindows = new Int32Array(0);

  constructor(options: GuestMemoryOptions = {}) {
    this.maxBytes = options.maxBytes ?? 1 << 30;
    this.wasm = new WebAssembly.Memory({ initial: 1, maximum: Math.ceil(this.maxBytes / WASM_PAGE) });
    this.refreshViews();
    // An all-zero entry would accept address 0 in the JIT's check: write every slot as empty.
    for (let slot = 0; slot < SLOT_COUNT; slot++) this.setEntry(slot, 0, 0, 0, 0);
  }

  private refreshViews(): void {
    const buffer = this.wasm.buffer;
    this.u8 = new Uint8Array(buffer);
    this.view = new DataView(buffer);
    this.i32 = new Int32Array(buffer);
    this.table = new Int32Array(buffer, 0, SLOT_COUNT * TABLE_STRIDE);
  }

  /** Reserves `size` bytes of linear memory (zeroed) and returns the host offset. */
  private allocateHost(size: number): number {
    const base = this.hostTop;
    const end = base + Math.ceil(Math.max(size, 1) / HOST_ALIGN) * HOST_ALIGN;
    if (end > this.maxBytes) {
      throw new UsageError(
        `guest memory limit of ${this.maxBytes} bytes exceeded while mapping ${size} bytes`,
        {},
        { hint: 'raise the memory limit (maxBytes) or map smaller regions' },
      );
    }
    const have = this.wasm.buffer.byteLength;
    if (end > have) {
      this.wasm.grow(Math.ceil((end - have) / WASM_PAGE));
      this.refreshViews();
    }
    this.hostTop = end;
    this.u8.fill(0, base, end);
    return base;
  }

  /** Bytes the linear memory may still grow by before reaching its limit. */
  get freeBytes(): number {
    return this.maxBytes - this.hostTop;
  }

  /**
   * Reserves `size` zeroed bytes of linear memory for the host's own use (e.g. a map's hash index
   * that compiled code probes in place) and returns their host offset, 4 KiB-aligned. The block
   * belongs to no region, and guest addresses only reach bytes through the region table, so no
   * guest access can ever read or write it. Counts against the memory limit like a region.
   */
  reserve(size: number): number {
    if (!Number.isInteger(size) || size < 0)
      throw new UsageError(`reserved block size ${size} is not a size`);
    return this.allocateHost(size);
  }

  /**
   * Maps a region into `slot` with the given permissions; `init` bytes are copied to its start.
   * Throws UsageError if the slot is taken or the size does not fit.
   */
  map(slot: number, name: string, size: number, perms: number, init?: Uint8Array): Region {
    if (!Number.isInteger(slot) || slot <= Slot.NULL || slot >= SLOT_COUNT) {
      throw new UsageError(`slot ${slot} cannot be mapped (valid: 1..${SLOT_COUNT - 1})`);
    }
    if (this.regions[slot] !== undefined) {
      throw new UsageError(`slot ${slot} already holds region "${this.regions[slot]?.name}"`);
    }
    if (perms !== 0 && perms !== PERM_READ && perms !== PERM_WRITE && perms !== (PERM_READ | PERM_WRITE)) {
      throw new UsageError(
        `region "${name}" permissions ${perms} are not a combination of PERM_READ and PERM_WRITE`,
      );
    }
    if (!Number.isInteger(size) || size < 0 || size > MAX_REGION_SIZE) {
      throw new UsageError(`region "${name}" size ${size} is outside 0..${MAX_REGION_SIZE}`);
    }
    const spare = this.spare[slot];
    let hostBase: number;
    if (spare !== undefined && size <= spare.capacity) {
      hostBase = spare.hostBase;
      this.u8.fill(0, hostBase, hostBase + spare.capacity);
    } else {
      hostBase = this.allocateHost(size);
      this.spare[slot] = { hostBase, capacity: size };
    }
    if (init) this.u8.set(init.subarray(0, size), hostBase);
    const region: Region = {
      name,
      slot,
      guestBase: slotBase(slot),
      size,
      perms: perms as Permissions,
      hostBase,
    };
    this.regions[slot] = region;
    this.setEntry(slot, 0, size, perms, hostBase);
    return region;
  }

  /**
   * Removes the region of `slot` (not the stack): its addresses fault from now on. The slot's host
   * space is kept for its next mapping, so a run loop that maps a fresh context per event (same size
   * or smaller) does not grow the linear memory.
   */
  unmap(slot: number): void {
    if (slot === Slot.STACK) throw new UsageError('the stack cannot be unmapped');
    if (!Number.isInteger(slot) || slot <= Slot.NULL || slot >= SLOT_COUNT) {
      throw new UsageError(`slot ${slot} cannot be unmapped (valid: 1..${SLOT_COUNT - 1})`);
    }
    if (this.regions[slot] === undefined) return;
    this.regions[slot] = undefined;
    this.setEntry(slot, 0, 0, 0, 0);
  }

  private setEntry(slot: number, start: number, len: number, perms: number, hostBase: number): void {
    const lenRead = perms & PERM_READ ? len : 0;
    const lenWrite = perms & PERM_WRITE ? len : 0;
    writeTableEntry(this.table, slot * TABLE_STRIDE, slot, start, lenRead, lenWrite, hostBase);
  }

  /** Maps the stack slot: `maxFrames` frames of `frameSize` bytes; depth 0 is the top frame. */
  mapStack(frameSize = DEFAULT_FRAME_SIZE, maxFrames = DEFAULT_MAX_FRAMES): Region {
    if (!Number.isInteger(frameSize) || frameSize < 8 || frameSize % 8 !== 0) {
      throw new UsageError(`stack frame size ${frameSize} must be a positive multiple of 8`);
    }
    if (!Number.isInteger(maxFrames) || maxFrames < 1 || maxFrames > 64) {
      throw new UsageError(`maximum call frames ${maxFrames} must be between 1 and 64`);
    }
    const region = this.map(Slot.STACK, 'stack', frameSize * maxFrames, PERM_READ | PERM_WRITE);
    this.frameSize = frameSize;
    this.maxFrames = maxFrames;
    this.stackWindows = new Int32Array(maxFrames * STACK_WINDOW_STRIDE);
    for (let depth = 0; depth < maxFrames; depth++) {
      // Depth d may use its own frame and every caller's frame: the top (d + 1) frames.
      const len = (depth + 1) * frameSize;
      const start = region.size - len;
      const w = depth * STACK_WINDOW_STRIDE;
      writeTableEntry(this.stackWindows, w, Slot.STACK, start, len, len, region.hostBase + start);
      this.stackWindows[w + STACK_WINDOW_FP] = region.guestBase + region.size - depth * frameSize;
    }
    this.setStackDepth(0);
    return region;
  }

  /** Zeroes every stack frame, so each run starts from the same state whatever ran before. */
  clearStack(): void {
    const stack = this.regions[Slot.STACK];
    if (stack) this.u8.fill(0, stack.hostBase, stack.hostBase + stack.size);
  }

  /** Guest address of the frame pointer (r10) at call depth `depth`. */
  frameTop(depth: number): number {
    if (depth < 0 || depth >= this.maxFrames) throw new UsageError(`no stack frame at depth ${depth}`);
    return this.stackWindows[depth * STACK_WINDOW_STRIDE + STACK_WINDOW_FP] >>> 0;
  }

  /**
   * Narrows the stack window to the frames of depth 0..`depth`: a frame may read its callers' frames
   * (through pointers passed down) but nothing below its own frame.
   */
  setStackDepth(depth: number): void {
    if (this.maxFrames === 0) return;
    const w = depth * STACK_WINDOW_STRIDE;
    this.table.set(this.stackWindows.subarray(w, w + TABLE_STRIDE), Slot.STACK * TABLE_STRIDE);
  }

  get stackFrameSize(): number {
    return this.frameSize;
  }
  get stackMaxFrames(): number {
    return this.maxFrames;
  }

  region(slot: number): Region | undefined {
    return this.regions[slot];
  }

  mappedRegions(): Region[] {
    return this.regions.filter((r): r is Region => r !== undefined);
  }

  /**
   * Translates a guest address for an access of `size` bytes, or returns -1. Same rule as the
   * interpreter's inline check (layout.ts), for callers off the hot path (helpers, host API).
   */
  translate(address: bigint | number, size: number, access: AccessKind): number {
    // Numbers take a BigInt-free path: helpers translate pointers on hot paths.
    let lo: number;
    if (typeof address === 'number') {
      if (!(address >= 0 && address <= 0xffffffff && Number.isInteger(address))) return -1;
      lo = address;
    } else {
      if (address < 0n || address > 0xffffffffn) return -1;
      lo = Number(address);
    }
    const t = (lo >>> SLOT_SHIFT) << TABLE_SHIFT;
    const o = (lo - this.table[t + TABLE_ABS_START]) | 0;
    const len = this.table[t + (access === 'read' ? TABLE_LEN_READ : TABLE_LEN_WRITE)];
    if (o < 0 || o + size > len) return -1;
    return this.table[t + TABLE_HOST_BASE] + o;
  }

  /** Host-side read of guest bytes (copies). Throws MemoryFault (pc -1) when out of bounds. */
  read(address: bigint | number, length: number): Uint8Array {
    const h = this.checked(address, length, 'read', -1);
    return this.u8.slice(h, h + length);
  }

  /** Host-side write of guest bytes, subject to the region's write permission. */
  write(address: bigint | number, bytes: Uint8Array): void {
    const h = this.checked(address, bytes.length, 'write', -1);
    this.u8.set(bytes, h);
  }

  readU64(address: bigint | number): bigint {
    return this.view.getBigUint64(this.checked(address, 8, 'read', -1), true);
  }

  writeU64(address: bigint | number, value: bigint): void {
    this.view.setBigUint64(this.checked(address, 8, 'write', -1), BigInt.asUintN(64, value), true);
  }

  /** Translates or throws the MemoryFault a guest would get for this access at `pc`. */
  checked(address: bigint | number, size: number, access: AccessKind, pc: number): number {
    const h = this.translate(address, size, access);
    if (h < 0) throw this.fault(BigInt.asUintN(64, BigInt(address)), size, access, pc);
    return h;
  }

  /** Builds the MemoryFault for a failed access: names the nearest region and why it failed. */
  fault(address: bigint, size: number, access: AccessKind, pc: number): MemoryFault {
    let nearest: Region | undefined;
    let best = -1n;
    for (const r of this.mappedRegions()) {
      const lo = BigInt(this.windowStart(r));
      const hi = BigInt(r.guestBase + r.size);
      const d = address < lo ? lo - address : address >= hi ? address - hi + 1n : 0n;
      if (best < 0n || d < best) {
        best = d;
        nearest = r;
      }
    }
    let reason = 'address is not mapped';
    let description = 'none (no region is mapped)';
    if (nearest) {
      const start = this.windowStart(nearest);
      const end = nearest.guestBase + nearest.size;
      description = `${nearest.name} [0x${start.toString(16)}, 0x${end.toString(16)}) ${permString(nearest.perms)}`;
      const inside = address >= BigInt(start) && address < BigInt(end);
      const need = access === 'read' ? PERM_READ : PERM_WRITE;
      if (inside && address + BigInt(size) > BigInt(end))
        reason = `access runs past the end of ${nearest.name}`;
      else if (inside && (nearest.perms & need) === 0)
        reason = `${nearest.name} is not ${access === 'read' ? 'readable' : 'writable'}`;
      else if (
        nearest.slot === Slot.STACK &&
        address < BigInt(start) &&
        address >= BigInt(nearest.guestBase)
      ) {
        reason = 'address is below the current stack frame (stack overflow)';
      } else if (address === 0n || (address < BigInt(1 << SLOT_SHIFT) && address >= 0n)) {
        reason = 'null pointer dereference';
      }
    }
    return new MemoryFault(address, size, access, description, pc, reason);
  }

  /** Lowest currently accessible guest address of a region (the stack's moves with depth). */
  private windowStart(r: Region): number {
    return this.table[r.slot * TABLE_STRIDE + TABLE_ABS_START] >>> 0;
  }
}
