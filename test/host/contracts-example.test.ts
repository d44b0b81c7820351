/** examples/contracts/host.ts runs as documented and prints each call's outcome and gas. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { clangAvailable, warnIfMissing } from '../elf/compile.js';

warnIfMissing('test/host/contracts-example');

const root = fileURLToPath(new URL('../../', import.meta.url));

it.skipIf(!clangAvailable)(
  'node --import tsx examples/contracts/host.ts',
  () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'examples/contracts/host.ts'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('contract "bpfbox token"');
    expect(lines).toContain('imports: get, set');
    const outcome = (call: string) => lines.find((l) => l.startsWith(`${call} `))?.replace(/\s+/g, ' ');
    expect(outcome('mint(1, 2, 1000)')).toMatch(/→ ok gas \d+ \(\d+ instructions\)$/);
    expect(outcome('transfer(3, 2, 500)')).toMatch(/→ refused: insufficient balance gas/);
    expect(outcome('transfer(2, 2, 1)')).toMatch(/→ refused: self-transfer gas/);
    expect(outcome('transfer(2, 3, 100)')).toMatch(
      /→ trap OUT_OF_GAS: out of gas at pc \d+: .* host function set .*token\.c:\d+: return set\(/,
    );
    // The trapped transfer changed nothing: 2 still has 1000 − 300.
    const balances = lines.filter((l) => l.startsWith('balance_of(2) '));
    expect(balances).toHaveLength(2);
    for (const l of balances) expect(l).toMatch(/→ 700 +gas \d+/);
  },
  60_000,
);
