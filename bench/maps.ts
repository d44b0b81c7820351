/**
 * Map helper micro-benchmark: `npx tsx bench/maps.ts`. A program looks a key up 100,000 times through
 * bpf_map_lookup_elem and increments the value through the returned pointer; the report gives the
 * best time per iteration (8 instructions + one helper call) for each map type and key size, on each
 * engine. On the JIT, array and hash/percpu_hash lookups with 4- or 8-byte keys run inline in wasm
 * (vm/map-lookup.ts); the others call the helper's direct entry through its own import.
 */
import { assemble } from '../src/asm/index.js';
import { EXECUTOR_KINDS, EXECUTORS, type ExecutorKind } from '../src/executors.js';
import { decodeProgram } from '../src/isa/decoder.js';
import { registerMapHelpers } from '../src/runtime/helpers/maps.js';
import { createMaps } from '../src/runtime/maps/host-api.js';
import type { MapTypeName } from '../src/runtime/maps/map-def.js';
import { GuestMemory } from '../src/vm/memory/guest-memory.js';

const ITERATIONS = 100_000;
const PROGRAM = `
  mov %r6, ${ITERATIONS}
  stdw [%r10-16], 3
  stdw [%r10-8], 0
loop:
  lddw map_idx %r1, 0
  mov %r2, %r10
  add %r2, -16
  call 1
  ldxdw %r1, [%r0]
  add %r1, 1
  stxdw [%r0], %r1
  sub %r6, 1
  jne %r6, 0, loop
  exit`;

const CASES: [MapTypeName, number][] = [
  ['array', 4],
  ['percpu_array', 4],
  ['hash', 4],
  ['hash', 8],
  ['hash', 16],
  ['lru_hash', 4],
  ['percpu_hash', 8],
];

function bench(engine: ExecutorKind, type: MapTypeName, keySize: number): number {
  const memory = new GuestMemory();
  memory.mapStack();
  const maps = createMaps([{ name: 'm', type, keySize, valueSize: 8, maxEntries: 1024, flags: 0 }], memory, {
    cpus: 4,
  });
  const key = new Uint8Array(keySize);
  key[0] = 3;
  maps.maps[0].update(key, new Uint8Array(8));
  const vm = EXECUTORS[engine](decodeProgram(assemble(PROGRAM)), {
    memory,
    helpers: registerMapHelpers(maps),
    resolveLddw: maps.lddwResolver(),
  });
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 20; round++) {
    const t = performance.now();
    vm.run();
    best = Math.min(best, performance.now() - t);
  }
  return (best * 1e6) / ITERATIONS;
}

for (const [type, keySize] of CASES) for (const e of EXECUTOR_KINDS) bench(e, type, keySize); // warm-up
console.log(`map type        key  ${EXECUTOR_KINDS.map((e) => `${e} ns/iteration`.padStart(18)).join('')}`);
for (const [type, keySize] of CASES) {
  const cells = EXECUTOR_KINDS.map((e) => bench(e, type, keySize).toFixed(0).padStart(18));
  console.log(`${type.padEnd(15)} ${String(keySize).padStart(3)}  ${cells.join('')}`);
}
