/** Left-aligned text tables for the readable (non-JSON) output of the CLI. */

/** `header` and `rows` in columns two spaces apart, indented by two; `  (none)` without rows. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '  (none)';
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    `  ${cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd()}`;
  return [line(header), ...rows.map(line)].join('\n');
}
