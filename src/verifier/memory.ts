/**
 * Memory accesses through pointers: loads, stores and the regions helpers read or write, checked per
 * pointer type (stack bounds and initialized bytes, context fields of the program type, map value size
 * and read-only maps, packet range established against data_end, ring buffer reservation size), plus
 * the stack's spill/fill tracking.
 */
import { BPF_F_RDONLY_PROG } from '../runtime/maps/constants.js';
import { type Env, mapName, noteStackDepth, originText, reject } from './env.js';
import {
  isConst,
  type Scalar,
  scalarConst,
  scalarOfSize,
  scalarSignExtend,
  scalarToString,
  truncate,
} from './scalar.js';
import { type ByteKind, type Frame, type Slot, STACK_SIZE, type State } from './state.js';
import {
  describe,
  isNullable,
  type MapValuePtr,
  type MemPtr,
  type PacketPtr,
  type RegState,
  scalar,
  UNKNOWN,
} from './types.js';

/** BPF_MAX_VAR_OFF / MAX_PACKET_OFF: bounds beyond which an offset counts as unbounded. */
const MAX_VAR_OFF = 1 << 29;
const MAX_PACKET_OFF = 0xffff;

export interface AccessOptions {
  /** Reading never-written stack bytes is allowed (the kernel's privileged mode). */
  readonly allowUninitStack: boolean;
}

const s = (v: bigint): number => Number(v);

function regText(env: Env, regno: number, reg: RegState): string {
  const base = `r${regno} is ${describe(reg, (i) => mapName(env, i))}`;
  if (
    (reg.kind === 'map_value' || reg.kind === 'mem' || reg.kind === 'pkt' || reg.kind === 'pkt_meta') &&
    reg.origin
  ) {
    return `${base}, from ${originText(env, reg.origin)}`;
  }
  return base;
}

/** Rejects dereferences of values that are not pointers to memory. */
function requireMemPointer(env: Env, regno: number, reg: RegState, access: string): void {
  if (reg.kind === 'not_init') {
    reject('UNINIT_READ', `r${regno} is used as a pointer before anything was stored in it`, {
      hint: `assign r${regno} before the ${access}`,
    });
  }
  if (isNullable(reg)) {
    const arg = reg.kind === 'mem' && reg.ref === 0;
    const what =
      reg.kind === 'map_value' ? 'a map lookup result' : arg ? reg.origin.what : 'a ring buffer reservation';
    reject('NULL_DEREF', `${access} through r${regno}, which may be NULL (${what} is not checked)`, {
      values: [regText(env, regno, reg)],
      hint: arg
        ? `a global function is verified once for all callers: its pointer argument may be NULL; check it (\`if (!p) return 0;\`), or make the function static, or tag the argument __arg_nonnull`
        : `check the pointer first: \`if (!ptr) return 0;\` before the ${access}`,
    });
  }
  if (reg.kind === 'scalar') {
    const zero = isConst(reg.value) && reg.value.umin === 0n;
    reject(
      zero ? 'NULL_DEREF' : 'INVALID_MEM_ACCESS',
      `${access} through r${regno}, which holds a number, not a pointer`,
      {
        values: [regText(env, regno, reg)],
        hint: zero
          ? 'this path reaches the access with a NULL pointer; return before it'
          : 'only pointers the verifier knows (stack, ctx, map values, packet, helper memory) can be dereferenced; read other memory with bpf_probe_read_kernel()',
      },
    );
  }
  if (reg.kind === 'map_ptr' || reg.kind === 'pkt_end' || reg.kind === 'func') {
    reject('INVALID_MEM_ACCESS', `${access} through r${regno}, a ${reg.kind} that cannot be dereferenced`, {
      values: [regText(env, regno, reg)],
      hint:
        reg.kind === 'pkt_end'
          ? 'data_end marks the end of the packet; compare pointers against it, read through data'
          : 'pass map pointers to helpers such as bpf_map_lookup_elem()',
    });
  }
}

// ---- stack ----

function slotIndex(o: number): number {
  return Math.floor((-o - 1) / 8);
}

function byteAt(frame: Frame, o: number): { slot: Slot | undefined; j: number } {
  const i = slotIndex(o);
  return { slot: frame.stack[i], j: o + (i + 1) * 8 };
}

/** Stack accesses are always strictly aligned (the kernel's check_ptr_alignment for the stack). */
function checkStackAlignment(reg: Extract<RegState, { kind: 'stack' }>, off: number, size: number): void {
  const m = BigInt(size - 1);
  const low = (BigInt(reg.off + off) + reg.var.var.value) & m;
  if (low !== 0n || (reg.var.var.mask & m) !== 0n) {
    const where = isConst(reg.var)
      ? `fp${reg.off + off + Number(BigInt.asIntN(64, reg.var.umin))}`
      : `fp${reg.off + off}+var${scalarToString(reg.var)}`;
    reject('MISALIGNED_ACCESS', `a ${size}-byte stack access at ${where} is not ${size}-byte aligned`, {
      hint: `stack accesses must be aligned to their size; ${isConst(reg.var) ? 'use an aligned offset' : `round the variable offset (e.g. \`i &= ~${size - 1}\`)`}`,
    });
  }
}

/** The known value of `size` bytes at a stack pointer, when every byte is known (map keys). */
export function constStackValue(state: State, reg: RegState, size: number): bigint | undefined {
  if (reg.kind !== 'stack' || !isConst(reg.var)) return undefined;
  const lo = reg.off + Number(BigInt.asIntN(64, reg.var.umin));
  if (lo < -STACK_SIZE || lo + size > 0) return undefined;
  const { slot, j } = byteAt(state.frames[reg.frame], lo);
  if (slot === undefined || j + size > 8) return undefined;
  const bytes = slot.bytes.slice(j, j + size);
  if (bytes === 'z'.repeat(size)) return 0n;
  // Only a slot-aligned fill keeps a spilled value (as in loadStack).
  if (j !== 0 || bytes !== 's'.repeat(size) || slot.spill?.kind !== 'scalar' || !isConst(slot.spill.value)) {
    return undefined;
  }
  return slot.spill.value.umin & ((1n << BigInt(size * 8)) - 1n);
}

function checkStackBounds(regno: number, lo: number, hi: number, access: string): void {
  if (lo < -STACK_SIZE || hi > 0) {
    reject(
      'STACK_OOB',
      `${access} at fp${lo}..fp${hi === 0 ? '' : hi} is outside the ${STACK_SIZE}-byte stack (through r${regno})`,
      {
        hint:
          hi > 0
            ? 'the stack grows down: use negative offsets from r10 (fp-8 is the top slot)'
            : `a BPF stack frame is ${STACK_SIZE} bytes; move large buffers to a per-CPU array map`,
      },
    );
  }
}

/** Byte range [lo, hi) relative to the frame pointer a stack pointer access may touch. */
function stackRange(
  reg: Extract<RegState, { kind: 'stack' }>,
  off: number,
  size: number,
): [number, number, boolean] {
  const base = reg.off + off;
  if (isConst(reg.var)) {
    const o = base + s(BigInt.asIntN(64, reg.var.umin));
    return [o, o + size, true];
  }
  return [base + s(reg.var.smin), base + s(reg.var.smax) + size, false];
}

function readStackBytes(frame: Frame, lo: number, hi: number, opts: AccessOptions, what: string): ByteKind[] {
  const out: ByteKind[] = [];
  for (let o = lo; o < hi; o++) {
    const { slot, j } = byteAt(frame, o);
    const k = (slot?.bytes[j] ?? 'i') as ByteKind;
    if (k === 'i' && !opts.allowUninitStack) {
      reject('UNINIT_READ', `${what} reads stack byte fp${o}, which was never written on this path`, {
        values: [`bytes fp${lo}..fp${hi === 0 ? '' : hi} are read; fp${o} holds nothing yet`],
        hint: 'initialize the variable (e.g. `= {}` or memset) before passing or reading it',
      });
    }
    out.push(k === 'i' ? 'm' : k);
  }
  return out;
}

/** Overwrites bytes [lo, hi) with `kind`; a partly overwritten spill decays to its byte kinds. */
function writeStackBytes(frame: Frame, lo: number, hi: number, kind: ByteKind): void {
  for (let o = lo; o < hi; ) {
    const i = slotIndex(o);
    const base = -(i + 1) * 8;
    const old = frame.stack[i];
    let bytes = (old?.bytes ?? 'iiiiiiii').split('');
    if (old?.spill !== undefined) {
      const zero = old.spill.kind === 'scalar' && isConst(old.spill.value) && old.spill.value.umin === 0n;
      bytes = bytes.map((b) => (b === 's' ? (zero ? 'z' : 'm') : b));
    }
    const end = Math.min(hi, base + 8);
    for (; o < end; o++) bytes[o - base] = kind;
    frame.stack[i] = { bytes: bytes.join('') };
  }
}

function stackFrame(state: State, reg: Extract<RegState, { kind: 'stack' }>): Frame {
  return state.frames[reg.frame];
}

/** The frame `reg` points into, noting how deep its function uses the stack (down to fp`lo`). */
function usedFrame(env: Env, state: State, reg: Extract<RegState, { kind: 'stack' }>, lo: number): Frame {
  const frame = stackFrame(state, reg);
  noteStackDepth(env, frame.entry, lo);
  return frame;
}

function loadStack(
  env: Env,
  state: State,
  regno: number,
  reg: Extract<RegState, { kind: 'stack' }>,
  off: number,
  size: number,
  opts: AccessOptions,
): RegState {
  const [lo, hi, fixed] = stackRange(reg, off, size);
  checkStackBounds(regno, lo, hi, `a ${size}-byte read`);
  checkStackAlignment(reg, off, size);
  const frame = usedFrame(env, state, reg, lo);
  if (fixed) {
    const { slot, j } = byteAt(frame, lo);
    if (slot?.spill !== undefined && j + size <= 8 && slot.bytes.slice(j, j + size) === 's'.repeat(size)) {
      if (j === 0 && size === 8) return slot.spill;
      if (slot.spill.kind !== 'scalar') {
        reject('INVALID_MEM_ACCESS', `a ${size}-byte read of a spilled pointer at fp${lo}`, {
          values: [`fp${lo - j} holds ${describe(slot.spill, (i) => mapName(env, i))}`],
          hint: 'pointers saved on the stack can only be read back whole (8 bytes)',
        });
      }
      // Like the kernel: a slot-aligned narrower fill keeps the value (truncated), any other is unknown.
      return j === 0 ? scalar(truncate(slot.spill.value, size)) : scalar(scalarOfSize(size));
    }
  }
  const kinds = readStackBytes(frame, lo, hi, opts, `a ${size}-byte read`);
  if (fixed && kinds.every((k) => k === 'z')) return scalar(scalarConst(0n));
  return scalar(scalarOfSize(size));
}

function storeStack(
  env: Env,
  state: State,
  regno: number,
  reg: Extract<RegState, { kind: 'stack' }>,
  off: number,
  size: number,
  value: RegState,
): void {
  const [lo, hi, fixed] = stackRange(reg, off, size);
  checkStackBounds(regno, lo, hi, `a ${size}-byte write`);
  checkStackAlignment(reg, off, size);
  const frame = usedFrame(env, state, reg, lo);
  if (fixed && size === 8 && lo % 8 === 0) {
    frame.stack[slotIndex(lo)] = { bytes: 'ssssssss', spill: value };
    return;
  }
  if (fixed && lo % 8 === 0 && value.kind === 'scalar') {
    // A narrower scalar spill (e.g. an int counter) keeps its bounds for the matching fill.
    writeStackBytes(frame, lo, hi, 'm');
    const i = slotIndex(lo);
    const rest = frame.stack[i]?.bytes.slice(size) ?? '';
    frame.stack[i] = { bytes: 's'.repeat(size) + rest, spill: scalar(truncate(value.value, size)) };
    return;
  }
  const zero = fixed && value.kind === 'scalar' && isConst(value.value) && value.value.umin === 0n;
  writeStackBytes(frame, lo, hi, zero ? 'z' : 'm');
}

// ---- context ----

function ctxOffset(env: Env, regno: number, reg: Extract<RegState, { kind: 'ctx' }>, off: number): number {
  if (!isConst(reg.var) || reg.off !== 0 || reg.var.umin !== 0n) {
    reject(
      'CTX_ACCESS',
      `r${regno} is the context moved by ${isConst(reg.var) ? reg.off : `a variable ${scalarToString(reg.var)}`}; context fields must be accessed as ctx->field`,
      {
        values: [regText(env, regno, reg)],
        hint: 'access context fields through the original ctx pointer with a constant offset',
      },
    );
  }
  return off;
}

function fieldText(env: Env, o: number, size: number): string {
  const f = env.ctx.fieldAt(o);
  if (f === undefined) return `offset ${o} (size ${size}), outside ${env.ctx.name}`;
  return `${env.ctx.name}.${f.name}${o === f.offset ? '' : `+${o - f.offset}`} (offset ${o}, size ${size})`;
}

function loadCtx(
  env: Env,
  regno: number,
  reg: Extract<RegState, { kind: 'ctx' }>,
  off: number,
  size: number,
  pc: number,
): RegState {
  const o = ctxOffset(env, regno, reg, off);
  const packet = env.ctx.packetFields.get(o);
  if (packet !== undefined) {
    if (size !== 4) {
      reject('CTX_ACCESS', `${fieldText(env, o, size)} must be loaded as a 32-bit value`, {
        hint: 'read data/data_end as `(void *)(long)ctx->data`',
      });
    }
    const origin = { pc, what: `ctx->${env.ctx.fieldAt(o)?.name ?? 'data'}` };
    if (packet === 'pkt_end') return { kind: 'pkt_end' };
    return { kind: packet, off: 0, var: scalarConst(0n), id: env.newId(), range: 0, origin };
  }
  if (!env.ctx.canRead(o, size)) {
    reject('CTX_ACCESS', `${env.spec.type} programs may not read ${fieldText(env, o, size)}`, {
      hint: 'only the fields the program type exposes can be read, with their natural size and alignment',
    });
  }
  return scalar(scalarOfSize(size));
}

function storeCtx(
  env: Env,
  regno: number,
  reg: Extract<RegState, { kind: 'ctx' }>,
  off: number,
  size: number,
  value: RegState,
): void {
  const o = ctxOffset(env, regno, reg, off);
  if (!env.ctx.canWrite(o, size)) {
    const readable = env.ctx.canRead(o, size);
    reject(
      'CTX_WRITE',
      `${env.spec.type} programs may not write ${fieldText(env, o, size)}${readable ? ': it is read-only' : ''}`,
      {
        hint: readable
          ? 'copy the field into a local variable and modify the copy'
          : 'only the writable fields of the context (e.g. __sk_buff mark, priority, cb[]) can be stored to',
      },
    );
  }
  if (value.kind !== 'scalar') {
    reject('CTX_WRITE', `storing a pointer into ${fieldText(env, o, size)}`, {
      hint: 'context fields hold numbers',
    });
  }
}

// ---- map values, packet, helper memory ----

function varBounds(v: Scalar): [number, number] {
  return [s(v.smin), v.umax >= BigInt(MAX_VAR_OFF) ? MAX_VAR_OFF : s(v.umax)];
}

function checkMapValue(
  env: Env,
  regno: number,
  reg: MapValuePtr,
  off: number,
  size: number,
  write: boolean,
): void {
  const def = env.maps[reg.map];
  const valueSize = def?.valueSize ?? 0;
  if (reg.var.umax >= BigInt(MAX_VAR_OFF) || reg.var.smin < -BigInt(MAX_VAR_OFF)) {
    reject(
      'MAP_VALUE_OOB',
      `r${regno} points into map ${mapName(env, reg.map)}'s value with an unbounded offset ${scalarToString(reg.var)}`,
      {
        values: [regText(env, regno, reg)],
        hint: `bound the index before adding it: \`if (i >= ${Math.max(1, Math.floor(valueSize / Math.max(size, 1)))}) return 0;\``,
      },
    );
  }
  const [vmin, vmax] = varBounds(reg.var);
  const lo = reg.off + off + vmin;
  const hi = reg.off + off + vmax + size;
  if (lo < 0 || hi > valueSize) {
    const bad = lo < 0 ? lo : hi - size;
    reject(
      'MAP_VALUE_OOB',
      `a ${size}-byte ${write ? 'write' : 'read'} at offset ${lo < 0 ? lo : `${lo}..${hi - 1}`} of map ${mapName(env, reg.map)}'s ${valueSize}-byte value`,
      {
        values: [regText(env, regno, reg)],
        witness: isConst(reg.var)
          ? undefined
          : `an index putting the access at byte ${bad} (offset ${scalarToString(reg.var)} reaches ${vmax})`,
        hint: isConst(reg.var)
          ? `the value is ${valueSize} bytes; the access must lie within [0, ${valueSize})`
          : `check the index against the value size first, e.g. \`if (i >= ${Math.max(1, Math.floor(valueSize / size))}) return 0;\``,
      },
    );
  }
  if (write && def !== undefined && (def.flags & BPF_F_RDONLY_PROG) !== 0) {
    reject('READONLY_WRITE', `map ${mapName(env, reg.map)} is read-only for programs (BPF_F_RDONLY_PROG)`, {
      hint: 'const globals live in .rodata; declare the variable without const to modify it',
    });
  }
}

function checkPacket(
  env: Env,
  regno: number,
  reg: PacketPtr,
  off: number,
  size: number,
  write: boolean,
): void {
  if (reg.var.smin < 0n || reg.var.umax > BigInt(MAX_PACKET_OFF)) {
    reject(
      'PACKET_OOB',
      `r${regno} is a packet pointer moved by an unbounded offset ${scalarToString(reg.var)}`,
      {
        values: [regText(env, regno, reg)],
        hint: 'bound the offset (e.g. `off &= 0xff` or `if (off > 64) return`) before adding it to a packet pointer',
      },
    );
  }
  const o = reg.off + off;
  if (o < 0 || o + size > reg.range) {
    const start = reg.kind === 'pkt_meta' ? 'data_meta' : 'data';
    const end = reg.kind === 'pkt_meta' ? 'data' : 'data_end';
    const vtext = isConst(reg.var) ? '' : ' + the variable offset';
    reject(
      'PACKET_OOB',
      `a ${size}-byte packet ${write ? 'write' : 'read'} at ${start}${vtext} + ${o}, but only ${reg.range} byte${reg.range === 1 ? ' is' : 's are'} known to be in the packet on this path`,
      {
        values: [regText(env, regno, reg)],
        witness:
          o >= 0
            ? `a packet of ${o + size - 1} bytes${vtext === '' ? '' : ' (with the offset at 0)'} makes this access run past ${end}`
            : undefined,
        hint: `compare against ${end} first: \`if ((void *)${start === 'data' ? 'data' : 'meta'} + ${o + size} > ${end}) return ...;\`${vtext ? ' (including the variable offset)' : ''}`,
      },
    );
  }
  if (write && !env.ctx.packetWritable) {
    reject('READONLY_WRITE', `${env.spec.type} programs cannot write packet data directly`, {
      hint: 'use bpf_skb_store_bytes()',
    });
  }
}

function checkMem(env: Env, regno: number, reg: MemPtr, off: number, size: number): void {
  const [vmin, vmax] = varBounds(reg.var);
  const lo = reg.off + off + vmin;
  const hi = reg.off + off + vmax + size;
  if (lo < 0 || hi > reg.size) {
    reject('MEM_OOB', `a ${size}-byte access at offset ${lo}..${hi - 1} of a ${reg.size}-byte reservation`, {
      values: [regText(env, regno, reg)],
      hint: `the reservation is ${reg.size} bytes (the size passed to bpf_ringbuf_reserve)`,
    });
  }
}

/** dst = *(size *)(reg + off). */
export function load(
  env: Env,
  state: State,
  regno: number,
  off: number,
  size: number,
  signExtend: boolean,
  pc: number,
  opts: AccessOptions,
): RegState {
  const reg = state.frames[state.frames.length - 1].regs[regno];
  requireMemPointer(env, regno, reg, 'read');
  let v: RegState;
  switch (reg.kind) {
    case 'stack':
      v = loadStack(env, state, regno, reg, off, size, opts);
      break;
    case 'ctx':
      v = loadCtx(env, regno, reg, off, size, pc);
      break;
    case 'map_value':
      checkMapValue(env, regno, reg, off, size, false);
      v = scalar(scalarOfSize(size));
      break;
    case 'pkt':
    case 'pkt_meta':
      checkPacket(env, regno, reg, off, size, false);
      v = scalar(scalarOfSize(size));
      break;
    case 'mem':
      checkMem(env, regno, reg, off, size);
      v = scalar(scalarOfSize(size));
      break;
    default:
      v = UNKNOWN;
  }
  if (signExtend && v.kind === 'scalar' && size < 8) {
    return scalar(scalarSignExtend(v.value, (size * 8) as 8 | 16 | 32, 64));
  }
  return v;
}

/** *(size *)(reg + off) = value. */
export function store(
  env: Env,
  state: State,
  regno: number,
  off: number,
  size: number,
  value: RegState,
): void {
  const reg = state.frames[state.frames.length - 1].regs[regno];
  requireMemPointer(env, regno, reg, 'write');
  switch (reg.kind) {
    case 'stack':
      storeStack(env, state, regno, reg, off, size, value);
      return;
    case 'ctx':
      storeCtx(env, regno, reg, off, size, value);
      return;
    case 'map_value':
      checkMapValue(env, regno, reg, off, size, true);
      return;
    case 'pkt':
    case 'pkt_meta':
      checkPacket(env, regno, reg, off, size, true);
      return;
    case 'mem':
      checkMem(env, regno, reg, off, size);
      return;
  }
}

/** Atomic read-modify-write: only stack, map values and helper memory. */
export function atomicAccess(
  env: Env,
  state: State,
  regno: number,
  off: number,
  size: number,
  opts: AccessOptions,
): void {
  const reg = state.frames[state.frames.length - 1].regs[regno];
  requireMemPointer(env, regno, reg, 'atomic operation');
  if (reg.kind === 'ctx' || reg.kind === 'pkt' || reg.kind === 'pkt_meta') {
    reject(
      'INVALID_MEM_ACCESS',
      `atomic operations on ${reg.kind === 'ctx' ? 'the context' : 'packet data'} are not allowed`,
      {
        hint: 'atomics work on map values and the stack',
      },
    );
  }
  load(env, state, regno, off, size, false, -1, opts);
  store(env, state, regno, off, size, UNKNOWN);
}

/**
 * A helper reads (`write` false: must be initialized) or writes `size` bytes (its largest value) at
 * the pointer in `regno`. Writes to the stack initialize the bytes.
 */
export function helperRegion(
  env: Env,
  state: State,
  regno: number,
  size: number,
  write: boolean,
  what: string,
  opts: AccessOptions,
): void {
  const reg = state.frames[state.frames.length - 1].regs[regno];
  if (size === 0 && reg.kind === 'scalar') return;
  requireMemPointer(env, regno, reg, `${what}'s ${write ? 'write' : 'read'}`);
  switch (reg.kind) {
    case 'stack': {
      const [lo, hi] = stackRange(reg, 0, size);
      checkStackBounds(regno, lo, hi, `${what}'s ${size}-byte ${write ? 'write' : 'read'}`);
      const frame = usedFrame(env, state, reg, lo);
      if (write) writeStackBytes(frame, lo, hi, 'm');
      else readStackBytes(frame, lo, hi, opts, what);
      return;
    }
    case 'map_value':
      checkMapValue(env, regno, reg, 0, size, write);
      return;
    case 'pkt':
    case 'pkt_meta':
      checkPacket(env, regno, reg, 0, size, write);
      return;
    case 'mem':
      checkMem(env, regno, reg, 0, size);
      return;
    default:
      reject(
        'HELPER_ARG',
        `${what} needs r${regno} to point to memory, but it is ${describe(reg, (i) => mapName(env, i))}`,
        {
          hint: 'pass a pointer to the stack, a map value or checked packet data',
        },
      );
  }
}

export { regText };
