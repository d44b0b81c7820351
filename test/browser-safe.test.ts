/**
 * The library runs wherever JavaScript runs: no Node built-ins and no globals beyond the web platform
 * in any module the package's entry point reaches (the CLI, the conformance runner and src/util/files.ts
 * are Node-only and not exported).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect, it } from 'vitest';

const SRC = new URL('../src/', import.meta.url).pathname;
const LIBRARY = ['asm', 'elf', 'host', 'isa', 'jit', 'runtime', 'verifier', 'vm', 'util'];
const NODE_ONLY = new Set(['util/files.ts']);

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

const modules = [
  ...LIBRARY.flatMap((d) => files(join(SRC, d))),
  join(SRC, 'errors.ts'),
  join(SRC, 'index.ts'),
]
  .map((f) => relative(SRC, f))
  .filter((f) => !NODE_ONLY.has(f));

/** The code without comments, so prose such as "the process." does not count. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

it('covers every library directory', () => {
  expect(modules.length).toBeGreaterThan(100);
});

it.each(modules)('%s uses no Node APIs', (file) => {
  const text = code(readFileSync(join(SRC, file), 'utf8'));
  expect(text).not.toMatch(/from 'node:|require\(|\bprocess\.|\bBuffer\b|\b__dirname\b/);
});
