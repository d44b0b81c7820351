/**
 * The JSON form of a run's context result for the CLI contract (`"packet":"<hex after run>"`): bytes as
 * hex, 64-bit values as "0x…" strings so nothing loses precision.
 */
import type { ContextResult } from './context.js';

export type ContextResultJson = Readonly<
  Record<string, string | number | Readonly<Record<string, string | string[]>>>
>;

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

const u64 = (v: bigint): string => `0x${v.toString(16)}`;

/** `{}` for tracing types; packet (and meta, action, verdict/keep, fields) for network types. */
export function contextResultJson(result: ContextResult): ContextResultJson {
  switch (result.kind) {
    case 'tracing':
      return {};
    case 'xdp':
      return {
        packet: toHex(result.packet),
        meta: toHex(result.meta),
        action: result.action ?? 'INVALID',
      };
    case 'skb': {
      const fields: Record<string, string | string[]> = {};
      for (const [name, v] of Object.entries(result.fields))
        fields[name] = typeof v === 'bigint' ? u64(v) : v.map(u64);
      return {
        packet: toHex(result.packet),
        ...(result.verdict === undefined ? {} : { verdict: result.verdict }),
        ...(result.keep === undefined ? {} : { keep: result.keep }),
        skb: fields,
      };
    }
  }
}
