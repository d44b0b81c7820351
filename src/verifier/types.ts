/**
 * What the verifier knows about a register or a spilled stack slot. Pointers carry a constant offset
 * (`off`) plus a variable part (`var`, a scalar: constant 0 unless a non-constant was added), and where
 * the kernel tracks it, an `id` shared by copies (null checks and packet bounds refine every copy).
 * Objects are immutable: states copy arrays of them, never the objects.
 */
import { isConst, SCALAR_UNKNOWN, type Scalar, scalarConst, scalarToString } from './scalar.js';

/** Where a value came from, for explanations ("from bpf_map_lookup_elem at prog.c:14"). */
export interface Origin {
  readonly pc: number;
  readonly what: string;
}

export interface NotInit {
  readonly kind: 'not_init';
}
export interface ScalarReg {
  readonly kind: 'scalar';
  readonly value: Scalar;
  /** Copies of one value share an id, so a comparison of one refines all (0: none). */
  readonly id: number;
}
export interface CtxPtr {
  readonly kind: 'ctx';
  readonly off: number;
  readonly var: Scalar;
}
export interface StackPtr {
  readonly kind: 'stack';
  /** Index of the frame whose stack this points into. */
  readonly frame: number;
  readonly off: number;
  readonly var: Scalar;
}
export interface MapPtr {
  readonly kind: 'map_ptr';
  readonly map: number;
}
export interface MapValuePtr {
  readonly kind: 'map_value';
  readonly map: number;
  readonly off: number;
  readonly var: Scalar;
  readonly nullable: boolean;
  readonly id: number;
  readonly origin: Origin;
}
export interface PacketPtr {
  readonly kind: 'pkt' | 'pkt_meta';
  readonly off: number;
  readonly var: Scalar;
  readonly id: number;
  /** Bytes from the pointer's base (off 0, same var) known to be inside the packet. */
  readonly range: number;
  readonly origin: Origin;
}
export interface PacketEnd {
  readonly kind: 'pkt_end';
}
/**
 * Memory a helper handed out: a ring buffer reservation (a reference until submitted or discarded), or
 * (`ref` 0) a global function's pointer argument: memory of its BTF pointee size.
 */
export interface MemPtr {
  readonly kind: 'mem';
  readonly size: number;
  readonly off: number;
  readonly var: Scalar;
  readonly nullable: boolean;
  readonly id: number;
  /** Reference id (0: not a reference). */
  readonly ref: number;
  readonly origin: Origin;
}
export interface FuncPtr {
  readonly kind: 'func';
  readonly target: number;
}

export type RegState =
  | NotInit
  | ScalarReg
  | CtxPtr
  | StackPtr
  | MapPtr
  | MapValuePtr
  | PacketPtr
  | PacketEnd
  | MemPtr
  | FuncPtr;

/** Pointers that can be moved by adding a scalar. */
export type OffsetPtr = CtxPtr | StackPtr | MapValuePtr | PacketPtr | MemPtr;

export const NOT_INIT: NotInit = { kind: 'not_init' };
export const UNKNOWN: ScalarReg = { kind: 'scalar', value: SCALAR_UNKNOWN, id: 0 };
export const ZERO = scalar(scalarConst(0n));

export function scalar(value: Scalar, id = 0): ScalarReg {
  return { kind: 'scalar', value, id };
}

export function isOffsetPtr(r: RegState): r is OffsetPtr {
  return (
    r.kind === 'ctx' ||
    r.kind === 'stack' ||
    r.kind === 'map_value' ||
    r.kind === 'pkt' ||
    r.kind === 'pkt_meta' ||
    r.kind === 'mem'
  );
}

export function isPointer(r: RegState): boolean {
  return r.kind !== 'scalar' && r.kind !== 'not_init';
}

export function isNullable(r: RegState): boolean {
  return (r.kind === 'map_value' || r.kind === 'mem') && r.nullable;
}

/** The id a null check refines through (0: none). */
export function regId(r: RegState): number {
  return r.kind === 'map_value' ||
    r.kind === 'mem' ||
    r.kind === 'pkt' ||
    r.kind === 'pkt_meta' ||
    r.kind === 'scalar'
    ? r.id
    : 0;
}

/** Kernel-style type name: `map_value_or_null`, `pkt`, `scalar`, … */
export function typeName(r: RegState): string {
  switch (r.kind) {
    case 'map_value':
      return r.nullable ? 'map_value_or_null' : 'map_value';
    case 'mem':
      return `${r.ref === 0 ? '' : 'ringbuf_'}${r.nullable ? 'mem_or_null' : 'mem'}`;
    case 'map_ptr':
      return 'map_ptr';
    case 'func':
      return 'func';
    default:
      return r.kind;
  }
}

function offText(off: number, v: Scalar): string {
  const base = off === 0 ? '' : off > 0 ? `+${off}` : `${off}`;
  if (isConst(v) && v.umin === 0n) return base;
  return `${base}+var${scalarToString(v)}`;
}

/** A short description without the origin: `pkt+14 (range 0)`, `scalar [0, 255]`, `fp-8`. */
export function describe(r: RegState, mapName: (i: number) => string = (i) => `#${i}`): string {
  switch (r.kind) {
    case 'not_init':
      return 'uninitialized';
    case 'scalar':
      return `scalar ${scalarToString(r.value)}`;
    case 'ctx':
      return `ctx${offText(r.off, r.var)}`;
    case 'stack':
      return `fp${r.off === 0 ? '' : r.off}${offText(0, r.var)}${r.frame > 0 ? ` (frame ${r.frame})` : ''}`;
    case 'map_ptr':
      return `map_ptr(${mapName(r.map)})`;
    case 'map_value':
      return `${typeName(r)}(${mapName(r.map)})${offText(r.off, r.var)}`;
    case 'pkt':
    case 'pkt_meta':
      return `${r.kind}${offText(r.off, r.var)} (${r.range} bytes checked)`;
    case 'pkt_end':
      return 'pkt_end';
    case 'mem':
      return `${typeName(r)}(${r.size} bytes)${offText(r.off, r.var)}`;
    case 'func':
      return `func@${r.target}`;
  }
}
