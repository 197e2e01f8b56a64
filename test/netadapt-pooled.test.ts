// NetAdapt's pooled judgement (netadapt/pooledJudgement.ts): past judgements moved to the current state by the
// table's differences, averaged. Exact for deterministic sources; for noisy ones, less error than one judgement and
// an upper bound that still holds about 95% of the time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import seedrandom from 'seedrandom';
import { type Judged, POOL, pooledJudgement } from '../netadapt/pooledJudgement.js';

test('pooled judgement: exact for a deterministic source; the aligned mean of the last POOL', () => {
  const exact: Judged[] = [1, 0.99, 0.98, 0.97, 0.96].map((ms) => ({ ms, upperMs: ms, tableMs: ms }));
  assert.deepEqual(pooledJudgement(exact), { ms: 0.96, upperMs: 0.96, pooled: POOL });
  assert.deepEqual(pooledJudgement(exact.slice(0, 1)), { ms: 1, upperMs: 1, pooled: 1 });
  // The table says each step saved 0.01 ms; the judgements read 1.00, 1.02, 0.95: estimates of the last state are
  // 0.98, 1.01, 0.95, mean 0.98.
  const noisy: Judged[] = [
    { ms: 1.0, upperMs: 1.01, tableMs: 1.0 },
    { ms: 1.02, upperMs: 1.03, tableMs: 0.99 },
    { ms: 0.95, upperMs: 0.96, tableMs: 0.98 },
  ];
  const j = pooledJudgement(noisy);
  assert.ok(Math.abs(j.ms - 0.98) < 1e-12, String(j.ms));
  assert.equal(j.pooled, 3);
  // Spread 0.03 (sd of 0.98, 1.01, 0.95), t(2) 2.92: the upper end is 0.98 + 2.92 x 0.03 / sqrt(3).
  assert.ok(Math.abs(j.upperMs - (0.98 + (2.92 * 0.03) / Math.sqrt(3))) < 1e-9, String(j.upperMs));
});

/** A descent of 1% steps judged with 4% noise (a load-dependent ratio), as on a busy 2-core machine. */
function simulate(seed: string): { single: number[]; pooled: number[]; covered: number } {
  const rng = seedrandom(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const history: Judged[] = [];
  const single: number[] = [];
  const pooled: number[] = [];
  let covered = 0;
  for (let i = 0; i < 400; i++) {
    const truth = 1 - 0.01 * (i % 30);
    if (i % 30 === 0) history.length = 0;
    const ms = truth * (1 + 0.04 * gauss());
    history.push({ ms, upperMs: ms * 1.015, tableMs: truth });
    const j = pooledJudgement(history);
    single.push(ms - truth);
    pooled.push(j.ms - truth);
    if (j.upperMs >= truth) covered++;
  }
  return { single, pooled, covered: covered / 400 };
}

const rms = (xs: readonly number[]): number => Math.sqrt(xs.reduce((s, x) => s + x * x, 0) / xs.length);

test('pooled judgement: less error than one judgement, and its upper end holds about 95% of the time', () => {
  const { single, pooled, covered } = simulate('netadapt-pooled');
  assert.ok(rms(pooled) < 0.65 * rms(single), `rms pooled ${rms(pooled).toFixed(4)} vs single ${rms(single).toFixed(4)}`);
  assert.ok(covered >= 0.88, `the upper end was above the truth in ${(100 * covered).toFixed(1)}% of states`);
});
