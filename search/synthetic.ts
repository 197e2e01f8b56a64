// A synthetic evaluator with a known optimum: a test fixture for the strategies and the search loop (docs/SEARCH.md
// "Synthetic evaluator"). Metrics are a cheap, deterministic function of the architecture's decisions:
//   accuracy  = 0.5 + 0.5 * sum_i w_i * 2^-|x_i - o_i|   (o: a hidden optimum; w: weights summing to 1)
//   latencyMs = 10 + sum_i c_i * x_i / (options_i - 1)     (c_i = 10 * w_i * u_i, u_i in [0.5, 1.5): later options cost more)
// o, w and u are drawn from config.optimumSeed. Because a decision's latency saving is small next to its accuracy
// loss, the maximum reward is at o for every exponent |w| < 1/6 (and for the hard constraint when o is within the
// target); syntheticOptimum() checks that bound for the targets it is given instead of assuming it.
import seedrandom from 'seedrandom';
import { NasError } from '../common/errors.js';
import { parseTargets, type Target } from '../latency/targets.js';
import type { JsonValue } from '../common/json.js';
import type { ArchSpec } from '../space/arch.js';
import { applySample, decisions, encodeSample, findSample, type SearchSpace, sampleUniform, validateSpace } from '../space/searchSpace.js';
import { builtinSpace } from '../space/spaces.js';
import { computeReward, type RewardOptions, rewardExponents } from './reward.js';
import type { EvalContext, EvaluateFn, Metrics } from './types.js';

export const SYNTHETIC_DEFAULT_SPACE = 'mnasnet-small-input';
/** The target the fixture is designed around (latencies span 10 to at most 25 ms; uniform samples mostly 12 to 17). */
export const SYNTHETIC_TARGET = 'latency=15ms';
const BASE_MS = 10;

export interface SyntheticModel {
  readonly space: SearchSpace;
  /** The hidden optimum, in canonical form (findSample of its architecture). */
  readonly optimum: readonly number[];
  readonly weights: readonly number[];
  /** Latency added by a decision's last option over its first, in ms. */
  readonly costs: readonly number[];
  readonly counts: readonly number[];
  /** Canonical decision vectors by the sample's key (findSample(applySample(x))), memoised. */
  readonly canonical: Map<string, readonly number[]>;
}

function readConfig(config: Readonly<Record<string, JsonValue>>): { space: JsonValue; optimumSeed: number } {
  const space = config['space'] ?? SYNTHETIC_DEFAULT_SPACE;
  const seed = config['optimumSeed'] ?? 0;
  if (typeof space !== 'string' && (space === null || typeof space !== 'object' || Array.isArray(space))) {
    throw new NasError('E_USAGE', `synthetic evaluator: config.space must be a built-in space name or a space's JSON, got ${JSON.stringify(space)}`);
  }
  if (typeof seed !== 'number' || !Number.isInteger(seed)) {
    throw new NasError('E_USAGE', `synthetic evaluator: config.optimumSeed must be an integer, got ${JSON.stringify(seed)}`);
  }
  return { space, optimumSeed: seed };
}

const models = new WeakMap<SearchSpace, Map<number, SyntheticModel>>();

/** The fixture for a space and seed (memoised per space object and seed). */
export function syntheticModel(space: SearchSpace, optimumSeed = 0): SyntheticModel {
  let bySeed = models.get(space);
  if (bySeed === undefined) {
    bySeed = new Map();
    models.set(space, bySeed);
  }
  const hit = bySeed.get(optimumSeed);
  if (hit) return hit;
  const rng = seedrandom(`synthetic-${optimumSeed}`);
  const counts = decisions(space).map((d) => d.options);
  const raw = sampleUniform(space, rng);
  const optimum = findSample(space, applySample(space, raw)) ?? raw;
  const u = counts.map((c) => (c > 1 ? 0.5 + rng() : 0));
  const total = u.reduce((a, b) => a + b, 0) || 1;
  const weights = u.map((x) => x / total);
  const costs = counts.map((c, i) => (c > 1 ? BASE_MS * (weights[i] as number) * (0.5 + rng()) : 0));
  const model: SyntheticModel = { space, optimum, weights, costs, counts, canonical: new Map() };
  bySeed.set(optimumSeed, model);
  return model;
}

function canonicalOf(model: SyntheticModel, x: readonly number[]): readonly number[] {
  const key = x.join(',');
  let c = model.canonical.get(key);
  if (c === undefined) {
    c = findSample(model.space, applySample(model.space, x)) ?? [...x];
    if (model.canonical.size > 100_000) model.canonical.clear();
    model.canonical.set(key, c);
  }
  return c;
}

/** Metrics of a decision vector (any sample of the space; samples of the same architecture score the same). */
export function syntheticMetrics(model: SyntheticModel, x: readonly number[]): { accuracy: number; latencyMs: number } {
  const c = canonicalOf(model, x);
  let score = 0;
  let lat = BASE_MS;
  for (let i = 0; i < c.length; i++) {
    const xi = c[i] as number;
    const n = model.counts[i] as number;
    score += (model.weights[i] as number) * Math.pow(2, -Math.abs(xi - (model.optimum[i] as number)));
    if (n > 1) lat += ((model.costs[i] as number) * xi) / (n - 1);
  }
  return { accuracy: 0.5 + 0.5 * Math.min(1, score), latencyMs: lat };
}

export interface SyntheticOptimum {
  readonly decisions: readonly number[];
  /** Canonical arch string of the optimum. */
  readonly arch: string;
  readonly metrics: { readonly accuracy: number; readonly latencyMs: number };
  readonly reward: number;
}

/**
 * The unique max-reward architecture of the fixture under `targets` (default SYNTHETIC_TARGET, soft reward), with
 * a proof: for each decision, the largest log-reward a latency change can buy (|exponent| x cost / 10 ms) must be
 * below the log-accuracy it costs (0.5 w_i (1 - 2^-d)). Throws a NasError when that cannot be shown.
 */
export function syntheticOptimum(
  space: SearchSpace,
  config: Readonly<Record<string, JsonValue>> = {},
  targets: readonly Target[] = parseTargets([SYNTHETIC_TARGET]),
  opts: RewardOptions = { mode: 'soft' },
): SyntheticOptimum {
  const model = syntheticModel(space, readConfig(config).optimumSeed);
  const metrics = syntheticMetrics(model, model.optimum);
  let slope = 0;
  for (const t of targets) {
    if (t.resource !== 'latency') throw new NasError('E_USAGE', `synthetic evaluator: it reports latency only, not ${t.resource} (target '${t.text}')`);
    const { alpha, beta } = rewardExponents(t, opts);
    slope += alpha <= 0 && beta <= 0 && metrics.latencyMs <= t.value ? -alpha : Math.max(Math.abs(alpha), Math.abs(beta));
  }
  model.counts.forEach((n, i) => {
    const o = model.optimum[i] as number;
    for (let j = 0; j < n; j++) {
      if (j === o) continue;
      const gain = (slope * (model.costs[i] as number) * Math.abs(j - o)) / (n - 1) / BASE_MS;
      const loss = 0.5 * (model.weights[i] as number) * (1 - Math.pow(2, -Math.abs(j - o)));
      if (!(gain < loss)) {
        throw new NasError('E_USAGE', `synthetic evaluator: the optimum is not provably unique under ${targets.map((t) => t.text).join(' ')} (reward exponents too steep); use |w| < 1/6`);
      }
    }
  });
  return { decisions: model.optimum, arch: encodeSample(space, model.optimum), metrics, reward: computeReward(metrics, targets, opts) };
}

/** The evaluator entry point (`--evaluator` module shape): config.space is a built-in space's name or a space's JSON. */
export const evaluate: EvaluateFn = (arch: ArchSpec, context: EvalContext): Metrics => {
  const { space: ref, optimumSeed } = readConfig(context.config);
  const space = spaceOf(ref);
  const model = syntheticModel(space, optimumSeed);
  let x: readonly number[] | null = context.decisions ?? null;
  if (x === null) {
    x = findSample(space, arch);
    if (x === null) throw new NasError('E_ARCH', `synthetic evaluator: ${context.arch} is not a point of space '${space.name}'`);
  }
  return syntheticMetrics(model, x);
};

const spaces = new Map<string, SearchSpace>();
/** A built-in space by name, or a space file's JSON (config.space), memoised so the fixture is built once. */
function spaceOf(ref: JsonValue): SearchSpace {
  const key = typeof ref === 'string' ? ref : JSON.stringify(ref);
  let s = spaces.get(key);
  if (s === undefined) {
    s = typeof ref === 'string' ? builtinSpace(ref) : validateSpace(ref);
    spaces.set(key, s);
  }
  return s;
}

/** The evaluator seam's estimate (search/types.ts EvaluatorChecks): a lookup, so --eval-timeout's floor applies. */
export const expectedSeconds = (): number => 0;
