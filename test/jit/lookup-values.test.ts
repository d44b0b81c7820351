/**
 * Accesses through an inline lookup's result without a window check (jit/lookup-values.ts): which
 * accesses the walk proves, and — on both engines, through the real maps — that every access it must
 * not prove (past the value, before it, through a rewritten register, at a join another path
 * reaches, a write to a read-only value) faults at the interpreter's pc and address, while proven
 * ones read and write what the interpreter does. The maps hold one element, so the values region
 * ends right after it: a load just past the value is outside every region.
 */
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.js';
import { BpfError, MemoryFault } from '../../src/errors.js';
import { EXECUTORS, type ExecutorKind } from '../../src/executors.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { analyze } from '../../src/jit/control-flow.js';
import { provenValueAccesses } from '../../src/jit/lookup-values.js';
import { registerMapHelpers } from '../../src/runtime/helpers/maps.js';
import { BPF_F_RDONLY_PROG } from '../../src/runtime/maps/constants.js';
import { createMaps } from '../../src/runtime/maps/host-api.js';
import type { MapTypeName } from '../../src/runtime/maps/map-def.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';
import { Slot } from '../../src/vm/memory/layout.js';

const ENGINES: readonly ExecutorKind[] = ['interp', 'jit'];

/** A lookup of key 0 (stored at r10 − 4) in map 0, wholly inline on the JIT; `after` follows the call. */
const lookup = (after: string) => `
  mov %r6, 0x7000
  stw [%r10-4], 0
  mov %r2, %r10
  add %r2, -4
  lddw map_idx %r1, 0
  call 1
  ${after}`;

/** Instruction indexes the walk proves, for a lookup at index `call` whose value spans `span` bytes. */
function proven(text: string, slot: number, span: number): number[] {
  const program = decodeProgram(assemble(text));
  const layout = analyze(program);
  const call = program.insns.findIndex((x) => x.kind === 'call');
  const slots = new Int8Array(program.insns.length);
  const spans = new Int32Array(program.insns.length);
  slots[call] = slot;
  spans[call] = span;
  const out = provenValueAccesses(
    program.insns,
    layout.facts,
    layout.leader,
    layout.jumpTarget,
    layout.functionAt,
    { slots, spans },
  );
  return out === undefined ? [] : [...out.keys()].filter((i) => out[i] !== 0);
}

describe('proven accesses through an inline lookup result', () => {
  it('proves loads and stores within the value on the non-NULL path, through copies', () => {
    // Indexes: 0 mov, 1 stw, 2 mov, 3 add, 4 lddw, 5 call, 6 jeq, 7.. the accesses.
    const text = lookup(`
      jeq %r0, 0, miss
      ldxdw %r1, [%r0]
      ldxw %r3, [%r0+4]
      mov %r4, %r0
      stxdw [%r4], %r1
      ldxb %r5, [%r0+8]
      ldxb %r5, [%r0-1]
      ldxdw %r5, [%r1]
      exit
    miss:
      exit`);
    expect(proven(text, Slot.MAP_VALUES, 8)).toEqual([7, 8, 10]);
    // Writes only in the read-write values slot.
    expect(proven(text, Slot.RODATA, 8)).toEqual([7, 8]);
    // The span decides how far from the pointer an access may reach.
    expect(proven(text, Slot.MAP_VALUES, 16)).toEqual([7, 8, 10, 11]);
    expect(proven(text, Slot.MAP_VALUES, 4)).toEqual([]);
  });

  it('proves nothing before the NULL test, after a rewrite, past a join, a call, or a 32-bit or jne test', () => {
    for (const after of [
      'ldxdw %r1, [%r0]\n exit',
      'jeq %r0, 0, miss\n add %r0, 8\n ldxdw %r1, [%r0-8]\n exit\n miss:\n exit',
      'jeq %r0, 0, miss\n use:\n ldxdw %r0, [%r0]\n exit\n miss:\n mov %r0, %r6\n ja use',
      'jeq %r0, 0, miss\n mov %r7, %r0\n call 1\n ldxdw %r1, [%r7]\n exit\n miss:\n exit',
      'jeq32 %r0, 0, miss\n ldxdw %r1, [%r0]\n exit\n miss:\n exit',
      'jne %r0, 0, hit\n exit\n hit:\n ldxdw %r1, [%r0]\n exit',
    ]) {
      expect(proven(lookup(after), Slot.MAP_VALUES, 8)).toEqual([]);
    }
  });
});

/** Runs `text` against a one-element map with key 0 present (or absent); r0 or the fault's details. */
function run(kind: ExecutorKind, text: string, type: MapTypeName, flags = 0, present = true) {
  const memory = new GuestMemory();
  memory.mapStack();
  const maps = createMaps([{ name: 'm', type, keySize: 4, valueSize: 8, maxEntries: 1, flags }], memory, {
    cpus: 1,
  });
  if (present) maps.maps[0].update(new Uint8Array(4), new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
  const helpers = registerMapHelpers(maps);
  const program = EXECUTORS[kind](decodeProgram(assemble(text)), {
    memory,
    helpers,
    resolveLddw: maps.lddwResolver(),
  });
  try {
    return { r0: program.run().r0, dump: maps.dump() };
  } catch (e) {
    if (!(e instanceof BpfError)) throw e;
    const f = e as MemoryFault;
    return { code: f.code, pc: f.pc, address: f instanceof MemoryFault ? f.address : undefined };
  }
}

describe('accesses through an inline lookup result on both engines', () => {
  const cases: [string, string, MapTypeName, number, 'r0' | 'MEMORY_FAULT'][] = [
    [
      'a load of the whole value',
      'jeq %r0, 0, miss\n ldxdw %r0, [%r0]\n exit\n miss:\n exit',
      'hash',
      0,
      'r0',
    ],
    [
      'a read-modify-write of the value',
      'jeq %r0, 0, miss\n ldxw %r1, [%r0+4]\n add %r1, 1\n stxw [%r0+4], %r1\n ldxdw %r0, [%r0]\n exit\n miss:\n exit',
      'hash',
      0,
      'r0',
    ],
    [
      'a load one byte past the value',
      'jeq %r0, 0, miss\n ldxdw %r0, [%r0+1]\n exit\n miss:\n exit',
      'hash',
      0,
      'MEMORY_FAULT',
    ],
    [
      'a load just past the value',
      'jeq %r0, 0, miss\n ldxb %r0, [%r0+8]\n exit\n miss:\n exit',
      'array',
      0,
      'MEMORY_FAULT',
    ],
    [
      'a load before the value',
      'jeq %r0, 0, miss\n ldxb %r0, [%r0-1]\n exit\n miss:\n exit',
      'hash',
      0,
      'MEMORY_FAULT',
    ],
    [
      'a load through the register after it moved',
      'jeq %r0, 0, miss\n add %r0, 8\n ldxdw %r0, [%r0]\n exit\n miss:\n exit',
      'hash',
      0,
      'MEMORY_FAULT',
    ],
    [
      'a write to a read-only value',
      'jeq %r0, 0, miss\n stw [%r0], 1\n exit\n miss:\n exit',
      'array',
      BPF_F_RDONLY_PROG,
      'MEMORY_FAULT',
    ],
    [
      'a read of a read-only value',
      'jeq %r0, 0, miss\n ldxdw %r0, [%r0]\n exit\n miss:\n exit',
      'array',
      BPF_F_RDONLY_PROG,
      'r0',
    ],
  ];
  for (const [what, after, type, flags, want] of cases) {
    it(`${what} (${type}): ${want}, the same on both engines`, () => {
      const [a, b] = ENGINES.map((kind) => run(kind, lookup(after), type, flags));
      if (want === 'r0') expect(a.r0).toBeDefined();
      else expect(a.code).toBe(want);
      expect(b).toEqual(a);
    });
  }

  it('a join that another path reaches with an unmapped address faults at the interpreter pc', () => {
    const text = lookup('jeq %r0, 0, miss\n use:\n ldxdw %r0, [%r0]\n exit\n miss:\n mov %r0, %r6\n ja use');
    const [a, b] = ENGINES.map((kind) => run(kind, text, 'hash', 0, false));
    expect(a).toMatchObject({ code: 'MEMORY_FAULT', address: 0x7000n });
    expect(b).toEqual(a);
    const [c, d] = ENGINES.map((kind) => run(kind, text, 'hash', 0, true));
    expect(c.r0).toBe(0x0807060504030201n);
    expect(d).toEqual(c);
  });
});
