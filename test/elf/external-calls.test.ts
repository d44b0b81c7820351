/**
 * Calls to functions an object does not define (`extern long get(...)`), the link option that imports
 * them, linking several root functions into one program, and sections that name no program type.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { disassemble } from '../../src/asm/index.js';
import { linkFunctions, linkObject } from '../../src/elf/linker.js';
import { loadObject } from '../../src/elf/object.js';
import { OpenObject } from '../../src/elf/open.js';
import { LoadError } from '../../src/errors.js';
import { clangAvailable, compileBpf, warnIfMissing } from './compile.js';

warnIfMissing('test/elf/external-calls');

const SOURCE = `
typedef unsigned long long u64;
extern long get(u64 key);
extern long put(u64 key, u64 value);
static __attribute__((noinline)) long twice(u64 k) { return get(k) + get(k + 1); }
__attribute__((section("contract"))) long sum(u64 k) { return twice(k); }
__attribute__((section("contract"))) long store(u64 k) { return put(k, get(k)); }
long plain(u64 k) { return k + 1; }
`;

describe.skipIf(!clangAvailable)('external calls', () => {
  let bytes: Uint8Array;
  beforeAll(() => {
    bytes = compileBpf(SOURCE);
  });

  it('an unknown SEC name is an error by default and a plain function with programSections "any"', () => {
    expect(() => loadObject(bytes)).toThrow(/section "contract", which is not a known program type/);
    const object = loadObject(bytes, { programSections: 'any' });
    expect(object.programs).toEqual([]);
    expect(object.functions.filter((f) => f.global).map((f) => f.name)).toEqual(['plain', 'sum', 'store']);
  });

  it('without externalCall, a call to an undefined function is MISSING_SYMBOL', () => {
    const object = loadObject(bytes, { programSections: 'any' });
    const sum = object.functions.find((f) => f.name === 'sum');
    expect(sum).toBeDefined();
    let error: unknown;
    try {
      linkFunctions(object, 'sum', [sum!]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LoadError);
    expect(error).toMatchObject({ code: 'MISSING_SYMBOL' });
    expect((error as Error).message).toMatch(/^get is not defined in this object/);
  });

  it('externalCall turns each call into `call imm` and lists the sites by name', () => {
    const open = OpenObject.open(bytes, { programSections: 'any' });
    const fns = open.object.functions;
    const roots = ['sum', 'store'].map((n) => fns.find((f) => f.name === n)!);
    const asked: string[] = [];
    const linked = open.linkFunctions('contract', roots, {
      externalCall: (name) => {
        asked.push(name);
        return name === 'get' ? 1000 : -7;
      },
    });
    expect(asked).toEqual(['get', 'put']); // once per name
    // Each root in turn, followed by the functions it reaches first: sum, twice, store.
    expect(linked.functions.map((f) => [f.function.name, f.start])).toEqual([
      ['sum', 0],
      ['twice', 2],
      ['store', 10],
    ]);
    const calls = linked.program.insns.filter((i) => i.kind === 'call');
    expect(calls.map((c) => [c.pc, c.kind === 'call' && c.op, c.imm])).toEqual([
      [0, 'local', 1],
      [3, 'helper', 1000],
      [7, 'helper', 1000],
      [11, 'helper', 1000],
      [14, 'helper', -7],
    ]);
    expect(linked.externalCalls).toEqual([
      { name: 'get', imm: 1000, pcs: [3, 7, 11] },
      { name: 'put', imm: -7, pcs: [14] },
    ]);
    expect(disassemble(linked.program)).toContain('call 0x3e8');
    expect(linked.lines[14]?.text).toContain('put(k, get(k))');
  });

  it('linking programs of libbpf objects is unchanged: no external calls', () => {
    const object = loadObject(compileBpf('__attribute__((section("xdp"))) int f(void *ctx) { return 2; }'));
    const [linked] = linkObject(object);
    expect(linked.definition.type).toBe('xdp');
    expect(linked.externalCalls).toEqual([]);
  });
});
