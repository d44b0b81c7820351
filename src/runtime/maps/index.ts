/** Public API of the map runtime (for src/index.ts and the loader). */
export { Arena, type Block } from './arena.js';
export { ArrayMap } from './array.js';
export * from './constants.js';
export { MapDefinitionError, MapTrap, type MapTrapCode } from './errors.js';
export { HashMap } from './hash.js';
export {
  type CreateMapsOptions,
  createMaps,
  MAP_HANDLE_SLOT,
  MAP_HANDLE_STRIDE,
  type MapEntryJson,
  type MapEvents,
  MapSet,
  mapHandle,
} from './host-api.js';
export { LpmTrie } from './lpm-trie.js';
export { BpfMap, type MapEntry, type MapEnv } from './map.js';
export { type MapDefinition, MapType, type MapTypeName, mapTypeName } from './map-def.js';
export { ArrayOfMaps, HashOfMaps, innerMapMatches } from './map-of-maps.js';
export { PerfEventArray, type PerfRecord } from './perf-event-array.js';
export { ProgArray } from './prog-array.js';
export { QueueStackMap } from './queue-stack.js';
export { RingBuf } from './ringbuf.js';
