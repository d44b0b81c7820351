/** The kernel benchmark's bar chart: median time per run of each engine per kernel, log scale, as SVG. */

export interface ChartRow {
  kernel: string;
  /** Nanoseconds per run by series name; undefined where the engine did not run. */
  ns: Readonly<Record<string, number | undefined>>;
}

const COLORS = ['#4e79a7', '#59a14f', '#f28e2b', '#e15759', '#76b7b2', '#af7aa1'];

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function label(ns: number): string {
  if (ns >= 1e9) return `${ns / 1e9} s`;
  if (ns >= 1e6) return `${ns / 1e6} ms`;
  if (ns >= 1e3) return `${ns / 1e3} µs`;
  return `${ns} ns`;
}

export function renderChart(title: string, series: readonly string[], rows: readonly ChartRow[]): string {
  const values = rows
    .flatMap((r) => series.map((s) => r.ns[s]))
    .filter((v): v is number => v !== undefined && v > 0);
  const lo = Math.floor(Math.log10(Math.min(...values, 1e9)));
  const hi = Math.ceil(Math.log10(Math.max(...values, 10)));
  const bar = 14;
  const group = series.length * bar + 18;
  const left = 70;
  const top = 40;
  const plotH = 300;
  const width = left + rows.length * group + 20;
  const height = top + plotH + 60;
  const y = (ns: number) => top + plotH - ((Math.log10(ns) - lo) / (hi - lo)) * plotH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${left}" y="16" font-size="13" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  // Decade grid lines: the scale is logarithmic, so each line is 10× the one below.
  for (let e = lo; e <= hi; e++) {
    const gy = y(10 ** e).toFixed(1);
    out.push(
      `<line x1="${left}" x2="${width - 10}" y1="${gy}" y2="${gy}" stroke="#ddd"/>`,
      `<text x="${left - 6}" y="${gy}" text-anchor="end" dominant-baseline="middle">${label(10 ** e)}</text>`,
    );
  }
  rows.forEach((row, i) => {
    const x0 = left + 10 + i * group;
    series.forEach((s, j) => {
      const ns = row.ns[s];
      if (ns === undefined || ns <= 0) return;
      const by = y(ns);
      out.push(
        `<rect x="${x0 + j * bar}" y="${by.toFixed(1)}" width="${bar - 2}" height="${(top + plotH - by).toFixed(1)}" fill="${COLORS[j % COLORS.length]}"><title>${escapeXml(`${row.kernel} ${s}: ${(ns / 1e6).toFixed(3)} ms`)}</title></rect>`,
      );
    });
    out.push(
      `<text x="${x0 + (series.length * bar) / 2}" y="${top + plotH + 16}" text-anchor="middle">${escapeXml(row.kernel)}</text>`,
    );
  });
  series.forEach((s, j) => {
    const lx = left + j * 90;
    out.push(
      `<rect x="${lx}" y="${height - 22}" width="10" height="10" fill="${COLORS[j % COLORS.length]}"/>`,
      `<text x="${lx + 14}" y="${height - 13}">${escapeXml(s)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
