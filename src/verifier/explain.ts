/**
 * Rejections for people and for tools: `formatDiagnostic` prints a rustc-style report (code, message,
 * source line, values, path, witness, hint); `resultJson` is the `bpfbox verify --json` shape.
 */
import type { VerifierError } from './errors.js';
import type { VerifyResult } from './verifier.js';

export function formatDiagnostic(e: VerifierError): string {
  const out = [`error[${e.code}]: ${e.message}`];
  const loc = e.file !== undefined ? `${e.file}:${e.line ?? 0}${e.column ? `:${e.column}` : ''}` : undefined;
  out.push(`  --> ${loc ?? ''}${loc ? ' ' : ''}(pc ${e.pc ?? '?'})`);
  if (e.source !== undefined) {
    const n = String(e.line ?? '');
    const pad = ' '.repeat(n.length);
    out.push(`${pad} |`, `${n} | ${e.source}`, `${pad} |`);
  }
  for (const v of e.values) out.push(`  = note: ${v}`);
  if (e.path.length > 0) {
    out.push('  = path:');
    for (const p of e.path) out.push(`      ${p}`);
  }
  if (e.witness !== undefined) out.push(`  = witness: ${e.witness}`);
  if (e.hint !== undefined) out.push(`  = help: ${e.hint}`);
  return out.join('\n');
}

export interface VerifyResultJson {
  readonly ok: boolean;
  readonly errors: readonly Record<string, unknown>[];
  readonly stats: { readonly insns_processed: number; readonly states: number; readonly ms: number };
}

export function resultJson(r: VerifyResult): VerifyResultJson {
  return {
    ok: r.ok,
    errors: r.errors.map((e) => ({ ...e.toJSON() })),
    stats: {
      insns_processed: r.stats.insnsProcessed,
      states: r.stats.states,
      ms: Math.round(r.stats.ms * 100) / 100,
    },
  };
}
