// The fidelity table: for each score (baselines, zero-cost scores, proxy settings), Kendall's tau-b and Spearman's
// rho against the trained test accuracy over the architectures it scored, with its cost per candidate; and the
// seed-to-seed noise of the trained accuracy itself (two seeds' tau is the ceiling any proxy can reach).
import { kendallTau, spearmanRho } from '../../common/rankCorrelation.js';
import type { JsonValue } from '../../common/json.js';

export interface TrainedAccuracy {
  readonly seed: number;
  readonly top1: number;
  readonly seconds: number;
  readonly runId: string;
}

export interface FidelityRow {
  readonly index: number;
  readonly arch: string;
  readonly quantile: number;
  readonly params: number;
  readonly madds: number;
  /** Each setting's score (its label as key); null: failed or undefined (singular NASWOT kernel). */
  readonly scores: Readonly<Record<string, number | null>>;
  readonly scoreSeconds: Readonly<Record<string, number | null>>;
  readonly trained: readonly TrainedAccuracy[];
  /** Why a training of this arch failed (none: all ended). */
  readonly trainFailures: readonly string[];
  /** Mean test top-1 over the seeds trained: what the scores are ranked against; null before any training ended. */
  readonly accuracy: number | null;
}

export interface SettingSummary {
  readonly label: string;
  /** 'baseline' for params and MAdds. */
  readonly evaluator: string;
  readonly config: JsonValue;
  /** Architectures with both a score and an accuracy. */
  readonly n: number;
  readonly kendallTau: number | null;
  readonly spearmanRho: number | null;
  /** Mean seconds per candidate over those evaluated (0 for the baselines). */
  readonly secondsPerCandidate: number | null;
}

export interface SeedNoise {
  /** Architectures trained with both seeds. */
  readonly archs: number;
  readonly seeds: readonly number[];
  readonly meanAbsDiff: number | null;
  readonly kendallTau: number | null;
  readonly spearmanRho: number | null;
}

const finite = (v: number): number | null => (Number.isFinite(v) ? v : null);
const meanOf = (xs: readonly number[]): number | null => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);

/** tau-b and rho of paired values, null below 2 pairs or when one side is constant. */
export function correlations(xs: readonly number[], ys: readonly number[]): { kendallTau: number | null; spearmanRho: number | null } {
  if (xs.length < 2) return { kendallTau: null, spearmanRho: null };
  return { kendallTau: finite(kendallTau(xs, ys)), spearmanRho: finite(spearmanRho(xs, ys)) };
}

export function summarizeSetting(
  rows: readonly FidelityRow[],
  s: { readonly label: string; readonly evaluator: string; readonly config: JsonValue },
): SettingSummary {
  const pairs = rows.flatMap((r) => {
    const v = r.scores[s.label];
    return v === null || v === undefined || r.accuracy === null ? [] : [[v, r.accuracy] as const];
  });
  const seconds = rows.flatMap((r) => {
    const v = r.scoreSeconds[s.label];
    return v === null || v === undefined ? [] : [v];
  });
  return {
    ...s,
    n: pairs.length,
    ...correlations(pairs.map((p) => p[0]), pairs.map((p) => p[1])),
    secondsPerCandidate: meanOf(seconds),
  };
}

/** The first two training seeds' accuracies on the architectures trained with both. */
export function seedNoise(rows: readonly FidelityRow[], seeds: readonly number[]): SeedNoise {
  const [a, b] = seeds;
  if (a === undefined || b === undefined) return { archs: 0, seeds, meanAbsDiff: null, kendallTau: null, spearmanRho: null };
  const pairs = rows.flatMap((r) => {
    const x = r.trained.find((t) => t.seed === a);
    const y = r.trained.find((t) => t.seed === b);
    return x === undefined || y === undefined ? [] : [[x.top1, y.top1] as const];
  });
  return {
    archs: pairs.length,
    seeds: [a, b],
    meanAbsDiff: meanOf(pairs.map(([x, y]) => Math.abs(x - y))),
    ...correlations(pairs.map((p) => p[0]), pairs.map((p) => p[1])),
  };
}

export { meanOf };
