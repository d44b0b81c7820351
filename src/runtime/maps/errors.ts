/**
 * Errors of the map runtime, part of the one hierarchy in src/errors.ts: a definition the kernel would
 * refuse at BPF_MAP_CREATE, and the traps a program gets where the kernel's verifier would have rejected
 * the call (a register that is not a map, a helper not allowed on that map type, a bad ringbuf record).
 */
import { BpfError, Trap } from '../../errors.js';

/** A map definition the kernel would refuse (BPF_MAP_CREATE returning -EINVAL / -E2BIG). */
export class MapDefinitionError extends BpfError {
  readonly code = 'BAD_MAP';
  constructor(
    readonly map: string,
    message: string,
    options?: { hint?: string },
  ) {
    super(`map "${map}": ${message}`, {}, options);
  }
  protected override details(): Record<string, unknown> {
    return { map: this.map };
  }
}

export type MapTrapCode = 'BAD_MAP_HANDLE' | 'BAD_MAP_TYPE' | 'MAP_ACCESS' | 'BAD_RINGBUF_RECORD';

/** A helper got a map argument the verifier would have refused; the program stops at the call. */
export class MapTrap extends Trap {
  constructor(
    readonly code: MapTrapCode,
    message: string,
    pc: number,
  ) {
    super(message, { pc });
  }
}
