import { GuestMemory } from '../../src/vm/memory/guest-memory.js';
import { PERM_READ, PERM_WRITE, Slot } from '../../src/vm/memory/layout.js';

/** A stack and a writable input region of `size` bytes holding a fixed byte pattern. */
export function patternedInputMemory(size: number): GuestMemory {
  const m = new GuestMemory();
  m.mapStack();
  m.map(
    Slot.INPUT,
    'input',
    size,
    PERM_READ | PERM_WRITE,
    new Uint8Array(size).map((_, i) => (i * 131 + 7) & 0xff),
  );
  return m;
}
