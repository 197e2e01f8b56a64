import assert from 'node:assert/strict';
import { test } from 'node:test';
import { space as NB201_SPACE } from '../bench/tables/nb201.js';
import { NasError } from '../common/errors.js';
import { median, runToOptimum } from '../bench/search-strategies.js';
import { parseTargets } from '../latency/targets.js';
import type { JsonValue } from '../common/json.js';
import { encodeSample, type SearchSpace, validateSpace } from '../space/searchSpace.js';
import { computeReward } from '../search/reward.js';
import { predictorStrategy } from '../search/strategies/predictor.js';
import { SYNTHETIC_TARGET, syntheticMetrics, syntheticModel } from '../search/synthetic.js';
import type { Metrics, Observation, ProposeContext, Strategy, StrategyContext } from '../search/types.js';

const TARGETS = parseTargets([SYNTHETIC_TARGET]);
const CONTEXT: StrategyContext = { rewardOf: (m: Metrics) => computeReward(m, TARGETS, { mode: 'soft' }) };

/** NAS-Bench-201's shape: 6 decisions of 5 options (15,625 architectures, one decision vector each). */
const CELL = validateSpace(NB201_SPACE);

/** The same with `layers` decisions of `options` options. */
function cellSpace(layers: number, options: number): SearchSpace {
  const stage = NB201_SPACE.stages[0] as (typeof NB201_SPACE.stages)[number];
  const expand = { oneOf: [1, 2, 3, 4, 6].slice(0, options) };
  return validateSpace({ ...NB201_SPACE, stages: [{ ...stage, layers, block: { ...stage.block, op: { type: 'ir', expand } } }] });
}

/** The keys a run holds and a ProposeContext over them, as the loop keeps them. */
function runContext(space: SearchSpace): { known: Set<string>; context: ProposeContext } {
  const known = new Set<string>();
  return { known, context: { keyOf: (d) => encodeSample(space, d), isKnown: (k) => known.has(k) } };
}

/** Synthetic results of a batch (with metrics); candidates whose index satisfies `fails` fail. */
function results(space: SearchSpace, batch: readonly number[][], fails: (i: number) => boolean = (i) => i % 5 === 4): Observation[] {
  const model = syntheticModel(space, 0);
  return batch.map((d, i) => {
    if (fails(i)) return { decisions: d, reward: null, metrics: null };
    // What the loop hands over: the evaluator's metrics and its own (evalSeconds).
    const metrics = { ...syntheticMetrics(model, d), evalSeconds: 1.5 };
    return { decisions: d, reward: computeReward(metrics, TARGETS, { mode: 'soft' }), metrics };
  });
}

/** `rounds` batches with a context; returns the batches. */
function drive(s: Strategy, space: SearchSpace, run: ReturnType<typeof runContext>, rounds: number, batch: number): number[][][] {
  const out: number[][][] = [];
  for (let r = 0; r < rounds; r++) {
    const b = s.propose(batch, run.context);
    out.push(b);
    for (const d of b) run.known.add(run.context.keyOf(d));
    s.observe(results(space, b));
  }
  return out;
}

/** Cheap settings for the protocol tests (what they pin does not depend on how well the model fits). */
const FAST = { steps: 40, pool: 64 };

const restore = (s: Strategy, space: SearchSpace): Strategy =>
  predictorStrategy.restore(space, JSON.parse(JSON.stringify(s.toState())) as JsonValue, CONTEXT);

test('predictor: proposals are a function of the seed', () => {
  const a = drive(predictorStrategy.create(CELL, 4, FAST, CONTEXT), CELL, runContext(CELL), 4, 16);
  const b = drive(predictorStrategy.create(CELL, 4, FAST, CONTEXT), CELL, runContext(CELL), 4, 16);
  const c = drive(predictorStrategy.create(CELL, 5, FAST, CONTEXT), CELL, runContext(CELL), 4, 16);
  assert.deepEqual(b, a);
  assert.notDeepEqual(c, a);
});

test('predictor: restored from toState() JSON it proposes exactly what the uninterrupted run does', () => {
  const ref = drive(predictorStrategy.create(CELL, 3, FAST, CONTEXT), CELL, runContext(CELL), 5, 16);
  // After an observe: the model is retrained from the saved observations and generator alone.
  const runA = runContext(CELL);
  const a = predictorStrategy.create(CELL, 3, FAST, CONTEXT);
  drive(a, CELL, runA, 3, 16);
  assert.deepEqual(drive(restore(a, CELL), CELL, runA, 2, 16), ref.slice(3));
  // Between a propose and its observe: the restored strategy takes the results of the batch proposed before the save.
  const runB = runContext(CELL);
  const b = predictorStrategy.create(CELL, 3, FAST, CONTEXT);
  drive(b, CELL, runB, 2, 16);
  const pending = b.propose(16, runB.context);
  assert.deepEqual(pending, ref[2]);
  for (const d of pending) runB.known.add(runB.context.keyOf(d));
  const b2 = restore(b, CELL);
  b2.observe(results(CELL, pending));
  assert.deepEqual(drive(b2, CELL, runB, 2, 16), ref.slice(3));
});

test('predictor: given a context, every proposal is new to the run and distinct within its batch', () => {
  const run = runContext(CELL);
  const s = predictorStrategy.create(CELL, 1, FAST, CONTEXT);
  const seen = new Set<string>();
  for (const batch of drive(s, CELL, run, 8, 16)) {
    const keys = batch.map((d) => run.context.keyOf(d));
    assert.equal(new Set(keys).size, batch.length);
    for (const k of keys) {
      assert.ok(!seen.has(k), `proposed again: ${k}`);
      seen.add(k);
    }
  }
  // A space of 16 architectures, asked for 24 more after 16: it still fills its batches (with known ones).
  const small = cellSpace(2, 4);
  const runS = runContext(small);
  const t = predictorStrategy.create(small, 0, { ...FAST, init: 4 }, CONTEXT);
  const first = drive(t, small, runS, 1, 16);
  assert.equal(new Set(first[0]?.map((d) => runS.context.keyOf(d))).size, 16);
  assert.equal(drive(t, small, runS, 1, 24)[0]?.length, 24);
});

test('predictor: unknown or invalid options are rejected', () => {
  assert.throws(() => predictorStrategy.create(CELL, 0, { ensembel: 5 }), (e: unknown) => e instanceof NasError && /unknown option 'ensembel'/.test(e.message));
  assert.throws(() => predictorStrategy.create(CELL, 0, { ensemble: 1 }), /ensemble must be an integer >= 2/);
  assert.throws(() => predictorStrategy.create(CELL, 0, { init: 0 }), /init must be an integer >= 1/);
  const state = predictorStrategy.create(CELL, 0).toState();
  assert.throws(() => predictorStrategy.restore(cellSpace(5, 5), state), /another search space/);
});

test('predictor: failed candidates are not training data, and are never proposed again', () => {
  const run = runContext(CELL);
  const s = predictorStrategy.create(CELL, 2, { ...FAST, init: 8 }, CONTEXT);
  const first = s.propose(16, run.context);
  for (const d of first) run.known.add(run.context.keyOf(d));
  // Half fail; the model learns from the other half only.
  s.observe(results(CELL, first, (i) => i % 2 === 1));
  const state = s.toState() as { observed: { decisions: number[]; metrics: Record<string, number> }[] };
  assert.deepEqual(state.observed.map((o) => o.decisions), first.filter((_, i) => i % 2 === 0));
  // It keeps the metrics it may learn (the run's reward is computed from accuracy and latency here), nothing else.
  assert.deepEqual(Object.keys(state.observed[0]?.metrics ?? {}), ['accuracy', 'latencyMs']);
  // Without a context, the strategy's own record keeps failed candidates out of later batches.
  const t = predictorStrategy.create(CELL, 2, { ...FAST, init: 8 }, CONTEXT);
  const b1 = t.propose(16);
  t.observe(results(CELL, b1, () => true));
  const failedKeys = new Set(b1.map((d) => d.join(',')));
  const b2 = t.propose(16);
  assert.ok(b2.every((d) => !failedKeys.has(d.join(','))));
  // A batch where everything failed leaves the model untrained: the next batch is still uniform, and still works.
  assert.equal((t.toState() as { observed: unknown[] }).observed.length, 0);
});

test('predictor: it reaches the optimum of a 15,625-architecture space far sooner than random (3 seeds)', () => {
  const cap = 400;
  const found = (name: 'predictor' | 'random'): number =>
    median([0, 1, 2].map((seed) => runToOptimum(CELL, name, seed, { cap, batch: 16 }).found ?? cap));
  // Random search without replacement needs 7,800 evaluations on average; within 400 it finds it 1 time in 39.
  const random = found('random');
  const predictor = found('predictor');
  assert.ok(predictor < 150 && predictor < random / 2, `predictor ${predictor} vs random ${random}`);
});
