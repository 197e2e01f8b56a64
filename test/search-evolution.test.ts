import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NasError } from '../common/errors.js';
import { parseTargets } from '../latency/targets.js';
import type { JsonValue } from '../common/json.js';
import { decisions, encodeSample, type SearchSpace, spaceSize, validateSpace } from '../space/searchSpace.js';
import { builtinSpace } from '../space/spaces.js';
import { computeReward } from '../search/reward.js';
import { EVOLUTION_DEFAULTS, evolutionStrategy } from '../search/strategies/evolution.js';
import { SYNTHETIC_TARGET, syntheticMetrics, syntheticModel } from '../search/synthetic.js';
import type { Observation, ProposeContext, Strategy } from '../search/types.js';

const TARGETS = parseTargets([SYNTHETIC_TARGET]);

const MNAS = builtinSpace('mnasnet-small-input');
/** MNAS's settings with 3 fixed stages of (op, kernel) decisions: 216 architectures, one decision vector each. */
const SMALL: SearchSpace = validateSpace({
  ...(JSON.parse(JSON.stringify(MNAS)) as object),
  name: 'small',
  stem: { kernel: 3, stride: 1, out: 16, act: 'relu' },
  stages: [24, 40, 80].map((out) => ({
    layers: 1,
    stride: 2,
    out,
    block: { op: { oneOf: [{ type: 'ds' }, { type: 'ir', expand: 3 }, { type: 'ir', expand: 6 }] }, kernel: { oneOf: [3, 5] }, act: 'relu' },
  })),
  head: { conv: 256, hidden: null, act: 'relu' },
});

/** A run as the loop sees it: the keys it holds, and a ProposeContext over them. */
function runContext(space: SearchSpace): { known: Set<string>; context: ProposeContext } {
  const known = new Set<string>();
  return { known, context: { keyOf: (d) => encodeSample(space, d), isKnown: (k) => known.has(k) } };
}

/** Runs `rounds` batches with a context (every fifth candidate fails); returns the batches. */
function driveRun(s: Strategy, space: SearchSpace, run: ReturnType<typeof runContext>, rounds: number, batch: number): number[][][] {
  const model = syntheticModel(space, 0);
  const out: number[][][] = [];
  for (let r = 0; r < rounds; r++) {
    const b = s.propose(batch, run.context);
    out.push(b);
    for (const d of b) run.known.add(run.context.keyOf(d));
    s.observe(b.map((d, i): Observation => ({ decisions: d, reward: i % 5 === 4 ? null : computeReward(syntheticMetrics(model, d), TARGETS, { mode: 'soft' }) })));
  }
  return out;
}

const diff = (a: readonly number[], b: readonly number[]): number => a.reduce((n, x, i) => n + (x === b[i] ? 0 : 1), 0);
const membersOf = (s: Strategy): number[][] => (s.toState() as { members: { decisions: number[] }[] }).members.map((m) => m.decisions);

test('evolution: given a context, every child is new to the run and distinct within its batch', () => {
  for (const options of [{}, { mutationRate: 0, crossover: 0 }, { mutationRate: 0.3, crossover: 0.8 }]) {
    const s = evolutionStrategy.create(SMALL, 4, options);
    const run = runContext(SMALL);
    for (let r = 0; r < 12; r++) {
      const before = new Set(run.known);
      const [batch] = driveRun(s, SMALL, run, 1, 8);
      const keys = (batch as number[][]).map((d) => run.context.keyOf(d));
      assert.equal(new Set(keys).size, keys.length, `round ${r}: a repeat within the batch`);
      for (const k of keys) assert.ok(!before.has(k), `round ${r}: ${k} was known`);
    }
  }
});

test('evolution: a run reaches its budget on a space of 216 architectures, even with one-decision mutations (which stalled near 60 when they could repeat known ones)', () => {
  assert.equal(spaceSize(SMALL), 216n);
  for (const seed of [0, 1, 2]) {
    const s = evolutionStrategy.create(SMALL, seed, { mutationRate: 0, crossover: 0 });
    const run = runContext(SMALL);
    let empty = 0;
    while (run.known.size < 210 && empty < 50) {
      const n = run.known.size;
      driveRun(s, SMALL, run, 1, Math.min(8, 210 - n));
      empty = run.known.size === n ? empty + 1 : 0;
    }
    assert.equal(run.known.size, 210, `seed ${seed}`);
  }
});

test('evolution: with a context, toState -> JSON -> restore mid-run continues exactly', () => {
  const options = { population: 8, sample: 4, mutationRate: 0.2, crossover: 0.5 };
  const refRun = runContext(SMALL);
  const ref = driveRun(evolutionStrategy.create(SMALL, 9, options), SMALL, refRun, 10, 8);
  const run = runContext(SMALL);
  const a = evolutionStrategy.create(SMALL, 9, options);
  driveRun(a, SMALL, run, 6, 8);
  const state = JSON.parse(JSON.stringify(a.toState())) as JsonValue;
  assert.deepEqual(
    [(state as { mutationRate: number }).mutationRate, (state as { crossover: number }).crossover],
    [0.2, 0.5],
  );
  assert.deepEqual(driveRun(evolutionStrategy.restore(SMALL, state), SMALL, run, 4, 8), ref.slice(6));
});

test('evolution: a state saved without mutationRate and crossover continues with one-decision mutations', () => {
  const s = evolutionStrategy.create(MNAS, 2, { population: 6, sample: 3 });
  driveRun(s, MNAS, runContext(MNAS), 1, 8);
  const { mutationRate: _m, crossover: _c, ...old } = s.toState() as Record<string, JsonValue>;
  const restored = evolutionStrategy.restore(MNAS, old);
  assert.deepEqual([(restored.toState() as { mutationRate: number }).mutationRate, (restored.toState() as { crossover: number }).crossover], [0, 0]);
  const parents = membersOf(restored);
  for (const child of restored.propose(40)) assert.ok(parents.some((p) => diff(p, child) === 1), JSON.stringify(child));
});

test('evolution: mutationRate and crossover must be probabilities', () => {
  for (const [key, v] of [['mutationRate', -0.1], ['mutationRate', 1.5], ['crossover', 2], ['crossover', '0.5'], ['mutationRate', Number.NaN]] as const) {
    assert.throws(() => evolutionStrategy.create(SMALL, 0, { [key]: v }), (e: unknown) => e instanceof NasError && e.message.includes(`${key} must be a number in [0, 1]`));
  }
  for (const v of [0, 1]) evolutionStrategy.create(SMALL, 0, { mutationRate: v, crossover: v });
  const bad = { ...(evolutionStrategy.create(SMALL, 0).toState() as Record<string, JsonValue>), crossover: 3 };
  assert.throws(() => evolutionStrategy.restore(SMALL, bad), /crossover must be a number in \[0, 1\]/);
  assert.deepEqual(EVOLUTION_DEFAULTS, { population: 32, sample: 16, mutationRate: 0.02, crossover: 0.75 });
});

/** A strategy whose population is full (of uniform samples rewarded by the fixture), so that it breeds. */
function bred(space: SearchSpace, options: Record<string, number>): Strategy {
  const s = evolutionStrategy.create(space, 5, options);
  const model = syntheticModel(space, 0);
  const first = s.propose(options['population'] as number);
  s.observe(first.map((d) => ({ decisions: d, reward: computeReward(syntheticMetrics(model, d), TARGETS, { mode: 'soft' }) })));
  return s;
}

test('evolution: a crossover child takes each decision from one of two members', () => {
  const s = bred(MNAS, { population: 6, sample: 3, crossover: 1 });
  const parents = membersOf(s);
  const children = s.propose(30);
  for (const child of children) {
    const fromTwo = parents.some((p, i) => parents.some((q, j) => i !== j && child.every((x, k) => x === p[k] || x === q[k])));
    assert.ok(fromTwo, JSON.stringify(child));
  }
  // Uniform crossover mixes: most children match neither parent whole.
  assert.ok(children.filter((c) => parents.every((p) => diff(p, c) > 0)).length > 20);
});

test('evolution: mutationRate is the chance each decision changes, given at least one does', () => {
  const mutable = decisions(MNAS).filter((d) => d.options > 1).length;
  for (const p of [0, 0.1, 1]) {
    const s = bred(MNAS, { population: 1, sample: 1, mutationRate: p, crossover: 0 });
    const [parent] = membersOf(s);
    const changes = s.propose(3000).map((c) => diff(parent as number[], c));
    assert.ok(Math.min(...changes) >= 1, 'a child is never its parent');
    const mean = changes.reduce((a, b) => a + b, 0) / changes.length;
    const want = p === 0 ? 1 : (mutable * p) / (1 - Math.pow(1 - p, mutable));
    assert.ok(Math.abs(mean - want) < 0.05 * want + 0.01, `p ${p}: mean ${mean} changes, want ${want}`);
  }
});
