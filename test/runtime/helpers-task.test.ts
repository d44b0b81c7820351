/** Task, time, CPU and PRNG helpers driven by assembled programs. */
import { describe, expect, it } from 'vitest';
import { MemoryFault } from '../../src/errors.js';
import { makeTask } from '../../src/runtime/contexts/task.js';
import { Prandom } from '../../src/runtime/helpers/prandom.js';
import { KERNEL_SLOT } from '../../src/runtime/helpers/sim-memory.js';
import { CredOffset, TASK_STRUCT, TaskStructOffset } from '../../src/runtime/helpers/task-struct.js';
import { slotBase } from '../../src/vm/memory/layout.js';
import { HEAP, kernel, neg } from './helpers-kernel-setup.js';

const EINVAL = 22;

describe('current task', () => {
  const task = makeTask({
    pid: 4242,
    tgid: 4200,
    uid: 1001,
    gid: 1002,
    comm: 'nginx',
    parent: { pid: 77, comm: 'sh' },
  });

  it('bpf_get_current_pid_tgid is tgid << 32 | pid, uid_gid is gid << 32 | uid', () => {
    const k = kernel({ task });
    expect(k.run('call 14\nexit')).toBe((4200n << 32n) | 4242n);
    expect(k.run('call 15\nexit')).toBe((1002n << 32n) | 1001n);
  });

  it('without a task (null) they return -EINVAL and comm is cleared', () => {
    const k = kernel({ task: null });
    expect(k.run('call 14\nexit')).toBe(neg(EINVAL));
    expect(k.run('call 15\nexit')).toBe(neg(EINVAL));
    k.put(0, new Uint8Array(16).fill(0xaa));
    expect(k.run(`lddw %r1, ${HEAP}\nmov %r2, 16\ncall 16\nexit`)).toBe(neg(EINVAL));
    expect([...k.heap(0, 16)]).toEqual(new Array(16).fill(0));
    expect(k.run('call 35\nexit')).toBe(0n);
  });

  it('bpf_get_current_comm copies at most size - 1 bytes, NUL-terminates and pads', () => {
    const k = kernel({ task });
    k.put(0, new Uint8Array(16).fill(0xaa));
    expect(k.run(`lddw %r1, ${HEAP}\nmov %r2, 16\ncall 16\nexit`)).toBe(0n);
    expect(new TextDecoder().decode(k.heap(0, 16))).toBe('nginx\0\0\0\0\0\0\0\0\0\0\0');
    k.put(0, new Uint8Array(16).fill(0xaa));
    expect(k.run(`lddw %r1, ${HEAP}\nmov %r2, 4\ncall 16\nexit`)).toBe(0n);
    expect([...k.heap(0, 5)]).toEqual([0x6e, 0x67, 0x69, 0, 0xaa]);
  });

  it('bpf_get_current_comm to a bad buffer is a fault at the call', () => {
    const k = kernel({ task });
    expect(() => k.run('mov %r1, 8\nmov %r2, 16\ncall 16\nexit')).toThrow(MemoryFault);
  });

  it('get_current_task points at a task_struct in read-only kernel memory with the exported layout', () => {
    const k = kernel({ task });
    const address = k.run('call 35\nexit');
    expect(k.run('call 158\nexit')).toBe(address);
    expect(address >> 28n).toBe(BigInt(KERNEL_SLOT));
    const view = new DataView(k.memory.read(address, TASK_STRUCT.size).buffer);
    expect(view.getUint32(TaskStructOffset.pid, true)).toBe(4242);
    expect(view.getUint32(TaskStructOffset.tgid, true)).toBe(4200);
    const comm = k.memory.read(address + BigInt(TaskStructOffset.comm), 16);
    expect(new TextDecoder().decode(comm.subarray(0, 5))).toBe('nginx');
    const cred = view.getBigUint64(TaskStructOffset.cred, true);
    expect(new DataView(k.memory.read(cred, 8).buffer).getUint32(CredOffset.uid, true)).toBe(1001);
    // The guest may not write kernel memory.
    expect(() => k.run(`call 35\nstw [%r0+${TaskStructOffset.pid}], 1\nexit`)).toThrow(MemoryFault);
  });

  it('BPF_CORE_READ(task, real_parent, tgid) through probe_read_kernel, and a direct BTF load', () => {
    const k = kernel({ task });
    const viaProbe = `
      call 35
      mov %r3, %r0
      add %r3, ${TaskStructOffset.real_parent}
      mov %r1, %r10
      add %r1, -8
      mov %r2, 8
      call 113
      ldxdw %r3, [%r10-8]
      add %r3, ${TaskStructOffset.tgid}
      mov %r1, %r10
      add %r1, -16
      mov %r2, 4
      call 113
      ldxw %r0, [%r10-16]
      exit`;
    expect(k.run(viaProbe)).toBe(77n);
    const direct = `
      call 158
      ldxdw %r1, [%r0+${TaskStructOffset.real_parent}]
      ldxdw %r1, [%r1+${TaskStructOffset.real_parent}]
      ldxw %r0, [%r1+${TaskStructOffset.pid}]
      exit`;
    // nginx → sh → init (pid 1), whose own real_parent is itself.
    expect(k.run(direct)).toBe(1n);
    expect(k.run(direct.replace(/ldxdw %r1, \[%r1\+\d+\]/, (s) => `${s}\n${s}\n${s}`))).toBe(1n);
  });

  it('setting a new task rewrites the chain', () => {
    const k = kernel({ task });
    k.runtime.task = makeTask({ pid: 5, tgid: 5 });
    expect(k.run('call 14\nexit')).toBe((5n << 32n) | 5n);
    expect(k.run(`call 35\nldxw %r0, [%r0+${TaskStructOffset.pid}]\nexit`)).toBe(5n);
  });

  it('going back to an earlier task rewrites its chain; setting the same task again keeps it', () => {
    const k = kernel({ task });
    const pidOfCurrent = `call 35\nldxw %r0, [%r0+${TaskStructOffset.pid}]\nexit`;
    const other = makeTask({ pid: 5, tgid: 5 });
    k.runtime.task = other;
    expect(k.run(pidOfCurrent)).toBe(5n);
    k.runtime.task = task;
    k.runtime.task = task;
    expect(k.run(pidOfCurrent)).toBe(4242n);
    expect(k.run('call 14\nexit')).toBe((4200n << 32n) | 4242n);
    k.runtime.task = undefined;
    k.runtime.task = task;
    expect(k.run(pidOfCurrent)).toBe(4242n);
  });

  it('cgroup id, NUMA node and CPU are configurable', () => {
    const k = kernel({ cgroupId: 0x1234n, numaNode: 1, cpu: 3 });
    expect(k.run('call 80\nexit')).toBe(0x1234n);
    expect(k.run('call 42\nexit')).toBe(1n);
    expect(k.run('call 8\nexit')).toBe(3n);
    k.runtime.cpu = 5;
    expect(k.run('call 8\nexit')).toBe(5n);
    expect(kernel().run('call 80\nexit')).toBe(1n);
  });

  it('kernel memory blobs from the host are readable by address', () => {
    const k = kernel();
    const blob = k.runtime.kernel.alloc(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
    expect(blob).toBeGreaterThan(slotBase(KERNEL_SLOT));
    expect(k.run(`lddw %r1, ${blob}\nldxdw %r0, [%r1]\nexit`)).toBe(0x0807060504030201n);
  });
});

describe('clock', () => {
  const READ3 = `
    call 5
    mov %r6, %r0
    call 5
    sub %r0, %r6
    exit`;

  it('each reading advances by stepNs; each run by runStepNs', () => {
    const k = kernel({ clock: { startNs: 5_000_000_000n, stepNs: 250n, runStepNs: 1_000_000n } });
    expect(k.run(READ3)).toBe(250n);
    // First run began at start + runStep; two readings.
    expect(k.run('call 5\nexit')).toBe(5_000_000_000n + 1_000_000n + 500n + 1_000_000n);
  });

  it('boot time adds suspended time; coarse time is truncated to the tick', () => {
    const k = kernel({ clock: { startNs: 10_000_123n, stepNs: 0n, runStepNs: 0n, suspendedNs: 7n } });
    expect(k.run('call 5\nexit')).toBe(10_000_123n);
    expect(k.run('call 125\nexit')).toBe(10_000_130n);
    expect(k.run('call 160\nexit')).toBe(8_000_000n);
  });

  it('is deterministic: same configuration, same times', () => {
    const times = () => {
      const k = kernel({ clock: { startNs: 1n, stepNs: 3n } });
      return [k.run('call 5\nexit'), k.run('call 125\nexit'), k.run('call 160\nexit')];
    };
    expect(times()).toEqual(times());
  });
});

describe('bpf_get_prandom_u32', () => {
  const TWO = 'call 7\nmov %r6, %r0\nlsh %r6, 32\ncall 7\nor %r0, %r6\nexit';

  it('the same seed gives the same sequence, another seed another one', () => {
    const seq = (seed: number) => {
      const k = kernel({ seed });
      return [k.run(TWO), k.run(TWO), k.run(TWO)];
    };
    expect(seq(42)).toEqual(seq(42));
    expect(seq(42)).not.toEqual(seq(43));
    for (const v of seq(42)) expect(v >> 32n).toBeLessThan(1n << 32n);
  });

  it('is the kernel lfsr113 generator (prandom_u32_state)', () => {
    // Reference: the Tausworthe recurrences written out with BigInt from lib/random32.c.
    const seed = 0x1234_5678_9abc_def0n;
    const i = ((seed >> 32n) ^ (seed << 10n) ^ seed) & 0xffffffffn;
    const s = [2n, 8n, 16n, 128n].map((m) => (i < m ? i + m : i));
    const taus = (x: bigint, a: bigint, b: bigint, c: bigint, d: bigint) =>
      (((x & c) << d) & 0xffffffffn) ^ ((((x << a) & 0xffffffffn) ^ x) >> b);
    const next = () => {
      s[0] = taus(s[0], 6n, 13n, 4294967294n, 18n);
      s[1] = taus(s[1], 2n, 27n, 4294967288n, 2n);
      s[2] = taus(s[2], 13n, 21n, 4294967280n, 7n);
      s[3] = taus(s[3], 3n, 12n, 4294967168n, 13n);
      return Number(s[0] ^ s[1] ^ s[2] ^ s[3]);
    };
    for (let k = 0; k < 10; k++) next();
    const p = new Prandom(seed);
    for (let k = 0; k < 100; k++) expect(p.next()).toBe(next());
  });
});
