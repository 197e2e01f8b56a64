import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { NasError, UsageError } from '../common/errors.js';
import { useBackend } from '../backend/select.js';
import { median, runToOptimum } from '../bench/search-strategies.js';
import { parseTargets } from '../latency/targets.js';
import type { JsonValue } from '../common/json.js';
import { encodeArch } from '../space/blockString.js';
import { applySample, decisions, encodeSample, type SearchSpace, sampleUniform, validateSpace } from '../space/searchSpace.js';
import { builtinSpace } from '../space/spaces.js';
import { computeReward } from '../search/reward.js';
import { STRATEGY_NAMES, strategyFactory } from '../search/strategies/index.js';
import { evaluate, SYNTHETIC_TARGET, syntheticMetrics, syntheticModel, syntheticOptimum } from '../search/synthetic.js';
import type { Observation, Strategy, StrategyName } from '../search/types.js';

before(async () => {
  await useBackend('wasm');
});

const MNAS = builtinSpace('mnasnet-small-input');
const TARGETS = parseTargets([SYNTHETIC_TARGET]);

// 3 stages x (layers, op, kernel, se): 12 decisions, 13,824 architectures. Small enough that a learning strategy
// reaches the optimum within a few hundred samples, large enough that random search almost never does.
const TINY: SearchSpace = validateSpace({
  version: 1,
  kind: 'space',
  name: 'tiny',
  input: { size: 32, channels: 3 },
  classes: 10,
  width: 1,
  padding: 'symmetric',
  bn: { decay: 0.99, eps: 0.001 },
  dropout: 0.2,
  stem: { kernel: 3, stride: 1, out: 16, act: 'relu' },
  stages: [24, 40, 80].map((out) => ({
    layers: { oneOf: [1, 2] },
    stride: 2,
    out,
    block: {
      op: { oneOf: [{ type: 'ds' }, { type: 'ir', expand: 3 }, { type: 'ir', expand: 6 }] },
      kernel: { oneOf: [3, 5] },
      se: { oneOf: [null, { ratio: 0.25, of: 'input', gate: 'sigmoid' }] },
      act: 'relu',
    },
  })),
  head: { conv: 256, hidden: null, act: 'relu' },
});

/** Runs `rounds` batches against the synthetic fixture; every fourth candidate fails (reward null). */
function drive(s: Strategy, space: SearchSpace, rounds: number, batch: number): number[][][] {
  const model = syntheticModel(space, 0);
  const out: number[][][] = [];
  for (let r = 0; r < rounds; r++) {
    const b = s.propose(batch);
    out.push(b);
    s.observe(b.map((d, i): Observation => ({ decisions: d, reward: i % 4 === 3 ? null : computeReward(syntheticMetrics(model, d), TARGETS, { mode: 'soft' }) })));
  }
  return out;
}

const dispose = (s: Strategy): void => (s as { dispose?: () => void }).dispose?.();

test('strategyFactory knows rl, evolution, random and predictor and rejects other names with a UsageError', () => {
  assert.deepEqual(STRATEGY_NAMES, ['rl', 'evolution', 'random', 'predictor']);
  for (const n of STRATEGY_NAMES) assert.equal(strategyFactory(n).create(TINY, 0).name, n);
  assert.throws(() => strategyFactory('bayes' as StrategyName), (e: unknown) => e instanceof UsageError && /rl, evolution, random, predictor/.test(e.message));
  assert.throws(() => strategyFactory('toString' as StrategyName), UsageError);
  assert.throws(() => strategyFactory('evolution').create(TINY, 0, { populaton: 8 }), (e: unknown) => e instanceof NasError && /populaton/.test(e.message));
  assert.throws(() => strategyFactory('rl').create(TINY, 0, { lr: -1 }), /lr must be a number > 0/);
});

for (const name of STRATEGY_NAMES) {
  test(`${name}: proposals are valid and a function of the seed`, () => {
    const counts = decisions(TINY).map((d) => d.options);
    const a = strategyFactory(name).create(TINY, 7);
    const b = strategyFactory(name).create(TINY, 7);
    const c = strategyFactory(name).create(TINY, 8);
    const ra = drive(a, TINY, 4, 8);
    assert.deepEqual(drive(b, TINY, 4, 8), ra);
    assert.notDeepEqual(drive(c, TINY, 4, 8), ra);
    for (const batch of ra) {
      assert.equal(batch.length, 8);
      for (const d of batch) d.forEach((x, i) => assert.ok(Number.isInteger(x) && x >= 0 && x < (counts[i] as number)));
    }
    [a, b, c].forEach(dispose);
  });

  test(`${name}: toState -> JSON -> restore continues exactly, between batches and with a batch pending`, () => {
    const ref = strategyFactory(name).create(TINY, 3);
    const refRuns = drive(ref, TINY, 5, 8);
    // Between batches.
    const a = strategyFactory(name).create(TINY, 3);
    drive(a, TINY, 3, 8);
    const a2 = strategyFactory(name).restore(TINY, JSON.parse(JSON.stringify(a.toState())));
    assert.deepEqual(drive(a2, TINY, 2, 8), refRuns.slice(3));
    // Proposed, not yet observed: the restored strategy takes the results of the batch proposed before the save.
    const b = strategyFactory(name).create(TINY, 3);
    drive(b, TINY, 2, 8);
    const pending = b.propose(8);
    assert.deepEqual(pending, refRuns[2]);
    const b2 = strategyFactory(name).restore(TINY, JSON.parse(JSON.stringify(b.toState())));
    const model = syntheticModel(TINY, 0);
    b2.observe(pending.map((d, i) => ({ decisions: d, reward: i % 4 === 3 ? null : computeReward(syntheticMetrics(model, d), TARGETS, { mode: 'soft' }) })));
    assert.deepEqual(drive(b2, TINY, 2, 8), refRuns.slice(3));
    [ref, a, a2, b, b2].forEach(dispose);
  });

  test(`${name}: a state does not restore on another space or as another strategy`, () => {
    const s = strategyFactory(name).create(MNAS, 0);
    const state = s.toState();
    assert.throws(() => strategyFactory(name).restore(TINY, state), (e: unknown) => e instanceof NasError && /another search space/.test(e.message));
    const other = STRATEGY_NAMES.find((n) => n !== name) as StrategyName;
    assert.throws(() => strategyFactory(other).restore(MNAS, state), NasError);
    dispose(s);
  });
}

test('rl: propose/observe leak no tensors', () => {
  const s = strategyFactory('rl').create(MNAS, 0);
  drive(s, MNAS, 1, 4);
  const n = tf.memory().numTensors;
  drive(s, MNAS, 3, 4);
  s.toState();
  assert.equal(tf.memory().numTensors, n);
  dispose(s);
});

test('evolution: proposals are uniform until the population is full, then (mutationRate 0, no crossover) one-decision mutations; failures never join', () => {
  const s = strategyFactory('evolution').create(TINY, 1, { population: 4, sample: 2, mutationRate: 0, crossover: 0 });
  const first = s.propose(4);
  // Two failures: the population holds 2 of 4, so the next batch opens with 2 random fills.
  s.observe(first.map((d, i) => ({ decisions: d, reward: i < 2 ? null : 0.5 + i })));
  const state = s.toState() as { members: { decisions: number[] }[] };
  assert.deepEqual(state.members.map((m) => m.decisions), first.slice(2));
  const second = s.propose(4);
  s.observe(second.map((d) => ({ decisions: d, reward: 0.1 })));
  const members = (s.toState() as { members: { decisions: number[]; reward: number }[] }).members;
  assert.equal(members.length, 4); // the oldest left
  const third = s.propose(6);
  const parents = members.map((m) => m.decisions);
  for (const child of third) {
    const diffs = parents.map((p) => p.reduce((n, x, i) => n + (x === child[i] ? 0 : 1), 0));
    assert.ok(diffs.includes(1), `a child differs from some member in exactly one decision: ${JSON.stringify(child)}`);
  }
});

test('synthetic evaluator: the optimum is unique; no sampled or neighbouring architecture beats it', () => {
  for (const space of [MNAS, TINY]) {
    const opt = syntheticOptimum(space, { optimumSeed: 2 });
    const model = syntheticModel(space, 2);
    const reward = (d: readonly number[]): number => computeReward(syntheticMetrics(model, d), TARGETS, { mode: 'soft' });
    assert.equal(reward(opt.decisions), opt.reward);
    assert.equal(opt.metrics.accuracy > 0.99999, true);
    const rng = seedrandom('beat');
    for (let i = 0; i < 1500; i++) {
      const d = sampleUniform(space, rng);
      if (encodeSample(space, d) !== opt.arch) assert.ok(reward(d) < opt.reward);
    }
    const counts = decisions(space).map((x) => x.options);
    opt.decisions.forEach((o, i) => {
      for (let j = 0; j < (counts[i] as number); j++) {
        if (j === o) continue;
        const d = [...opt.decisions];
        d[i] = j;
        if (encodeSample(space, d) !== opt.arch) assert.ok(reward(d) < opt.reward, `decision ${i} option ${j}`);
      }
    });
  }
});

test('synthetic evaluator: deterministic, the same with or without decisions, latency grows with wider choices', async () => {
  const d = sampleUniform(MNAS, seedrandom('e'));
  const arch = applySample(MNAS, d);
  const ctx = { seed: 0, arch: encodeArch(arch), config: {} };
  const a = await evaluate(arch, { ...ctx, decisions: d });
  const b = await evaluate(arch, ctx);
  assert.deepEqual(a, b);
  assert.ok(a.accuracy > 0.5 && a.accuracy <= 1 && (a.latencyMs ?? 0) > 10);
  const other = await evaluate(arch, { ...ctx, config: { optimumSeed: 5 } });
  assert.notEqual(other.accuracy, a.accuracy);
  const model = syntheticModel(MNAS, 0);
  const small = decisions(MNAS).map(() => 0);
  const wide = [...small];
  const out = decisions(MNAS).findIndex((x) => x.path === 'stages[3].out');
  wide[out] = 2;
  assert.ok(syntheticMetrics(model, wide).latencyMs > syntheticMetrics(model, small).latencyMs);
  // A space file's JSON in config.space (what the loop hands over for --space FILE).
  const td = sampleUniform(TINY, seedrandom('t'));
  const tinyArch = applySample(TINY, td);
  const tiny = await evaluate(tinyArch, { seed: 0, arch: encodeArch(tinyArch), config: { space: JSON.parse(JSON.stringify(TINY)) as JsonValue } });
  assert.deepEqual(tiny, syntheticMetrics(syntheticModel(TINY, 0), td));
  assert.throws(() => evaluate(arch, { ...ctx, config: { space: 'nope' } }), /unknown search space 'nope'/);
  assert.throws(() => syntheticOptimum(MNAS, {}, TARGETS, { mode: 'soft', w: -0.5 }), /not provably unique/);
  assert.throws(() => syntheticOptimum(MNAS, {}, parseTargets(['madds=60M']), { mode: 'soft' }), /latency only/);
});

test('rl and evolution learn: they reach the synthetic optimum far sooner than random (3 seeds, tiny space)', () => {
  const cap = 800;
  const med = (name: StrategyName): number =>
    median([0, 1, 2].map((seed) => runToOptimum(TINY, name, seed, { cap, batch: 8 }).found ?? cap));
  const random = med('random');
  const evolution = med('evolution');
  const rl = med('rl');
  assert.ok(evolution < cap && evolution < random / 2, `evolution ${evolution} vs random ${random}`);
  assert.ok(rl < cap && rl < random / 2, `rl ${rl} vs random ${random}`);
});
