/** Shared setup of the kernel-helper tests: memory, a KernelRuntime, a heap for test data, programs. */
import { assemble } from '../../src/asm/index.js';
import { decodeProgram } from '../../src/isa/decoder.js';
import { registerKernelHelpers } from '../../src/runtime/helpers/index.js';
import { registerMapHelpers } from '../../src/runtime/helpers/maps.js';
import { KernelRuntime, type KernelRuntimeOptions } from '../../src/runtime/helpers/runtime.js';
import { createMaps, type MapSet } from '../../src/runtime/maps/host-api.js';
import type { MapDefinition } from '../../src/runtime/maps/map-def.js';
import { Interpreter } from '../../src/vm/interpreter/interpreter.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';
import { PERM_READ, PERM_WRITE, Slot, slotBase } from '../../src/vm/memory/layout.js';

/** Guest address of the test heap (slot 3), where tests put format strings and buffers. */
export const HEAP = slotBase(Slot.HEAP);
export const HEAP_SIZE = 1 << 16;

export interface Kernel {
  memory: GuestMemory;
  runtime: KernelRuntime;
  maps: MapSet | undefined;
  /** Assembles uBPF text and links it against the kernel (and map) helpers. */
  program(text: string): Interpreter;
  /** Runs a program once (beginRun first) and returns r0. */
  run(text: string, args?: readonly (bigint | number)[]): bigint;
  /** Writes bytes (or a NUL-terminated string) to the heap at `offset`; returns the address. */
  put(offset: number, data: Uint8Array | string): number;
  heap(offset: number, length: number): Uint8Array;
}

export function kernel(
  options: Omit<KernelRuntimeOptions, 'maps'> = {},
  mapDefs: MapDefinition[] = [],
): Kernel {
  const memory = new GuestMemory();
  memory.mapStack();
  memory.map(Slot.HEAP, 'heap', HEAP_SIZE, PERM_READ | PERM_WRITE);
  const maps = mapDefs.length > 0 ? createMaps(mapDefs, memory) : undefined;
  const runtime = new KernelRuntime(memory, { ...options, maps });
  const helpers = registerKernelHelpers(maps ? registerMapHelpers(maps) : undefined, runtime);
  const program = (text: string) =>
    new Interpreter(decodeProgram(assemble(text)), { memory, helpers, resolveLddw: maps?.lddwResolver() });
  return {
    memory,
    runtime,
    maps,
    program,
    run(text, args = []) {
      runtime.beginRun();
      return program(text).run({ args }).r0;
    },
    put(offset, data) {
      const bytes = typeof data === 'string' ? cstring(data) : data;
      memory.write(HEAP + offset, bytes);
      return HEAP + offset;
    },
    heap(offset, length) {
      return memory.read(HEAP + offset, length);
    },
  };
}

export function cstring(text: string): Uint8Array {
  const utf8 = new TextEncoder().encode(text);
  const out = new Uint8Array(utf8.length + 1);
  out.set(utf8);
  return out;
}

/** -errno as the unsigned 64-bit r0 a helper leaves. */
export const neg = (errno: number): bigint => BigInt.asUintN(64, BigInt(-errno));
