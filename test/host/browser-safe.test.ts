/** src/host runs wherever JavaScript runs: no Node built-ins, no globals beyond the web platform. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const dir = new URL('../../src/host/', import.meta.url).pathname;

it.each(readdirSync(dir).filter((f) => f.endsWith('.ts')))('%s uses no Node APIs', (file) => {
  const text = readFileSync(join(dir, file), 'utf8');
  expect(text).not.toMatch(/from 'node:|require\(|\bprocess\.|\bBuffer\b/);
});
