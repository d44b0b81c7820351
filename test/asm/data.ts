/**
 * Tiny reader for the `-- asm` and `-- raw` sections of conformance `.data` files (FORMAT.md §1–§2),
 * local to the assembler tests so they do not depend on the conformance runner.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SHARED = join(dirname(fileURLToPath(import.meta.url)), '../../../shared');
export const CONFORMANCE = join(SHARED, 'bpf_conformance');
export const UBPF_TESTS = join(SHARED, 'ubpf_tests');

export interface DataSections {
  /** `-- asm` text, line-aligned with the file (other lines blank) so error lines match the file. */
  asm?: string;
  /** `-- raw` slots as little-endian bytes. */
  raw?: Uint8Array;
  /** Last line of `-- error` ('' when the section is empty). */
  error?: string;
}

export function readDataFile(path: string): DataSections {
  const lines = readFileSync(path, 'utf8').split('\n');
  const out: DataSections = {};
  let section: string | undefined;
  const asm: string[] = [];
  const raw: bigint[] = [];
  let sawAsm = false;
  lines.forEach((full) => {
    const text = full.replace(/#.*$/, '').replace(/\r$/, '');
    let asmLine = '';
    if (text.includes('--')) {
      section = text.replace(/^\s*--\s*/, '').trim();
      if (section.startsWith('asm')) {
        sawAsm = true;
        const ref = /@\s*(\S+)/.exec(section)?.[1];
        if (ref !== undefined) out.asm = readFileSync(join(dirname(path), ref), 'utf8');
      }
      if (section === 'error') out.error = '';
    } else if (section === 'asm') {
      asmLine = text;
    } else if (section === 'raw') {
      for (const word of text.trim().split(/\s+/).filter(Boolean)) raw.push(BigInt(word));
    } else if (section === 'error' && text.trim() !== '') {
      out.error = text.trim();
    }
    asm.push(asmLine);
  });
  if (sawAsm && out.asm === undefined) out.asm = asm.join('\n');
  if (raw.length > 0) {
    const bytes = new Uint8Array(raw.length * 8);
    const view = new DataView(bytes.buffer);
    raw.forEach((slot, i) => {
      view.setBigUint64(i * 8, slot, true);
    });
    out.raw = bytes;
  }
  return out;
}

export function hexBytes(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}
