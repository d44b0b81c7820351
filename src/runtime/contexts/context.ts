/**
 * What every program type shares: the context struct in Slot.INPUT (r1 points at it), the simulated
 * task, a reset for repeated runs, and the result read back after a run.
 */
import type { ProgramType } from '../../elf/object.js';
import type { GuestMemory, Region } from '../../vm/memory/guest-memory.js';
import { PERM_READ, PERM_WRITE, Slot } from '../../vm/memory/layout.js';
import type { ContextAccess } from './layout.js';
import type { PacketBuffer } from './packet.js';
import type { SimulatedTask } from './task.js';
import type { ArgumentMemory } from './user-memory.js';

/** XDP verdicts (enum xdp_action). */
export type XdpActionName = 'ABORTED' | 'DROP' | 'PASS' | 'TX' | 'REDIRECT';

/** What a run changed, read back from guest memory after it. */
export type ContextResult =
  | {
      readonly kind: 'skb';
      /** Packet bytes between data and data_end after the run. */
      readonly packet: Uint8Array;
      /** The fields the program may write (mark, priority, cb, …), as they are now. */
      readonly fields: Readonly<Record<string, bigint | readonly bigint[]>>;
      /** tc: the TC_ACT_* name of r0 (`UNKNOWN` for other values). */
      readonly verdict?: string;
      /** Socket filter: how many bytes the filter keeps (0 drops the packet). */
      readonly keep?: number;
    }
  | {
      readonly kind: 'xdp';
      readonly packet: Uint8Array;
      /** Metadata between data_meta and data. */
      readonly meta: Uint8Array;
      /** The action of r0, or undefined for a value that is not an XDP action (the kernel aborts). */
      readonly action: XdpActionName | undefined;
    }
  | { readonly kind: 'tracing' };

export interface ProgramContext {
  readonly programType: ProgramType;
  /** Layout and the field ranges the kernel lets this type read and write. */
  readonly access: ContextAccess;
  readonly task: SimulatedTask;
  /** r1 at entry: the guest address of the context. */
  readonly r1: bigint;
  /** The packet of socket/tc/XDP programs (helpers adjust it through its methods). */
  readonly packet: PacketBuffer | undefined;
  /** InterpreterOptions.packetSlot for LD_ABS/LD_IND (socket filters and tc). */
  readonly packetSlot: number | undefined;
  /** Restores context, packet and pointers for the next run of a repeated event. */
  reset(): void;
  /** Reads back what the run changed; `r0` is the program's return value. */
  result(r0: bigint): ContextResult;
}

/** The context struct's bytes in Slot.INPUT, and their pristine copy for reset(). */
export class ContextImage {
  readonly region: Region;
  constructor(
    readonly memory: GuestMemory,
    private readonly initial: Uint8Array,
  ) {
    // Read-write at the memory level: the per-field rules are ContextAccess, enforced by a verifier.
    this.region = memory.map(Slot.INPUT, 'context', initial.length, PERM_READ | PERM_WRITE, initial);
  }

  get address(): bigint {
    return BigInt(this.region.guestBase);
  }

  /** A live view of the struct (valid until the memory grows). */
  bytes(): Uint8Array {
    return this.memory.u8.subarray(this.region.hostBase, this.region.hostBase + this.region.size);
  }

  reset(): void {
    this.memory.u8.set(this.initial, this.region.hostBase);
  }
}

/**
 * A context that is only a struct the program reads (tracing types): pt_regs, a tracepoint record, an
 * argument array. Nothing flows back from it.
 */
export class StructContext implements ProgramContext {
  readonly packet = undefined;
  readonly packetSlot = undefined;
  private readonly image: ContextImage;

  constructor(
    memory: GuestMemory,
    readonly programType: ProgramType,
    readonly task: SimulatedTask,
    readonly access: ContextAccess,
    bytes: Uint8Array,
    /** The user space holding the arguments' strings and arrays, when there are any. */
    readonly userMemory?: ArgumentMemory,
  ) {
    this.image = new ContextImage(memory, bytes);
  }

  get r1(): bigint {
    return this.image.address;
  }

  /** Current bytes of the struct (a copy). */
  bytes(): Uint8Array {
    return this.image.bytes().slice();
  }

  reset(): void {
    this.image.reset();
  }

  result(): ContextResult {
    return { kind: 'tracing' };
  }
}
