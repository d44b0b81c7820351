/** The map helpers driven by assembled programs: map references in registers, guest pointers, traps. */
import { describe, expect, it } from 'vitest';
import { MemoryFault } from '../../src/errors.js';
import { registerMapHelpers } from '../../src/runtime/helpers/maps.js';
import { ArrayMap } from '../../src/runtime/maps/array.js';
import {
  BPF_F_CURRENT_CPU,
  BPF_F_NO_PREALLOC,
  BPF_F_RDONLY_PROG,
  E2BIG,
  EEXIST,
  ENOENT,
} from '../../src/runtime/maps/constants.js';
import { MapTrap } from '../../src/runtime/maps/errors.js';
import { HashMap } from '../../src/runtime/maps/hash.js';
import { MAP_HANDLE_SLOT, mapHandle } from '../../src/runtime/maps/host-api.js';
import { LpmTrie } from '../../src/runtime/maps/lpm-trie.js';
import { ArrayOfMaps } from '../../src/runtime/maps/map-of-maps.js';
import { PerfEventArray } from '../../src/runtime/maps/perf-event-array.js';
import { ProgArray } from '../../src/runtime/maps/prog-array.js';
import { QueueStackMap } from '../../src/runtime/maps/queue-stack.js';
import { RingBuf } from '../../src/runtime/maps/ringbuf.js';
import type { Interpreter } from '../../src/vm/interpreter/interpreter.js';
import { Slot, slotBase } from '../../src/vm/memory/layout.js';
import { def, program, readU64, setup, u32, u64 } from './fixtures.js';

const neg = (errno: number) => BigInt.asUintN(64, BigInt(-errno));

function trap<T>(f: () => unknown, type: new (...a: never[]) => T): T {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(type);
    return e as T;
  }
  throw new Error('expected a trap');
}

/** Counter: key r1 (u32 on the stack), value += 1 through the pointer, or insert 1. Returns the count. */
const COUNTER = `
  stw [%r10-4], 7
  lddw map_idx %r1, 0
  mov %r2, %r10
  add %r2, -4
  call 1
  jeq %r0, 0, insert
  ldxdw %r1, [%r0]
  add %r1, 1
  stxdw [%r0], %r1
  ja done
insert:
  stdw [%r10-16], 1
  lddw map_idx %r1, 0
  mov %r2, %r10
  add %r2, -4
  mov %r3, %r10
  add %r3, -16
  mov %r4, 1
  call 2
done:
  lddw map_idx %r1, 0
  mov %r2, %r10
  add %r2, -4
  call 1
  ldxdw %r0, [%r0]
  exit`;

describe('map helpers', () => {
  it('lddw map_idx loads the map handle, an address nothing can read', () => {
    const { maps, memory } = setup([
      { name: 'a', type: 'hash' },
      { name: 'b', type: 'array' },
    ]);
    const vm = program(maps, memory, 'lddw map_idx %r0, 1\nexit');
    expect(vm.run().r0).toBe(BigInt(mapHandle(1)));
    expect(maps.byName('b')?.handle).toBe(mapHandle(1));
    expect(mapHandle(0) >>> 28).toBe(MAP_HANDLE_SLOT);
    expect(maps.fromHandle(mapHandle(1))?.name).toBe('b');
    expect(maps.fromHandle(mapHandle(1) + 8)).toBeUndefined();
    const read = program(maps, memory, 'lddw map_idx %r1, 0\nldxdw %r0, [%r1]\nexit');
    expect(trap(() => read.run(), MemoryFault).address).toBe(BigInt(slotBase(MAP_HANDLE_SLOT)));
    expect(() => program(maps, memory, 'lddw map_idx %r0, 2\nexit')).toThrow(/map 2, which does not exist/);
  });

  it('lookup / update through guest pointers: a counter program', () => {
    const { maps, memory } = setup([{ name: 'counts', type: 'hash', maxEntries: 4 }]);
    const vm = program(maps, memory, COUNTER);
    expect(vm.run().r0).toBe(1n);
    expect(vm.run().r0).toBe(2n);
    expect(vm.run().r0).toBe(3n);
    const counts = maps.get('counts', HashMap);
    expect(readU64(counts.lookup(u32(7)))).toBe(3n);
    counts.update(u32(7), u64(100)); // host writes are seen by the program
    expect(vm.run().r0).toBe(101n);
  });

  it('update and delete return the kernel errnos to the program', () => {
    const { maps, memory } = setup([{ name: 'h', type: 'hash', maxEntries: 1 }]);
    const update = (key: number, flags: number) =>
      program(
        maps,
        memory,
        `stw [%r10-4], ${key}
         stdw [%r10-16], 5
         lddw map_idx %r1, 0
         mov %r2, %r10
         add %r2, -4
         mov %r3, %r10
         add %r3, -16
         mov %r4, ${flags}
         call 2
         exit`,
      ).run().r0;
    const del = (key: number) =>
      program(
        maps,
        memory,
        `stw [%r10-4], ${key}\nlddw map_idx %r1, 0\nmov %r2, %r10\nadd %r2, -4\ncall 3\nexit`,
      ).run().r0;
    expect(update(1, 2)).toBe(neg(ENOENT));
    expect(update(1, 0)).toBe(0n);
    expect(update(1, 1)).toBe(neg(EEXIST));
    expect(update(2, 0)).toBe(neg(E2BIG));
    expect(del(2)).toBe(neg(ENOENT));
    expect(del(1)).toBe(0n);
  });

  it('per-CPU lookups return the current CPU copy', () => {
    const { maps, memory } = setup([{ name: 'p', type: 'percpu_array', maxEntries: 1 }], 4);
    const vm = program(
      maps,
      memory,
      `stw [%r10-4], 0
       lddw map_idx %r1, 0
       mov %r2, %r10
       add %r2, -4
       call 1
       ldxdw %r1, [%r0]
       add %r1, 1
       stxdw [%r0], %r1
       exit`,
    );
    for (const cpu of [0, 2, 2, 3, 2]) {
      maps.currentCpu = cpu;
      vm.run();
    }
    expect(maps.get('p', ArrayMap).lookupPerCpu(u32(0))?.map(readU64)).toEqual([1n, 0n, 3n, 1n]);
  });

  it('LPM lookups from a program: longest prefix, and the value pointer writes through', () => {
    const { maps, memory } = setup([
      { name: 'routes', type: 'lpm_trie', keySize: 8, maxEntries: 4, flags: BPF_F_NO_PREALLOC },
    ]);
    const routes = maps.get('routes', LpmTrie);
    routes.update(Uint8Array.of(...u32(8), 10, 0, 0, 0), u64(1));
    routes.update(Uint8Array.of(...u32(24), 10, 1, 2, 0), u64(2));
    // key = {prefixlen 32, 10.1.2.3}; value += 100 through the returned pointer; r0 = new value
    const vm = program(
      maps,
      memory,
      `stw [%r10-8], 32
       stw [%r10-4], 0x0302010a
       lddw map_idx %r1, 0
       mov %r2, %r10
       add %r2, -8
       call 1
       jeq %r0, 0, miss
       ldxdw %r1, [%r0]
       add %r1, 100
       stxdw [%r0], %r1
       mov %r0, %r1
       exit
     miss:
       mov %r0, -1
       exit`,
    );
    expect(vm.run().r0).toBe(102n);
    expect(readU64(routes.lookupExact(Uint8Array.of(...u32(24), 10, 1, 2, 0)))).toBe(102n);
    expect(readU64(routes.lookupExact(Uint8Array.of(...u32(8), 10, 0, 0, 0)))).toBe(1n);
  });

  it('bpf_map_lookup_percpu_elem reads another CPU copy; NULL past the last CPU', () => {
    const { maps, memory } = setup([{ name: 'p', type: 'percpu_hash', maxEntries: 2 }], 3);
    maps.get('p', HashMap).updatePerCpu(u32(5), [u64(10), u64(11), u64(12)]);
    const onCpu = (cpu: number) =>
      program(
        maps,
        memory,
        `stw [%r10-4], 5
         lddw map_idx %r1, 0
         mov %r2, %r10
         add %r2, -4
         mov %r3, ${cpu}
         call 195
         jeq %r0, 0, +1
         ldxdw %r0, [%r0]
         exit`,
      ).run().r0;
    expect([onCpu(0), onCpu(1), onCpu(2), onCpu(3)]).toEqual([10n, 11n, 12n, 0n]);
  });

  it('ringbuf reserve / submit / discard / output / query from a program', () => {
    const { maps, memory } = setup([
      { name: 'rb', type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 4096 },
    ]);
    const vm = program(
      maps,
      memory,
      `lddw map_idx %r1, 0
       mov %r2, 8
       mov %r3, 0
       call 131
       jeq %r0, 0, fail
       stdw [%r0], 0x1234
       mov %r1, %r0
       mov %r2, 0
       call 132
       lddw map_idx %r1, 0
       mov %r2, 16
       mov %r3, 0
       call 131
       mov %r1, %r0
       mov %r2, 0
       call 133
       stdw [%r10-8], 0x55
       lddw map_idx %r1, 0
       mov %r2, %r10
       add %r2, -8
       mov %r3, 8
       mov %r4, 0
       call 130
       lddw map_idx %r1, 0
       mov %r2, 0
       call 134
       exit
     fail:
       mov %r0, -1
       exit`,
    );
    expect(vm.run().r0).toBe(16n + 24n + 16n); // three records pending, one of them discarded
    expect(maps.get('rb', RingBuf).consume()).toEqual([u64(0x1234), u64(0x55)]);
  });

  it('traps on a ringbuf submit of a pointer that is not a reserved record', () => {
    const { maps, memory } = setup([
      { name: 'rb', type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 4096 },
    ]);
    const vm = program(maps, memory, 'mov %r1, %r10\nmov %r2, 0\ncall 132\nexit');
    expect(trap(() => vm.run(), MapTrap)).toMatchObject({ code: 'BAD_RINGBUF_RECORD', pc: 2 });
  });

  it('queue push / pop / peek copy values between the stack and the map', () => {
    const { maps, memory } = setup([{ name: 'q', type: 'queue', keySize: 0, maxEntries: 2 }]);
    const q = maps.get('q', QueueStackMap);
    q.update(new Uint8Array(0), u64(11));
    const vm = program(
      maps,
      memory,
      `stdw [%r10-8], 22
       lddw map_idx %r1, 0
       mov %r2, %r10
       add %r2, -8
       mov %r3, 0
       call 87
       lddw map_idx %r1, 0
       mov %r2, %r10
       add %r2, -16
       call 88
       lddw map_idx %r1, 0
       mov %r2, %r10
       add %r2, -24
       call 89
       ldxdw %r0, [%r10-16]
       ldxdw %r1, [%r10-24]
       lsh %r0, 8
       or %r0, %r1
       exit`,
    );
    expect(vm.run().r0).toBe((11n << 8n) | 22n);
    expect(q.values()).toEqual([u64(22)]);
  });

  it('perf_event_output sends to the current CPU buffer', () => {
    const { maps, memory } = setup(
      [{ name: 'ev', type: 'perf_event_array', valueSize: 4, maxEntries: 2 }],
      2,
    );
    maps.currentCpu = 1;
    const vm = program(
      maps,
      memory,
      `stdw [%r10-8], 9
       lddw map_idx %r2, 0
       lddw %r3, ${BPF_F_CURRENT_CPU}
       mov %r4, %r10
       add %r4, -8
       mov %r5, 8
       call 25
       exit`,
    );
    expect(vm.run().r0).toBe(0n);
    expect(maps.get('ev', PerfEventArray).drain()).toEqual([{ index: 1, cpu: 1, data: u64(9) }]);
  });

  it('map-in-map: the handle from an outer lookup works with the other helpers', () => {
    const inner = def({ name: 'inner', type: 'array', maxEntries: 1 });
    const { maps, memory } = setup([
      { name: 'outer', type: 'array_of_maps', valueSize: 4, maxEntries: 1, inner },
      inner,
    ]);
    maps.get('outer', ArrayOfMaps).setMap(u32(0), maps.get('inner', ArrayMap));
    maps.get('inner', ArrayMap).update(u32(0), u64(77));
    const vm = program(
      maps,
      memory,
      `stw [%r10-4], 0
       lddw map_idx %r1, 0
       mov %r2, %r10
       add %r2, -4
       call 1
       mov %r1, %r0
       mov %r2, %r10
       add %r2, -4
       call 1
       ldxdw %r0, [%r0]
       exit`,
    );
    expect(vm.run().r0).toBe(77n);
  });

  it('bpf_tail_call jumps to the program stored in a PROG_ARRAY, and falls through when empty', () => {
    const { maps, memory } = setup([{ name: 'jmp', type: 'prog_array', valueSize: 4, maxEntries: 2 }]);
    const dispatcher = program(
      maps,
      memory,
      `mov %r6, %r1
       lddw map_idx %r2, 0
       mov %r3, %r6
       call 12
       mov %r0, 1000
       add %r0, %r6
       exit`,
    );
    const target = program(maps, memory, 'mov %r0, 42\nexit');
    const jmp = maps.get('jmp', ProgArray) as ProgArray<Interpreter>;
    expect(jmp.set(1, target)).toBe(0);
    expect(dispatcher.run({ args: [1] }).r0).toBe(42n);
    expect(dispatcher.run({ args: [0] }).r0).toBe(1000n);
    expect(dispatcher.run({ args: [5] }).r0).toBe(1005n);
  });

  it('global data: map_idx_value points into the value; .rodata-style maps are read-only for programs', () => {
    const { maps, memory } = setup([
      { name: '.data', type: 'array', valueSize: 16, maxEntries: 1 },
      { name: '.rodata', type: 'array', valueSize: 16, maxEntries: 1, flags: BPF_F_RDONLY_PROG },
    ]);
    const rodata = maps.get('.rodata', ArrayMap);
    expect(rodata.address(0) >>> 28).toBe(Slot.RODATA);
    expect(maps.get('.data', ArrayMap).address(0) >>> 28).toBe(Slot.MAP_VALUES);
    // Host writes before load, like a skeleton's const volatile globals.
    expect(rodata.update(u32(0), new Uint8Array(16).fill(3))).toBe(0);
    const read = program(
      maps,
      memory,
      'lddw map_idx_value %r1, 1, 8\nldxdw %r0, [%r1]\nstdw [%r1-8], 1\nexit',
    );
    expect(trap(() => read.run(), MemoryFault)).toMatchObject({ pc: 3, access: 'write' });
    const data = program(maps, memory, 'lddw map_idx_value %r1, 0, 4\nstw [%r1], 9\nldxw %r0, [%r1]\nexit');
    expect(data.run().r0).toBe(9n);
    expect(maps.get('.data', ArrayMap).lookup(u32(0))?.[4]).toBe(9);
    const update = program(
      maps,
      memory,
      'stw [%r10-4], 0\nlddw map_idx %r1, 1\nmov %r2, %r10\nadd %r2, -4\nmov %r3, %r10\nadd %r3, -4\nmov %r4, 0\ncall 2\nexit',
    );
    expect(trap(() => update.run(), MapTrap)).toMatchObject({ code: 'MAP_ACCESS' });
    expect(() => program(maps, memory, 'lddw map_idx_value %r1, 1, 16\nexit')).toThrow(
      /byte 16 of map ".rodata"/,
    );
  });

  it('traps with BAD_MAP_HANDLE for a register that is not a map, BAD_MAP_TYPE for a refused type', () => {
    const { maps, memory } = setup([{ name: 'q', type: 'queue', keySize: 0 }]);
    const notMap = program(maps, memory, 'mov %r1, 5\nmov %r2, %r10\ncall 1\nexit');
    expect(trap(() => notMap.run(), MapTrap)).toMatchObject({ code: 'BAD_MAP_HANDLE', pc: 2 });
    const wrongType = program(maps, memory, 'lddw map_idx %r1, 0\nmov %r2, %r10\ncall 1\nexit');
    const e = trap(() => wrongType.run(), MapTrap);
    expect(e.code).toBe('BAD_MAP_TYPE');
    expect(e.message).toMatch(/map "q" is a queue map/);
  });

  it('faults on a key pointer outside guest memory, naming the helper call pc', () => {
    const { maps, memory } = setup([{ name: 'h', type: 'hash' }]);
    const vm = program(maps, memory, 'lddw map_idx %r1, 0\nmov %r2, 0\ncall 1\nexit');
    expect(trap(() => vm.run(), MemoryFault)).toMatchObject({ pc: 3, access: 'read', size: 4 });
  });

  it('dumps maps as hex JSON and drains ringbuf and perf records', () => {
    const { maps } = setup(
      [
        { name: 'h', type: 'hash', keySize: 2, valueSize: 2 },
        { name: 'p', type: 'percpu_array', valueSize: 1, maxEntries: 1 },
        { name: 'rb', type: 'ringbuf', keySize: 0, valueSize: 0, maxEntries: 4096 },
        { name: 'ev', type: 'perf_event_array', valueSize: 4, maxEntries: 0 },
      ],
      2,
    );
    maps.get('h', HashMap).update(Uint8Array.of(1, 2), Uint8Array.of(0xab, 0xcd));
    maps.get('p', ArrayMap).updatePerCpu(u32(0), [Uint8Array.of(1), Uint8Array.of(2)]);
    maps.get('rb', RingBuf).output(Uint8Array.of(9, 8), 0, 2, 0);
    maps.get('ev', PerfEventArray).output(Uint8Array.of(7), 0, 1, BPF_F_CURRENT_CPU);
    expect(maps.dump()).toEqual({
      h: [{ key: '0102', value: 'abcd' }],
      p: [{ key: '00000000', value: ['01', '02'] }],
    });
    expect(maps.drainEvents()).toEqual({
      ringbuf: [Uint8Array.of(9, 8)],
      perf: [{ index: 0, cpu: 0, data: Uint8Array.of(7) }],
    });
    expect(maps.drainEvents()).toEqual({ ringbuf: [], perf: [] });
  });

  it('registers into an existing registry', () => {
    const { maps } = setup([def({ name: 'h', type: 'hash' })]);
    expect(registerMapHelpers(maps).ids()).toEqual([
      1, 2, 3, 12, 25, 87, 88, 89, 130, 131, 132, 133, 134, 195,
    ]);
  });
});
