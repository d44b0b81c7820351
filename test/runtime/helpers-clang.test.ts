/** Kernel helpers under a real clang-19 object: comm, pid_tgid, bpf_loop with a static callback, vprintk. */
import { describe, expect, it } from 'vitest';
import { linkProgram } from '../../src/elf/linker.js';
import { loadObject } from '../../src/elf/object.js';
import { makeTask } from '../../src/runtime/contexts/task.js';
import { registerKernelHelpers } from '../../src/runtime/helpers/index.js';
import { KernelRuntime } from '../../src/runtime/helpers/runtime.js';
import { Interpreter } from '../../src/vm/interpreter/interpreter.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';
import { clangAvailable, compileBpf, warnIfMissing } from '../elf/compile.js';

warnIfMissing('test/runtime/helpers-clang');

const SOURCE = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static int add_until_5(__u32 i, void *ctx) {
  *(__u64 *)ctx += i;
  return i == 5;
}

SEC("tp/syscalls/sys_enter_execve")
int prog(void *ctx) {
  char fmt[] = "pid=%d comm=%s n=%llu";
  char comm[16];
  __u64 sum = 0;
  bpf_get_current_comm(comm, sizeof(comm));
  __u64 id = bpf_get_current_pid_tgid();
  long n = bpf_loop(100, add_until_5, &sum, 0);
  __u64 args[3] = { id >> 32, (__u64)(long)comm, sum * 1000 + n };
  return bpf_trace_vprintk(fmt, sizeof(fmt), args, sizeof(args));
}

char LICENSE[] SEC("license") = "GPL";
`;

describe.skipIf(!clangAvailable)('kernel helpers in a clang-19 program', () => {
  it('prints the task and the bpf_loop result', () => {
    const linked = linkProgram(loadObject(compileBpf(SOURCE)), 'prog');
    const memory = new GuestMemory();
    memory.mapStack();
    const runtime = new KernelRuntime(memory, { task: makeTask({ pid: 4242, tgid: 4200, comm: 'nginx' }) });
    const vm = new Interpreter(linked.program, {
      memory,
      helpers: registerKernelHelpers(undefined, runtime),
    });
    runtime.beginRun();
    const expected = 'pid=4200 comm=nginx n=15006';
    expect(vm.run().r0).toBe(BigInt(expected.length));
    expect(runtime.printk).toEqual([expected]);
  });
});
