/** Every file of the bpf_conformance suite must pass on the interpreter. */
import { basename } from 'node:path';
import { describe, expect, test } from 'vitest';
import { findDataFiles, runDataFile } from '../../src/conformance/runner.js';
import { BPF_CONFORMANCE_TESTS } from './paths.js';

const files = findDataFiles([BPF_CONFORMANCE_TESTS]);

describe('bpf_conformance on the interpreter', () => {
  test('the suite has all 313 files', () => {
    expect(files).toHaveLength(313);
  });

  test.each(files.map((f) => [basename(f), f]))('%s', (_name, file) => {
    const outcome = runDataFile(file, { engine: 'interp' });
    expect(outcome, outcome.reason).toMatchObject({ status: 'pass' });
  });
});
