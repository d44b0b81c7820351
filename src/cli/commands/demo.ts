/**
 * `bpfbox demo [DIR]`: assembles and runs every example (`.s`/`.asm`) in DIR and prints a table.
 * Each example states what it computes and its expected r0 in comment lines, plus optional input:
 *   # what: 10! computed with a loop
 *   # expect: 0x375f00
 *   # mem: 45 00 00 1c        (may repeat; input bytes passed in r1/r2)
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { DEFAULT_ENGINE, getEngine } from '../../conformance/engines.js';
import { conformanceHelpers } from '../../conformance/helpers.js';
import { BpfError, FormatError, IoError } from '../../errors.js';
import { readText } from '../../util/files.js';
import { hex64, parseHexBytes } from '../../util/hex.js';
import { locationPrefix } from '../../util/location.js';
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

export function registerDemo(program: Command, io: CliIo): void {
  program
    .command('demo')
    .description('assemble and run every example program in DIR and show what each computes')
    .argument('[dir]', 'directory of .s examples (default: the examples/ of this package)')
    .action((dirArg: string | undefined) => {
      const dir = dirArg === undefined ? defaultExamplesDir() : resolve(dirArg);
      let names: string[];
      try {
        names = readdirSync(dir)
          .filter((n) => ['.s', '.asm'].includes(extname(n)))
          .sort();
      } catch (e) {
        throw new IoError(`cannot read directory ${dir}`, { file: dir }, { cause: e });
      }
      if (names.length === 0) throw new IoError(`no .s or .asm examples in ${dir}`, { file: dir });
      const engine = getEngine(DEFAULT_ENGINE);
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
      if (failed) io.exitCode = EXIT_FAILURE;
    });
}
