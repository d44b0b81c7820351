/**
 * The kernel's BPF printf: bpf_bprintf_prepare (which formats are allowed, how many arguments, what is
 * read from memory and the 512-byte argument buffer) followed by bstr_printf (lib/vsprintf.c) into the
 * 1024-byte output buffer. Used by bpf_trace_printk and bpf_trace_vprintk.
 *
 * Allowed: %d %i %u %x %X with optional l / ll, %c, %s, %% , flags `0 + - space` and a width (no
 * precision, no `#`, no `h`); %p, %pK, %px, %ps, %pS, %pB, %pks, %pus, %pI4 %pi4 %pI6 %pi6. Anything
 * else, a non-printable byte, a missing NUL or more conversions than arguments is -EINVAL; strings and
 * arguments that do not fit the argument buffer are -ENOSPC.
 *
 * Simulation choices: %p and %pK print a hash of the pointer as the kernel does with kptr_restrict=0
 * (upper 32 bits zero; NULL and error pointers unhashed), but the hash is a fixed mix rather than siphash with a
 * random boot key; %ps/%pS/%pB find no symbol and print `0x<hex>` as the kernel does for unknown
 * addresses.
 */
import { EINVAL, ENOSPC } from './ids.js';
import type { AddressSpace } from './probe-read.js';

/** MAX_BPRINTF_BIN_ARGS: bytes of pre-processed arguments. */
export const MAX_BIN_ARGS = 512;
/** MAX_BPRINTF_BUF: output buffer, including the NUL. */
export const MAX_OUTPUT = 1024;
/** MAX_TRACE_PRINTK_VARARGS and MAX_BPRINTF_VARARGS. */
export const MAX_TRACE_PRINTK_ARGS = 3;
export const MAX_VPRINTK_ARGS = 12;

/** Memory access the formatter needs for %s, %pks/%pus and %pI4/%pI6 (see probe-read.ts). */
export interface PrintfMemory {
  readCString(space: AddressSpace, address: bigint, size: number): Uint8Array | number;
  readBytes(space: AddressSpace, address: bigint, size: number): Uint8Array | number;
}

/** A prepared argument: a number, or bytes already formatted (strings, %c, IPs, symbols). */
type BinArg = { readonly num: bigint } | { readonly text: Uint8Array };

export interface PrintfResult {
  /** What the kernel's buffer holds: at most 1023 bytes, cut at the first NUL (as trace output is). */
  readonly text: string;
  /** bstr_printf's return: the length the whole output would have (the helpers' return value). */
  readonly length: number;
}

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isSpace = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d);
const isPrint = (c: number) => c >= 0x20 && c <= 0x7e;
const isAlnum = (c: number) => isDigit(c) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const isPunct = (c: number) => isPrint(c) && c !== 0x20 && !isAlnum(c);
const ch = (s: string) => s.charCodeAt(0);

const ascii = (s: string) => new TextEncoder().encode(s);

/** bpf_bprintf_prepare: validates `fmt` (bytes up to the NUL) and gathers the arguments it uses. */
function prepare(fmt: Uint8Array, raw: readonly bigint[], memory: PrintfMemory): BinArg[] | number {
  const args: BinArg[] = [];
  let used = 0;
  // fmt[i] past the end reads as NUL, like the kernel's zero-terminated string.
  const at = (i: number) => (i < fmt.length ? fmt[i] : 0);
  const pushNumber = (size: number, value: bigint): number => {
    used = Math.ceil(used / 4) * 4;
    if (MAX_BIN_ARGS - used < size) return -ENOSPC;
    used += size;
    args.push({ num: value });
    return 0;
  };
  const pushText = (text: Uint8Array, bytes: number) => {
    used += bytes;
    args.push({ text });
  };
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i];
    if ((!isPrint(c) && !isSpace(c)) || c > 0x7f) return -EINVAL;
    if (c !== ch('%')) continue;
    if (at(i + 1) === ch('%')) {
      i++;
      continue;
    }
    if (args.length >= raw.length) return -EINVAL;
    const arg = raw[args.length];
    i++;
    while (at(i) === ch('0') || at(i) === ch('+') || at(i) === ch('-') || at(i) === ch(' ')) i++;
    if (at(i) >= ch('1') && at(i) <= ch('9')) {
      i++;
      while (isDigit(at(i))) i++;
    }
    let stringSpace: AddressSpace | undefined;
    if (at(i) === ch('p')) {
      const next = at(i + 1);
      if ((next === ch('k') || next === ch('u')) && at(i + 2) === ch('s')) {
        stringSpace = next === ch('k') ? 'kernel' : 'user';
        i += 2;
      } else if (
        next === 0 ||
        isSpace(next) ||
        isPunct(next) ||
        next === ch('K') ||
        next === ch('x') ||
        next === ch('s') ||
        next === ch('S')
      ) {
        // Plain kernel pointers: the value itself; the modifier byte is skipped unchecked.
        i++;
        const e = pushNumber(8, arg);
        if (e < 0) return e;
        continue;
      } else if (next === ch('B')) {
        const text = ascii(symbol(arg));
        pushText(text, text.length + 1);
        i++;
        continue;
      } else {
        if ((next !== ch('i') && next !== ch('I')) || (at(i + 2) !== ch('4') && at(i + 2) !== ch('6'))) {
          return -EINVAL;
        }
        i += 2;
        const size = at(i) === ch('4') ? 4 : 16;
        if (MAX_BIN_ARGS - used < size) return -ENOSPC;
        const got = memory.readBytes('kernel', arg, size);
        const text = ascii(formatIp(typeof got === 'number' ? new Uint8Array(size) : got, next === ch('I')));
        pushText(text, text.length + 1);
        continue;
      }
    } else if (at(i) === ch('s')) {
      stringSpace = 'compat';
    } else if (at(i) === ch('c')) {
      if (used >= MAX_BIN_ARGS) return -ENOSPC;
      pushText(Uint8Array.of(Number(arg & 0xffn)), 1);
      continue;
    }
    if (stringSpace !== undefined) {
      const after = at(i + 1);
      if (after !== 0 && !isSpace(after) && !isPunct(after)) return -EINVAL;
      if (used >= MAX_BIN_ARGS) return -ENOSPC;
      const got = memory.readCString(stringSpace, arg, MAX_BIN_ARGS - used);
      // An unreadable string prints as empty, taking one byte (its NUL).
      const text = typeof got === 'number' || got.length === 0 ? new Uint8Array(1) : got;
      pushText(text.subarray(0, text.length - 1), text.length);
      continue;
    }
    let size = 4;
    if (at(i) === ch('l')) {
      size = 8;
      i++;
    }
    if (at(i) === ch('l')) i++;
    const conv = at(i);
    if (conv !== ch('i') && conv !== ch('d') && conv !== ch('u') && conv !== ch('x') && conv !== ch('X')) {
      return -EINVAL;
    }
    const e = pushNumber(size, arg);
    if (e < 0) return e;
  }
  return args;
}

/** Output buffer of bstr_printf: keeps MAX_OUTPUT - 1 bytes, counts every byte. */
class Out {
  readonly bytes = new Uint8Array(MAX_OUTPUT - 1);
  length = 0;
  push(b: number): void {
    if (this.length < this.bytes.length) this.bytes[this.length] = b;
    this.length++;
  }
  pushAll(bytes: Uint8Array): void {
    for (const b of bytes) this.push(b);
  }
  pad(b: number, n: number): void {
    for (let k = 0; k < n; k++) {
      if (this.length >= this.bytes.length) {
        this.length += n - k;
        return;
      }
      this.push(b);
    }
  }
}

interface Spec {
  left: boolean;
  plus: boolean;
  space: boolean;
  zero: boolean;
  /** -1 when absent. */
  width: number;
}

/** The kernel's number(): sign, padding, digits. */
function number(out: Out, value: bigint, signed: boolean, base: 10 | 16, upper: boolean, spec: Spec): void {
  let sign = '';
  let magnitude = value;
  if (signed && value < 0n) {
    sign = '-';
    magnitude = -value;
  } else if (signed && spec.plus) sign = '+';
  else if (signed && spec.space) sign = ' ';
  let digits = magnitude.toString(base);
  if (upper) digits = digits.toUpperCase();
  const zero = spec.zero && !spec.left;
  let padding = spec.width - sign.length - digits.length;
  if (!zero && !spec.left && padding > 0) {
    out.pad(0x20, padding);
    padding = 0;
  }
  if (sign) out.push(ch(sign));
  if (!spec.left && padding > 0) out.pad(zero ? 0x30 : 0x20, padding);
  out.pushAll(ascii(digits));
  if (spec.left && padding > 0) out.pad(0x20, padding);
}

/** Strings and %c: padded with spaces whatever the flags (widen_string). */
function text(out: Out, bytes: Uint8Array, spec: Spec): void {
  const padding = spec.width - bytes.length;
  if (!spec.left && padding > 0) out.pad(0x20, padding);
  out.pushAll(bytes);
  if (spec.left && padding > 0) out.pad(0x20, padding);
}

/** pointer_string: 16 zero-padded hex digits unless a width is given. */
function pointerString(out: Out, value: bigint, spec: Spec): void {
  const s = spec.width === -1 ? { ...spec, width: 16, zero: true } : spec;
  number(out, BigInt.asUintN(64, value), false, 16, false, s);
}

/** MAX_ERRNO: pointers in the last 4095 values of the address space are error codes. */
const MAX_ERRNO = 4095n;

/**
 * What %p prints for `value`: NULL and error pointers as they are (ptr_to_id does not obfuscate
 * IS_ERR_OR_NULL pointers), others as a 32-bit hash — a fixed mix standing in for siphash with the
 * boot-time random key.
 */
export function hashPointer(value: bigint): bigint {
  const v = BigInt.asUintN(64, value);
  if (v === 0n || v >= 2n ** 64n - MAX_ERRNO) return v;
  let h = Number(v & 0xffffffffn) ^ Math.imul(Number(v >> 32n), 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return BigInt((h ^ (h >>> 16)) >>> 0);
}

function symbol(address: bigint): string {
  return `0x${BigInt.asUintN(64, address).toString(16)}`;
}

function formatIp(bytes: Uint8Array, dotted: boolean): string {
  if (bytes.length === 4) {
    return [...bytes].map((b) => (dotted ? String(b) : String(b).padStart(3, '0'))).join('.');
  }
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0'));
  if (!dotted) return hex.join('');
  const groups: string[] = [];
  for (let k = 0; k < 16; k += 2) groups.push(hex[k] + hex[k + 1]);
  return groups.join(':');
}

/** bstr_printf over the prepared arguments. */
function render(fmt: Uint8Array, args: readonly BinArg[]): Out {
  const out = new Out();
  let next = 0;
  const take = (): BinArg => args[next++] ?? { num: 0n };
  const num = (a: BinArg): bigint => ('num' in a ? a.num : 0n);
  const at = (i: number) => (i < fmt.length ? fmt[i] : 0);
  for (let i = 0; i < fmt.length; i++) {
    if (fmt[i] !== ch('%')) {
      out.push(fmt[i]);
      continue;
    }
    i++;
    if (at(i) === ch('%')) {
      out.push(ch('%'));
      continue;
    }
    const spec: Spec = { left: false, plus: false, space: false, zero: false, width: -1 };
    for (; ; i++) {
      const f = at(i);
      if (f === ch('-')) spec.left = true;
      else if (f === ch('+')) spec.plus = true;
      else if (f === ch(' ')) spec.space = true;
      else if (f === ch('0')) spec.zero = true;
      else break;
    }
    if (isDigit(at(i))) {
      spec.width = 0;
      while (isDigit(at(i))) spec.width = Math.min(spec.width * 10 + (at(i++) - 0x30), (1 << 23) - 1);
    }
    let bits = 32;
    while (at(i) === ch('l')) {
      bits = 64;
      i++;
    }
    const conv = at(i);
    if (conv === ch('c') || conv === ch('s')) {
      const a = take();
      text(out, 'text' in a ? a.text : new Uint8Array(0), spec);
    } else if (conv === ch('p')) {
      const mod = at(i + 1);
      const a = take();
      if ('text' in a) out.pushAll(a.text);
      else if (mod === ch('x')) pointerString(out, a.num, spec);
      else if (mod === ch('s') || mod === ch('S')) text(out, ascii(symbol(a.num)), spec);
      else pointerString(out, hashPointer(a.num), spec);
      while (isAlnum(at(i + 1))) i++;
    } else if (conv === ch('d') || conv === ch('i')) {
      number(out, BigInt.asIntN(bits, num(take())), true, 10, false, spec);
    } else if (conv === ch('u')) {
      number(out, BigInt.asUintN(bits, num(take())), false, 10, false, spec);
    } else if (conv === ch('x') || conv === ch('X')) {
      number(out, BigInt.asUintN(bits, num(take())), false, 16, conv === ch('X'), spec);
    } else if (conv === 0) {
      i--;
    }
  }
  return out;
}

/**
 * Formats like bpf_trace_printk: `fmtBytes` is the whole format buffer (fmt_size bytes), which must
 * contain a NUL; `args` are the raw 64-bit arguments available. Returns -errno or the result.
 */
export function bprintf(
  fmtBytes: Uint8Array,
  args: readonly bigint[],
  memory: PrintfMemory,
): PrintfResult | number {
  const nul = fmtBytes.indexOf(0);
  if (nul < 0) return -EINVAL;
  const fmt = fmtBytes.subarray(0, nul);
  const prepared = prepare(fmt, args, memory);
  if (typeof prepared === 'number') return prepared;
  const out = render(fmt, prepared);
  const kept = out.bytes.subarray(0, Math.min(out.length, out.bytes.length));
  const end = kept.indexOf(0);
  return {
    text: new TextDecoder().decode(end < 0 ? kept : kept.subarray(0, end)),
    length: out.length,
  };
}
