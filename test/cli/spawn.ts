/**
 * Runs the CLI in a child process, as a user would. The sources are transpiled file by file with
 * TypeScript's `transpileModule` (exact, since the project uses `isolatedModules`) into
 * node_modules/.cache/bpfbox-cli-<hash of src/>, and each test runs `node <that>/src/cli/main.js …`,
 * the same entry point bin/bpfbox.js loads from dist/ after `npm run build`. No build step, no stale
 * dist/, and a spawn costs ~0.2 s instead of ~0.9 s with `node --import tsx`. The first test file to
 * need a given version of src/ transpiles it; the others reuse the directory.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CACHE = join(ROOT, 'node_modules/.cache');

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) sourceFiles(path, out);
    else if (entry.name.endsWith('.ts')) out.push(path);
  }
  return out.sort();
}

/** Transpiles src/ (once per content version) and returns the path of the CLI entry point. */
async function compiledCli(): Promise<string> {
  const files = sourceFiles(join(ROOT, 'src'));
  const hash = createHash('sha256');
  for (const f of files) hash.update(`${relative(ROOT, f)}\0${readFileSync(f, 'utf8')}\0`);
  const name = `bpfbox-cli-${hash.digest('hex').slice(0, 16)}`;
  const dir = join(CACHE, name);
  const main = join(dir, 'src/cli/main.js');
  if (existsSync(main)) return main;

  const { default: ts } = await import('typescript');
  mkdirSync(CACHE, { recursive: true });
  const staging = mkdtempSync(join(CACHE, 'bpfbox-staging-'));
  // node_modules is a package boundary: without this the output would be loaded as CommonJS.
  writeFileSync(join(staging, 'package.json'), '{ "type": "module" }\n');
  for (const f of files) {
    const js = ts.transpileModule(readFileSync(f, 'utf8'), {
      fileName: f,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    const target = join(staging, relative(ROOT, f)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, js);
  }
  try {
    renameSync(staging, dir);
    // Versions of src/ from earlier runs are of no further use.
    for (const old of readdirSync(CACHE)) {
      if (old.startsWith('bpfbox-cli-') && old !== name)
        rmSync(join(CACHE, old), { recursive: true, force: true });
    }
  } catch {
    // Another test file finished the same version first.
    rmSync(staging, { recursive: true, force: true });
  }
  return main;
}

const MAIN = await compiledCli();

/** The transpiled entry point, for tests that need their own child process. */
export const CLI_MAIN = MAIN;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function bpfbox(args: readonly string[], stdin?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [MAIN, ...args],
      { cwd: ROOT, encoding: 'utf8', timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(stdin ?? '');
  });
}

/** A fresh temporary directory with the given files (text or bytes). */
export function tempFiles(files: Record<string, string | Uint8Array>): string {
  const dir = mkdtempSync(join(tmpdir(), 'bpfbox-cli-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

/** Program bytes from 8-byte slots written as hex strings, e.g. '9500000000000000'. */
export function slots(...hex: string[]): Uint8Array {
  return Uint8Array.from(Buffer.from(hex.join(''), 'hex'));
}
