/**
 * docs/unit-testing.md's complete example is the code that runs here: its C block is
 * examples/kprobe-counter.bpf.c (after the header comment) and its test block is
 * test/examples/unit-testing.test.ts with the repository's paths and "repo only" lines put back.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** The first fenced block of `lang` in the markdown. */
function block(markdown: string, lang: string): string {
  const match = new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``).exec(markdown);
  if (match === null) throw new Error(`no ${lang} block in docs/unit-testing.md`);
  return match[1];
}

/** The test file as a user's project has it: bpfbox from npm, the C file in bpf/, no clang skip. */
function asUserProject(test: string): string {
  return test
    .slice(test.indexOf('import { execFileSync'))
    .split('\n')
    .filter((line) => !line.trimEnd().endsWith('// repo only'))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .replace("from '../../src/index.js'", "from 'bpfbox'")
    .replace("new URL('../../examples/kprobe-counter.bpf.c'", "new URL('../bpf/kprobe-counter.bpf.c'")
    .replace("describe.skipIf(!clangAvailable)('kprobe-counter.bpf.c'", "describe('kprobe-counter.bpf.c'");
}

describe('docs/unit-testing.md', () => {
  const doc = read('docs/unit-testing.md');

  it('shows examples/kprobe-counter.bpf.c as it is', () => {
    const source = read('examples/kprobe-counter.bpf.c');
    expect(block(doc, 'c')).toBe(source.slice(source.indexOf('#include')));
  });

  it('shows test/examples/unit-testing.test.ts as a user would write it', () => {
    expect(block(doc, 'ts')).toBe(asUserProject(read('test/examples/unit-testing.test.ts')));
  });

  it('every example it lists exists and has a test', () => {
    const listed = [...doc.matchAll(/^\| `([a-z-]+)\.bpf\.c` \|/gm)].map((m) => m[1]);
    expect(listed).toHaveLength(7);
    for (const name of listed) {
      expect(read(`examples/${name}.bpf.c`)).toContain('SEC(');
      expect(read(`test/examples/${name}.test.ts`)).toContain(`compileExample('${name}')`);
    }
  });
});
