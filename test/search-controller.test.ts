import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { useBackend } from '../backend/select.js';
import { Controller } from '../search/controller.js';

// Option counts like a small MnasNet space: several decisions share a count, so heads are stacked per count.
const COUNTS = [2, 3, 5, 2, 2, 3, 5, 2, 4];
const OPTS = { hidden: 16, embed: 12 };
const PPO = { lr: 0.01, epochs: 4, clip: 0.2, entropyWeight: 1e-5 };

before(async () => {
  await useBackend('wasm');
});

function fresh(seed = 1): Controller {
  return Controller.create(COUNTS, OPTS, seedrandom(String(seed)));
}

test('the probabilities of each decision sum to 1 and have that decision\'s option count', () => {
  const c = fresh();
  const { decisions } = c.sample(5, seedrandom('s'));
  const probs = c.probabilities(decisions);
  assert.equal(probs.length, 5);
  for (const seq of probs) {
    assert.deepEqual(seq.map((p) => p.length), COUNTS);
    for (const p of seq) {
      assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-5);
      assert.ok(p.every((x) => x > 0 && x < 1));
    }
  }
  c.dispose();
});

test('the log-probability recorded when sampling matches the teacher-forced pass', () => {
  const c = fresh();
  const s = c.sample(6, seedrandom('s'));
  const again = c.logProbs(s.decisions);
  s.logProbs.forEach((lp, i) => assert.ok(Math.abs(lp - (again[i] as number)) < 1e-4, `${lp} vs ${again[i]}`));
  for (const d of s.decisions) d.forEach((a, t) => assert.ok(Number.isInteger(a) && a >= 0 && a < (COUNTS[t] as number)));
  c.dispose();
});

test('sampling is a function of the generator: same seed, same decisions; another seed, others', () => {
  const a = fresh(3);
  const b = fresh(3);
  assert.deepEqual(a.sample(8, seedrandom('x')).decisions, b.sample(8, seedrandom('x')).decisions);
  assert.notDeepEqual(a.sample(8, seedrandom('x')).decisions, a.sample(8, seedrandom('y')).decisions);
  a.dispose();
  b.dispose();
});

test('a PPO step raises the probability of a rewarded sample and lowers a penalised one', () => {
  const c = fresh();
  const s = c.sample(8, seedrandom('ppo'));
  const adv = s.decisions.map((_, i) => (i === 0 ? 1 : i === 1 ? -1 : 0));
  const before = c.logProbs(s.decisions);
  c.update(s.decisions, s.logProbs, adv, PPO);
  const after = c.logProbs(s.decisions);
  assert.ok((after[0] as number) > (before[0] as number) + 0.01, `rewarded: ${before[0]} -> ${after[0]}`);
  assert.ok((after[1] as number) < (before[1] as number) - 0.01, `penalised: ${before[1]} -> ${after[1]}`);
  c.dispose();
});

test('the clipped objective limits how far one batch moves the policy', () => {
  const ratioAfter = (clip: number): number => {
    const c = fresh();
    const s = c.sample(4, seedrandom('clip'));
    c.update(s.decisions, s.logProbs, [1, 0, 0, 0], { ...PPO, lr: 0.01, epochs: 12, clip });
    const r = Math.exp((c.logProbs(s.decisions)[0] as number) - (s.logProbs[0] as number));
    c.dispose();
    return r;
  };
  const clipped = ratioAfter(0.2);
  const unclipped = ratioAfter(1000);
  assert.ok(clipped > 1.05 && clipped < unclipped, `clipped ${clipped}, unclipped ${unclipped}`);
});

test('toJSON -> JSON text -> fromJSON restores weights and Adam moments exactly', () => {
  const a = fresh();
  const s = a.sample(8, seedrandom('j'));
  a.update(s.decisions, s.logProbs, s.decisions.map((_, i) => i - 3.5), PPO);
  const b = Controller.fromJSON(COUNTS, JSON.parse(JSON.stringify(a.toJSON())));
  assert.deepEqual(b.toJSON(), a.toJSON());
  // The same next update from both gives the same weights (Adam's moments and step carried over).
  const s2 = a.sample(8, seedrandom('k'));
  a.update(s2.decisions, s2.logProbs, s2.decisions.map((_, i) => 3.5 - i), PPO);
  b.update(s2.decisions, s2.logProbs, s2.decisions.map((_, i) => 3.5 - i), PPO);
  assert.deepEqual(b.toJSON(), a.toJSON());
  a.dispose();
  b.dispose();
});

test('sampling and updates leak no tensors; dispose frees the controller', () => {
  const start = tf.memory().numTensors;
  const c = fresh();
  const held = tf.memory().numTensors;
  const rng = seedrandom('leak');
  for (let i = 0; i < 3; i++) {
    const s = c.sample(4, rng);
    c.update(s.decisions, s.logProbs, [0.5, -0.5, 0.1, 0], PPO);
    c.probabilities(s.decisions);
    c.toJSON();
    assert.equal(tf.memory().numTensors, held);
  }
  c.dispose();
  assert.equal(tf.memory().numTensors, start);
});
