/**
 * Byte layouts of context structs. Every guest address is below 4 GiB, so the context is laid out
 * exactly as the kernel UAPI struct (pointer fields of __sk_buff and xdp_md hold real guest addresses)
 * and programs need no context-access rewriting.
 */

/** A named byte range of a struct. Arrays are one range (`cb` covers cb[0..4]). */
export interface FieldRange {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
}

export interface StructLayout {
  /** C name, e.g. `struct __sk_buff`. */
  readonly name: string;
  readonly size: number;
  readonly fields: readonly FieldRange[];
}

/**
 * What a program type may do with its context, as the kernel's `*_is_valid_access` decides it:
 * byte ranges of loads and of stores. The memory keeps the whole struct read-write; a verifier checks
 * accesses against these lists.
 */
export interface ContextAccess {
  readonly layout: StructLayout;
  readonly readable: readonly FieldRange[];
  readonly writable: readonly FieldRange[];
}

/** `[name, size]`, `[name, elementSize, count]`; `null` names padding. Natural alignment, like C. */
export type FieldSpec = readonly [name: string | null, size: number, count?: number];

/** Lays fields out as a C compiler does for naturally aligned scalar members. */
export function defineStruct(name: string, specs: readonly FieldSpec[]): StructLayout {
  const fields: FieldRange[] = [];
  let offset = 0;
  let maxAlign = 1;
  for (const [field, size, count = 1] of specs) {
    offset = alignUp(offset, size);
    maxAlign = Math.max(maxAlign, size);
    if (field !== null) fields.push({ name: field, offset, size: size * count });
    offset += size * count;
  }
  return { name, size: alignUp(offset, maxAlign), fields: Object.freeze(fields) };
}

export function alignUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}

export function field(layout: StructLayout, name: string): FieldRange {
  const f = layout.fields.find((x) => x.name === name);
  // Only reachable through a typo in this module's own tables.
  if (f === undefined) throw new Error(`${layout.name} has no field ${name}`);
  return f;
}

/** The fields named, in layout order (for access lists). */
export function fieldsNamed(layout: StructLayout, names: readonly string[]): FieldRange[] {
  return names.map((n) => field(layout, n));
}

/** Every field except those named. */
export function fieldsExcept(layout: StructLayout, names: readonly string[]): FieldRange[] {
  return layout.fields.filter((f) => !names.includes(f.name));
}

/** True when [offset, offset + size) lies inside one of `ranges`. */
export function rangeAllows(ranges: readonly FieldRange[], offset: number, size: number): boolean {
  return ranges.some((r) => offset >= r.offset && offset + size <= r.offset + r.size);
}

/** Writes an integer field (or element `index` of an array field) little-endian. */
export function writeField(
  bytes: Uint8Array,
  layout: StructLayout,
  name: string,
  value: bigint | number,
  index = 0,
  elementSize = 0,
): void {
  const f = field(layout, name);
  const size = elementSize || f.size;
  writeInt(bytes, f.offset + index * size, size, value);
}

export function readField(bytes: Uint8Array, layout: StructLayout, name: string): bigint {
  const f = field(layout, name);
  return readInt(bytes, f.offset, f.size);
}

/** Little-endian store of the low `size` bytes of `value` (two's complement). */
export function writeInt(bytes: Uint8Array, offset: number, size: number, value: bigint | number): void {
  let v = BigInt.asUintN(size * 8, BigInt(value));
  for (let i = 0; i < size; i++) {
    bytes[offset + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

export function readInt(bytes: Uint8Array, offset: number, size: number): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[offset + i]);
  return v;
}
