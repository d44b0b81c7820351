/** Engine configuration and Module creation: validation with field names, immutability. */
import { describe, expect, it } from 'vitest';
import { AsmError, LoadError, UsageError } from '../../src/errors.js';
import { ENGINE_KINDS, Engine, type EngineConfig } from '../../src/host/engine.js';
import { Module } from '../../src/host/module.js';

describe('Engine', () => {
  it('has the kernel defaults', () => {
    expect({ ...new Engine() }).toEqual({
      kind: 'interp',
      gas: true,
      gasCosts: {},
      stackFrameSize: 512,
      maxCallFrames: 8,
      maxMemoryBytes: 1 << 30,
      maxInstructions: 10_000_000,
    });
    expect(ENGINE_KINDS).toEqual(['interp', 'jit']);
    expect(Object.isFrozen(new Engine())).toBe(true);
  });

  it('names the valid kinds for an unknown one', () => {
    expect(() => new Engine({ kind: 'turbo' } as unknown as EngineConfig)).toThrow(
      /engine kind "turbo" is not available \(valid: interp, jit\)/,
    );
  });

  it.each([
    ['gas', { gas: 1 }],
    ['gasCosts', { gasCosts: { alu: -1 } }],
    ['stackFrameSize', { stackFrameSize: 12 }],
    ['stackFrameSize', { stackFrameSize: 0 }],
    ['maxCallFrames', { maxCallFrames: 0 }],
    ['maxCallFrames', { maxCallFrames: 65 }],
    ['maxMemoryBytes', { maxMemoryBytes: 1000 }],
    ['maxMemoryBytes', { maxMemoryBytes: 2 ** 33 }],
    ['maxInstructions', { maxInstructions: 0 }],
    ['maxInstructions', { maxInstructions: 1.5 }],
  ])('rejects a bad %s', (field, config) => {
    expect(() => new Engine(config as unknown as EngineConfig)).toThrow(UsageError);
    expect(() => new Engine(config as unknown as EngineConfig)).toThrow(`"${field}"`);
  });
});

describe('Module', () => {
  const engine = new Engine();

  it('decodes once and is immutable, with copies of its data', () => {
    const data = Uint8Array.from([1, 2, 3]);
    const m = Module.fromBytes(
      engine,
      Uint8Array.from([0xb7, 0, 0, 0, 42, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]),
      { data },
    );
    data[0] = 9;
    expect(m.data).toEqual(Uint8Array.from([1, 2, 3]));
    expect(m.program.insns).toHaveLength(2);
    expect(Object.isFrozen(m)).toBe(true);
    expect(m.heapSize).toBe(0);
  });

  it('reports decoding and assembly errors as such', () => {
    expect(() => Module.fromBytes(engine, new Uint8Array(7))).toThrow(LoadError);
    expect(() => Module.fromAsm(engine, 'frobnicate %r0')).toThrow(AsmError);
  });

  it('rejects lddw forms that need an object file, bad exports and bad heap sizes', () => {
    // lddw src=1 (map fd)
    const mapFd = Uint8Array.from([
      0x18, 0x11, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0,
    ]);
    expect(() => Module.fromBytes(engine, mapFd)).toThrow(/cannot resolve/);
    // call src=2 (kfunc by BTF id)
    const kfunc = Uint8Array.from([0x85, 0x20, 0, 0, 7, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
    expect(() => Module.fromBytes(engine, kfunc)).toThrow(/kfunc \(BTF id 7\) at pc 0/);
    expect(() => Module.fromAsm(engine, 'lddw %r0, 1\nexit', { exports: { main: 1 } })).toThrow(UsageError);
    expect(() => Module.fromAsm(engine, 'exit', { heapSize: -1 })).toThrow(/heapSize/);
  });
});
