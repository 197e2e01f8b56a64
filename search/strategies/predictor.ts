// Model-based search in the manner of BANANAS (White et al. 2021) and NPENAS (Wei et al. 2022): an ensemble of small
// MLPs (mlpEnsemble.ts) learns the observed candidates' metrics from the one-hot encoding of their decisions, and
// each batch is the best new architectures of a candidate pool (mutations of the best observed ones, and uniform
// samples) under independent Thompson sampling from the ensemble's mean and spread. Until `init` candidates are
// observed, proposals are uniform. The ensemble is retrained from scratch at every propose from the observations and
// the strategy's generator alone, so the state holds no weights and a restored strategy proposes exactly what the
// uninterrupted one would.
import { NasError } from '../../common/errors.js';
import type { JsonValue } from '../../common/json.js';
import { type SearchSpace, sampleUniform } from '../../space/searchSpace.js';
import type { Metrics, Observation, ProposeContext, Strategy, StrategyContext, StrategyFactory } from '../types.js';
import { MlpEnsemble, OneHot, type Rows, thompsonDraw } from './mlpEnsemble.js';
import { NOVEL_TRIES_PER_SAMPLE, NoveltyFilter } from './novel.js';
import { randomIndex, type Rng, rngFromSeed, rngFromState, rngStateJson } from './rng.js';
import { checkBatch, checkState, intOption, numberOption, optionCounts, rejectUnknown, type StateObject } from './state.js';

/**
 * Defaults, measured on NAS-Bench-201 and the synthetic fixture (docs/SEARCH.md "Strategies" has the tables):
 * - init 16: one batch of uniform samples (BANANAS starts from 10); 32 took longer to the best on NAS-Bench-201.
 * - ensemble 5 of 2 x 32 ReLU units, Adam lr 0.01, 300 minibatch steps of 32 from a fresh init: BANANAS' ensemble
 *   size and learning rate; 64 units and 1,000 steps predicted no better and cost 2-3x the time.
 * - prior 32: weight decay of prior/N per unit of lr (a Gaussian prior on the weights, whose pull fades as the data
 *   grow, as a MAP estimate's does). Without it the median to NAS-Bench-201's best was 119; a decay that does not
 *   fade with N underfitted later and stranded 3 of 40 seeds.
 * - pool 256, of which a quarter uniform, mutations (one or two decisions) of the best 10: BANANAS mutates its
 *   best to make candidates and NPENAS adds random ones; 1,000 candidates or 20 parents were slower (the more
 *   candidates, the more the ensemble's errors win), no uniform ones stranded more seeds.
 */
export const PREDICTOR_DEFAULTS = {
  init: 16,
  ensemble: 5,
  hidden: 32,
  steps: 300,
  lr: 0.01,
  prior: 32,
  pool: 256,
  parents: 10,
  uniform: 0.25,
} as const;

type Settings = { -readonly [K in keyof typeof PREDICTOR_DEFAULTS]: number };

/** Rows per Adam step. */
const MINIBATCH = 32;
/** The error floor of accuracy's log-error (0.1%, a 1,000-image validation set's resolution). */
const ERROR_FLOOR = 1e-3;

/** The metrics the model may learn instead of the reward. */
const MODELLED = ['accuracy', 'latencyMs', 'madds', 'params'] as const;
type Modelled = (typeof MODELLED)[number];
/** The sets of metrics tried, smallest first, as what the run's reward is a function of. */
const METRIC_SETS: readonly (readonly Modelled[])[] = [['accuracy'], ['accuracy', 'latencyMs'], MODELLED];

type ModelledMetrics = Partial<Record<Modelled, number>>;

interface Observed {
  readonly decisions: readonly number[];
  readonly reward: number;
  /** The modelled metrics of the evaluation (the others are dropped), or null when it gave none. */
  readonly metrics: ModelledMetrics | null;
}

/**
 * One model output: the reward, or a metric the run's reward function is computed from. Accuracy is learned as
 * log(1 - accuracy): like BANANAS' relative-error loss this stretches the top (84.9% and 84.7% are 1% apart, not
 * 0.2%) and squeezes the failures that would otherwise dominate a squared error; costs are learned as logs.
 */
interface Output {
  readonly key: Modelled | 'reward';
  readonly scale: 'logError' | 'log' | 'linear';
}

const encodeValue = (o: Output, v: number): number =>
  o.scale === 'logError' ? Math.log(Math.max(ERROR_FLOOR, 1 - v)) : o.scale === 'log' ? Math.log(v) : v;
const decodeValue = (o: Output, y: number): number => (o.scale === 'logError' ? 1 - Math.exp(y) : o.scale === 'log' ? Math.exp(y) : y);

/** The trained ensemble, the outputs it stands for and their standardisation. */
interface Model {
  readonly ensemble: MlpEnsemble;
  readonly outputs: readonly Output[];
  readonly mean: readonly number[];
  /** 0 for an output that was the same for every observation. */
  readonly std: readonly number[];
  /** Each output's column in the ensemble's predictions, -1 for one not learned (predicted as its mean). */
  readonly column: readonly number[];
}

class PredictorStrategy implements Strategy {
  readonly name = 'predictor' as const;
  private readonly counts: number[];
  /** The model's input; its decisions with more than one option are the only ones mutated. */
  private readonly oneHot: OneHot;
  private readonly mutable: readonly number[];

  constructor(
    private readonly space: SearchSpace,
    private readonly settings: Settings,
    private readonly rewardOf: ((metrics: Metrics) => number) | undefined,
    private readonly rng: Rng,
    private readonly observed: Observed[],
    /** Decision vectors of failed candidates: never training data, never proposed again. */
    private readonly failed: number[][],
    private pending: number | null,
  ) {
    this.counts = optionCounts(space);
    this.oneHot = new OneHot(this.counts);
    this.mutable = this.oneHot.mutable;
  }

  propose(n: number, context?: ProposeContext): number[][] {
    const filter = new NoveltyFilter(context ?? this.ownContext());
    const out: number[][] = [];
    if (this.observed.length >= this.settings.init && this.mutable.length > 0) {
      for (const d of this.ranked()) {
        if (out.length >= n) break;
        if (filter.accept(d)) out.push(d);
      }
    }
    // The initial design, or what the pool could not fill: uniform samples, new where the filter can tell.
    while (out.length < n) {
      let d = sampleUniform(this.space, this.rng);
      for (let a = 1; a < NOVEL_TRIES_PER_SAMPLE && !filter.accept(d); a++) d = sampleUniform(this.space, this.rng);
      filter.force(d);
      out.push(d);
    }
    this.pending = n;
    return out;
  }

  /** Without the loop's context, what this strategy has seen is what is known (keyed by decision vector). */
  private ownContext(): ProposeContext {
    const known = this.knownVectors();
    return { keyOf: (d) => d.join(','), isKnown: (k) => known.has(k) };
  }

  private knownVectors(): Set<string> {
    return new Set([...this.observed.map((o) => o.decisions.join(',')), ...this.failed.map((d) => d.join(','))]);
  }

  /** The candidate pool, best Thompson draw first. */
  private ranked(): number[][] {
    const model = this.train();
    const pool = this.pool();
    const preds = model.ensemble.predict(this.encode(pool));
    const rewards = new Float64Array(preds.length);
    const scores = pool.map((_, i) => {
      preds.forEach((p, m) => (rewards[m] = this.memberReward(model, p, i)));
      // Independent Thompson sampling (BANANAS' ITS): a draw from N(mean, sd^2) of the members' rewards.
      return thompsonDraw(rewards, this.rng);
    });
    const order = pool.map((_, i) => i).sort((a, b) => (scores[b] as number) - (scores[a] as number) || a - b);
    return order.map((i) => pool[i] as number[]);
  }

  /**
   * Metrics when the run's reward is a function of a few of them (checked on every observation: the reward computed
   * from those alone must be the observed one), else the reward itself. Accuracy and log-latency are smoother
   * functions of the decisions than ACC x (LAT/T)^w, whose kink at the target a hard constraint makes steep.
   */
  private outputs(): Output[] {
    const rewardOf = this.rewardOf;
    const keys =
      rewardOf === undefined
        ? undefined
        : METRIC_SETS.find((set) =>
            this.observed.every((o) => {
              const m = o.metrics;
              if (m === null || set.some((k) => m[k] === undefined)) return false;
              try {
                const r = rewardOf(pick(m, set));
                return Math.abs(r - o.reward) <= 1e-9 * Math.max(1, Math.abs(o.reward));
              } catch {
                return false;
              }
            }),
          );
    if (keys === undefined) return [{ key: 'reward', scale: 'linear' }];
    const unit = this.observed.every((o) => {
      const a = o.metrics?.accuracy as number;
      return a >= 0 && a <= 1;
    });
    return keys.map((key) => ({ key, scale: key !== 'accuracy' ? 'log' : unit ? 'logError' : 'linear' }));
  }

  /**
   * Trains the ensemble on every observation, outputs standardised. An output that is the same for every observation
   * (a stand-in latency, say) is not learned: its prediction is that value.
   */
  private train(): Model {
    const outputs = this.outputs();
    const n = this.observed.length;
    const columns = outputs.map((out) =>
      this.observed.map((o) => encodeValue(out, out.key === 'reward' ? o.reward : ((o.metrics as ModelledMetrics)[out.key] as number))),
    );
    const mean = columns.map((c) => c.reduce((a, v) => a + v, 0) / n);
    const std = columns.map((c, j) => Math.sqrt(c.reduce((a, v) => a + (v - (mean[j] as number)) ** 2, 0) / n));
    const varying = outputs.flatMap((_, j) => ((std[j] as number) > 0 ? [j] : []));
    const learned = varying.length > 0 ? varying : [0];
    const k = learned.length;
    const y = new Float64Array(n * k);
    learned.forEach((j, c) => (columns[j] as number[]).forEach((v, i) => (y[i * k + c] = (v - (mean[j] as number)) / ((std[j] as number) || 1))));
    const shape = this.oneHot.shape([this.settings.hidden, this.settings.hidden], k);
    const { steps, lr, prior } = this.settings;
    const rows = this.encode(this.observed.map((o) => o.decisions));
    const ensemble = MlpEnsemble.train(shape, this.settings.ensemble, rows, y, { steps, batch: MINIBATCH, lr, decay: prior / n }, this.rng);
    return { ensemble, outputs, mean, std, column: outputs.map((_, j) => learned.indexOf(j)) };
  }

  /** One member's predicted reward of pool row i (-Infinity when the reward function rejects the prediction). */
  private memberReward(model: Model, pred: Float64Array, i: number): number {
    const k = model.ensemble.outputs;
    const value = (j: number): number => {
      const c = model.column[j] as number;
      const z = c < 0 ? 0 : (pred[i * k + c] as number);
      return decodeValue(model.outputs[j] as Output, z * ((model.std[j] as number) || 1) + (model.mean[j] as number));
    };
    if ((model.outputs[0] as Output).key === 'reward') return value(0);
    const metrics: Record<string, number> = {};
    model.outputs.forEach((o, j) => (metrics[o.key] = value(j)));
    try {
      const r = (this.rewardOf as (m: Metrics) => number)(metrics as unknown as Metrics);
      return Number.isFinite(r) ? r : -Infinity;
    } catch {
      return -Infinity;
    }
  }

  /** Mutations of the best observed candidates, then uniform samples: `pool` vectors, distinct and not yet seen. */
  private pool(): number[][] {
    const { pool: size, parents: count, uniform } = this.settings;
    const best = this.observed.map((_, i) => i).sort((a, b) => (this.observed[b] as Observed).reward - (this.observed[a] as Observed).reward || a - b);
    const parents = best.slice(0, count).map((i) => (this.observed[i] as Observed).decisions);
    const mutations = Math.round(size * (1 - uniform));
    // Known vectors are left out here, cheaply; the context's keys are checked only on the ones taken.
    const seen = this.knownVectors();
    const out: number[][] = [];
    const add = (d: number[]): void => {
      const key = d.join(',');
      if (seen.has(key)) return;
      seen.add(key);
      out.push(d);
    };
    for (let t = 0; t < 4 * mutations && out.length < mutations; t++) add(this.mutate(parents[t % parents.length] as readonly number[]));
    for (let t = 0; t < 4 * size && out.length < size; t++) add(sampleUniform(this.space, this.rng));
    return out;
  }

  /** A copy with one or two decisions (of those with options) changed to another option. */
  private mutate(parent: readonly number[]): number[] {
    const child = [...parent];
    const changes = Math.min(this.mutable.length, 1 + randomIndex(this.rng, 2));
    const changed = new Set<number>();
    while (changed.size < changes) {
      const d = this.mutable[randomIndex(this.rng, this.mutable.length)] as number;
      if (changed.has(d)) continue;
      changed.add(d);
      const c = this.counts[d] as number;
      child[d] = ((child[d] as number) + 1 + randomIndex(this.rng, c - 1)) % c;
    }
    return child;
  }

  private encode(samples: readonly (readonly number[])[]): Rows {
    return this.oneHot.encode(samples);
  }

  observe(results: readonly Observation[]): void {
    checkBatch(this.name, this.pending, results.length);
    this.pending = null;
    for (const r of results) {
      if (r.reward === null || !Number.isFinite(r.reward)) this.failed.push([...r.decisions]);
      else this.observed.push({ decisions: [...r.decisions], reward: r.reward, metrics: modelledMetrics(r.metrics) });
    }
  }

  toState(): JsonValue {
    return {
      strategy: this.name,
      options: optionCounts(this.space),
      settings: { ...this.settings },
      observed: this.observed.map((o) => ({ decisions: [...o.decisions], reward: o.reward, metrics: o.metrics === null ? null : { ...o.metrics } })),
      failed: this.failed.map((d) => [...d]),
      pending: this.pending,
      rng: rngStateJson(this.rng),
    };
  }
}


function pick(m: ModelledMetrics, keys: readonly Modelled[]): Metrics {
  const out: Record<string, number> = {};
  for (const k of keys) out[k] = m[k] as number;
  return out as unknown as Metrics;
}

/** The modelled metrics an observation carries: finite numbers, and positive for those learned as logs. */
function modelledMetrics(m: Metrics | null | undefined): ModelledMetrics | null {
  if (m === null || m === undefined) return null;
  const out: ModelledMetrics = {};
  for (const k of MODELLED) {
    const v = m[k];
    if (typeof v === 'number' && Number.isFinite(v) && (k === 'accuracy' || v > 0)) out[k] = v;
  }
  return out;
}

function settingsFrom(options: Readonly<Record<string, unknown>> | undefined): Settings {
  rejectUnknown('predictor', options, Object.keys(PREDICTOR_DEFAULTS));
  const d = PREDICTOR_DEFAULTS;
  const nonNegative = (v: number): boolean => v >= 0;
  return {
    init: intOption(options, 'init', d.init),
    ensemble: intOption(options, 'ensemble', d.ensemble, 2),
    hidden: intOption(options, 'hidden', d.hidden),
    steps: intOption(options, 'steps', d.steps),
    lr: numberOption(options, 'lr', d.lr, (v) => v > 0, 'a number > 0'),
    prior: numberOption(options, 'prior', d.prior, nonNegative, 'a number >= 0'),
    pool: intOption(options, 'pool', d.pool),
    parents: intOption(options, 'parents', d.parents),
    uniform: numberOption(options, 'uniform', d.uniform, (v) => v >= 0 && v <= 1, 'in [0, 1]'),
  };
}

export const predictorStrategy: StrategyFactory = {
  create(space, seed, options, context?: StrategyContext) {
    return new PredictorStrategy(space, settingsFrom(options), context?.rewardOf, rngFromSeed(seed), [], [], null);
  },
  restore(space, state, context?: StrategyContext) {
    const s = checkState('predictor', space, state);
    const { observed, failed, pending } = s;
    if (!Array.isArray(observed) || !Array.isArray(failed) || (pending !== null && typeof pending !== 'number')) {
      throw new NasError('E_USAGE', 'predictor strategy state: malformed observations or pending batch');
    }
    return new PredictorStrategy(
      space,
      settingsFrom(s['settings'] as StateObject),
      context?.rewardOf,
      rngFromState(s['rng']),
      (observed as readonly { decisions: number[]; reward: number; metrics: ModelledMetrics | null }[]).map((o) => ({
        decisions: [...o.decisions],
        reward: o.reward,
        metrics: o.metrics === null ? null : { ...o.metrics },
      })),
      (failed as readonly number[][]).map((d) => [...d]),
      pending,
    );
  },
};
