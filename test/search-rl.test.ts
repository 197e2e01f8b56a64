// The rl strategy's remedies (search/strategies/rl.ts): proposals new to the run, rank advantages, elite replay, and
// states saved before them that continue as they ran.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { useBackend } from '../backend/select.js';
import { parseTargets } from '../latency/targets.js';
import { encodeSample, type SearchSpace, validateSpace } from '../space/searchSpace.js';
import { computeReward } from '../search/reward.js';
import { centredRanks, RL_DEFAULTS, RlStrategy } from '../search/strategies/rl.js';
import { strategyFactory } from '../search/strategies/index.js';
import { syntheticMetrics, syntheticModel } from '../search/synthetic.js';
import type { Observation, ProposeContext, Strategy } from '../search/types.js';

before(async () => {
  await useBackend('wasm');
});

// Stages of (layers 1-2, op of 3, kernel of 2): 12 architectures per stage; 3 stages: 1,728.
function smallSpace(stages = 3): SearchSpace {
  return validateSpace({
    version: 1,
    kind: 'space',
    name: 'small',
    input: { size: 32, channels: 3 },
    classes: 10,
    width: 1,
    padding: 'symmetric',
    bn: { decay: 0.99, eps: 0.001 },
    dropout: 0.2,
    stem: { kernel: 3, stride: 1, out: 16, act: 'relu' },
    stages: [24, 40, 80].slice(0, stages).map((out) => ({
      layers: { oneOf: [1, 2] },
      stride: 2,
      out,
      block: { op: { oneOf: [{ type: 'ds' }, { type: 'ir', expand: 3 }, { type: 'ir', expand: 6 }] }, kernel: { oneOf: [3, 5] }, act: 'relu' },
    })),
    head: { conv: 256, hidden: null, act: 'relu' },
  });
}

const TARGETS = parseTargets(['latency=15ms']);

/** Drives a strategy with a context that knows every architecture observed so far; returns the keys proposed. */
function driveNovel(s: Strategy, space: SearchSpace, batches: number, batch: number, rewards: number[] = []): string[] {
  const model = syntheticModel(space, 0);
  const known = new Set<string>();
  const context: ProposeContext = { keyOf: (d) => encodeSample(space, d), isKnown: (k) => known.has(k) };
  const keys: string[] = [];
  for (let b = 0; b < batches; b++) {
    const props = s.propose(batch, context);
    const obs: Observation[] = props.map((d) => ({ decisions: d, reward: computeReward(syntheticMetrics(model, d), TARGETS, { mode: 'soft' }) }));
    rewards.push(...obs.map((o) => o.reward as number));
    for (const d of props) {
      keys.push(encodeSample(space, d));
      known.add(encodeSample(space, d));
    }
    s.observe(obs);
  }
  return keys;
}

test('rl proposes only new architectures, even once a fast learning rate has made its policy nearly deterministic', () => {
  const space = smallSpace();
  // Screening off: it would refit its surrogate 38 times here (test 'rl screen' checks novelty with it on).
  const s = strategyFactory('rl').create(space, 1, { lr: 0.2, entropy: 0, screen: 0 });
  const keys = driveNovel(s, space, 40, 16);
  assert.equal(new Set(keys).size, keys.length, 'every proposal is a new architecture');
  s.dispose?.();
  // Without the context the same policy repeats itself: the check above is not vacuous.
  const t = strategyFactory('rl').create(space, 1, { lr: 0.2, entropy: 0, screen: 0 });
  const model = syntheticModel(space, 0);
  const seen: string[] = [];
  for (let b = 0; b < 40; b++) {
    const props = t.propose(16);
    seen.push(...props.map((d) => encodeSample(space, d)));
    t.observe(props.map((d) => ({ decisions: d, reward: computeReward(syntheticMetrics(model, d), TARGETS, { mode: 'soft' }) })));
  }
  assert.ok(new Set(seen).size < seen.length / 2, `${new Set(seen).size} distinct of ${seen.length}`);
  t.dispose?.();
});

test('rl fills its batch when the space has fewer new architectures than asked for', () => {
  const space = smallSpace(2);
  const s = strategyFactory('rl').create(space, 2);
  const keys = driveNovel(s, space, 10, 16); // 160 proposals for 144 architectures
  assert.equal(keys.length, 160);
  assert.equal(new Set(keys.slice(0, 144)).size, 144, 'the whole space is covered before anything repeats');
  s.dispose?.();
});

test('centred ranks: the lowest -1, the highest 1, ties share their mean rank', () => {
  assert.deepEqual(centredRanks([0.5, 0.1, 0.9]), [0, -1, 1]);
  assert.deepEqual(centredRanks([0.2, 0.2, 0.8, 0.1, 0.8]), [-0.25, -0.25, 0.75, -1, 0.75]);
  assert.deepEqual(centredRanks([0.3]), [0]);
  // Scale-free: rewards a thousandth apart teach as much as rewards far apart.
  assert.deepEqual(centredRanks([0.801, 0.8, 0.802]), centredRanks([10, -5, 99]));
});

test('rl options: advantage form checked; a state saved before ranks and elites continues with raw advantages', () => {
  const space = smallSpace();
  assert.throws(() => strategyFactory('rl').create(space, 0, { advantage: 'median' }), /advantage must be one of ranks, zscore, raw/);
  assert.throws(() => strategyFactory('rl').create(space, 0, { elite: -1 }), /elite must be an integer >= 0/);
  const s = strategyFactory('rl').create(space, 0, { advantage: 'raw', elite: 0 });
  driveNovel(s, space, 2, 8);
  const state = s.toState() as { settings: Record<string, unknown> };
  // As written by the previous version: no advantage, elite or elites keys.
  const { advantage: _a, elite: _e, ...oldSettings } = state.settings;
  const old = { ...state, settings: oldSettings } as Record<string, unknown>;
  delete old['elites'];
  const a = strategyFactory('rl').restore(space, JSON.parse(JSON.stringify(old)));
  const b = strategyFactory('rl').restore(space, JSON.parse(JSON.stringify(state)));
  assert.deepEqual(driveNovel(a, space, 3, 8), driveNovel(b, space, 3, 8));
  assert.equal(RL_DEFAULTS.advantage, 'ranks');
  [s, a, b].forEach((x) => x.dispose?.());
});

/** The smallest probability the policy gives any option of any decision, along the given sequences. */
function smallestProbability(s: Strategy, seqs: number[][]): number {
  assert.ok(s instanceof RlStrategy);
  return Math.min(...s.controller.probabilities(seqs).flat(2));
}

test('rl logitBound: however concentrated the policy, every option keeps the floor probability', () => {
  const space = smallSpace();
  const model = syntheticModel(space, 0);
  const run = (logitBound: number): number => {
    const s = strategyFactory('rl').create(space, 3, { lr: 0.2, entropy: 0, logitBound });
    for (let b = 0; b < 10; b++) {
      const props = s.propose(8);
      s.observe(props.map((d) => ({ decisions: d, reward: computeReward(syntheticMetrics(model, d), TARGETS, { mode: 'soft' }) })));
    }
    const p = smallestProbability(s, s.propose(16));
    s.dispose?.();
    return p;
  };
  // At most 3 options per decision: the floor is e^-C / (e^-C + 2 e^C) at C = 2.5 (two options at the bound).
  const floor = Math.exp(-2.5) / (Math.exp(-2.5) + 2 * Math.exp(2.5));
  assert.ok(run(2.5) >= floor * 0.999, 'bounded');
  assert.ok(run(0) < floor / 10, 'unbounded, the same run goes (nearly) deterministic');
});

test('rl imagine: the imagined updates change the policy, and a restored state continues exactly', () => {
  const space = smallSpace();
  const s = strategyFactory('rl').create(space, 4, { imagine: 16 });
  const plain = strategyFactory('rl').create(space, 4, { imagine: 0 });
  driveNovel(s, space, 3, 16); // 48 observations: imagined updates after the second batch
  driveNovel(plain, space, 3, 16);
  const state = JSON.parse(JSON.stringify(s.toState()));
  const r = strategyFactory('rl').restore(space, state);
  const continued = driveNovel(s, space, 2, 16);
  assert.deepEqual(driveNovel(r, space, 2, 16), continued);
  assert.notDeepEqual(driveNovel(plain, space, 2, 16), continued);
  [s, plain, r].forEach((x) => x.dispose?.());
});

test('rl screen: the surrogate picks each batch from the policy\'s draws, better ones than the policy alone, and a restored state continues exactly', () => {
  const space = smallSpace();
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const laterRewards = (screen: number): number => {
    const s = strategyFactory('rl').create(space, 5, { screen });
    const rewards: number[] = [];
    driveNovel(s, space, 6, 16, rewards);
    s.dispose?.();
    return mean(rewards.slice(32)); // screening starts with the third batch
  };
  assert.ok(laterRewards(4) > laterRewards(0), 'screened batches score higher');
  const s = strategyFactory('rl').create(space, 6, { screen: 4 });
  const first = driveNovel(s, space, 3, 16);
  assert.equal(new Set(first).size, first.length, 'every proposal is a new architecture');
  const r = strategyFactory('rl').restore(space, JSON.parse(JSON.stringify(s.toState())));
  assert.deepEqual(driveNovel(r, space, 2, 16), driveNovel(s, space, 2, 16));
  // Each proposal's recorded log-probability is the policy's own, whichever draws the surrogate kept.
  const props = s.propose(16);
  const pending = (s.toState() as { pending: { logProbs: number[] } }).pending.logProbs;
  assert.ok(s instanceof RlStrategy);
  s.controller.logProbs(props).forEach((lp, i) => assert.ok(Math.abs(lp - (pending[i] as number)) < 1e-4));
  [s, r].forEach((x) => x.dispose?.());
});
