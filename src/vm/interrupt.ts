/**
 * `InterruptSignal`: a flag another thread (or a helper, a timer between async steps) raises to stop a
 * running guest. JavaScript cannot preempt a synchronous `while (1)` guest, so the engines poll the
 * flag themselves about every `INTERRUPT_POLL_INSTRUCTIONS` executed instructions (at run/block
 * boundaries, never per instruction) and after every helper call, and stop with an `Interrupted` trap.
 *
 * The flag is one Int32 in a SharedArrayBuffer when the platform has one, so a worker can run the
 * guest while the main thread raises it: pass `signal.buffer` in `postMessage` and rebuild the signal
 * with `InterruptSignal.from(buffer)` on the other side. Without SharedArrayBuffer (browsers without
 * cross-origin isolation) it is a plain ArrayBuffer and works within one thread only.
 */

import { Interrupted } from '../errors.js';

/** The trap of an interrupt that stops the guest before it runs `pc` (both engines). */
export function interruptedAt(pc: number): Interrupted {
  return new Interrupted(`interrupted before pc ${pc}`, { pc });
}

/** How often (in executed instructions, roughly) both engines look at the signal. */
export const INTERRUPT_POLL_INSTRUCTIONS = 1 << 16;

export class InterruptSignal {
  /** The backing memory: share it with a worker and rebuild the signal there with `from`. */
  readonly buffer: SharedArrayBuffer | ArrayBuffer;
  private readonly flag: Int32Array;
  private readonly shared: boolean;

  /** A new, lowered signal; or, with `buffer`, a view of an existing one (see `from`). */
  constructor(buffer?: SharedArrayBuffer | ArrayBuffer) {
    const b =
      buffer ?? (typeof SharedArrayBuffer === 'function' ? new SharedArrayBuffer(4) : new ArrayBuffer(4));
    if (b.byteLength < 4) throw new RangeError('an interrupt signal needs a buffer of at least 4 bytes');
    this.buffer = b;
    this.flag = new Int32Array(b, 0, 1);
    // Atomics only where another thread may write; a plain buffer is this thread's alone.
    this.shared = typeof SharedArrayBuffer === 'function' && b instanceof SharedArrayBuffer;
  }

  /** The signal whose `buffer` this is, typically received from another thread. */
  static from(buffer: SharedArrayBuffer | ArrayBuffer): InterruptSignal {
    return new InterruptSignal(buffer);
  }

  /** Asks every guest running with this signal to stop at its next poll. Stays raised until `clear`. */
  interrupt(): void {
    if (this.shared) Atomics.store(this.flag, 0, 1);
    else this.flag[0] = 1;
  }

  /** Lowers the signal, so runs using it go on (or start) normally. */
  clear(): void {
    if (this.shared) Atomics.store(this.flag, 0, 0);
    else this.flag[0] = 0;
  }

  /** True while raised. */
  get requested(): boolean {
    return (this.shared ? Atomics.load(this.flag, 0) : this.flag[0]) !== 0;
  }
}
