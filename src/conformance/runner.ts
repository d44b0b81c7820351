/**
 * Runs conformance `.data` tests on an engine and judges the outcome. A test expecting an error
 * (`-- error`, `-- error pattern`) passes when our engine rejects or traps with any typed BpfError: the
 * expected texts are other implementations' messages, which we do not imitate. An empty `-- error`
 * section also expects a rejection (bpf_conformance's negative/unused-* files), where upstream skips.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BpfError, IoError } from '../errors.js';
import { readText } from '../util/files.js';
import { hex64 } from '../util/hex.js';
import type { HelperRegistry } from '../vm/helpers.js';
import { assembleDataAsm, buildDataProgram, type DataSections, parseDataSections } from './data-file.js';
import { DEFAULT_ENGINE, type Engine, getEngine } from './engines.js';
import { conformanceHelpers } from './helpers.js';

export type OutcomeStatus = 'pass' | 'fail' | 'skip';

export interface Outcome {
  status: OutcomeStatus;
  /** Why it failed or was skipped; for passes on error tests, the error we gave. '' otherwise. */
  reason: string;
  r0?: bigint;
  expected?: bigint;
  instructions?: number;
  /** Code of the BpfError the program was rejected with, if any. */
  errorCode?: string;
}

export interface ConformanceOptions {
  /** Engine name or object (default 'interp'). */
  engine?: string | Engine;
  /** Instruction budget per test (default: the engine's). */
  maxInstructions?: number;
  /** Helpers (default: the uBPF test helpers, `conformanceHelpers()`). */
  helpers?: HelperRegistry;
}

function resolveEngine(engine: string | Engine | undefined): Engine {
  return typeof engine === 'object' ? engine : getEngine(engine ?? DEFAULT_ENGINE);
}

function describeError(e: unknown): { code: string; text: string } {
  if (e instanceof BpfError) return { code: e.code, text: `${e.code}: ${e.message}` };
  return { code: 'INTERNAL', text: `internal error: ${e instanceof Error ? e.message : String(e)}` };
}

/** Runs one parsed test. Never throws for test content; a broken engine shows up as a failure. */
export function runDataTest(test: DataSections, options: ConformanceOptions = {}): Outcome {
  const engine = resolveEngine(options.engine);
  if (test.pyelf !== undefined) {
    return { status: 'skip', reason: 'ELF test (-- pyelf) needs uBPF’s ELF template generator' };
  }
  if (test.reload)
    return { status: 'skip', reason: 'uBPF VM API test (-- reload: loading code twice into one VM)' };
  if (engine.jit && test.noJit !== undefined) return { status: 'skip', reason: `no jit: ${test.noJit}` };
  const expectsError = test.error !== undefined || test.errorPattern !== undefined;
  const expectedText = test.error || test.errorPattern || '(any error)';
  if (test.result === undefined && !expectsError) {
    return test.raw !== undefined && test.asm !== undefined
      ? checkEncoding(test, test.raw)
      : { status: 'skip', reason: 'no -- result or -- error' };
  }

  const rejected = (e: unknown): Outcome => {
    const { code, text } = describeError(e);
    return expectsError && code !== 'INTERNAL'
      ? { status: 'pass', reason: text, errorCode: code }
      : { status: 'fail', reason: text, errorCode: code, expected: test.result };
  };

  let program: Uint8Array;
  try {
    program = buildDataProgram(test).program;
  } catch (e) {
    return rejected(e);
  }
  if (program.length === 0) return { status: 'skip', reason: 'no instructions' };
  try {
    // `-- unload` (unload, then reload) is what every fresh machine does anyway.
    const result = engine.run(program, {
      mem: test.mem,
      helpers: options.helpers ?? conformanceHelpers(),
      maxInstructions: options.maxInstructions,
    });
    const base = { r0: result.r0, instructions: result.instructions };
    if (expectsError) {
      return {
        ...base,
        status: 'fail',
        reason: `expected an error (${expectedText}) but r0 = ${hex64(result.r0)}`,
      };
    }
    const expected = test.result ?? 0n;
    return result.r0 === expected
      ? { ...base, status: 'pass', reason: '', expected }
      : {
          ...base,
          status: 'fail',
          reason: `r0 = ${hex64(result.r0)}, expected ${hex64(expected)}`,
          expected,
        };
  } catch (e) {
    return rejected(e);
  }
}

/**
 * A file with `-- asm` and `-- raw` but nothing to run (uBPF's alu.data, jmp.data, …) is an encoding
 * test: the asm must assemble to exactly the raw slots.
 */
function checkEncoding(test: DataSections, raw: Uint8Array): Outcome {
  let bytes: Uint8Array | undefined;
  try {
    bytes = assembleDataAsm(test);
  } catch (e) {
    return { status: 'fail', reason: describeError(e).text };
  }
  if (bytes === undefined) return { status: 'skip', reason: 'no -- result or -- error' };
  const slot = (b: Uint8Array, i: number) => Buffer.from(b.subarray(i * 8, i * 8 + 8)).toString('hex');
  for (let i = 0; i < Math.max(bytes.length, raw.length) / 8; i++) {
    if (slot(bytes, i) !== slot(raw, i)) {
      return {
        status: 'fail',
        reason: `encoding: slot ${i} assembles to "${slot(bytes, i)}", -- raw has "${slot(raw, i)}"`,
      };
    }
  }
  return { status: 'pass', reason: 'encoding: -- asm assembles to -- raw' };
}

/** Reads, parses and runs one `.data` file; a malformed file is a failure, not an exception. */
export function runDataFile(path: string, options: ConformanceOptions = {}): Outcome {
  const engine = resolveEngine(options.engine);
  let test: DataSections;
  try {
    test = parseDataSections(readText(path), { file: path });
  } catch (e) {
    const { code, text } = describeError(e);
    return { status: 'fail', reason: text, errorCode: code };
  }
  return runDataTest(test, { ...options, engine });
}

/**
 * Expands paths to `.data` files: directories are searched recursively and their files sorted; files
 * named explicitly are kept whatever their extension. Throws IoError for a path that does not exist.
 */
export function findDataFiles(paths: readonly string[]): string[] {
  const out: string[] = [];
  for (const path of paths) {
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch (e) {
      throw new IoError(`cannot read ${path}: no such file or directory`, { file: path }, { cause: e });
    }
    if (!isDir) {
      out.push(path);
      continue;
    }
    const found: string[] = [];
    walk(path, found);
    found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    out.push(...found);
  }
  return out;
}

function walk(dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, out);
    else if (entry.isFile() && entry.name.endsWith('.data')) out.push(path);
  }
}
