/**
 * The library (everything `src/index.ts` exports) must run in a browser: it bundles for the browser
 * platform with no Node built-in, and the bundle runs a program.
 */
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

describe('browser bundle', () => {
  it('bundles src/index.ts for the browser without Node built-ins and runs a program', async () => {
    const result = await build({
      entryPoints: [new URL('../src/index.ts', import.meta.url).pathname],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    const code = result.outputFiles[0].text;
    expect(code).not.toMatch(/from\s+["']node:/);
    const url = `data:text/javascript;base64,${Buffer.from(code).toString('base64')}`;
    const lib = (await import(url)) as typeof import('../src/index.js');
    const r = lib.runProgram(lib.assemble('mov %r0, 6\nmul %r0, 7\nexit'));
    expect(r.r0).toBe(42n);
    console.info(`browser bundle: ${(code.length / 1024).toFixed(0)} KiB unminified`);
  });
});
