// A custom evaluator for `nas` (docs/LIBRARY.md): a module whose `evaluate` export is an EvaluateFn. The search loads
// it by path, in this process or in each worker thread, so it must be a module of its own, not a closure.
//
// This one is instant so that the example runs in seconds. Its `params` and `madds` are the architecture's real
// figures from nas's cost model; its `accuracy` is a stand-in that grows with capacity and saturates at
// config.saturationParams. Replace that one line with your own training and validation.
import { costOf, type EvaluateFn, type EvaluatorChecks, type JsonValue, type Metrics, resolve, UsageError } from 'nas';

type Config = Readonly<Record<string, JsonValue>>;

/** The setting this evaluator takes from the search's evaluatorConfig, checked. */
function saturationParams(config: Config): number {
  const v = config['saturationParams'] ?? 1_000_000;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new UsageError(`evaluatorConfig.saturationParams must be a number > 0, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Called once before the run is created: a bad setting is one clear error, not a failed candidate per worker. */
export const checkConfig: NonNullable<EvaluatorChecks['checkConfig']> = (config) => {
  saturationParams(config);
};

/** What one evaluation takes: the search derives its per-evaluation timeout from it. */
export const expectedSeconds: NonNullable<EvaluatorChecks['expectedSeconds']> = () => 0.01;

export const evaluate: EvaluateFn = (arch, context): Metrics => {
  const cost = costOf(resolve(arch));
  const accuracy = 0.9 * (1 - Math.exp(-cost.params / saturationParams(context.config)));
  return { accuracy, params: cost.params, madds: cost.madds };
};
