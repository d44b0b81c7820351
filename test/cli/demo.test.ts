/**
 * `bpfbox demo` over the repository's examples/ (the assembly table, then the C table when clang-19
 * is installed) and over directories with wrong expectations, broken headers and no compiler.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseCExampleHeader } from '../../src/cli/demo/c-header.js';
import { FormatError } from '../../src/errors.js';
import { clangAvailable, warnIfMissing } from '../elf/compile.js';
import { bpfbox, ROOT, tempFiles } from './spawn.js';

warnIfMissing('test/cli/demo (C table)');

const EXAMPLES = join(ROOT, 'examples');
const NO_CLANG_NOTICE = /^C examples: \d+ skipped, they need clang-19 and libbpf-dev \(.*apt-get install/;

/** Runs the CLI with BPFBOX_CLANG set: the child copies the environment when it is spawned. */
function bpfboxWithClang(clang: string, args: readonly string[]) {
  const saved = process.env.BPFBOX_CLANG;
  process.env.BPFBOX_CLANG = clang;
  try {
    return bpfbox(args);
  } finally {
    if (saved === undefined) delete process.env.BPFBOX_CLANG;
    else process.env.BPFBOX_CLANG = saved;
  }
}

/** A C example whose header holds `header` (comment lines) and a program `answer` returning 42. */
const answer = (header: string) => `${header}
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("syscall") int answer(void *ctx) {
  bpf_printk("answer=%d", 42);
  return 42;
}
char LICENSE[] SEC("license") = "GPL";
`;

describe.concurrent('bpfbox demo', () => {
  test('runs every example in examples/: the assembly table, then the C table, all ✓', async () => {
    const asm = readdirSync(EXAMPLES).filter((n) => /\.(s|asm)$/.test(n));
    const c = readdirSync(EXAMPLES).filter((n) => n.endsWith('.bpf.c'));
    expect(asm.length).toBeGreaterThanOrEqual(4);
    expect(c.length).toBeGreaterThanOrEqual(7);
    const r = await bpfbox(['demo']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ {2}example\s+r0\s+insns\s+computes$/);
    for (const name of asm) {
      expect(lines.find((l) => l.includes(name))).toMatch(
        new RegExp(`^✓ ${name.replace('.', '\\.')}\\s+0x[0-9a-f]+\\s+\\d+\\s+\\S`),
      );
    }
    expect(lines[asm.length + 1]).toBe('');
    const table = lines.slice(asm.length + 2);
    if (!clangAvailable) {
      expect(table).toHaveLength(1);
      expect(table[0]).toMatch(NO_CLANG_NOTICE);
      return;
    }
    expect(table[0]).toMatch(/^ {2}C example\s+program\s+type\s+event\s+result$/);
    expect(table.filter((l) => l.startsWith('✗'))).toEqual([]);
    for (const name of c) {
      // One ✓ row per demo: line, the first one naming the example, then its "shows:" caption.
      const events = readFileSync(join(EXAMPLES, name), 'utf8').match(/^ \* {3}demo: /gm) ?? [];
      expect(events.length, name).toBeGreaterThanOrEqual(1);
      const first = table.findIndex((l) => l.startsWith(`✓ ${name} `));
      expect(first, name).toBeGreaterThan(0);
      const rows = table.slice(first, first + events.length);
      expect(
        rows.every((l) => l.startsWith('✓ ')),
        name,
      ).toBe(true);
      expect(table[first + events.length], name).toMatch(/^\s+shows: \S/);
    }
    expect(table.at(-1)).toMatch(/^ {2}\(clang-19 -target bpf -O2 -g, loadBpfObject, interpreter;/);
    // What each result column says, for the examples whose outcome is easy to state.
    const row = (text: string) => table.find((l) => l.includes(text)) ?? '';
    expect(row('UDP to port 53')).toMatch(/XDP_DROP · stats\[1\] = \{1, 42\}$/);
    expect(row('IPv4 with TTL 200')).toMatch(/TC_ACT_OK · 3 packet bytes rewritten · rewritten\[0\] = 1$/);
    expect(row('TCP packet, 54 bytes')).toMatch(/keep 54 bytes · outcomes\[0\] = 1$/);
    expect(row('bash execs /usr/bin/ls')).toMatch(/ 0 · ringbuf 1 record of 96 B "bash" "\/usr\/bin\/ls"$/);
    expect(row('its thread 101')).toMatch(/ 0 · calls\[100\] = \{2, 3\}$/);
    expect(row('samples 5 17')).toMatch(/ 5 · printk "samples=5 sum=75 max=42" \(\+1 line\)$/);
  });

  test('--engine jit runs the assembly examples on the JIT with the same results', async () => {
    const [interp, jit] = await Promise.all([bpfbox(['demo']), bpfbox(['demo', '--engine', 'jit'])]);
    expect(jit.code).toBe(0);
    expect(jit.stdout).toBe(interp.stdout);
    expect(await bpfbox(['demo', '--engine', 'nope'])).toMatchObject({ code: 2 });
  });

  test('marks a wrong result and a failing program with ✗ and exits 1', async () => {
    const dir = tempFiles({
      'a.s': '# what: forty-two\n# expect: 41\nmov %r0, 42\nexit\n',
      'b.s': '# what: reads nothing\nldxb %r0, [%r1]\nexit\n',
      'c.s': '# what: reads its input\n# mem: 07\nldxb %r0, [%r1]\nexit\n',
    });
    const r = await bpfbox(['demo', dir]);
    expect(r.code).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[1]).toMatch(/^✗ a\.s\s+0x2a\s+2\s+forty-two \(expected 0x29\)$/);
    expect(lines[2]).toMatch(/^✗ b\.s\s+error\[MEMORY_FAULT\]/);
    expect(lines[3]).toMatch(/^✓ c\.s\s+0x7\s+2\s+reads its input$/);
  });

  test.skipIf(!clangAvailable)(
    'a C example with a wrong expectation, a bad program or bad C exits 1',
    async () => {
      const dir = tempFiles({
        'good.bpf.c': answer(
          '// what: the answer\n// demo: answer {} asked once\n// expect: 42; printk answer=42',
        ),
        'wrong.bpf.c': answer(
          [
            '// demo: answer {} right r0',
            '// expect: 42',
            '// demo: answer {} wrong r0 and printk',
            '// expect: 41; ringbuf 0; printk answer=41',
            '// demo: nosuch {} a typo',
          ].join('\n'),
        ),
        'broken.bpf.c': '// demo: answer {}\nint answer(void) { return undeclared; }\n',
        'silent.bpf.c': answer('// no demo lines'),
      });
      const r = await bpfbox(['demo', dir]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(1);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^ {2}C example\s+program\s+type\s+event\s+result$/);
      expect(lines[1]).toMatch(/^✗ broken\.bpf\.c\s+-\s+-\s+-\s+error\[IO\]: clang-19 failed: .*undeclared/);
      expect(lines[2]).toMatch(/^✓ good\.bpf\.c\s+answer\s+syscall\s+asked once\s+42 · printk "answer=42"$/);
      expect(lines[3]).toMatch(/^\s+shows: the answer$/);
      expect(lines[4]).toMatch(/^✗ silent\.bpf\.c\s+-\s+-\s+-\s+no "demo:" lines in its header comment$/);
      expect(lines[5]).toMatch(/^✓ wrong\.bpf\.c\s+answer\s+syscall\s+right r0\s+42 · printk "answer=42"$/);
      expect(lines[6]).toMatch(
        /^✗\s+wrong r0 and printk\s+42 · printk "answer=42" \(expected r0 41, printk "answer=41"\)$/,
      );
      expect(lines[7]).toMatch(
        /^✗\s+nosuch\s+\?\s+a typo\s+error\[USAGE\]: the object has no program named nosuch/,
      );
    },
  );

  test('without clang-19 the C examples are one notice line and the demo still exits 0', async () => {
    const r = await bpfboxWithClang('/nonexistent/clang-19', ['demo']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.at(-1)).toMatch(NO_CLANG_NOTICE);
    expect(lines.at(-2)).toBe('');
    expect(lines.filter((l) => l.startsWith('✓ '))).toHaveLength(
      readdirSync(EXAMPLES).filter((n) => /\.(s|asm)$/.test(n)).length,
    );
  });

  test('a directory without examples is a usage error', async () => {
    expect(await bpfbox(['demo', tempFiles({})])).toMatchObject({ code: 2 });
  });
});

describe('C example headers', () => {
  test('demo:, expect: and what: lines, in // or block-comment form', () => {
    const text = [
      '/*',
      ' *   what: drops UDP to port 53',
      ' *   demo: xdp_count {"packet": "00 11", "note": "a } in a string"} UDP to port 53',
      ' *   expect: XDP_DROP',
      ' */',
      '// demo: other {"args": [1, -2]}',
      '// expect: -1; ringbuf 2; printk x=1; y=2',
    ].join('\n');
    expect(() => parseCExampleHeader(text, 'x.bpf.c')).toThrow(
      /x\.bpf\.c: line 7: .*"y=2" is not "ringbuf N" or "printk TEXT"/,
    );
    const header = parseCExampleHeader(text.replace('; y=2', ''), 'x.bpf.c');
    expect(header.what).toBe('drops UDP to port 53');
    expect(header.events).toEqual([
      {
        program: 'xdp_count',
        input: { packet: '00 11', note: 'a } in a string' },
        label: 'UDP to port 53',
        line: 3,
        expect: { text: 'XDP_DROP', r0: { name: 'XDP_DROP' }, ringbuf: undefined, printk: undefined },
      },
      {
        program: 'other',
        input: { args: [1, -2] },
        label: '',
        line: 6,
        expect: {
          text: '-1; ringbuf 2; printk x=1',
          r0: { value: 2n ** 64n - 1n },
          ringbuf: 2,
          printk: 'x=1',
        },
      },
    ]);
  });

  test.each([
    ['// expect: 1', /line 1: expect: must follow a demo: line/],
    ['// demo: p {}\n// expect: 1\n// expect: 2', /line 3: expect: must follow a demo: line/],
    ['// demo: p {"a": 1', /line 1: demo: the IN\.json object has no closing \}/],
    ['// demo: p {"a": 01}', /line 1: demo: IN\.json is not valid JSON/],
    ['// demo: p', /line 1: demo: expects PROGRAM \{IN\.json\} \[label\]/],
    [
      '// demo: p {}\n// expect: DROP',
      /line 2: expect: "DROP" is neither a number nor an XDP_\* \/ TC_ACT_\* name/,
    ],
  ])('%s is a FormatError naming the line', (text, message) => {
    expect(() => parseCExampleHeader(text, 'f.bpf.c')).toThrow(FormatError);
    expect(() => parseCExampleHeader(text, 'f.bpf.c')).toThrow(message);
  });
});
