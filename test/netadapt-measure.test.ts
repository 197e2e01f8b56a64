// The end of a NetAdapt run times each network against the seed in passes and judges it by the median of the ratios
// within a pass: both figures of a ratio come from the same seconds, so a spell of load in one pass moves neither the
// ratio nor, past one pass in three, the seed's figure.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { combineAgainstSeed } from '../netadapt/measure.js';

test('a network at 0.7x of the seed reads 0.7x though a spell of load fell on one network in each of two passes', () => {
  // Pass 1: the network ran slow (1.4 ms); pass 2: the seed did (2.0 ms); pass 3: neither.
  const passes: [number, number][] = [[1.0, 1.4], [2.0, 1.4], [1.02, 0.714]];
  const r = combineAgainstSeed([passes]);
  assert.equal(r.seedMs, 1.02);
  assert.ok(Math.abs((r.ms[0] ?? 0) / r.seedMs - 0.7) < 1e-12, `ratio ${(r.ms[0] ?? 0) / r.seedMs}`);
  // Each network's lowest figure over the passes (what a joint measurement kept) pairs figures of different passes.
  const lowest = Math.min(...passes.map((p) => p[1])) / Math.min(...passes.map((p) => p[0]));
  assert.ok(Math.abs(lowest - 0.7) > 0.01, `lowest-of-passes ratio ${lowest}`);
});

test('every network against the same seed figure: the median of all its passes', () => {
  const r = combineAgainstSeed([
    [[1.0, 0.8], [1.1, 0.88], [0.9, 0.72]],
    [[1.2, 0.6], [1.0, 0.5], [1.05, 0.525]],
  ]);
  assert.equal(r.seedMs, 1.025);
  assert.deepEqual(r.ms.map((v) => Number((v / r.seedMs).toFixed(6))), [0.8, 0.5]);
});
