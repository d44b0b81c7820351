/**
 * The demo lines of a C example's header comment (`//` or ` *` lines of the block comment):
 *   what: one line saying what the example shows
 *   demo: PROGRAM IN.json [label]     an event: IN.json as `bpfbox run OBJ.o --input` takes it (plus
 *                                      `maps`, see map-fill.ts), the label names it in the table
 *   expect: R0 [; ringbuf N] [; printk TEXT]   checks of the event on the line before
 * R0 is a number or what it means for the program type: XDP_DROP, TC_ACT_OK…
 */
import { FormatError } from '../../errors.js';
import type { JsonObject } from '../../runtime/contexts/json.js';
import { locationPrefix } from '../../util/location.js';

export type R0Expectation = { readonly value: bigint } | { readonly name: string };

export interface Expectation {
  readonly text: string;
  readonly r0: R0Expectation;
  readonly ringbuf?: number;
  readonly printk?: string;
}

export interface DemoEvent {
  readonly program: string;
  readonly input: JsonObject;
  readonly label: string;
  readonly line: number;
  expect?: Expectation;
}

export interface CExampleHeader {
  readonly what: string;
  readonly events: DemoEvent[];
}

const LINE = /^\s*(?:\/\/|\*)\s*(what|demo|expect):\s*(.*?)\s*$/;
/** Names r0 can be given by: XDP actions and tc verdicts, as the result column prints them. */
const R0_NAME = /^(XDP_[A-Z]+|TC_ACT_[A-Z_]+)$/;

export function parseCExampleHeader(text: string, file: string): CExampleHeader {
  let what = '';
  const events: DemoEvent[] = [];
  text.split('\n').forEach((source, i) => {
    const m = LINE.exec(source);
    if (!m) return;
    const where = { file, line: i + 1 };
    const fail = (message: string): never => {
      throw new FormatError('DATA_FORMAT', `${locationPrefix(where)}${message}`, where);
    };
    if (m[1] === 'what') what = m[2];
    else if (m[1] === 'demo') events.push(parseDemo(m[2], where.line, fail));
    else {
      const last = events.at(-1);
      if (last === undefined || last.expect !== undefined) fail('expect: must follow a demo: line');
      else last.expect = parseExpect(m[2], fail);
    }
  });
  return { what, events };
}

function parseDemo(text: string, line: number, fail: (message: string) => never): DemoEvent {
  const m = /^(\S+)\s+(\{.*)$/.exec(text);
  if (!m) return fail('demo: expects PROGRAM {IN.json} [label]');
  const end = jsonObjectEnd(m[2]);
  if (end < 0) return fail('demo: the IN.json object has no closing }');
  let input: unknown;
  try {
    input = JSON.parse(m[2].slice(0, end));
  } catch (e) {
    return fail(`demo: IN.json is not valid JSON: ${e instanceof Error ? e.message : e}`);
  }
  return { program: m[1], input: input as JsonObject, label: m[2].slice(end).trim(), line };
}

/** Index just past the `}` closing the object `text` starts with, or -1 (strings may hold braces). */
function jsonObjectEnd(text: string): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if ((c === '}' || c === ']') && --depth === 0) return i + 1;
  }
  return -1;
}

function parseExpect(text: string, fail: (message: string) => never): Expectation {
  const [first, ...clauses] = text.split(';').map((c) => c.trim());
  let r0: R0Expectation;
  if (/^-?(0x[0-9a-f]+|[0-9]+)$/i.test(first)) {
    const negative = first.startsWith('-');
    const magnitude = BigInt(negative ? first.slice(1) : first);
    r0 = { value: BigInt.asUintN(64, negative ? -magnitude : magnitude) };
  } else if (R0_NAME.test(first)) r0 = { name: first };
  else return fail(`expect: "${first}" is neither a number nor an XDP_* / TC_ACT_* name`);
  let ringbuf: number | undefined;
  let printk: string | undefined;
  for (const clause of clauses) {
    const m = /^(ringbuf|printk)\s+(.+)$/.exec(clause);
    if (m?.[1] === 'ringbuf' && /^\d+$/.test(m[2])) ringbuf = Number(m[2]);
    else if (m?.[1] === 'printk') printk = m[2];
    else fail(`expect: "${clause}" is not "ringbuf N" or "printk TEXT"`);
  }
  return { text, r0, ringbuf, printk };
}
