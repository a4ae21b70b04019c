/** The notebooks' summary statistics (lib/notebook/stats.ts): values, and bad input named by argument. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatMeanSd, mean, median, meanSd } from '../lib/notebook/index';

test('mean of arrays and typed arrays', () => {
  assert.equal(mean([1, 2, 3, 4]), 2.5);
  assert.equal(mean([-7]), -7);
  assert.equal(mean(new Float64Array([0.5, 1.5])), 1);
  assert.equal(mean([1, Infinity]), Infinity);
});

test('median: middle value, or the mean of the two middle values; the input is not reordered', () => {
  const xs = [5, 1, 3];
  assert.equal(median(xs), 3);
  assert.deepEqual(xs, [5, 1, 3]);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([9]), 9);
  assert.equal(median(new Float32Array([2, 10])), 6);
  assert.equal(median([10, 9, 100, -1, 2]), 9, 'numeric order, not string order');
});

test('meanSd: the mean and the sample standard deviation (n − 1)', () => {
  assert.deepEqual(meanSd([2, 4, 4, 4, 5, 5, 7, 9]), { mean: 5, sd: Math.sqrt(32 / 7) });
  assert.deepEqual(meanSd([3, 3]), { mean: 3, sd: 0 });
  const { mean: m, sd } = meanSd([0.0071, 0.0069, 0.0075]);
  assert.ok(Math.abs(m - 0.0071667) < 1e-6 && Math.abs(sd - 0.00030551) < 1e-7, `${m} ± ${sd}`);
});

test('formatMeanSd: mean ± sd, as notebooks 08 and 11 print them', () => {
  assert.equal(formatMeanSd(meanSd([0.0071, 0.0069, 0.0075]), 4), '0.0072 ± 0.0003');
  assert.equal(formatMeanSd({ mean: 12.25, sd: 0 }, 1), '12.3 ± 0.0');
  assert.throws(() => formatMeanSd({ mean: 1, sd: 0 }, -1), /formatMeanSd\(decimals\) must be an integer in \[0, 20\], got -1/);
});

test('bad input: an error that names the function and the argument', () => {
  assert.throws(() => mean([]), /^Error: mean\(xs\) must be a non-empty array of numbers, got an empty array$/);
  assert.throws(() => median([]), /median\(xs\) must be a non-empty array of numbers, got an empty array/);
  assert.throws(() => meanSd([]), /meanSd\(xs\) must be an array of at least 2 numbers, got an empty array/);
  assert.throws(() => meanSd([1]), /meanSd\(xs\) must be an array of at least 2 numbers, got \[1\]/);
  assert.throws(() => mean([1, NaN]), /mean\(xs\) must hold numbers \(not NaN\), but \[1\] is NaN/);
  assert.throws(() => median([1, '2' as unknown as number]), /median\(xs\) must hold numbers \(not NaN\), but \[1\] is "2"/);
  assert.throws(() => mean(undefined as unknown as number[]), /mean\(xs\) must be an array of numbers, got undefined/);
  assert.throws(() => mean(3 as unknown as number[]), /mean\(xs\) must be an array of numbers, got 3/);
});
