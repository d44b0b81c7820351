/**
 * Mutation test of the whole object loader: seeded corruptions of clang-19 objects go through
 * `OpenObject.open` (ELF, .BTF, .BTF.ext, CO-RE, BTF-defined maps) and `loadBpfObject` (maps created
 * in guest memory, globals written, programs linked and lowered, `.maps` initializers filled). Each
 * variant must end in a clean load or a BpfError — never another exception, never a hang. Variants run
 * in a worker thread (loader-mutation-worker.mjs) with a watchdog, so a hang (or a heap exhaustion) fails the test naming the
 * variant instead of stalling or killing the test process. Mutations: loader-mutation-variants.ts.
 * BPFBOX_LOAD_MUTATIONS=N raises the number of variants (default 10,000, split across the objects);
 * BPFBOX_MUTATIONS_REPORT=1 prints the outcomes.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { readElf } from '../../src/elf/reader.js';
import { loadBpfObject } from '../../src/runtime/loader.js';
import { MapDefinitionError } from '../../src/runtime/maps/errors.js';
import { createMaps } from '../../src/runtime/maps/host-api.js';
import type { MapDefinition } from '../../src/runtime/maps/map-def.js';
import { GuestMemory } from '../../src/vm/memory/guest-memory.js';
import { clangAvailable, compileBpf, MULTI_SOURCE, TAILCALL_SOURCE, warnIfMissing } from '../elf/compile.js';
import { outcomeOf, RICH_SOURCE, VARIANT_LIMIT_MS, type VariantsReport } from './loader-mutation-variants.js';

warnIfMissing('test/runtime/loader-mutation');

const TOTAL = Number(process.env.BPFBOX_LOAD_MUTATIONS ?? 10_000);
/** No progress for this long means a variant hangs (the per-variant limit is checked in the worker). */
const WATCHDOG_MS = 5 * VARIANT_LIMIT_MS;

/** Runs the variants in a worker; rejects naming the variant on a hang, a crash or a foreign exception. */
function runInWorker(name: string, bytes: Uint8Array, seed: number, count: number): Promise<VariantsReport> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./loader-mutation-worker.mjs', import.meta.url), {
      workerData: { name, bytes, seed, count },
      // A runaway allocation ends the worker (reported below) rather than the test process.
      resourceLimits: { maxOldGenerationSizeMb: 1024 },
    });
    let current = -1;
    let lastProgress = performance.now();
    const finish = (f: () => void): void => {
      clearInterval(watchdog);
      void worker.terminate();
      f();
    };
    const watchdog = setInterval(() => {
      if (performance.now() - lastProgress > WATCHDOG_MS) {
        finish(() =>
          reject(new Error(`variant ${current} of ${name} hangs (no result after ${WATCHDOG_MS} ms)`)),
        );
      }
    }, 200);
    worker.on('message', (m: { kind: string; i?: number; report?: VariantsReport; message?: string }) => {
      if (m.kind === 'progress') {
        current = m.i ?? current;
        lastProgress = performance.now();
      } else if (m.kind === 'done' && m.report !== undefined) {
        const report = m.report;
        finish(() => resolve(report));
      } else finish(() => reject(new Error(m.message)));
    });
    worker.on('error', (e) =>
      finish(() => reject(new Error(`variant ${current} of ${name} crashed the worker: ${e}`))),
    );
    worker.on('exit', (code) =>
      finish(() => reject(new Error(`worker of ${name} exited with code ${code} at variant ${current}`))),
    );
  });
}

describe.skipIf(!clangAvailable)('mutated objects through OpenObject.open and loadBpfObject', () => {
  const objects: [string, Uint8Array][] = clangAvailable
    ? [
        ['rich', compileBpf(RICH_SOURCE)],
        ['rich -mcpu=v4', compileBpf(RICH_SOURCE, ['-mcpu=v4'])],
        ['multi', compileBpf(MULTI_SOURCE)],
        ['tail calls', compileBpf(TAILCALL_SOURCE)],
      ]
    : [];

  for (const [index, [name, original]] of objects.entries()) {
    it(`${name}: every variant loads cleanly or fails with a BpfError`, async () => {
      expect(outcomeOf(original).outcome).toBe('ok');
      const variants = Math.ceil(TOTAL / objects.length);
      const report = await runInWorker(name, original, 0x10ad + index, variants);
      if (process.env.BPFBOX_MUTATIONS_REPORT) console.log(name, report);
      const { outcomes } = report;
      expect(Object.values(outcomes).reduce((a, b) => a + b, 0)).toBe(variants);
      // The mutations reach past the first checks: BTF and map errors as well as clean loads.
      expect(outcomes.ok ?? 0).toBeGreaterThan(0);
      expect(outcomes.BAD_BTF ?? 0).toBeGreaterThan(0);
      expect(Object.keys(outcomes).length).toBeGreaterThan(4);
    }, 300_000);
  }
});

/** Crashes the mutations found, each reduced to the smallest input. */
describe('regressions', () => {
  const inner: MapDefinition = {
    name: 'in',
    type: 'array',
    keySize: 4,
    valueSize: 4,
    maxEntries: 1,
    flags: 0,
  };
  const base = { keySize: 4, valueSize: 4, flags: 0 } as const;

  it.each<MapDefinition>([
    // Host-side maps allocated max_entries slots up front: 2^32 - 1 aborted the process (heap OOM).
    { ...base, name: 'pa', type: 'prog_array', maxEntries: 0xffffffff },
    { ...base, name: 'pe', type: 'perf_event_array', maxEntries: 0xffffffff },
    { ...base, name: 'aom', type: 'array_of_maps', maxEntries: 0x7fffffff, inner },
    { ...base, name: 'hom', type: 'hash_of_maps', maxEntries: 1 << 30, inner },
    { ...base, name: 'q', type: 'queue', keySize: 0, maxEntries: 0xffffffff },
    { ...base, name: 's', type: 'stack', keySize: 0, valueSize: 64, maxEntries: 1 << 24 },
  ])('an oversize $type is a BAD_MAP, not an allocation', (def) => {
    const create = () => createMaps([def], new GuestMemory({ maxBytes: 1 << 24 }));
    expect(create).toThrow(MapDefinitionError);
    expect(create).toThrow(/maps kept on the host need \d+ bytes/);
  });

  it('host-side maps up to the limit are still created', () => {
    const maps = createMaps(
      [
        { ...base, name: 'pa', type: 'prog_array', maxEntries: 1 << 16 },
        { ...base, name: 'q', type: 'queue', keySize: 0, maxEntries: 1 << 16 },
      ],
      new GuestMemory({ maxBytes: 1 << 24 }),
    );
    expect(maps.maps.map((m) => m.def.maxEntries)).toEqual([1 << 16, 1 << 16]);
  });

  it.skipIf(!clangAvailable)(
    'a legacy prog_array with max_entries 2^32 - 1 fails the load with BAD_MAP',
    () => {
      const bytes = compileBpf(RICH_SOURCE);
      const elf = readElf(bytes);
      const maps = elf.sections.find((s) => s.name === 'maps');
      const symbol = elf.symbols.find((s) => s.name === 'legacy_pa');
      if (maps === undefined || symbol === undefined) throw new Error('no legacy_pa in the object');
      new DataView(bytes.buffer).setUint32(maps.offset + symbol.value + 12, 0xffffffff, true);
      expect(() => loadBpfObject(bytes)).toThrow(/legacy_pa.*maps kept on the host/);
    },
  );
});
