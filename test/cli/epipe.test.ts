/** A reader that stops early (`bpfbox trace … | head -1`) ends the CLI quietly, not with an EPIPE crash. */
import { spawn } from 'node:child_process';
import { expect, it } from 'vitest';
import { CLI_MAIN, ROOT } from './spawn.js';

it('exits quietly when stdout is closed while it is still printing', async () => {
  const child = spawn(process.execPath, [CLI_MAIN, 'trace', 'examples/fibonacci.s'], { cwd: ROOT });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  // Read one chunk, then go away like `head -1` does.
  child.stdout.once('data', () => child.stdout.destroy());
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  expect(stderr).toBe('');
  expect(code).toBe(0);
});
