/**
 * The README's TypeScript examples for C programs, run as printed (only `from 'bpfbox'` is pointed at
 * src/index.ts): if the README drifts from the API or the examples, this fails.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CLANG, clangAvailable, warnIfMissing } from './elf/compile.js';

warnIfMissing('test/readme-snippets');

const ROOT = resolve(import.meta.dirname, '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const work = mkdtempSync(join(tmpdir(), 'bpfbox-readme-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The first ```ts block after `heading`, importing the library from the sources. */
function snippet(heading: string): string {
  const at = README.indexOf(heading);
  expect(at, `README has no "${heading}"`).toBeGreaterThanOrEqual(0);
  const code = README.slice(at).split('```ts\n')[1].split('```')[0];
  return code.replaceAll("from 'bpfbox'", `from '${join(ROOT, 'src/index.ts')}'`);
}

function runTs(code: string, extra: string, cwd: string): string {
  const file = join(work, `snippet-${Math.random().toString(36).slice(2)}.ts`);
  writeFileSync(file, `${code}\n${extra}\n`);
  // tsx's loader by path: the snippet may run outside the project (cwd), where `tsx` is not resolvable.
  const tsx = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
  const r = spawnSync(process.execPath, ['--import', tsx, file], { cwd, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

describe.skipIf(!clangAvailable)('README snippets', () => {
  it('unit-testing a C program: counts per pid, then an event with no task', () => {
    const out = runTs(snippet('## Unit-testing eBPF C programs'), '', ROOT);
    // struct stats { u64 calls; s64 last_dfd; } for pid 100: 2 calls, last dfd 3; then r0 0n.
    expect(out.replace(/\s+/g, ' ').trim()).toBe('{ calls: 2n, last_dfd: 3n } 0n');
  });

  it('contracts: the token transfer succeeds and uses gas', () => {
    const r = spawnSync(
      CLANG,
      [
        '-target',
        'bpf',
        '-O2',
        '-g',
        '-c',
        join(ROOT, 'examples/contracts/token.c'),
        '-o',
        join(work, 'token.o'),
      ],
      {
        encoding: 'utf8',
      },
    );
    expect(r.stderr).toBe('');
    const out = runTs(snippet('## Contracts'), 'console.log(String(r0), gasUsed);', work);
    const [r0, gas] = out.trim().split(' ');
    expect(r0).toBe('0');
    expect(Number(gas)).toBeGreaterThan(2 * 100 + 2 * 500); // two reads and two writes, plus instructions
  });
});
