/**
 * `.BTF` parsing on what clang-19 emits: every type kind, struct layouts (member offsets from
 * `__builtin_offsetof` compiled into the same object; bitfields through a compiler-initialized value),
 * rendering, member lookup, value formatting; and hand-made malformed sections → BAD_BTF.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Btf, BtfKind, type BtfType, parseBtf } from '../../src/elf/btf.js';
import { BpfError, LoadError } from '../../src/errors.js';
import { BtfBuilder } from './btf-builder.js';
import { cleanupCompiled, compileBpf, HAVE_BPF_TOOLCHAIN, warnIfMissing } from './btf-fixtures.js';

warnIfMissing('test/elf/btf');
afterAll(cleanupCompiled);

const KINDS_C = `
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
enum color { RED, GREEN = 5, BLUE = -1 };
enum big { SMALL = 1, HUGE = 0x123456789ULL };
struct opaque;
union un { int i; char c[3]; };
typedef unsigned int u32_t;
struct inner { short s; char c; };
struct layout {
  char a; int b; long long c; struct inner in;
  union { int u1; char u2[3]; };
  unsigned int bf1 : 3, bf2 : 9; int bf3 : 5;
  unsigned char tail[3]; double d; float f; enum color col; enum big bg;
  const volatile u32_t cv; struct opaque *op; int __attribute__((btf_type_tag("user"))) *up;
  char name[8]; _Bool flag;
};
#define OFF(f) __builtin_offsetof(struct layout, f)
unsigned long offsets[] SEC(".data.offsets") = {
  OFF(a), OFF(b), OFF(c), OFF(in), OFF(in.c), OFF(u1), OFF(u2), OFF(tail), OFF(d), OFF(f), OFF(col),
  OFF(bg), OFF(cv), OFF(op), OFF(up), OFF(name), OFF(flag), sizeof(struct layout) };
struct layout sample SEC(".data.sample") = { .a = 'x', .b = -5, .c = 1LL << 40, .in = { -2, 7 },
  .u1 = 0x01020304, .bf1 = 5, .bf2 = 300, .bf3 = -7, .tail = { 1, 2, 3 }, .d = 1.5, .f = -2.25,
  .col = GREEN, .bg = HUGE, .cv = 42, .name = "comm", .flag = 1 };
int tagged __attribute__((btf_decl_tag("my_tag"))) SEC(".data.tag") = 1;
static __attribute__((noinline)) int helper(int *restrict p, union un *u) { return *p + u->i; }
SEC("xdp") int prog(struct xdp_md *ctx) {
  union un u = { .i = ctx->data };
  int x = ctx->ingress_ifindex;
  return helper(&x, &u) + sample.b;
}
char LICENSE[] SEC("license") = "GPL";
`;
/** `sample` of the C above, as formatValue must show it (little-endian). */
const SAMPLE = {
  a: 120,
  b: -5,
  c: 2 ** 40,
  in: { s: -2, c: 7 },
  u1: 0x01020304,
  u2: [4, 3, 2],
  bf1: 5,
  bf2: 300,
  bf3: -7,
  tail: [1, 2, 3],
  d: 1.5,
  f: -2.25,
  col: 'GREEN',
  bg: 'HUGE',
  cv: 42,
  op: '0x0',
  up: '0x0',
  name: 'comm',
  flag: true,
};
/** Member paths in the order of `offsets[]` in the C above. */
const OFFSET_PATHS = [
  'a',
  'b',
  'c',
  'in',
  'in.c',
  'u1',
  'u2',
  'tail',
  'd',
  'f',
  'col',
  'bg',
  'cv',
  'op',
  'up',
  'name',
  'flag',
];

describe.skipIf(!HAVE_BPF_TOOLCHAIN)('.BTF of a clang-19 object', () => {
  const compiled = HAVE_BPF_TOOLCHAIN ? compileBpf('kinds', KINDS_C) : undefined;
  const btf = compiled === undefined ? undefined : parseBtf(compiled.btf);
  const layoutId = (): number => btf!.find('layout', 'struct')!.id;

  it('has every type kind, with ids in order', () => {
    const kinds = new Set(btf!.types.map((t) => t.kind));
    for (const kind of Object.keys(BtfKind)) expect(kinds, kind).toContain(kind);
    expect(btf!.types.map((t) => t.id)).toEqual(btf!.types.map((_, i) => i));
    expect(btf!.types[0].kind).toBe('void');
  });

  it('decodes the trailing data of each kind', () => {
    const b = btf!;
    const color = b.find('color', 'enum')!;
    expect(color.signed).toBe(true);
    expect(color.values).toEqual([
      { name: 'RED', value: 0n },
      { name: 'GREEN', value: 5n },
      { name: 'BLUE', value: -1n },
    ]);
    const big = b.find('big', 'enum64')!;
    expect(big.values.map((v) => v.value)).toEqual([1n, 0x123456789n]);
    expect(b.find('opaque', 'fwd')!.union).toBe(false);
    const helper = b.find('helper', 'func')!;
    const proto = b.get(helper.type);
    expect(proto.kind).toBe('func_proto');
    if (proto.kind !== 'func_proto') return;
    expect(proto.params.map((p) => p.name)).toEqual(['p', 'u']);
    expect(b.render(proto.params[0].type)).toBe('int *restrict');
    expect(b.find('my_tag', 'decl_tag')!.componentIdx).toBe(-1);
    const sec = b.find('.data.offsets', 'datasec')!;
    expect(sec.vars).toHaveLength(1);
    expect(b.get(sec.vars[0].type).name).toBe('offsets');
    expect(sec.vars[0].size).toBe(18 * 8);
    const uint = b.find('unsigned int', 'int')!;
    expect([uint.size, uint.bits, uint.encoding.signed]).toEqual([4, 32, false]);
    expect(b.find('_Bool', 'int')!.encoding.bool).toBe(true);
    expect(b.find('double', 'float')!.size).toBe(8);
  });

  it('member offsets and sizes match what the compiler computed', () => {
    const b = btf!;
    const words = new BigUint64Array(compiled!.section('.data.offsets').slice().buffer);
    const offsets = [...words].map(Number);
    OFFSET_PATHS.forEach((path, i) => {
      expect(b.member(layoutId(), path)?.byteOffset, path).toBe(offsets[i]);
    });
    expect(b.size(layoutId())).toBe(offsets[OFFSET_PATHS.length]);
    expect(b.member(layoutId(), 'nope')).toBeUndefined();
    expect(b.member(layoutId(), 'b.x')).toBeUndefined();
    expect(b.member(layoutId(), '')).toBeUndefined();
    // The anonymous union is member 4; u2 is its member 1 (CO-RE access path).
    expect(b.member(layoutId(), 'u2')?.path).toEqual([4, 1]);
    expect(b.member(layoutId(), 'in.c')?.path).toEqual([3, 1]);
  });

  it('bitfields and every value decode as the compiler initialized them', () => {
    const b = btf!;
    const bytes = compiled!.section('.data.sample');
    expect(JSON.parse(b.formatValue(layoutId(), bytes))).toEqual(SAMPLE);
    const bf2 = b.member(layoutId(), 'bf2')!;
    expect([bf2.bitOffset, bf2.bitSize]).toEqual([24 * 8 + 3, 9]);
    // The datasec formats as an object of its variables.
    expect(
      JSON.parse(b.formatValue(b.find('.data.tag', 'datasec')!.id, new Uint8Array([1, 0, 0, 0]))),
    ).toEqual({
      tagged: 1,
    });
  });

  it('renders C-like declarations', () => {
    const b = btf!;
    const find = (pred: (t: BtfType) => boolean): number => b.types.find(pred)!.id;
    expect(b.render(layoutId())).toBe('struct layout');
    expect(b.render(b.find('offsets', 'var')!.id)).toBe('unsigned long offsets[18]');
    expect(b.render(b.find('helper', 'func')!.id)).toBe('int helper(int *restrict p, union un *u)');
    expect(b.render(find((t) => t.kind === 'const'))).toBe('const volatile u32_t');
    expect(b.render(find((t) => t.kind === 'ptr' && b.get(t.type).kind === 'fwd'))).toBe('struct opaque *');
    const def = b.renderDefinition(layoutId());
    expect(def).toContain('unsigned int bf2: 9; /* offset 24 bit 3 */');
    expect(def).toContain('char name[8]; /* offset 80 */');
    expect(def.split('\n')[0]).toBe('struct layout { /* size 96 */');
  });

  it('resolves through typedefs and qualifiers', () => {
    const b = btf!;
    const cv = b.member(layoutId(), 'cv')!;
    expect(b.resolve(cv.type).name).toBe('unsigned int');
    expect(b.skipQualifiers(cv.type).name).toBe('u32_t');
    expect(b.size(cv.type)).toBe(4);
    expect(b.findAll('int').map((t) => t.kind)).toContain('int');
  });

  it('rejects a value shorter than its type', () => {
    expect(() => btf!.formatValue(layoutId(), new Uint8Array(10))).toThrow(BpfError);
  });
});

describe.skipIf(!HAVE_BPF_TOOLCHAIN)('.BTF of a big-endian (bpfeb) object', () => {
  it('parses, and values including bitfields decode in the target byte order', () => {
    const compiled = compileBpf('kinds_be', KINDS_C, ['-target', 'bpfeb']);
    const b = parseBtf(compiled.btf);
    expect(b.littleEndian).toBe(false);
    const layout = b.find('layout', 'struct')!.id;
    // Only the byte view of the union's int differs from the little-endian sample.
    expect(JSON.parse(b.formatValue(layout, compiled.section('.data.sample')))).toEqual({
      ...SAMPLE,
      u2: [1, 2, 3],
    });
  });
});

describe('.BTF header and structure errors', () => {
  const valid = (): BtfBuilder => {
    const b = new BtfBuilder();
    const int = b.int('int', 4, true);
    const s = b.struct('pair', 8, [
      ['a', int, 0],
      ['b', int, 32],
    ]);
    b.ptr(s);
    return b;
  };
  const badBtf = (bytes: Uint8Array): LoadError => {
    try {
      parseBtf(bytes);
    } catch (e) {
      expect(e).toBeInstanceOf(LoadError);
      expect((e as LoadError).code).toBe('BAD_BTF');
      expect((e as LoadError).section).toBe('.BTF');
      return e as LoadError;
    }
    throw new Error('expected BAD_BTF');
  };

  it('a hand-built section parses', () => {
    const b = parseBtf(valid().build());
    expect(b.count).toBe(4);
    expect(b.render(3)).toBe('struct pair *');
    expect(b.member(2, 'b')?.byteOffset).toBe(4);
  });

  it('truncated header', () => {
    const e = badBtf(valid().build().subarray(0, 10));
    expect(e.message).toMatch(/header .* needs 24 bytes/);
  });

  it('wrong magic', () => {
    const bytes = valid().build();
    bytes[0] = 0x12;
    expect(badBtf(bytes).message).toMatch(/bad magic/);
    expect(badBtf(new Uint8Array(1)).message).toMatch(/too short/);
  });

  it('wrong version, header length, section bounds', () => {
    const set = (off: number, value: number): Uint8Array => {
      const bytes = valid().build();
      new DataView(bytes.buffer).setUint32(off, value, true);
      return bytes;
    };
    const version = valid().build();
    version[2] = 2;
    expect(badBtf(version).message).toMatch(/version 2/);
    expect(badBtf(set(4, 8)).message).toMatch(/header length 8/);
    expect(badBtf(set(12, 100000)).message).toMatch(/type section .* runs past/);
    expect(badBtf(set(20, 100000)).message).toMatch(/string section .* runs past/);
  });

  it('type id out of range names the type', () => {
    const b = valid();
    b.ptr(99);
    const e = badBtf(b.build());
    expect(e.message).toMatch(/type \[4\] ptr '' type refers to type id 99, but the last type id is 4/);
    expect(e.offset).toBeGreaterThan(24);
    const m = new BtfBuilder();
    m.struct('s', 4, [['x', 7, 0]]);
    expect(badBtf(m.build()).message).toMatch(/struct 's' member 'x' refers to type id 7/);
  });

  it('string offset out of range', () => {
    const b = valid();
    b.raw(5000, BtfKind.int << 24, 4, [32]);
    expect(badBtf(b.build()).message).toMatch(/string offset 5000 is past the end/);
  });

  it('truncated type records and unknown kinds', () => {
    const cut = (bytes: number): Uint8Array => {
      const out = valid().build();
      const view = new DataView(out.buffer);
      view.setUint32(12, view.getUint32(12, true) - bytes, true);
      return out;
    };
    expect(badBtf(cut(4)).message).toMatch(/type \[3\] record is truncated \(8 bytes left\)/);
    expect(badBtf(cut(16)).message).toMatch(
      /type \[2\] 'pair' \(struct\) needs 24 bytes of data after its header/,
    );
    const u = valid();
    u.raw(0, 25 << 24, 0, []);
    expect(badBtf(u.build()).message).toMatch(/unknown kind 25/);
  });

  it('members outside their struct, bad ints, reference cycles', () => {
    const b = new BtfBuilder();
    const int = b.int('int', 4, true);
    b.struct('s', 4, [['x', int, 32]]);
    expect(badBtf(b.build()).message).toMatch(/member 'x' \[bit 32, \+32\) lies outside the 4-byte struct/);
    const i = new BtfBuilder();
    i.int('bad', 3, false);
    expect(badBtf(i.build()).message).toMatch(/not a valid integer/);
    const c = new BtfBuilder();
    c.typedef('a', 2);
    c.typedef('b', 1);
    const bytes = c.build();
    const btf = parseBtf(bytes); // the cycle is found when it is followed
    expect(() => btf.size(1)).toThrow(/reference cycle/);
    expect(() => btf.resolve(1)).toThrow(LoadError);
    expect(btf.render(1)).toBe('a');
  });

  it('big-endian BTF parses too', () => {
    const bytes = valid().build(false);
    const b = Btf.parse(bytes);
    expect(b.littleEndian).toBe(false);
    expect(JSON.parse(b.formatValue(2, new Uint8Array([0, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe])))).toEqual({
      a: 1,
      b: -2,
    });
  });
});
