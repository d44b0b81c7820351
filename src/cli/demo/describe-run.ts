/**
 * One line for one demo event: r0 and what it means for the program type, then what the run left
 * behind (packet bytes rewritten, printk, ring buffer records, map entries it changed), and whether
 * it matches the example's `expect:`.
 */
import type { ContextResult } from '../../runtime/contexts/context.js';
import type { ProgramRun } from '../../runtime/loader.js';
import type { MapEntryJson } from '../../runtime/maps/host-api.js';
import type { Expectation } from './c-header.js';

export type MapDump = Record<string, MapEntryJson[]>;

/** What r0 means: `XDP_DROP`, `TC_ACT_OK`, `keep 54 bytes`, `drop`, or the number for tracing. */
export function r0Meaning(r0: bigint, result: ContextResult): string {
  switch (result.kind) {
    case 'xdp':
      return result.action === undefined ? `${r0} (not an XDP action)` : `XDP_${result.action}`;
    case 'skb':
      if (result.verdict !== undefined)
        return result.verdict === 'UNKNOWN' ? `${r0}` : `TC_ACT_${result.verdict}`;
      return result.keep ? `keep ${result.keep} bytes` : 'drop';
    case 'tracing':
      return String(BigInt.asIntN(64, r0));
  }
}

/** The reasons `run` does not match `expect`, empty when it does. */
export function mismatches(run: ProgramRun, expect: Expectation | undefined): string[] {
  if (expect === undefined) return [];
  const out: string[] = [];
  const meaning = r0Meaning(run.r0, run.result);
  const r0Ok = 'value' in expect.r0 ? run.r0 === expect.r0.value : meaning === expect.r0.name;
  if (!r0Ok) out.push(`r0 ${'value' in expect.r0 ? expect.r0.value : expect.r0.name}`);
  if (expect.ringbuf !== undefined && run.ringbuf.length !== expect.ringbuf)
    out.push(`${expect.ringbuf} ringbuf records`);
  if (expect.printk !== undefined && !run.printk.includes(expect.printk))
    out.push(`printk "${expect.printk}"`);
  return out;
}

/**
 * `XDP_DROP · stats[1] = {1, 42}`-style summary of a run, given the packet it was given (network
 * programs) and the map dumps before and after it.
 */
export function describeRun(
  run: ProgramRun,
  packet: Uint8Array | undefined,
  before: MapDump,
  after: MapDump,
): string {
  const parts = [r0Meaning(run.r0, run.result)];
  const { result } = run;
  if (result.kind !== 'tracing') {
    const changed = changedBytes(packet, result.packet);
    if (changed > 0) parts.push(`${changed} packet byte${changed === 1 ? '' : 's'} rewritten`);
  }
  if (run.printk.length > 0) {
    const rest = run.printk.length - 1;
    const more = rest > 0 ? ` (+${rest} line${rest === 1 ? '' : 's'})` : '';
    parts.push(`printk "${run.printk[0]}"${more}`);
  }
  if (run.ringbuf.length > 0) {
    const sizes = [...new Set(run.ringbuf.map((r) => r.length))].join('/');
    const texts = run.ringbuf
      .flatMap(strings)
      .slice(0, 3)
      .map((t) => ` "${t}"`);
    const n = run.ringbuf.length;
    parts.push(`ringbuf ${n} record${n === 1 ? '' : 's'} of ${sizes} B${texts.join('')}`);
  }
  const maps = mapChanges(before, after);
  if (maps.length > 0)
    parts.push(maps.slice(0, 2).join(', ') + (maps.length > 2 ? ` (+${maps.length - 2})` : ''));
  return parts.join(' · ');
}

function changedBytes(before: Uint8Array | undefined, after: Uint8Array): number {
  if (before === undefined) return 0;
  let n = Math.abs(before.length - after.length);
  for (let i = 0; i < Math.min(before.length, after.length); i++) if (before[i] !== after[i]) n++;
  return n;
}

/** Printable runs of at least 3 characters: the strings a record carries (comm, file names…). */
function strings(record: Uint8Array): string[] {
  return [
    ...Buffer.from(record)
      .toString('latin1')
      .matchAll(/[\x20-\x7e]{3,}/g),
  ].map((m) => m[0]);
}

/** `name[key] = value` for every entry added or changed, `name[key] deleted` for removed ones. */
function mapChanges(before: MapDump, after: MapDump): string[] {
  const out: string[] = [];
  for (const [name, entries] of Object.entries(after)) {
    const old = new Map((before[name] ?? []).map((e) => [e.key, valueText(e.value)]));
    for (const e of entries) {
      const value = valueText(e.value);
      if (old.get(e.key) !== value) out.push(`${name}[${keyText(e.key)}] = ${value}`);
      old.delete(e.key);
    }
    for (const key of old.keys()) out.push(`${name}[${keyText(key)}] deleted`);
  }
  return out;
}

/** Little-endian integer of hex bytes; 8-byte values with the top bit set read as negative. */
function intOfHex(hex: string): bigint {
  let n = 0n;
  for (let i = hex.length - 2; i >= 0; i -= 2)
    n = (n << 8n) | BigInt(Number.parseInt(hex.slice(i, i + 2), 16));
  return hex.length === 16 ? BigInt.asIntN(64, n) : n;
}

function keyText(hex: string): string {
  return hex.length <= 8 ? String(intOfHex(hex)) : hex;
}

/** Integers for 1/2/4/8-byte values, `{a, b}` for structs of up to four u64 fields, hex otherwise. */
function valueText(value: string | string[]): string {
  if (Array.isArray(value))
    return value.length === 1 ? valueText(value[0]) : `[${value.map(valueText).join(' | ')}]`;
  if ([2, 4, 8, 16].includes(value.length)) return String(intOfHex(value));
  if (value.length % 16 === 0 && value.length <= 64) {
    const words = value.match(/.{16}/g) ?? [];
    return `{${words.map(intOfHex).join(', ')}}`;
  }
  return value.length > 32 ? `${value.slice(0, 32)}…` : value;
}
