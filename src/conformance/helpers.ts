/**
 * The helpers the bpf_conformance and uBPF test suites expect, numbered as in uBPF's test plugin.
 * They are test fixtures, not kernel helpers, so they live with the conformance runner rather than in
 * the generic registry (src/vm/helpers.ts).
 */
import { type HelperContext, HelperRegistry } from '../vm/helpers.js';

/** Strings longer than this are cut off: a missing terminator must not make a helper spin forever. */
const MAX_CSTRING = 1 << 20;

/**
 * 0 gather_bytes, 1 memfrob, 2 no_op, 3 sqrti, 4 strcmp_ext, 5 unwind.
 * Helper 5 ("unwind") returns r1 and ends the program when r1 is 0.
 */
export function conformanceHelpers(): HelperRegistry {
  const helpers = new HelperRegistry();
  helpers.define(0, 'gather_bytes', (c) => {
    let v = 0n;
    for (let i = 1; i <= 5; i++) v = (v << 8n) | BigInt(c.argLo(i) & 0xff);
    return v;
  });
  helpers.define(1, 'memfrob', (c) => {
    const len = c.argNumber(2);
    const bytes = c.memory.read(c.arg(1), len);
    for (let i = 0; i < bytes.length; i++) bytes[i] ^= 42;
    c.memory.write(c.arg(1), bytes);
    return 0;
  });
  helpers.define(2, 'no_op', () => 0);
  helpers.define(3, 'sqrti', (c) => {
    const x = c.arg(1);
    if (x < 2n) return x;
    let r = BigInt(Math.floor(Math.sqrt(Number(x))));
    while (r * r > x) r--;
    while ((r + 1n) * (r + 1n) <= x) r++;
    return r;
  });
  helpers.define(4, 'strcmp_ext', (c) => {
    const a = readCString(c, c.arg(1));
    const b = readCString(c, c.arg(2));
    return a < b ? -1 : a > b ? 1 : 0;
  });
  helpers.define(5, 'unwind', (c) => {
    const v = c.arg(1);
    if (v === 0n) c.terminate(0);
    return v;
  });
  return helpers;
}

/** Reads a NUL-terminated string from guest memory; faults like the guest would on a bad pointer. */
export function readCString(c: HelperContext, address: bigint): string {
  let s = '';
  for (let a = address; ; a++) {
    const byte = c.memory.read(a, 1)[0];
    if (byte === 0) return s;
    s += String.fromCharCode(byte);
    if (s.length > MAX_CSTRING) return s;
  }
}
