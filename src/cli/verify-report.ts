/**
 * What `bpfbox verify` prints. Text: a rustc-style block per rejection, then a one-line verdict per
 * program. JSON: the verifier's `resultJson` shape; for object files the top level aggregates every
 * program (ok only if all are; errors tagged with their program; stats summed) and `programs` holds
 * each program's own result, so a tool reads one shape whatever the number of programs.
 */
import { formatDiagnostic, resultJson, type VerifyResult } from '../verifier/index.js';
import type { VerifiedFile, VerifiedProgram } from './verify-input.js';

export function verifyText(file: VerifiedFile): string {
  const lines: string[] = [];
  for (const { name, result } of file.programs) {
    for (const e of result.errors) {
      // A blank line between a verdict and the next block, as rustc separates its diagnostics.
      if (lines.length > 0 && lines[lines.length - 1] !== '') lines.push('');
      lines.push(formatDiagnostic(e), '');
    }
    lines.push(verdict(name, result));
  }
  return lines.join('\n');
}

function verdict(name: string, r: VerifyResult): string {
  const s = resultJson(r).stats;
  const stats = `${plural(s.insns_processed, 'insn')} processed, ${plural(s.states, 'state')}, ${s.ms} ms`;
  if (r.ok) return `✓ ${name}: accepted (${stats})`;
  return `✗ ${name}: rejected with ${r.errors.map((e) => e.code).join(', ')} (${stats})`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function verifyJson(file: VerifiedFile): Record<string, unknown> {
  if (!file.object) return { ...resultJson(file.programs[0].result) };
  const each = file.programs.map((p) => [p.name, resultJson(p.result)] as const);
  const sum = (pick: (p: VerifiedProgram) => number) => file.programs.reduce((t, p) => t + pick(p), 0);
  return {
    ok: each.every(([, r]) => r.ok),
    errors: each.flatMap(([program, r]) => r.errors.map((e) => ({ program, ...e }))),
    stats: {
      insns_processed: sum((p) => p.result.stats.insnsProcessed),
      states: sum((p) => p.result.stats.states),
      ms: Math.round(sum((p) => p.result.stats.ms) * 100) / 100,
    },
    programs: Object.fromEntries(each),
  };
}
