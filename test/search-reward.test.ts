import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NasError } from '../common/errors.js';
import { parseTarget, parseTargets } from '../latency/targets.js';
import { computeReward, rewardExponents } from '../search/reward.js';

const close = (a: number, b: number): void => assert.ok(Math.abs(a - b) < 1e-12, `${a} != ${b}`);

test('soft reward is ACC x (LAT/T)^-0.07 on both sides of the target', () => {
  const t = parseTargets(['latency=75ms']);
  close(computeReward({ accuracy: 0.75, latencyMs: 80 }, t, { mode: 'soft' }), 0.75 * Math.pow(80 / 75, -0.07));
  close(computeReward({ accuracy: 0.75, latencyMs: 60 }, t, { mode: 'soft' }), 0.75 * Math.pow(60 / 75, -0.07));
  close(computeReward({ accuracy: 0.75, latencyMs: 80 }, t, { mode: 'soft', w: -0.15 }), 0.75 * Math.pow(80 / 75, -0.15));
});

test('hard reward keeps ACC within the target and divides by LAT/T beyond it', () => {
  const t = parseTargets(['latency=75ms']);
  close(computeReward({ accuracy: 0.75, latencyMs: 60 }, t, { mode: 'hard' }), 0.75);
  close(computeReward({ accuracy: 0.75, latencyMs: 75 }, t, { mode: 'hard' }), 0.75);
  close(computeReward({ accuracy: 0.75, latencyMs: 90 }, t, { mode: 'hard' }), 0.75 * (75 / 90));
});

test('several targets multiply, each with its own exponents', () => {
  const t = parseTargets(['latency=75ms', 'madds=60M,w=-0.15', 'params=2M,alpha=0,beta=-1']);
  const m = { accuracy: 0.8, latencyMs: 70, madds: 66e6, params: 3e6 };
  close(computeReward(m, t, { mode: 'soft' }), 0.8 * Math.pow(70 / 75, -0.07) * Math.pow(66 / 60, -0.15) * Math.pow(3 / 2, -1));
});

test('exponent precedence: target alpha/beta, then --alpha/--beta, then --w, then the mode', () => {
  const plain = parseTarget('latency=10ms');
  assert.deepEqual(rewardExponents(plain, { mode: 'soft' }), { alpha: -0.07, beta: -0.07 });
  assert.deepEqual(rewardExponents(plain, { mode: 'hard' }), { alpha: 0, beta: -1 });
  assert.deepEqual(rewardExponents(plain, { mode: 'hard', w: -0.2 }), { alpha: -0.2, beta: -0.2 });
  assert.deepEqual(rewardExponents(plain, { mode: 'soft', w: -0.2, beta: -0.5 }), { alpha: -0.2, beta: -0.5 });
  assert.deepEqual(rewardExponents(plain, { mode: 'soft', w: -0.2, alpha: -0.1, beta: -0.5 }), { alpha: -0.1, beta: -0.5 });
  const own = parseTarget('latency=10ms,beta=-2');
  assert.deepEqual(rewardExponents(own, { mode: 'soft', w: -0.2, alpha: -0.1, beta: -0.5 }), { alpha: -0.1, beta: -2 });
  assert.deepEqual(rewardExponents(parseTarget('latency=10ms,w=-0.3'), { mode: 'hard', alpha: -0.1 }), { alpha: -0.3, beta: -0.3 });
});

test('a target whose metric the evaluation lacks is a NasError naming the metric', () => {
  assert.throws(
    () => computeReward({ accuracy: 0.9 }, parseTargets(['latency=15ms']), { mode: 'soft' }),
    (e: unknown) => e instanceof NasError && /metrics\.latencyMs/.test(e.message) && !e.message.includes('\n'),
  );
  assert.throws(() => computeReward({ accuracy: 0.9, latencyMs: 5 }, parseTargets(['params=2M']), { mode: 'soft' }), /metrics\.params/);
});

test('relative targets are rejected: they must be resolved first', () => {
  assert.throws(() => computeReward({ accuracy: 0.9, latencyMs: 5 }, parseTargets(['latency=0.8x']), { mode: 'soft' }), /relative/);
});

test('no targets: the reward is the accuracy; a NaN accuracy is an error', () => {
  assert.equal(computeReward({ accuracy: 0.42 }, [], { mode: 'soft' }), 0.42);
  assert.throws(() => computeReward({ accuracy: Number.NaN }, [], { mode: 'soft' }), NasError);
});
