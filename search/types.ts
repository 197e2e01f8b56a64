// The seams of `nas search` (docs/ARCHITECTURE.md): a Strategy proposes decision vectors and learns from rewards,
// an Engine runs evaluations somewhere (in process, a Piscina pool, one process per GPU), an Evaluator turns an
// architecture into metrics. They meet only through the plain, JSON-serialisable types below.
import type { JsonValue } from '../common/json.js';
import type { ArchSpec } from '../space/arch.js';
import type { SearchSpace } from '../space/searchSpace.js';

/** One proposal's outcome as the strategy sees it. `reward` is null when the evaluation failed. */
export interface Observation {
  readonly decisions: readonly number[];
  readonly reward: number | null;
  /** The evaluation's metrics (accuracy, latency...), null when it failed: what model-based strategies learn from. */
  readonly metrics?: Metrics | null;
}

/**
 * What the loop tells a strategy when it asks for a batch. The budget counts distinct architectures, and a sample of
 * an architecture the run already holds costs no evaluation and teaches nothing new: a strategy given this context
 * proposes architectures that are new to the run and distinct from each other whenever it can, so that a search
 * spends its whole budget (a strategy that cannot, in a nearly exhausted space, may return known ones).
 */
export interface ProposeContext {
  /** The architecture's identity (its canonical string): two samples with one key are one candidate. */
  readonly keyOf: (decisions: readonly number[]) => string;
  /** True when the run evaluated (or failed) this key before the batch. */
  readonly isKnown: (key: string) => boolean;
}

/** What a strategy may use besides rewards: the run's reward function, for strategies that model the metrics. */
export interface StrategyContext {
  /** The run's reward of a metrics object (ACC x (LAT/T)^w); throws when a metric the targets need is missing. */
  readonly rewardOf?: (metrics: Metrics) => number;
}

/**
 * A search strategy. The loop works in synchronous batches so that a search is a pure function of its seed,
 * whatever the number of workers and the order in which evaluations finish:
 *   propose(n) -> evaluate all -> observe(results in proposal order) -> toState() saved -> propose(n) ...
 * Every random draw comes from the strategy's own seeded generator, whose position is part of toState().
 */
export interface Strategy {
  readonly name: StrategyName;
  /** The next batch: n decision vectors (indices into each decision's options, in the space's decision order). */
  propose(n: number, context?: ProposeContext): number[][];
  /** The results of the batch proposed last, in proposal order (the same length as that batch). */
  observe(results: readonly Observation[]): void;
  /** Everything needed to continue exactly: parameters, optimiser moments, population, baseline, RNG state. */
  toState(): JsonValue;
  /** Frees what the strategy holds outside the JS heap (the rl controller's tensors). */
  dispose?(): void;
}

export type StrategyName = 'rl' | 'evolution' | 'random' | 'predictor';

/** Builds a strategy for a space, fresh from a seed or restored from toState(). */
export interface StrategyFactory {
  create(space: SearchSpace, seed: number, options?: Readonly<Record<string, unknown>>, context?: StrategyContext): Strategy;
  restore(space: SearchSpace, state: JsonValue, context?: StrategyContext): Strategy;
}

/** What an evaluator measured. `accuracy` (0..1) is required; the rest are optional and stored as given. */
export interface Metrics {
  readonly accuracy: number;
  /** Network latency in milliseconds, if the evaluator (or the loop's latency source) measured it. */
  readonly latencyMs?: number;
  readonly madds?: number;
  readonly params?: number;
  readonly [extra: string]: JsonValue | undefined;
}

/** Handed to an evaluator with each architecture. */
export interface EvalContext {
  /** Seed for this candidate's own randomness (weight init, data order), derived from the run seed and the arch. */
  readonly seed: number;
  /** The canonical arch string (the candidate's identity). */
  readonly arch: string;
  /** The sampled decision indices, when the arch came from a search space. */
  readonly decisions?: readonly number[];
  /** The evaluator's settings, as the run was started with (proxy epochs, images, dataset, input...). */
  readonly config: Readonly<Record<string, JsonValue>>;
  /** Report progress of a long evaluation (0..1); optional to call. */
  readonly progress?: (fraction: number) => void;
}

/** A user evaluator module (`--evaluator module.js`) exports this as `evaluate`. */
export type EvaluateFn = (arch: ArchSpec, context: EvalContext) => Promise<Metrics> | Metrics;

/**
 * What an evaluator module may export besides `evaluate`, called in the main process before a run is created or
 * resumed, so that the generic search needs to know nothing of one evaluator's settings.
 */
export interface EvaluatorChecks {
  /** Checks the evaluator's settings and the files they name; throws a one-line NasError. */
  readonly checkConfig?: (config: Readonly<Record<string, JsonValue>>) => void;
  /** Seconds one evaluation is expected to take with these settings: --eval-timeout's default is derived from it. */
  readonly expectedSeconds?: (config: Readonly<Record<string, JsonValue>>, space: SearchSpace) => number;
  /**
   * The settings with every default named, as the run stores them, so that a later change of a default does not
   * change what a stored run means. `legacy`: stored by a version that did not complete them (the defaults of that
   * time fill the gaps).
   */
  readonly completeConfig?: (config: Readonly<Record<string, JsonValue>>, legacy: boolean) => Record<string, JsonValue>;
}
