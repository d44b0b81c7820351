/**
 * kprobe/kretprobe/uprobe/uretprobe: r1 points at an x86-64 `struct pt_regs`, so PT_REGS_PARM1..6
 * (di, si, dx, cx, r8, r9), PT_REGS_RC (ax) and BPF_KPROBE/BPF_KRETPROBE read the right registers.
 */
import { type ArgumentEncoder, encodeArgument } from './arguments.js';
import {
  checkKeys,
  childPath,
  expectArray,
  expectInteger,
  expectObject,
  type JsonObject,
  usageError,
} from './json.js';
import { type ContextAccess, defineStruct, type FieldSpec, field, writeInt } from './layout.js';

/** Member order of arch/x86/include/uapi/asm/ptrace.h (the kernel's own pt_regs has the same layout). */
export const PT_REGS_NAMES = [
  'r15',
  'r14',
  'r13',
  'r12',
  'bp',
  'bx',
  'r11',
  'r10',
  'r9',
  'r8',
  'ax',
  'cx',
  'dx',
  'si',
  'di',
  'orig_ax',
  'ip',
  'cs',
  'flags',
  'sp',
  'ss',
] as const;
export type PtRegName = (typeof PT_REGS_NAMES)[number];

export const PT_REGS = defineStruct(
  'struct pt_regs',
  PT_REGS_NAMES.map((n): FieldSpec => [n, 8]),
);

/** Argument registers of the x86-64 SysV calling convention: PT_REGS_PARM1..6. */
export const PARM_REGS: readonly PtRegName[] = ['di', 'si', 'dx', 'cx', 'r8', 'r9'];

/** kprobe_prog_is_valid_access: any aligned read inside pt_regs, no writes. */
export const PT_REGS_ACCESS: ContextAccess = { layout: PT_REGS, readable: PT_REGS.fields, writable: [] };

/** Registers a probe sees when the input leaves them out: a kernel-mode frame with interrupts on. */
const KERNEL_CS = 0x10n;
const KERNEL_SS = 0x18n;
const USER_CS = 0x33n;
const USER_SS = 0x2bn;
const EFLAGS_IF = 0x246n;

/**
 * IN.json for probes: `regs` by name, or `args` (PARM1..6 in order) and `ret` (ax, for return probes).
 * A string argument becomes a pointer to the NUL-terminated string in user memory.
 */
export function ptRegsImage(
  input: JsonObject,
  user: boolean,
  encode: ArgumentEncoder,
  size = PT_REGS.size,
): Uint8Array {
  const b = new Uint8Array(size);
  const set = (name: PtRegName, value: bigint) => writeInt(b, field(PT_REGS, name).offset, 8, value);
  set('cs', user ? USER_CS : KERNEL_CS);
  set('ss', user ? USER_SS : KERNEL_SS);
  set('flags', EFLAGS_IF);
  if (input.args !== undefined) {
    const args = expectArray(input.args, 'args');
    if (args.length > PARM_REGS.length) {
      throw usageError('args', `x86-64 passes at most ${PARM_REGS.length} arguments in registers`);
    }
    for (const [i, v] of args.entries()) set(PARM_REGS[i], encodeArgument(v, childPath('args', i), encode));
  }
  if (input.regs !== undefined) {
    const regs = expectObject(input.regs, 'regs');
    checkKeys(regs, PT_REGS_NAMES, 'regs');
    for (const [name, v] of Object.entries(regs)) {
      set(name as PtRegName, encodeArgument(v, childPath('regs', name), encode));
    }
  }
  if (input.ret !== undefined) set('ax', encodeArgument(input.ret, 'ret', encode));
  return b;
}

/** struct bpf_perf_event_data on x86-64: the interrupted registers, then sample_period and addr. */
export const PERF_EVENT_DATA = defineStruct('struct bpf_perf_event_data', [
  ['regs', 8, PT_REGS_NAMES.length],
  ['sample_period', 8],
  ['addr', 8],
]);

/** pe_prog_is_valid_access: reads only. */
export const PERF_EVENT_ACCESS: ContextAccess = {
  layout: PERF_EVENT_DATA,
  readable: PERF_EVENT_DATA.fields,
  writable: [],
};

/** A perf_event sample: `regs`/`args` as for kprobes (user mode), `sample_period` and `addr`. */
export function perfEventImage(input: JsonObject, encode: ArgumentEncoder): Uint8Array {
  const b = ptRegsImage(input, true, encode, PERF_EVENT_DATA.size);
  for (const name of ['sample_period', 'addr'] as const) {
    if (input[name] !== undefined) {
      writeInt(b, field(PERF_EVENT_DATA, name).offset, 8, expectInteger(input[name], name));
    }
  }
  return b;
}
