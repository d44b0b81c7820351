/**
 * The BTF value codec: values clang laid out (a static initializer compiled into `.data`) decode to
 * the JS shapes and encode back to clang's exact bytes; generated BTF types round-trip any bytes;
 * bad values are UsageErrors naming the path.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { type Btf, BtfKind, parseBtf } from '../../src/elf/btf.js';
import { type BtfValue, decodeBtfValue, encodeBtfValue } from '../../src/elf/btf-value.js';
import { UsageError } from '../../src/errors.js';
import { BtfBuilder } from './btf-builder.js';
import { cleanupCompiled, compileBpf, HAVE_BPF_TOOLCHAIN, warnIfMissing } from './btf-fixtures.js';

warnIfMissing('test/elf/btf-value');
afterAll(cleanupCompiled);

const SAMPLE_C = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
enum state { IDLE, RUNNING = 3, DEAD = -1 };
enum big { SMALL = 1, HUGE = 0x123456789ULL };
struct key { __u32 pid; char comm[16]; };
struct stats {
  __u64 calls; __s32 last; enum state st; __u8 flags : 3, mode : 4; __s8 delta : 5;
  union { __u32 word; __u8 bytes[4]; };
  struct { __u16 lo, hi; } pair;
  _Bool on; double ratio; float f; enum big bg; void *ptr; __s64 neg; char raw[4];
  __u16 grid[2][3]; struct key who; __u8 tag[2];
};
struct stats sample SEC(".data.sample") = {
  .calls = 1ULL << 40, .last = -5, .st = RUNNING, .flags = 5, .mode = 9, .delta = -7,
  .word = 0x01020304, .pair = { 7, 65535 }, .on = 1, .ratio = 1.5, .f = -2.25, .bg = HUGE,
  .ptr = (void *)0x1000, .neg = -2, .raw = { 'a', 1, 0, 2 }, .grid = { { 1, 2, 3 }, { 4, 5, 6 } },
  .who = { 42, "bash" }, .tag = { 'h', 'i' } };
SEC("xdp") int prog(struct xdp_md *ctx) { return sample.last; }
char LICENSE[] SEC("license") = "GPL";
`;

const SAMPLE: BtfValue = {
  calls: 1n << 40n,
  last: -5,
  st: 'RUNNING',
  flags: 5,
  mode: 9,
  delta: -7,
  word: 0x01020304,
  bytes: [4, 3, 2, 1],
  pair: { lo: 7, hi: 65535 },
  on: true,
  ratio: 1.5,
  f: -2.25,
  bg: 'HUGE',
  ptr: 0x1000n,
  neg: -2n,
  raw: [97, 1, 0, 2], // not text followed by NULs: numbers, so the bytes survive
  grid: [
    [1, 2, 3],
    [4, 5, 6],
  ],
  who: { pid: 42, comm: 'bash' },
  tag: [104, 105], // __u8 arrays are bytes, even printable ones
};

describe.skipIf(!HAVE_BPF_TOOLCHAIN)('a struct clang laid out', () => {
  const compiled = HAVE_BPF_TOOLCHAIN ? compileBpf('value', SAMPLE_C) : undefined;
  const btf = compiled === undefined ? undefined : parseBtf(compiled.btf);
  const stats = btf?.find('stats', 'struct')?.id ?? 0;

  it('decodes to the JS shapes of each kind', () => {
    expect(decodeBtfValue(btf!, stats, compiled!.section('.data.sample'))).toEqual(SAMPLE);
  });

  it("encodes back to clang's exact bytes, also from a decoded union's every member", () => {
    const bytes = compiled!.section('.data.sample');
    expect(encodeBtfValue(btf!, stats, SAMPLE)).toEqual(bytes);
    const { bytes: _, ...oneMember } = SAMPLE as Record<string, BtfValue>;
    expect(encodeBtfValue(btf!, stats, oneMember)).toEqual(bytes);
  });

  it('zero-fills members and elements not given, like a C designated initializer', () => {
    const bytes = encodeBtfValue(btf!, stats, { last: -1, who: { comm: 'ls' }, grid: [[9]] });
    const back = decodeBtfValue(btf!, stats, bytes) as Record<string, BtfValue>;
    expect(back).toMatchObject({ calls: 0n, last: -1, st: 'IDLE', who: { pid: 0, comm: 'ls' } });
    expect(back.grid).toEqual([
      [9, 0, 0],
      [0, 0, 0],
    ]);
  });

  it('takes numbers for 64-bit ints, enums and bools, and bytes for byte arrays', () => {
    const bytes = encodeBtfValue(btf!, stats, { calls: 7, st: -1, on: 0, raw: Uint8Array.of(1, 2) });
    expect(decodeBtfValue(btf!, stats, bytes)).toMatchObject({
      calls: 7n,
      st: 'DEAD',
      on: false,
      raw: [1, 2, 0, 0],
    });
  });

  it('decodes at an offset, and refuses bytes too short for the type', () => {
    const bytes = compiled!.section('.data.sample');
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    expect(decodeBtfValue(btf!, stats, shifted, 3)).toEqual(SAMPLE);
    expect(() => decodeBtfValue(btf!, stats, bytes, 1)).toThrow(/needs \d+ bytes at offset 1/);
  });

  it.each([
    ['value.calls: 2^70 does not fit __u64 (0..18446744073709551615)', { calls: 2n ** 70n }],
    ['value.who.pid: -1 does not fit __u32 (0..4294967295)', { who: { pid: -1 } }],
    ['value.flags: 8 does not fit __u8 (0..7)', { flags: 8 }],
    ['value.delta: -17 does not fit __s8 (-16..15)', { delta: -17 }],
    ['value.who.comm: 17 bytes do not fit char [16]', { who: { comm: 'a'.repeat(17) } }],
    ['value.grid: 3 elements do not fit __u16 [2][3]', { grid: [[1], [2], [3]] }],
    ['value.st: "ASLEEP" is not an enumerator of enum state', { st: 'ASLEEP' }],
    ['value.pair.mid: struct <anon> has no member "mid"', { pair: { mid: 1 } }],
    ['value.calls: 1152921504606847000 is not a safe integer; pass a bigint for __u64', { calls: 2 ** 60 }],
    ['value.last: 1.5 is not an integer (__s32)', { last: 1.5 }],
    ['value.pair: expected an object for struct <anon>, got an array', { pair: [1, 2] }],
    ['value.ratio: expected a number for double, got bigint', { ratio: 1n }],
    ['value: members word and bytes of union <anon> overlap with different bytes', { word: 1, bytes: [9] }],
  ])('refuses with %s', (message, value) => {
    let error: unknown;
    try {
      encodeBtfValue(btf!, stats, value as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe(message);
  });

  it('lists the members and enumerators in the hint', () => {
    expect(() => encodeBtfValue(btf!, stats, { nope: 1 })).toThrow(
      expect.objectContaining({ hint: expect.stringContaining('calls, last, st, flags') }),
    );
    expect(() => encodeBtfValue(btf!, stats, { st: 'X' })).toThrow(
      expect.objectContaining({ hint: 'use one of IDLE, RUNNING, DEAD or a number' }),
    );
  });

  it('round-trips any bytes of the real struct', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: btf!.size(stats), maxLength: btf!.size(stats) }), (bytes) => {
        expectRoundTrip(btf!, stats, bytes);
      }),
      { numRuns: 300 },
    );
  });
});

/** decode ∘ encode ∘ decode = decode, and encoding a decoded value is a fixpoint on bytes. */
function expectRoundTrip(btf: Btf, id: number, bytes: Uint8Array): void {
  const value = decodeBtfValue(btf, id, bytes);
  const encoded = encodeBtfValue(btf, id, value);
  expect(decodeBtfValue(btf, id, encoded)).toEqual(value);
  expect(encodeBtfValue(btf, id, decodeBtfValue(btf, id, encoded))).toEqual(encoded);
}

// ------------------------------------------------------------------ generated BTF types

/** A generated type; member names are unique per tree so anonymous members can be flattened. */
type Spec =
  | {
      readonly k: 'int';
      readonly size: 1 | 2 | 4 | 8;
      readonly signed: boolean;
      readonly enc: 'bool' | 'char' | '';
    }
  | {
      readonly k: 'enum';
      readonly size: 1 | 2 | 4 | 8;
      readonly signed: boolean;
      readonly values: readonly bigint[];
    }
  | { readonly k: 'float'; readonly size: 4 | 8 }
  | { readonly k: 'ptr' }
  | { readonly k: 'typedef'; readonly of: Spec }
  | { readonly k: 'array'; readonly of: Spec; readonly n: number }
  | {
      readonly k: 'struct' | 'union';
      readonly members: readonly { readonly anonymous: boolean; readonly of: Spec; readonly bits: number }[];
    };

const leaf: fc.Arbitrary<Spec> = fc.oneof(
  fc.record({
    k: fc.constant('int' as const),
    size: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const),
    signed: fc.boolean(),
    enc: fc.constantFrom('' as const, 'bool' as const, 'char' as const),
  }),
  fc.record({
    k: fc.constant('enum' as const),
    size: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const),
    signed: fc.boolean(),
    values: fc.array(fc.bigInt({ min: 0n, max: 300n }), { maxLength: 4 }),
  }),
  fc.record({ k: fc.constant('float' as const), size: fc.constantFrom(4 as const, 8 as const) }),
  fc.constant<Spec>({ k: 'ptr' }),
);

const specs = fc.letrec<{ spec: Spec }>((tie) => ({
  spec: fc.oneof(
    { maxDepth: 3, depthIdentifier: 'spec' },
    leaf,
    fc.record({ k: fc.constant('typedef' as const), of: tie('spec') }),
    fc.record({ k: fc.constant('array' as const), of: tie('spec'), n: fc.nat(4) }),
    fc.record({
      k: fc.constantFrom('struct' as const, 'union' as const),
      members: fc.array(fc.record({ anonymous: fc.boolean(), of: tie('spec'), bits: fc.nat(64) }), {
        maxLength: 4,
      }),
    }),
  ),
})).spec;

/** C's natural alignment, which the generated layouts follow. */
function alignOf(s: Spec): number {
  switch (s.k) {
    case 'int':
    case 'enum':
    case 'float':
      return s.k === 'int' && s.enc !== '' ? 1 : s.size;
    case 'ptr':
      return 8;
    case 'struct':
    case 'union':
      return Math.max(1, ...s.members.map((m) => alignOf(m.of)));
    default:
      return alignOf(s.of);
  }
}

/** Writes a Spec into a BtfBuilder; returns its type id and size. */
class SpecWriter {
  readonly b = new BtfBuilder();
  private names = 0;
  private readonly index = this.b.int('unsigned int', 4, false);

  write(s: Spec, underUnion = false): { id: number; size: number } {
    const b = this.b;
    switch (s.k) {
      case 'int': {
        const enc = (s.signed ? 1 : 0) | (s.enc === 'char' ? 2 : s.enc === 'bool' ? 4 : 0);
        const size = s.enc === '' ? s.size : 1;
        return {
          id: b.raw(b.str(s.enc || `i${size}`), BtfKind.int << 24, size, [(enc << 24) | (size * 8)]),
          size,
        };
      }
      case 'enum': {
        const kind = s.size === 8 ? BtfKind.enum64 : BtfKind.enum;
        const values = [...new Set(s.values)];
        const trailing = values.flatMap((v, i) =>
          s.size === 8
            ? [b.str(`E${this.names}_${i}`), Number(v), 0]
            : [b.str(`E${this.names}_${i}`), Number(v)],
        );
        this.names++;
        const info = (s.signed ? 0x80000000 : 0) | (kind << 24) | values.length;
        return { id: b.raw(b.str(`e${this.names}`), info, s.size, trailing), size: s.size };
      }
      case 'float':
        // NaN payloads are not kept, so a NaN in a union would disagree with its neighbours.
        return underUnion
          ? this.write({ k: 'int', size: s.size, signed: false, enc: '' })
          : {
              id: b.raw(b.str(`f${s.size}`), BtfKind.float << 24, s.size, []),
              size: s.size,
            };
      case 'ptr':
        return { id: b.ptr(0), size: 8 };
      case 'typedef': {
        const inner = this.write(s.of, underUnion);
        return { id: b.typedef(`t${this.names++}`, inner.id), size: inner.size };
      }
      case 'array': {
        const inner = this.write(s.of, underUnion);
        return { id: b.array(inner.id, this.index, s.n), size: inner.size * s.n };
      }
      case 'struct':
      case 'union': {
        const members: number[] = [];
        let bit = 0;
        let size = 0;
        let kindFlag = false;
        for (const m of s.members) {
          const isUnion = underUnion || s.k === 'union';
          const inner = this.write(m.of, isUnion);
          const t = m.of.k === 'typedef' ? m.of.of : m.of;
          const canBitfield =
            !m.anonymous && (t.k === 'int' || t.k === 'enum') && m.bits > 0 && m.bits <= inner.size * 8;
          const anonymous = m.anonymous && (t.k === 'struct' || t.k === 'union');
          const name = anonymous ? 0 : b.str(`m${this.names++}`);
          let offset: number;
          let width = 0;
          if (canBitfield) {
            kindFlag = true;
            width = m.bits;
            offset = s.k === 'union' ? 0 : bit;
            bit = s.k === 'union' ? bit : bit + width;
            size = Math.max(size, Math.ceil((offset + width) / 8));
          } else {
            const align = alignOf(m.of);
            const byte = s.k === 'union' ? 0 : Math.ceil(bit / 8 / align) * align;
            offset = byte * 8;
            if (s.k === 'struct') bit = offset + inner.size * 8;
            size = Math.max(size, byte + inner.size);
          }
          members.push(name, inner.id, offset, width);
        }
        const words: number[] = [];
        for (let i = 0; i < members.length; i += 4) {
          words.push(
            members[i],
            members[i + 1],
            kindFlag ? (members[i + 3] << 24) | members[i + 2] : members[i + 2],
          );
        }
        const total = Math.ceil(size / alignOf(s)) * alignOf(s);
        const kind = s.k === 'struct' ? BtfKind.struct : BtfKind.union;
        const info = (kindFlag ? 0x80000000 : 0) | (kind << 24) | s.members.length;
        return { id: b.raw(b.str(`s${this.names++}`), info, total, words), size: total };
      }
    }
  }
}

describe('generated BTF types', () => {
  it('round-trip any bytes in either byte order (decode ∘ encode ∘ decode = decode)', () => {
    fc.assert(
      fc.property(
        fc.tuple(specs, fc.boolean()).chain(([spec, little]) => {
          const writer = new SpecWriter();
          const { id, size } = writer.write(spec);
          return fc.record({
            btf: fc.constant(parseBtf(writer.b.build(little))),
            id: fc.constant(id),
            bytes: fc.uint8Array({ minLength: size, maxLength: size }),
          });
        }),
        ({ btf, id, bytes }) => {
          expectRoundTrip(btf, id, bytes);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('reads and writes bitfields at any bit, in both byte orders', () => {
    for (const little of [true, false]) {
      const b = new BtfBuilder();
      const u32 = b.int('u32', 4, false);
      const s16 = b.int('s16', 2, true);
      const s = b.struct('bits', 8, [
        ['a', u32, 0, 3],
        ['b', s16, 3, 11],
        ['c', u32, 14, 32],
        ['d', u32, 46, 18],
      ]);
      const btf = parseBtf(b.build(little));
      const value = { a: 5, b: -1000, c: 0xdeadbeef, d: 0x3ffff };
      const bytes = encodeBtfValue(btf, s, value);
      expect(decodeBtfValue(btf, s, bytes)).toEqual(value);
      expect(decodeBtfValue(btf, s, encodeBtfValue(btf, s, { c: 1 }))).toEqual({ a: 0, b: 0, c: 1, d: 0 });
    }
  });

  it('decodes names a struct cannot hold as plain members (__proto__ is a C identifier)', () => {
    const b = new BtfBuilder();
    const u8 = b.int('u8', 1, false);
    const s = b.struct('odd', 1, [['__proto__', u8, 0]]);
    const btf = parseBtf(b.build());
    const value = decodeBtfValue(btf, s, Uint8Array.of(7)) as Record<string, BtfValue>;
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(encodeBtfValue(btf, s, value)).toEqual(Uint8Array.of(7));
  });

  it('stops on a struct that contains itself', () => {
    const b = new BtfBuilder();
    // [1] struct loop { struct loop inner; } of 4 bytes: hostile, but every size check passes.
    const id = b.struct('loop', 4, [['inner', 1, 0]]);
    const btf = parseBtf(b.build());
    expect(() => decodeBtfValue(btf, id, new Uint8Array(4))).toThrow(/nests more than 32 levels/);
    expect(() => encodeBtfValue(btf, id, {})).not.toThrow();
  });

  it('refuses types without a value', () => {
    const b = new BtfBuilder();
    const proto = b.funcProto(0, []);
    const btf = parseBtf(b.build());
    expect(() => decodeBtfValue(btf, proto, new Uint8Array(8))).toThrow(/has no size/);
  });
});
