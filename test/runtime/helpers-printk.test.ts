/** bpf_trace_printk / bpf_trace_vprintk: the kernel's bprintf rules, formatting and errors. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashPointer } from '../../src/runtime/helpers/bprintf.js';
import { cstring, HEAP, type Kernel, kernel, neg } from './helpers-kernel-setup.js';

const EINVAL = 22;
const ENOSPC = 28;
const STR = 0x800; // heap offset of string arguments

/** Runs bpf_trace_printk(fmt, sizeof fmt, a, b, c); returns r0 and the captured output. */
function printk(
  k: Kernel,
  fmt: string | Uint8Array,
  args: readonly bigint[] = [],
): { r0: bigint; out: string[] } {
  const bytes = typeof fmt === 'string' ? cstring(fmt) : fmt;
  k.put(0, bytes);
  const regs = args.map((a, i) => `lddw %r${3 + i}, ${BigInt.asUintN(64, a)}`).join('\n');
  const r0 = k.run(`lddw %r1, ${HEAP}\nmov %r2, ${bytes.length}\n${regs}\ncall 6\nexit`);
  return { r0, out: k.runtime.printk };
}

/**
 * A C printf reference for the subset BPF allows (flags 0+- space, width, l/ll, d i u x X c s %),
 * written independently of the implementation: C semantics for int / long long arguments.
 */
function cprintf(fmt: string, args: readonly (bigint | string)[]): string {
  let next = 0;
  return fmt.replace(
    /%([-+ 0]*)(\d*)(l{0,2})([diuxXcs%])/g,
    (_m, flags: string, w: string, len: string, conv: string) => {
      if (conv === '%') return '%';
      const arg = args[next++];
      const width = w === '' ? 0 : Number(w);
      const left = flags.includes('-');
      let body: string;
      let sign = '';
      if (conv === 's' || conv === 'c') {
        body = conv === 'c' ? String.fromCharCode(Number(BigInt(arg as bigint) & 0xffn)) : String(arg);
        return left ? body.padEnd(width) : body.padStart(width);
      }
      const bits = len === '' ? 32 : 64;
      const v = arg as bigint;
      if (conv === 'd' || conv === 'i') {
        const s = BigInt.asIntN(bits, v);
        sign = s < 0n ? '-' : flags.includes('+') ? '+' : flags.includes(' ') ? ' ' : '';
        body = (s < 0n ? -s : s).toString();
      } else {
        body = BigInt.asUintN(bits, v).toString(conv === 'u' ? 10 : 16);
        if (conv === 'X') body = body.toUpperCase();
      }
      if (left) return (sign + body).padEnd(width);
      if (flags.includes('0')) return sign + body.padStart(width - sign.length, '0');
      return (sign + body).padStart(width);
    },
  );
}

describe('bpf_trace_printk formatting', () => {
  const table: [string, (bigint | string)[], string][] = [
    ['hello', [], 'hello'],
    ['hello\n', [], 'hello\n'],
    ['%d', [-5n], '-5'],
    ['%d', [0xffffffffn], '-1'],
    ['%d', [0x1_0000_0005n], '5'],
    ['%u', [-1n], '4294967295'],
    ['%ld', [-1n], '-1'],
    ['%lu', [-1n], '18446744073709551615'],
    ['%lld', [-(2n ** 63n)], '-9223372036854775808'],
    ['%llu', [2n ** 64n - 2n], '18446744073709551614'],
    ['%x', [0xdeadbeefn], 'deadbeef'],
    ['%X', [0xdeadbeefn], 'DEADBEEF'],
    ['%lx', [0x1234_5678_9abc_def0n], '123456789abcdef0'],
    ['%llx', [-1n], 'ffffffffffffffff'],
    ['%i', [42n], '42'],
    ['[%5d]', [42n], '[   42]'],
    ['[%-5d]', [42n], '[42   ]'],
    ['[%05d]', [-42n], '[-0042]'],
    ['[%+d]', [42n], '[+42]'],
    ['[% d]', [42n], '[ 42]'],
    ['[%+u]', [42n], '[42]'],
    ['[%08x]', [0xbeefn], '[0000beef]'],
    ['[%-08x]', [0xbeefn], '[beef    ]'],
    ['%c%c%c', [0x41n, 0x42n, 0x43n], 'ABC'],
    ['[%3c]', [0x41n], '[  A]'],
    ['100%%', [], '100%'],
    ['%d%%%d', [1n, 2n], '1%2'],
    ['a=%d b=%u c=%x', [1n, 2n, 255n], 'a=1 b=2 c=ff'],
  ];

  it.each(table.map(([f, a, e]) => [`"${f}" → "${e}"`, f, a, e] as const))(
    '%s',
    (_name, fmt, args, expected) => {
      const k = kernel();
      const numeric = args.map((a) => (typeof a === 'string' ? 0n : a));
      const { r0, out } = printk(k, fmt, numeric);
      expect(out).toEqual([expected]);
      expect(r0).toBe(BigInt(expected.length));
      expect(cprintf(fmt, args)).toBe(expected);
    },
  );

  it('agrees with the C printf reference on random numeric formats', () => {
    const conv = fc.constantFrom('d', 'i', 'u', 'x', 'X', 'ld', 'lu', 'lx', 'lld', 'llu', 'llx', 'lli');
    const flags = fc.subarray(['-', '+', ' ', '0']).map((f) => f.join(''));
    const width = fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined });
    const spec = fc.tuple(flags, width, conv).map(([f, w, c]) => `%${f}${w ?? ''}${c}`);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.stringMatching(/^[a-z :=]{0,4}$/), spec), { minLength: 1, maxLength: 3 }),
        fc.array(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { minLength: 3, maxLength: 3 }),
        (parts, args) => {
          const fmt = parts.map(([t, s]) => t + s).join('');
          const k = kernel();
          const { r0, out } = printk(k, fmt, args);
          const expected = cprintf(fmt, args);
          expect(out).toEqual([expected]);
          expect(r0).toBe(BigInt(expected.length));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('%s reads kernel memory (the stack, maps, kernel blobs) and user memory', () => {
    const k = kernel();
    k.put(STR, 'world');
    const user = k.runtime.user.allocString('/usr/bin/ls');
    const blob = k.runtime.kernel.alloc(cstring('kblob'));
    expect(printk(k, 'hello %s!', [BigInt(HEAP + STR)]).out).toEqual(['hello world!']);
    expect(printk(k, '[%8s|%-6s]', [BigInt(HEAP + STR), BigInt(HEAP + STR)]).out).toEqual([
      '[   world|world ]',
    ]);
    expect(printk(k, 'exec %s', [BigInt(user)]).out).toEqual(['exec /usr/bin/ls']);
    expect(printk(k, '%pks %pus', [BigInt(blob), BigInt(user)]).out).toEqual(['kblob /usr/bin/ls']);
    expect(cprintf('[%8s|%-6s]', ['world', 'world'])).toBe('[   world|world ]');
  });

  it('an unreadable %s prints as an empty string; %pks does not read user memory', () => {
    const k = kernel();
    const user = k.runtime.user.allocString('secret');
    expect(printk(k, '<%s>', [0n]).out).toEqual(['<>']);
    expect(printk(k, '<%s>', [0xdead_0000_0000n]).out).toEqual(['<>']);
    expect(printk(k, '<%pks>', [BigInt(user)]).out).toEqual(['<>']);
    expect(printk(k, '<%pus>', [BigInt(HEAP)]).out).toEqual(['<>']);
  });

  it('pointers: %px raw, %p/%pK hashed (zeros for NULL), %ps symbols as hex, %pI4/%pi4/%pI6', () => {
    const k = kernel();
    const ptr = 0xffff_8880_1234_5678n;
    expect(printk(k, '%px', [ptr]).out).toEqual(['ffff888012345678']);
    expect(printk(k, '%px', [0x10n]).out).toEqual(['0000000000000010']);
    expect(printk(k, '[%20px]', [0x10n]).out).toEqual(['[                  10]']);
    const hashed = `00000000${hashPointer(ptr).toString(16).padStart(8, '0')}`;
    expect(printk(k, '%p', [ptr]).out).toEqual([hashed]);
    expect(printk(k, '%pK', [ptr]).out).toEqual([hashed]);
    expect(printk(k, '%p', [0n]).out).toEqual(['0000000000000000']);
    expect(printk(k, '%p', [BigInt.asUintN(64, -14n)]).out).toEqual(['fffffffffffffff2']);
    expect(printk(k, '%ps %pS', [0xffffffff81000000n, 1n]).out).toEqual(['0xffffffff81000000 0x1']);
    k.put(STR, Uint8Array.of(10, 0, 0, 1));
    k.put(STR + 16, Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1]));
    expect(printk(k, '%pI4 %pi4', [BigInt(HEAP + STR), BigInt(HEAP + STR)]).out).toEqual([
      '10.0.0.1 010.000.000.001',
    ]);
    expect(printk(k, '%pI6', [BigInt(HEAP + STR + 16)]).out).toEqual([
      '2001:0db8:0000:0000:0000:0000:0000:0001',
    ]);
    expect(printk(k, '%pi6', [BigInt(HEAP + STR + 16)]).out).toEqual(['20010db8000000000000000000000001']);
    expect(printk(k, '%pI4', [0n]).out).toEqual(['0.0.0.0']);
  });

  it('output is cut at 1023 bytes but the return value is the full length', () => {
    const k = kernel();
    const { r0, out } = printk(k, '%1500d', [7n]);
    expect(r0).toBe(1500n);
    expect(out[0].length).toBe(1023);
    expect(out[0].endsWith(' ')).toBe(true);
  });

  it('%c of 0 ends the trace text (the kernel writes a C string)', () => {
    const k = kernel();
    const { r0, out } = printk(k, 'a%cb', [0n]);
    expect(r0).toBe(3n);
    expect(out).toEqual(['a']);
  });

  it('captures every call of a run in order, and beginRun clears the output', () => {
    const k = kernel();
    k.put(0, cstring('n=%d'));
    const text = `
      mov %r6, 0
    again:
      lddw %r1, ${HEAP}
      mov %r2, 5
      mov %r3, %r6
      call 6
      add %r6, 1
      jlt %r6, 3, again
      exit`;
    k.run(text);
    expect(k.runtime.printk).toEqual(['n=0', 'n=1', 'n=2']);
    k.runtime.beginRun();
    expect(k.runtime.printk).toEqual([]);
  });
});

describe('bpf_trace_printk errors', () => {
  const invalid: [string, string | Uint8Array, bigint[]][] = [
    ['no NUL in fmt_size bytes', new TextEncoder().encode('abc'), []],
    ['more conversions than 3 arguments', '%d %d %d %d', [1n, 2n, 3n]],
    ['precision', '%.2d', [1n]],
    ['# flag', '%#x', [1n]],
    ['h qualifier', '%hd', [1n]],
    ['unknown conversion', '%f', [1n]],
    ['%o', '%o', [1n]],
    ['%lf', '%lf', [1n]],
    ['trailing %', 'abc%', [1n]],
    ['%s followed by a letter', '%sabc', [0n]],
    ['%pks followed by a letter', '%pksx', [0n]],
    ['unsupported pointer kind', '%pM', [0n]],
    ['%pI5', '%pI5', [0n]],
    ['non-printable byte', Uint8Array.of(0x61, 0x01, 0), []],
    ['non-ASCII byte', Uint8Array.of(0xc3, 0xa9, 0), []],
  ];

  it.each(invalid)('%s → -EINVAL, nothing printed', (_why, fmt, args) => {
    const k = kernel();
    const { r0, out } = printk(k, fmt, args);
    expect(r0).toBe(neg(EINVAL));
    expect(out).toEqual([]);
  });

  it('allows tabs and newlines, and a NUL before fmt_size ends the format', () => {
    const k = kernel();
    expect(printk(k, Uint8Array.of(0x61, 0x09, 0x0a, 0, 0x01, 0x02), []).out).toEqual(['a\t\n']);
  });

  it('strings that fill the 512-byte argument buffer are cut, then -ENOSPC', () => {
    const k = kernel();
    k.put(STR, 'x'.repeat(600));
    const s = BigInt(HEAP + STR);
    const first = printk(k, '%s', [s]);
    expect(first.out[0]).toBe('x'.repeat(511));
    expect(printk(k, '%s%d', [s, 1n]).r0).toBe(neg(ENOSPC));
  });
});

describe('bpf_trace_vprintk', () => {
  function vprintk(k: Kernel, fmt: string, args: bigint[], dataLen = args.length * 8): bigint {
    k.put(0, cstring(fmt));
    const data = new Uint8Array(Math.max(8, args.length * 8));
    const view = new DataView(data.buffer);
    for (const [i, a] of args.entries()) view.setBigUint64(i * 8, BigInt.asUintN(64, a), true);
    k.put(0x400, data);
    const ptr = args.length === 0 && dataLen === 0 ? 0 : HEAP + 0x400;
    return k.run(
      `lddw %r1, ${HEAP}\nmov %r2, ${fmt.length + 1}\nlddw %r3, ${ptr}\nmov %r4, ${dataLen}\ncall 177\nexit`,
    );
  }

  it('takes up to 12 arguments from an array', () => {
    const k = kernel();
    const args = Array.from({ length: 12 }, (_, i) => BigInt(i + 1));
    const fmt = args.map(() => '%d').join(',');
    expect(vprintk(k, fmt, args)).toBe(BigInt('1,2,3,4,5,6,7,8,9,10,11,12'.length));
    expect(k.runtime.printk).toEqual(['1,2,3,4,5,6,7,8,9,10,11,12']);
    expect(vprintk(k, 'plain', [])).toBe(5n);
  });

  it('rejects data_len not a multiple of 8, above 96, or with a NULL array', () => {
    const k = kernel();
    expect(vprintk(k, '%d', [1n], 4)).toBe(neg(EINVAL));
    expect(vprintk(k, '%d', Array(13).fill(1n))).toBe(neg(EINVAL));
    k.put(0, cstring('%d'));
    expect(k.run(`lddw %r1, ${HEAP}\nmov %r2, 3\nmov %r3, 0\nmov %r4, 8\ncall 177\nexit`)).toBe(neg(EINVAL));
    expect(vprintk(k, '%d %d', [1n])).toBe(neg(EINVAL));
  });
});
