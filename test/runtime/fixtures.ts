/** Shared setup of the map runtime tests: guest memory with a stack, a MapSet, byte builders. */
import { assemble } from '../../src/asm/index.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { registerMapHelpers } from '../../src/runtime/helpers/maps.js';
import { createMaps, type MapSet } from '../../src/runtime/maps/host-api.js';
import type { MapDefinition, MapTypeName } from '../../src/runtime/maps/map-def.js';
import { Interpreter } from '../../src/vm/interpreter/interpreter.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';

export type Def = Partial<MapDefinition> & { name: string; type: MapTypeName };

export function def(d: Def): MapDefinition {
  return { keySize: 4, valueSize: 8, maxEntries: 4, flags: 0, ...d };
}

export function setup(defs: Def[], cpus = 1): { memory: GuestMemory; maps: MapSet } {
  const memory = new GuestMemory();
  memory.mapStack();
  return { memory, maps: createMaps(defs.map(def), memory, { cpus }) };
}

export function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}

export function u64(n: bigint | number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, BigInt(n)), true);
  return b;
}

export function readU64(b: Uint8Array | undefined): bigint | undefined {
  return b === undefined ? undefined : new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
}

export function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

/** Assembles uBPF-syntax text and links it against the map helpers and the lddw map resolver. */
export function program(maps: MapSet, memory: GuestMemory, text: string): Interpreter {
  return new Interpreter(decodeProgram(assemble(text)), {
    memory,
    helpers: registerMapHelpers(maps),
    resolveLddw: maps.lddwResolver(),
  });
}
