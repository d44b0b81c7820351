/**
 * PROG_ARRAY: program references for bpf_tail_call (kernel fd-array semantics). The element type is
 * generic so the map runtime does not depend on an engine: the helper layer stores whatever it can
 * tail-call into (an Interpreter, later a JIT module).
 */

import { arrayNextIndex } from './array.js';
import { BPF_ANY, E2BIG, EINVAL, ENOENT } from './constants.js';
import { BpfMap, type MapEnv, requireDef, u32At, u32Bytes } from './map.js';
import type { MapDefinition } from './map-def.js';

export class ProgArray<T = unknown> extends BpfMap {
  private readonly programs: (T | undefined)[];

  constructor(def: MapDefinition, env: MapEnv) {
    super(def, env);
    requireDef(def, def.keySize === 4 && def.valueSize === 4, 'prog_array key_size and value_size must be 4');
    requireDef(def, Number.isInteger(def.maxEntries) && def.maxEntries > 0, 'max_entries must be positive');
    this.programs = new Array<T | undefined>(def.maxEntries).fill(undefined);
  }

  /** The program at `index` (what bpf_tail_call jumps to), or undefined. */
  get(index: number): T | undefined {
    return index >= 0 && index < this.programs.length ? this.programs[index] : undefined;
  }

  /** Stores a program like BPF_MAP_UPDATE_ELEM with its fd: 0, -EINVAL (flags) or -E2BIG (index). */
  set(index: number, program: T, flags = BPF_ANY): number {
    if (flags !== BPF_ANY) return -EINVAL;
    if (index < 0 || index >= this.programs.length) return -E2BIG;
    this.programs[index] = program;
    return 0;
  }

  /** Removes the program at `index`: 0, -E2BIG or -ENOENT. */
  clear(index: number): number {
    if (index < 0 || index >= this.programs.length) return -E2BIG;
    if (this.programs[index] === undefined) return -ENOENT;
    this.programs[index] = undefined;
    return 0;
  }

  /** The program's id as a u32 (its slot index here), as the kernel's syscall lookup reports prog ids. */
  lookup(key: Uint8Array): Uint8Array | undefined {
    this.checkKey(key);
    const index = u32At(key, 0);
    return this.get(index) === undefined ? undefined : u32Bytes(index);
  }

  /** Programs have no fds here: store them with `set`. */
  update(key: Uint8Array, _value: Uint8Array, _flags = 0): number {
    this.checkKey(key);
    return -EINVAL;
  }

  delete(key: Uint8Array): number {
    this.checkKey(key);
    return this.clear(u32At(key, 0));
  }

  nextKey(key: Uint8Array | null): Uint8Array | undefined {
    if (key !== null) this.checkKey(key);
    const next = arrayNextIndex(key, this.programs.length);
    return next < 0 ? undefined : u32Bytes(next);
  }
}
