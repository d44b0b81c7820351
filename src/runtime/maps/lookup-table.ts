/**
 * Writes the map lookup table of vm/map-lookup.ts for a MapSet: one entry per map, in a block the
 * guest memory reserves outside every region. Entries change only with the current CPU (per-CPU
 * values); hash entries point at the map's own open-addressing table, which host and program updates
 * edit in place, so the table never needs syncing after an update or delete.
 */
import {
  LOOKUP_BASE,
  LOOKUP_ENTRY_WORDS,
  LOOKUP_FIXED_BASE,
  LOOKUP_KIND,
  LOOKUP_LIMIT,
  LOOKUP_SHIFT,
  LOOKUP_STRIDE,
  LOOKUP_TABLE,
  LOOKUP_VALUE_SPAN,
  type LookupKind,
  type MapLookupTable,
} from '../../vm/map-lookup.js';
import type { GuestMemory } from '../../vm/memory/guest-memory.js';
import { BPF_F_WRONLY_PROG } from './constants.js';
import type { BpfMap } from './map.js';

/** One map's entry (see vm/map-lookup.ts for the fields). */
export interface LookupEntry {
  readonly kind: (typeof LookupKind)[keyof typeof LookupKind];
  readonly limit: number;
  readonly base: number;
  readonly stride: number;
  readonly table: number;
  readonly shift: number;
  readonly span: number;
  /** Whether `base` is the same on every CPU (maps that are not per CPU). */
  readonly sameOnEveryCpu: boolean;
}

export class LookupTable implements MapLookupTable {
  readonly memory: WebAssembly.Memory;
  readonly at: number;
  readonly count: number;

  constructor(
    private readonly guest: GuestMemory,
    private readonly maps: readonly BpfMap[],
    readonly handleBase: number,
    readonly handleShift: number,
  ) {
    this.memory = guest.wasm;
    this.count = maps.length;
    this.at = guest.reserve(4 * LOOKUP_ENTRY_WORDS * maps.length);
  }

  /** Writes every entry for programs running on `cpu`. */
  write(cpu: number): void {
    const words = this.guest.i32;
    for (let id = 0; id < this.count; id++) {
      const map = this.maps[id];
      // bpf_map_lookup_elem refuses write-only maps: the call raises the trap.
      const e = (map.def.flags & BPF_F_WRONLY_PROG) === 0 ? map.lookupEntry(cpu) : undefined;
      const w = (this.at >>> 2) + id * LOOKUP_ENTRY_WORDS;
      words.fill(0, w, w + LOOKUP_ENTRY_WORDS);
      if (e === undefined) continue;
      words[w + LOOKUP_KIND] = e.kind;
      words[w + LOOKUP_LIMIT] = e.limit;
      words[w + LOOKUP_BASE] = e.base;
      words[w + LOOKUP_STRIDE] = e.stride;
      words[w + LOOKUP_TABLE] = e.table;
      words[w + LOOKUP_SHIFT] = e.shift;
      words[w + LOOKUP_VALUE_SPAN] = e.span;
      words[w + LOOKUP_FIXED_BASE] = e.sameOnEveryCpu ? e.base : 0;
    }
  }
}
