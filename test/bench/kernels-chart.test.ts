import { describe, expect, it } from 'vitest';
import { renderChart } from '../../bench/kernels-chart.js';

/** Top y of each bar, in document order. */
function barTops(svg: string): number[] {
  return [...svg.matchAll(/<rect x="[\d.]+" y="([\d.]+)" width="12"/g)].map((m) => Number(m[1]));
}

describe('kernel benchmark chart', () => {
  it('draws bars on a log scale: each factor of 10 is the same height', () => {
    const svg = renderChart('t', ['a', 'b', 'c'], [{ kernel: 'k', ns: { a: 1e3, b: 1e4, c: 1e5 } }]);
    const [a, b, c] = barTops(svg);
    expect(a - b).toBeCloseTo(b - c, 0);
    expect(a).toBeGreaterThan(b);
  });

  it('leaves out engines that did not run and escapes names', () => {
    const svg = renderChart('<x>', ['a', 'b'], [{ kernel: 'k&k', ns: { a: 5e6, b: undefined } }]);
    expect(barTops(svg)).toHaveLength(1);
    expect(svg).toContain('k&amp;k');
    expect(svg).toContain('<title>&lt;x&gt;</title>');
  });
});
