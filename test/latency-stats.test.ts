import assert from 'node:assert/strict';
import { test } from 'node:test';
import { iqr, kendallTau, mad, mean, median, quantile, summarize } from '../latency/stats.js';

test('median of odd and even samples, unsorted input left untouched', () => {
  const odd = [5, 1, 3];
  assert.equal(median(odd), 3);
  assert.deepEqual(odd, [5, 1, 3]);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([7]), 7);
});

test('quantiles interpolate linearly (numpy default); IQR of 1..8 is 3.5', () => {
  const xs = [1, 2, 3, 4, 5, 6, 7, 8];
  assert.equal(quantile(xs, 0), 1);
  assert.equal(quantile(xs, 1), 8);
  assert.equal(quantile(xs, 0.25), 2.75);
  assert.equal(quantile(xs, 0.75), 6.25);
  assert.equal(iqr(xs), 3.5);
  assert.equal(iqr([1, 2, 3, 4, 5]), 2);
});

test('MAD is the median absolute deviation, robust to an outlier', () => {
  // median 2; deviations 1,1,0,0,2,4,7 -> median 1
  assert.equal(mad([1, 1, 2, 2, 4, 6, 9]), 1);
  assert.equal(mad([3, 3, 3, 1000]), 0);
});

test('summarize reports median, 10th percentile, mean, min, max, IQR and MAD', () => {
  const s = summarize([1, 2, 3, 4, 100]);
  assert.deepEqual(s, { medianMs: 3, p10Ms: 1.4, meanMs: 22, minMs: 1, maxMs: 100, iqrMs: 2, madMs: 1 });
  assert.equal(mean([2, 4]), 3);
});

test('empty samples are rejected', () => {
  assert.throws(() => median([]), RangeError);
  assert.throws(() => mad([]), RangeError);
});

test('Kendall tau: same order 1, reversed -1, known mixed value', () => {
  assert.equal(kendallTau([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  assert.equal(kendallTau([1, 2, 3, 4, 5], [5, 4, 3, 2, 1]), -1);
  // pairs: 6; one swap (3,4 -> 4,3) gives 5 concordant, 1 discordant -> 4/6
  assert.ok(Math.abs(kendallTau([1, 2, 3, 4], [1, 2, 4, 3]) - 4 / 6) < 1e-12);
});

test('Kendall tau-b corrects for ties', () => {
  // x = [1,2,2,3], y = [1,2,3,4]: C=5, D=0, ties only in x: 1 -> 5 / sqrt(5 * 6)
  assert.ok(Math.abs(kendallTau([1, 2, 2, 3], [1, 2, 3, 4]) - 5 / Math.sqrt(30)) < 1e-12);
  // ties in both at the same pair are in neither term: still a perfect agreement
  assert.equal(kendallTau([1, 2, 2, 3], [1, 5, 5, 9]), 1);
  assert.ok(Number.isNaN(kendallTau([1, 1, 1], [1, 2, 3])));
  assert.throws(() => kendallTau([1, 2], [1]), RangeError);
});
