/**
 * The C examples' table: one row per event (the example's name on its first row only, program and
 * type only when they change) and, under each example, the line saying what it shows.
 */
import type { CExampleReport } from './c-examples.js';

const HEADER = ['C example', 'program', 'type', 'event', 'result'] as const;

export function cExamplesTable(reports: readonly CExampleReport[]): string[] {
  const cells: { mark: string; cols: string[] }[] = [];
  const shows: Map<number, string> = new Map();
  for (const report of reports) {
    let last = '';
    report.rows.forEach((row, i) => {
      const same = `${row.program} ${row.type}` === last;
      last = `${row.program} ${row.type}`;
      cells.push({
        mark: row.ok ? '✓' : '✗',
        cols: [
          i === 0 ? report.name : '',
          same ? '' : row.program,
          same ? '' : row.type,
          row.event,
          row.result,
        ],
      });
    });
    if (report.what !== '') shows.set(cells.length - 1, report.what);
  }
  const widths = HEADER.map((h, c) => Math.max(h.length, ...cells.map((r) => r.cols[c].length)));
  const line = (mark: string, cols: readonly string[]) =>
    `${mark} ${cols.map((col, c) => (c === cols.length - 1 ? col : col.padEnd(widths[c]))).join('  ')}`.trimEnd();
  const out = [line(' ', HEADER)];
  cells.forEach((r, i) => {
    out.push(line(r.mark, r.cols));
    const what = shows.get(i);
    // Indented to the program column: it reads as a caption of the example's rows.
    if (what !== undefined) out.push(`${' '.repeat(widths[0] + 4)}shows: ${what}`);
  });
  return out;
}
