/**
 * `bpfbox demo [DIR]`: assembles and runs every example (`.s`/`.asm`) in DIR and prints a table, then
 * compiles, loads and runs every C example (`.bpf.c`, see ../demo/c-header.ts) and prints a second one.
 * Each assembly example states what it computes and its expected r0 in comment lines, plus optional input:
 *   # what: 10! computed with a loop
 *   # expect: 0x375f00
 *   # mem: 45 00 00 1c        (may repeat; input bytes passed in r1/r2)
 * A wrong result or a trap in either table exits 1; without clang-19 the C table is one notice line.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { DEFAULT_ENGINE, ENGINE_NAMES, type Engine, getEngine } from '../../conformance/engines.js';
import { conformanceHelpers } from '../../conformance/helpers.js';
import { BpfError, FormatError, IoError } from '../../errors.js';
import { readText } from '../../util/files.js';
import { hex64, parseHexBytes } from '../../util/hex.js';
import { locationPrefix } from '../../util/location.js';
import { runCExamples } from '../demo/c-examples.js';
import { cExamplesTable } from '../demo/c-table.js';
import { clangCommand, INSTALL_HINT, toolchainAvailable } from '../demo/clang.js';
import { type CliIo, EXIT_FAILURE, loadProgramInput } from '../io.js';

export interface ExampleMeta {
  what: string;
  expect?: bigint;
  mem?: Uint8Array;
}

/** Reads the `what:` / `expect:` / `mem:` comment lines of an example. */
export function exampleMeta(text: string, file: string): ExampleMeta {
  const meta: ExampleMeta = { what: '' };
  const memLines: string[] = [];
  text.split('\n').forEach((line, i) => {
    const m = /^\s*(?:#|;|\/\/)\s*(what|expect|mem):\s*(.*?)\s*$/.exec(line);
    if (!m) return;
    if (m[1] === 'what') meta.what = m[2];
    else if (m[1] === 'mem') memLines.push(m[2]);
    else if (/^(0x[0-9a-f]+|[0-9]+)$/i.test(m[2])) meta.expect = BigInt(m[2]);
    else {
      const where = { file, line: i + 1 };
      throw new FormatError(
        'DATA_FORMAT',
        `${locationPrefix(where)}expect: "${m[2]}" is not a number`,
        where,
      );
    }
  });
  if (memLines.length > 0) meta.mem = parseHexBytes(memLines.join(' '), { file });
  return meta;
}

/** The examples/ directory of this package, found by walking up from this module. */
function defaultExamplesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'examples')))
      return join(dir, 'examples');
    const parent = dirname(dir);
    if (parent === dir) throw new IoError('cannot find the examples/ directory; pass DIR explicitly');
    dir = parent;
  }
}

interface Row {
  mark: string;
  name: string;
  r0: string;
  insns: string;
  what: string;
}

const isAsm = (name: string) => ['.s', '.asm'].includes(extname(name));
const isC = (name: string) => name.endsWith('.bpf.c');

export function registerDemo(program: Command, io: CliIo): void {
  program
    .command('demo')
    .description('run every example program in DIR (assembly and, with clang-19, C) and show what each does')
    .argument('[dir]', 'directory of .s and .bpf.c examples (default: the examples/ of this package)')
    .option('--engine <name>', `engine for the assembly examples: ${ENGINE_NAMES.join(', ')}`, DEFAULT_ENGINE)
    .action(async (dirArg: string | undefined, flags: { engine: string }) => {
      const dir = dirArg === undefined ? defaultExamplesDir() : resolve(dirArg);
      let names: string[];
      try {
        names = readdirSync(dir)
          .filter((n) => isAsm(n) || isC(n))
          .sort();
      } catch (e) {
        throw new IoError(`cannot read directory ${dir}`, { file: dir }, { cause: e });
      }
      if (names.length === 0) throw new IoError(`no .s, .asm or .bpf.c examples in ${dir}`, { file: dir });
      const engine = getEngine(flags.engine);
      const asm = names.filter(isAsm);
      const c = names.filter(isC);
      let failed = false;
      if (asm.length > 0) failed = runAsmExamples(dir, asm, engine, io);
      if (c.length > 0) {
        if (asm.length > 0) io.out('');
        failed = (await runCTable(dir, c, io)) || failed;
      }
      if (failed) io.exitCode = EXIT_FAILURE;
    });
}

/** Prints the table of the C examples, or the notice that they need clang; true when one failed. */
async function runCTable(dir: string, names: readonly string[], io: CliIo): Promise<boolean> {
  const clang = clangCommand();
  if (!toolchainAvailable(clang)) {
    io.out(`C examples: ${names.length} skipped, ${INSTALL_HINT}`);
    return false;
  }
  // The C examples always run on the interpreter: loadBpfObject has no JIT path yet.
  const reports = await runCExamples(dir, names, clang);
  for (const line of cExamplesTable(reports)) io.out(line);
  io.out(
    `  (${clang} -target bpf -O2 -g, loadBpfObject, interpreter; events from the demo: lines of each file)`,
  );
  return reports.some((r) => r.rows.some((row) => !row.ok));
}

/** Prints the table of the assembly examples; true when one of them failed. */
function runAsmExamples(dir: string, names: readonly string[], engine: Engine, io: CliIo): boolean {
  const rows: Row[] = [];
  let failed = false;
  for (const name of names) {
    const file = join(dir, name);
    const meta = exampleMeta(readText(file), file);
    try {
      const { program: bytes } = loadProgramInput(file);
      const result = engine.run(bytes, { mem: meta.mem, helpers: conformanceHelpers() });
      const ok = meta.expect === undefined || meta.expect === result.r0;
      failed ||= !ok;
      const what = ok ? meta.what : `${meta.what} (expected ${hex64(meta.expect ?? 0n)})`;
      rows.push({
        mark: ok ? '✓' : '✗',
        name,
        r0: hex64(result.r0),
        insns: String(result.instructions),
        what,
      });
    } catch (e) {
      if (!(e instanceof BpfError)) throw e;
      failed = true;
      rows.push({
        mark: '✗',
        name,
        r0: `error[${e.code}]`,
        insns: '-',
        what: `${meta.what} (${e.message})`,
      });
    }
  }
  const header: Row = { mark: ' ', name: 'example', r0: 'r0', insns: 'insns', what: 'computes' };
  const all = [header, ...rows];
  const width = (k: keyof Row) => Math.max(...all.map((r) => r[k].length));
  const w = { name: width('name'), r0: width('r0'), insns: width('insns') };
  for (const r of all) {
    io.out(
      `${r.mark} ${r.name.padEnd(w.name)}  ${r.r0.padEnd(w.r0)}  ${r.insns.padStart(w.insns)}  ${r.what}`,
    );
  }
  return failed;
}
