/**
 * Object files on the JIT: every examples/*.bpf.c runs the events of its header (`demo:` lines, twice,
 * so maps carry over) on one object loaded per engine, and both engines report identical runs — r0,
 * instructions, gas, printk, ring buffer and perf records, the packet and context after the run, the
 * redirect and every map.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCExampleHeader } from '../../src/cli/demo/c-header.js';
import { fillMaps } from '../../src/cli/demo/map-fill.js';
import { applyRodata } from '../../src/cli/run-input.js';
import { OpenObject } from '../../src/elf/open.js';
import { BpfError, UsageError } from '../../src/errors.js';
import { JitProgram } from '../../src/jit/engine.js';
import { contextResultJson, toHex } from '../../src/runtime/contexts/result-json.js';
import { loadBpfObject, type ObjectEngine } from '../../src/runtime/loader.js';
import { ProgArray } from '../../src/runtime/maps/prog-array.js';
import { readText } from '../../src/util/files.js';
import { clangAvailable, compileExample, EXAMPLES_DIR, warnIfMissing } from '../examples/build.js';
import { hex, ipv4 } from '../examples/packets.js';

warnIfMissing('test/jit/objects');

const EXAMPLES = readdirSync(EXAMPLES_DIR)
  .filter((f) => f.endsWith('.bpf.c'))
  .map((f) => f.slice(0, -'.bpf.c'.length))
  .sort();

/** Every observable outcome of the example's events on `engine`, as plain data. */
function outcomes(name: string, bytes: Uint8Array, engine: ObjectEngine): unknown[] {
  const file = join(EXAMPLES_DIR, `${name}.bpf.c`);
  const { events } = parseCExampleHeader(readText(file), file);
  const open = OpenObject.open(bytes);
  for (const event of events) applyRodata(open, event.input);
  const obj = loadBpfObject(open, { engine });
  for (const p of obj.programs.values()) expect(p.vm instanceof JitProgram).toBe(engine === 'jit');
  return [...events, ...events].map((event) => {
    try {
      const run = obj.run(event.program, fillMaps(obj, event.input));
      return {
        r0: run.r0,
        instructions: run.instructions,
        gasUsed: run.gasUsed,
        printk: run.printk,
        ringbuf: run.ringbuf.map(toHex),
        perf: run.perf.map((r) => [r.cpu, r.index, toHex(r.data)]),
        result: contextResultJson(run.result),
        redirect: run.redirect,
        maps: obj.maps.dump(),
      };
    } catch (e) {
      if (!(e instanceof BpfError)) throw e;
      return { error: e.toJSON(), maps: obj.maps.dump() };
    }
  });
}

describe.skipIf(!clangAvailable)('examples on the JIT', () => {
  const objects = new Map<string, Uint8Array>();
  beforeAll(() => {
    for (const name of EXAMPLES) objects.set(name, compileExample(name));
  });

  it('covers every C example', () => {
    expect(EXAMPLES.length).toBeGreaterThanOrEqual(7);
  });

  it.each(EXAMPLES)('%s: identical runs on both engines', (name) => {
    const bytes = objects.get(name) as Uint8Array;
    const interp = outcomes(name, bytes, 'interp');
    expect(interp.length).toBeGreaterThan(0);
    expect(interp.filter((o) => 'error' in (o as object))).toEqual([]);
    expect(outcomes(name, bytes, 'jit')).toEqual(interp);
  });

  it('a PROG_ARRAY slot the host fills between runs is a tail call target on the JIT', () => {
    const obj = loadBpfObject(objects.get('tail-call') as Uint8Array, { engine: 'jit' });
    const tcp = { packet: hex(ipv4({ l4: 'tcp' })) };
    expect(obj.run('dispatch', tcp).result).toMatchObject({ action: 'PASS' });
    expect(obj.maps.get('by_protocol', ProgArray).set(6, obj.program('handle_icmp').vm)).toBe(0);
    expect(obj.run('dispatch', tcp).result).toMatchObject({ action: 'DROP' });
  });

  it('tracing an object on the JIT is a usage error', () => {
    const obj = loadBpfObject(objects.get('xdp-counter') as Uint8Array, { engine: 'jit' });
    const packet = { packet: '00'.repeat(64) };
    expect(() => obj.run('xdp_count', packet, { trace: () => {} })).toThrow(UsageError);
    expect(() => obj.run('xdp_count', packet, { trace: () => {} })).toThrow(
      /only available on the interpreter/,
    );
    // The refused run leaves the object usable.
    expect(obj.run('xdp_count', packet).result).toMatchObject({ kind: 'xdp' });
  });

  it('an unknown engine is a usage error', () => {
    const bytes = objects.get('xdp-counter') as Uint8Array;
    expect(() => loadBpfObject(bytes, { engine: 'wasm' as ObjectEngine })).toThrow(UsageError);
  });
});
