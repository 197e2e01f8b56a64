import assert from 'node:assert/strict';
import { test } from 'node:test';
import { averageRanks, kendallTau, spearmanRho } from '../common/rankCorrelation.js';

const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} != ${b}`);

test('average ranks share the mean of the ranks a tie spans (scipy rankdata average)', () => {
  assert.deepEqual(averageRanks([10, 30, 20, 30, 30]), [1, 4, 2, 4, 4]);
  assert.deepEqual(averageRanks([5, 6, 7, 8, 7]), [1, 2, 3.5, 5, 3.5]);
});

test('tau-b and rho with a tie in one variable, by hand', () => {
  // 10 pairs: y ties on (3, 5); (4, 5) is discordant; the other 8 concordant: (8 - 1) / sqrt(9 * 10).
  const x = [1, 2, 3, 4, 5];
  const y = [5, 6, 7, 8, 7];
  close(kendallTau(x, y), 7 / Math.sqrt(90), 'tau');
  // ranks of y: 1, 2, 3.5, 5, 3.5 (deviations -2, -1, 0.5, 2, 0.5); with 1..5 (-2..2): 8 / sqrt(10 * 9.5).
  close(spearmanRho(x, y), 8 / Math.sqrt(95), 'rho');
});

test('scipy.stats kendalltau and spearmanr, with ties in both variables', () => {
  // scipy's kendalltau documentation example: tau -0.47140452079103173; spearmanr -0.5407380704358752.
  close(kendallTau([12, 2, 1, 12, 2], [1, 4, 7, 1, 0]), -0.4714045207910316, 'tau (docs example)');
  close(spearmanRho([12, 2, 1, 12, 2], [1, 4, 7, 1, 0]), -0.5407380704358752, 'rho (docs example)');
  // scipy 1.x: kendalltau 0.8006407690254358, spearmanr 0.9007775105401477.
  const x = [1, 2, 2, 3, 4, 4, 4, 5];
  const y = [2, 1, 3, 3, 5, 4, 6, 6];
  close(kendallTau(x, y), 0.8006407690254358, 'tau');
  close(spearmanRho(x, y), 0.9007775105401477, 'rho');
});

test('perfect and reversed orders give 1 and -1; rank correlations ignore the scale', () => {
  assert.equal(kendallTau([1, 2, 3, 4], [10, 200, 3000, 40000]), 1);
  assert.equal(kendallTau([1, 2, 3, 4, 5], [5, 4, 3, 2, 1]), -1);
  close(spearmanRho([1, 2, 3, 4], [10, 200, 3000, 40000]), 1, 'rho');
  close(spearmanRho([1, 2, 3, 4, 5], [5, 4, 3, 2, 1]), -1, 'rho reversed');
});

test('a constant variable has no order: NaN; bad input is a RangeError', () => {
  assert.ok(Number.isNaN(kendallTau([1, 1, 1], [1, 2, 3])));
  assert.ok(Number.isNaN(spearmanRho([1, 2, 3], [4, 4, 4])));
  assert.throws(() => spearmanRho([1, 2], [1]), /paired samples/);
  assert.throws(() => kendallTau([1], [1]), /at least 2 pairs/);
  assert.throws(() => spearmanRho([1, Number.NaN], [1, 2]), /finite/);
});
