/** The one file reader (and writer): every failure becomes an IoError naming the path, never a raw ENOENT. */
import { readFileSync, writeFileSync } from 'node:fs';
import { IoError } from '../errors.js';

export function readBytes(path: string): Uint8Array {
  try {
    const buffer = readFileSync(path);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (e) {
    throw new IoError(`cannot read ${path}: ${describe(e)}`, { file: path }, { cause: e });
  }
}

export function readText(path: string): string {
  return new TextDecoder().decode(readBytes(path));
}

export function writeBytes(path: string, bytes: Uint8Array): void {
  try {
    writeFileSync(path, bytes);
  } catch (e) {
    throw new IoError(`cannot write ${path}: ${describe(e)}`, { file: path }, { cause: e });
  }
}

function describe(e: unknown): string {
  if (e instanceof Error && 'code' in e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'no such file';
    if (code === 'EISDIR') return 'it is a directory';
    if (code === 'EACCES') return 'permission denied';
  }
  return e instanceof Error ? e.message : String(e);
}
