// The MnasNet reward (Tan et al. 2019): ACC x prod_i (m_i / T_i)^{w_i}, w_i = alpha_i when the resource is within
// its target and beta_i when it exceeds it. Soft constraint: alpha = beta = -0.07; hard: alpha = 0, beta = -1.
import { NasError } from '../common/errors.js';
import type { Resource, Target } from '../latency/targets.js';
import { describeValue } from './metrics.js';
import type { Metrics } from './types.js';

export type RewardMode = 'soft' | 'hard';

export interface RewardOptions {
  readonly mode: RewardMode;
  /** --w: alpha = beta = w. */
  readonly w?: number;
  readonly alpha?: number;
  readonly beta?: number;
}

const MODE_DEFAULTS: Readonly<Record<RewardMode, { readonly alpha: number; readonly beta: number }>> = {
  soft: { alpha: -0.07, beta: -0.07 },
  hard: { alpha: 0, beta: -1 },
};

/** The metric a target constrains, and the Metrics field that holds it. */
const METRIC_OF: Readonly<Record<Resource, 'latencyMs' | 'madds' | 'params'>> = {
  latency: 'latencyMs',
  madds: 'madds',
  params: 'params',
};

/** Exponents for one target: the target's own alpha/beta, else --alpha/--beta, else --w, else the mode's. */
export function rewardExponents(target: Target, opts: RewardOptions): { alpha: number; beta: number } {
  const d = MODE_DEFAULTS[opts.mode];
  return {
    alpha: target.alpha ?? opts.alpha ?? opts.w ?? d.alpha,
    beta: target.beta ?? opts.beta ?? opts.w ?? d.beta,
  };
}

/** ACC x prod_i (m_i / T_i)^{w_i}. Targets must be absolute (relative ones are resolved by the caller first). */
export function computeReward(metrics: Metrics, targets: readonly Target[], opts: RewardOptions): number {
  const acc = metrics.accuracy;
  if (typeof acc !== 'number' || !Number.isFinite(acc)) {
    throw new NasError('E_USAGE', `reward: the evaluator returned accuracy ${describeValue(acc)}; it must return a finite number in [0, 1]`);
  }
  let reward = acc;
  for (const t of targets) {
    if (t.relative) {
      throw new NasError('E_USAGE', `reward: target '${t.text}' is relative; resolve it against a reference network's ${t.resource} first`);
    }
    const field = METRIC_OF[t.resource];
    const m = metrics[field];
    if (typeof m !== 'number' || !Number.isFinite(m) || m <= 0) {
      throw new NasError(
        'E_USAGE',
        `reward: target '${t.text}' needs metrics.${field} (a number > 0), but the evaluation gave ${m === undefined ? 'none' : describeValue(m)}; ` +
          `return ${field} from the evaluator or choose a --latency source that provides it`,
      );
    }
    const { alpha, beta } = rewardExponents(t, opts);
    reward *= Math.pow(m / t.value, m <= t.value ? alpha : beta);
  }
  return reward;
}
