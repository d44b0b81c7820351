/**
 * Built-in tracepoint formats, as tracefs prints them on x86-64 Linux 6.x: the syscalls events
 * (sys_enter_<name> / sys_exit_<name>), raw_syscalls, and sched_process_exec/exit/fork. Any other event
 * runs with the `format` text given in the input.
 */
import { parseTracepointFormat, type TracepointFormat } from './tracepoint-format.js';

const COMMON_FIELDS = [
  'field:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;',
  'field:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;',
  'field:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;',
  'field:int common_pid;\toffset:4;\tsize:4;\tsigned:1;',
];

/** A format file from the event name and its own fields (after the common header). */
function formatText(name: string, fields: readonly string[]): string {
  return `name: ${name}\nID: 0\nformat:\n${COMMON_FIELDS.map((f) => `\t${f}\n`).join('')}\n${fields
    .map((f) => `\t${f}\n`)
    .join('')}\nprint fmt: ""\n`;
}

/** One argument: C type and name as SYSCALL_DEFINE declares them. */
type SyscallArg = readonly [type: string, name: string];

export interface SyscallInfo {
  /** x86-64 syscall number (__syscall_nr). */
  readonly nr: number;
  readonly args: readonly SyscallArg[];
}

/** The syscalls bpfbox knows by name (x86-64 numbers; types and names from their SYSCALL_DEFINE). */
export const SYSCALLS: Readonly<Record<string, SyscallInfo>> = {
  read: {
    nr: 0,
    args: [
      ['unsigned int', 'fd'],
      ['char *', 'buf'],
      ['size_t', 'count'],
    ],
  },
  write: {
    nr: 1,
    args: [
      ['unsigned int', 'fd'],
      ['const char *', 'buf'],
      ['size_t', 'count'],
    ],
  },
  open: {
    nr: 2,
    args: [
      ['const char *', 'filename'],
      ['int', 'flags'],
      ['umode_t', 'mode'],
    ],
  },
  close: { nr: 3, args: [['unsigned int', 'fd']] },
  mmap: {
    nr: 9,
    args: [
      ['unsigned long', 'addr'],
      ['unsigned long', 'len'],
      ['unsigned long', 'prot'],
      ['unsigned long', 'flags'],
      ['unsigned long', 'fd'],
      ['unsigned long', 'off'],
    ],
  },
  getpid: { nr: 39, args: [] },
  socket: {
    nr: 41,
    args: [
      ['int', 'family'],
      ['int', 'type'],
      ['int', 'protocol'],
    ],
  },
  connect: {
    nr: 42,
    args: [
      ['int', 'fd'],
      ['struct sockaddr *', 'uservaddr'],
      ['int', 'addrlen'],
    ],
  },
  accept: {
    nr: 43,
    args: [
      ['int', 'fd'],
      ['struct sockaddr *', 'upeer_sockaddr'],
      ['int *', 'upeer_addrlen'],
    ],
  },
  bind: {
    nr: 49,
    args: [
      ['int', 'fd'],
      ['struct sockaddr *', 'umyaddr'],
      ['int', 'addrlen'],
    ],
  },
  listen: {
    nr: 50,
    args: [
      ['int', 'fd'],
      ['int', 'backlog'],
    ],
  },
  clone: {
    nr: 56,
    args: [
      ['unsigned long', 'clone_flags'],
      ['unsigned long', 'newsp'],
      ['int *', 'parent_tidptr'],
      ['int *', 'child_tidptr'],
      ['unsigned long', 'tls'],
    ],
  },
  fork: { nr: 57, args: [] },
  vfork: { nr: 58, args: [] },
  execve: {
    nr: 59,
    args: [
      ['const char *', 'filename'],
      ['const char *const *', 'argv'],
      ['const char *const *', 'envp'],
    ],
  },
  exit: { nr: 60, args: [['int', 'error_code']] },
  kill: {
    nr: 62,
    args: [
      ['pid_t', 'pid'],
      ['int', 'sig'],
    ],
  },
  ptrace: {
    nr: 101,
    args: [
      ['long', 'request'],
      ['long', 'pid'],
      ['unsigned long', 'addr'],
      ['unsigned long', 'data'],
    ],
  },
  setuid: { nr: 105, args: [['uid_t', 'uid']] },
  exit_group: { nr: 231, args: [['int', 'error_code']] },
  openat: {
    nr: 257,
    args: [
      ['int', 'dfd'],
      ['const char *', 'filename'],
      ['int', 'flags'],
      ['umode_t', 'mode'],
    ],
  },
  unlinkat: {
    nr: 263,
    args: [
      ['int', 'dfd'],
      ['const char *', 'pathname'],
      ['int', 'flag'],
    ],
  },
  accept4: {
    nr: 288,
    args: [
      ['int', 'fd'],
      ['struct sockaddr *', 'upeer_sockaddr'],
      ['int *', 'upeer_addrlen'],
      ['int', 'flags'],
    ],
  },
  execveat: {
    nr: 322,
    args: [
      ['int', 'fd'],
      ['const char *', 'filename'],
      ['const char *const *', 'argv'],
      ['const char *const *', 'envp'],
      ['int', 'flags'],
    ],
  },
};

/** Arguments of a syscall bpfbox does not know: six unsigned longs (the kernel's maximum). */
const GENERIC_ARGS: readonly SyscallArg[] = Array.from(
  { length: 6 },
  (_, i): SyscallArg => ['unsigned long', `arg${i}`],
);

const NR_FIELD = 'field:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;';

/**
 * sys_enter_<name>: __syscall_nr, then every argument widened to 8 bytes from offset 16 (the kernel
 * stores them as unsigned long and prints signed:0 whatever the C type).
 */
export function sysEnterFormat(name: string, args: readonly SyscallArg[]): string {
  return formatText(`sys_enter_${name}`, [
    NR_FIELD,
    ...args.map(([type, arg], i) => `field:${type} ${arg};\toffset:${16 + 8 * i};\tsize:8;\tsigned:0;`),
  ]);
}

export function sysExitFormat(name: string): string {
  return formatText(`sys_exit_${name}`, [NR_FIELD, 'field:long ret;\toffset:16;\tsize:8;\tsigned:1;']);
}

const SCHED_FORMATS: Readonly<Record<string, string>> = {
  sched_process_exec: formatText('sched_process_exec', [
    'field:__data_loc char[] filename;\toffset:8;\tsize:4;\tsigned:0;',
    'field:pid_t pid;\toffset:12;\tsize:4;\tsigned:1;',
    'field:pid_t old_pid;\toffset:16;\tsize:4;\tsigned:1;',
  ]),
  // group_dead appeared in Linux 6.16; programs built for older kernels never read it.
  sched_process_exit: formatText('sched_process_exit', [
    'field:char comm[16];\toffset:8;\tsize:16;\tsigned:0;',
    'field:pid_t pid;\toffset:24;\tsize:4;\tsigned:1;',
    'field:int prio;\toffset:28;\tsize:4;\tsigned:1;',
    'field:bool group_dead;\toffset:32;\tsize:1;\tsigned:0;',
  ]),
  sched_process_fork: formatText('sched_process_fork', [
    'field:char parent_comm[16];\toffset:8;\tsize:16;\tsigned:0;',
    'field:pid_t parent_pid;\toffset:24;\tsize:4;\tsigned:1;',
    'field:char child_comm[16];\toffset:28;\tsize:16;\tsigned:0;',
    'field:pid_t child_pid;\toffset:44;\tsize:4;\tsigned:1;',
  ]),
};

const RAW_SYSCALL_FORMATS: Readonly<Record<string, string>> = {
  sys_enter: formatText('sys_enter', [
    'field:long id;\toffset:8;\tsize:8;\tsigned:1;',
    'field:unsigned long args[6];\toffset:16;\tsize:48;\tsigned:0;',
  ]),
  sys_exit: formatText('sys_exit', [
    'field:long id;\toffset:8;\tsize:8;\tsigned:1;',
    'field:long ret;\toffset:16;\tsize:8;\tsigned:1;',
  ]),
};

/** A built-in event: its format and the syscall it traces (for the default __syscall_nr). */
export interface BuiltinTracepoint {
  readonly format: TracepointFormat;
  readonly syscall?: SyscallInfo & { readonly name: string };
  /** sys_enter_<unknown>: the generic six-argument form; __syscall_nr must come from the input. */
  readonly generic?: boolean;
}

const cache = new Map<string, BuiltinTracepoint | undefined>();

/**
 * The built-in event for `category/name` (the SEC name after `tracepoint/` or `tp/`), or undefined when
 * bpfbox has no layout for it.
 */
export function builtinTracepoint(target: string): BuiltinTracepoint | undefined {
  if (!cache.has(target)) cache.set(target, lookup(target));
  return cache.get(target);
}

function lookup(target: string): BuiltinTracepoint | undefined {
  const slash = target.indexOf('/');
  if (slash < 0) return undefined;
  const category = target.slice(0, slash);
  const event = target.slice(slash + 1);
  if (category === 'sched' && SCHED_FORMATS[event] !== undefined) {
    return { format: parseTracepointFormat(SCHED_FORMATS[event]) };
  }
  if (category === 'raw_syscalls' && RAW_SYSCALL_FORMATS[event] !== undefined) {
    return { format: parseTracepointFormat(RAW_SYSCALL_FORMATS[event]) };
  }
  if (category !== 'syscalls') return undefined;
  const m = /^sys_(enter|exit)_([a-z0-9_]+)$/.exec(event);
  if (m === null) return undefined;
  const [, phase, name] = m;
  const known = Object.hasOwn(SYSCALLS, name) ? SYSCALLS[name] : undefined;
  const format = parseTracepointFormat(
    phase === 'enter' ? sysEnterFormat(name, known?.args ?? GENERIC_ARGS) : sysExitFormat(name),
  );
  return known === undefined ? { format, generic: true } : { format, syscall: { ...known, name } };
}
