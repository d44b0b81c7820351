/** Every file of the bpf_conformance suite passes on the JIT, with the interpreter's outcome. */
import { basename } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ENGINE_NAMES } from '../../src/conformance/engines.js';
import { findDataFiles, runDataFile } from '../../src/conformance/runner.js';
import { BPF_CONFORMANCE_TESTS } from '../conformance/paths.js';

const files = findDataFiles([BPF_CONFORMANCE_TESTS]);

describe('bpf_conformance on the JIT', () => {
  test('the JIT is a registered engine', () => {
    expect(ENGINE_NAMES).toContain('jit');
  });

  test('the suite has all 313 files', () => {
    expect(files).toHaveLength(313);
  });

  test.each(files.map((f) => [basename(f), f]))('%s', (_name, file) => {
    const jit = runDataFile(file, { engine: 'jit' });
    expect(jit, jit.reason).toMatchObject({ status: 'pass' });
    const interp = runDataFile(file, { engine: 'interp' });
    expect(jit.r0).toBe(interp.r0);
    expect(jit.errorCode).toBe(interp.errorCode);
    expect(jit.instructions).toBe(interp.instructions);
  });
});
