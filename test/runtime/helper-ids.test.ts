/**
 * Helper ids against the UAPI header itself (libbpf-dev's linux/bpf.h), not a copy of it: the
 * `__BPF_FUNC_MAPPER` list numbers helpers by position (`FN(unspec)` is 0), or explicitly as
 * `FN(name, id, …)` in newer headers.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KernelHelperId } from '../../src/runtime/helpers/ids.js';
import { MapHelperId } from '../../src/runtime/helpers/maps.js';
import { KERNEL_HELPER_NAMES } from '../../src/runtime/helpers/names.js';

const HEADER = '/usr/include/linux/bpf.h';
const available = existsSync(HEADER);
if (!available) console.warn(`[helper-ids] SKIPPED: ${HEADER} not found; install libbpf-dev (CI does).`);

function headerIds(): Map<string, number> {
  const text = readFileSync(HEADER, 'utf8');
  // `__BPF_FUNC_MAPPER` in older headers, `___BPF_FUNC_MAPPER` in newer ones; the list ends at the
  // first line that does not continue the macro.
  const start = text.search(/#define _{2,3}BPF_FUNC_MAPPER\(/);
  const end = text.indexOf('\n\n', start);
  const ids = new Map<string, number>();
  let next = 0;
  for (const m of text.slice(start, end).matchAll(/\bFN\((\w+)(?:,\s*(\d+))?/g)) {
    const id = m[2] === undefined ? next : Number(m[2]);
    ids.set(m[1], id);
    next = id + 1;
  }
  return ids;
}

describe.skipIf(!available)('helper ids', () => {
  const ids = available ? headerIds() : new Map<string, number>();

  it('the header lists the helpers in order', () => {
    expect(ids.get('unspec')).toBe(0);
    expect(ids.get('map_lookup_elem')).toBe(1);
    expect(ids.size).toBeGreaterThan(200);
  });

  it('the name table lists the header helpers at their ids', () => {
    for (const [name, id] of ids) expect([id, KERNEL_HELPER_NAMES[id]]).toEqual([id, name]);
    expect(KERNEL_HELPER_NAMES.length).toBeGreaterThanOrEqual(ids.size);
  });

  it.each([
    ['kernel helpers', KernelHelperId],
    ['map helpers', MapHelperId],
  ] as const)('%s have the ids of linux/bpf.h', (_, table) => {
    for (const [name, id] of Object.entries(table)) expect([name, ids.get(name)]).toEqual([name, id]);
  });
});
