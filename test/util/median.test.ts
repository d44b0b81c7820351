/** The one median of the CLI's `--repeat` timing and the benchmarks. */
import { expect, it } from 'vitest';
import { median } from '../../src/util/median.js';

it('is the middle value, the mean of the middle two for an even count, NaN for none', () => {
  expect(median([5, 1, 3])).toBe(3);
  expect(median([4, 1, 3, 2])).toBe(2.5);
  expect(median([7])).toBe(7);
  expect(median([])).toBeNaN();
  const input = [3, 1, 2];
  median(input);
  expect(input).toEqual([3, 1, 2]);
});
