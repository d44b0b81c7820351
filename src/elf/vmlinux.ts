/**
 * The built-in minimal "vmlinux" BTF that CO-RE relocations are resolved against. It is real `.BTF`
 * bytes (built here, parsed by `Btf.parse`), so the CO-RE engine queries it exactly like an object's
 * own BTF. Offsets of task_struct, cred and pt_regs come from the runtime's simulated kernel memory
 * (one source of truth), so a relocated `BPF_CORE_READ(task, real_parent, tgid)` reads what the
 * helpers wrote.
 */

import { defineStruct, type StructLayout } from '../runtime/contexts/layout.js';
import { PT_REGS } from '../runtime/contexts/pt-regs.js';
import { CRED_STRUCT, TASK_STRUCT } from '../runtime/helpers/task-struct.js';
import { BTF_MAGIC, Btf, BtfKind } from './btf.js';

const BTF_INT_SIGNED = 1;
const BTF_INT_CHAR = 2;

/**
 * `struct sk_buff` has no simulated kernel object (programs see `struct __sk_buff`); this layout only
 * lets CO-RE reads of the basic fields relocate. Order follows the kernel's struct.
 */
export const KERNEL_SK_BUFF: StructLayout = defineStruct('struct sk_buff', [
  ['next', 8],
  ['prev', 8],
  ['len', 4],
  ['data_len', 4],
  ['mac_len', 2],
  ['hdr_len', 2],
  ['protocol', 2],
  ['transport_header', 2],
  ['network_header', 2],
  ['mac_header', 2],
  ['mark', 4],
  ['ifindex', 4],
  ['tail', 4],
  ['end', 4],
  ['head', 8],
  ['data', 8],
]);

/** `struct trace_entry`, the common header of every tracepoint record. */
export const TRACE_ENTRY: StructLayout = defineStruct('struct trace_entry', [
  ['type', 2],
  ['flags', 1],
  ['preempt_count', 1],
  ['pid', 4],
]);

/** Small typed writer of `.BTF` bytes: each method appends one type record and returns its id. */
class BtfWriter {
  private readonly words: number[] = [];
  private strings = '\0';
  private next = 1;

  private str(s: string): number {
    if (s === '') return 0;
    const at = this.strings.indexOf(`\0${s}\0`);
    if (at >= 0) return at + 1;
    const off = this.strings.length;
    this.strings += `${s}\0`;
    return off;
  }

  private push(name: string, kind: number, vlen: number, sizeOrType: number, extra: number[]): number {
    this.words.push(this.str(name), ((kind << 24) | vlen) >>> 0, sizeOrType, ...extra);
    return this.next++;
  }

  int(name: string, size: number, encoding: number): number {
    return this.push(name, BtfKind.int, 0, size, [((encoding << 24) | (size * 8)) >>> 0]);
  }
  ptr(type: number): number {
    return this.push('', BtfKind.ptr, 0, type, []);
  }
  typedef(name: string, type: number): number {
    return this.push(name, BtfKind.typedef, 0, type, []);
  }
  const(type: number): number {
    return this.push('', BtfKind.const, 0, type, []);
  }
  array(elem: number, index: number, nelems: number): number {
    return this.push('', BtfKind.array, 0, 0, [elem, index, nelems]);
  }
  struct(name: string, size: number, members: readonly (readonly [string, number, number])[]): number {
    const extra = members.flatMap(([n, type, byteOffset]) => [this.str(n), type, byteOffset * 8]);
    return this.push(name, BtfKind.struct, members.length, size, extra);
  }
  /** Id the next record will get (for self-referencing structs). */
  get nextId(): number {
    return this.next;
  }

  bytes(): Uint8Array {
    const strBytes = new TextEncoder().encode(this.strings);
    const typeLen = this.words.length * 4;
    const out = new Uint8Array(24 + typeLen + strBytes.length);
    const v = new DataView(out.buffer);
    v.setUint16(0, BTF_MAGIC, true);
    v.setUint8(2, 1);
    v.setUint32(4, 24, true);
    v.setUint32(8, 0, true);
    v.setUint32(12, typeLen, true);
    v.setUint32(16, typeLen, true);
    v.setUint32(20, strBytes.length, true);
    this.words.forEach((w, i) => {
      v.setUint32(24 + i * 4, w >>> 0, true);
    });
    out.set(strBytes, 24 + typeLen);
    return out;
  }
}

function offsetOf(layout: StructLayout, name: string): number {
  const f = layout.fields.find((x) => x.name === name);
  if (f === undefined) throw new Error(`${layout.name} has no field ${name}`);
  return f.offset;
}

/** Builds the vmlinux `.BTF` bytes. */
export function buildVmlinuxBtfBytes(): Uint8Array {
  const w = new BtfWriter();
  const int = w.int('int', 4, BTF_INT_SIGNED);
  const uint = w.int('unsigned int', 4, 0);
  const char = w.int('char', 1, BTF_INT_CHAR | BTF_INT_SIGNED);
  w.int('long', 8, BTF_INT_SIGNED);
  const ulong = w.int('unsigned long', 8, 0);
  const ushort = w.int('unsigned short', 2, 0);
  const uchar = w.int('unsigned char', 1, 0);
  const u8 = w.typedef('u8', uchar);
  const u16 = w.typedef('u16', ushort);
  const u32 = w.typedef('u32', uint);
  w.typedef('u64', w.int('unsigned long long', 8, 0));
  const pidT = w.typedef('pid_t', int);
  const uidT = w.typedef('uid_t', uint);
  const gidT = w.typedef('gid_t', uint);
  const be16 = w.typedef('__be16', u16);
  const kuid = w.typedef('kuid_t', w.struct('', 4, [['val', uidT, 0]]));
  const kgid = w.typedef('kgid_t', w.struct('', 4, [['val', gidT, 0]]));
  const atomic = w.typedef('atomic_t', w.struct('', 4, [['counter', int, 0]]));
  const comm = w.array(char, int, 16);

  const c = (n: string) => offsetOf(CRED_STRUCT, n);
  const cred = w.struct('cred', CRED_STRUCT.size, [
    ['usage', atomic, c('usage')],
    ['uid', kuid, c('uid')],
    ['gid', kgid, c('gid')],
    ['suid', kuid, c('suid')],
    ['sgid', kgid, c('sgid')],
    ['euid', kuid, c('euid')],
    ['egid', kgid, c('egid')],
    ['fsuid', kuid, c('fsuid')],
    ['fsgid', kgid, c('fsgid')],
  ]);
  const credPtr = w.ptr(w.const(cred));
  // task_struct points to itself: the pointer record refers to the id the struct gets next.
  const taskPtr = w.ptr(w.nextId + 1);
  const t = (n: string) => offsetOf(TASK_STRUCT, n);
  w.struct('task_struct', TASK_STRUCT.size, [
    ['__state', uint, t('__state')],
    ['flags', uint, t('flags')],
    ['pid', pidT, t('pid')],
    ['tgid', pidT, t('tgid')],
    ['real_parent', taskPtr, t('real_parent')],
    ['parent', taskPtr, t('parent')],
    ['real_cred', credPtr, t('real_cred')],
    ['cred', credPtr, t('cred')],
    ['comm', comm, t('comm')],
  ]);

  w.struct(
    'pt_regs',
    PT_REGS.size,
    PT_REGS.fields.map((f) => [f.name, ulong, f.offset] as const),
  );

  const s = (n: string) => offsetOf(KERNEL_SK_BUFF, n);
  const skbPtr = w.ptr(w.nextId + 1);
  const uint8Ptr = w.ptr(u8);
  w.struct('sk_buff', KERNEL_SK_BUFF.size, [
    ['next', skbPtr, s('next')],
    ['prev', skbPtr, s('prev')],
    ['len', uint, s('len')],
    ['data_len', uint, s('data_len')],
    ['mac_len', u16, s('mac_len')],
    ['hdr_len', u16, s('hdr_len')],
    ['protocol', be16, s('protocol')],
    ['transport_header', u16, s('transport_header')],
    ['network_header', u16, s('network_header')],
    ['mac_header', u16, s('mac_header')],
    ['mark', u32, s('mark')],
    ['ifindex', int, s('ifindex')],
    ['tail', uint, s('tail')],
    ['end', uint, s('end')],
    ['head', uint8Ptr, s('head')],
    ['data', uint8Ptr, s('data')],
  ]);

  const e = (n: string) => offsetOf(TRACE_ENTRY, n);
  w.struct('trace_entry', TRACE_ENTRY.size, [
    ['type', ushort, e('type')],
    ['flags', uchar, e('flags')],
    ['preempt_count', uchar, e('preempt_count')],
    ['pid', int, e('pid')],
  ]);
  return w.bytes();
}

let cached: Btf | undefined;

/** The parsed built-in vmlinux BTF (built once). */
export function vmlinuxBtf(): Btf {
  cached ??= Btf.parse(buildVmlinuxBtfBytes());
  return cached;
}
