// How a zero-cost score enters the MnasNet reward ACC x (LAT/T)^w, which needs an accuracy-like number in (0, 1]:
// a logistic map, accuracy = 1 / (1 + exp(-(m - center) / scale)), of m = naswot's score per image (its
// log-determinant grows about linearly with the batch: N ln N_A plus a correction) or synflow's score. It is monotone
// (the search maximises what the score ranks), fixed per candidate (a rank among the run's candidates would change
// stored rewards as the run grows) and positive. center and scale set the exchange rate with latency:
// d ln(accuracy) = (1 - accuracy) / scale per unit of m, against w * ln(LAT/T) (docs/SEARCH.md "Zero-cost evaluators").
import type { ZeroCostConfig, ZeroCostScore } from './config.js';

export interface ScoreMap {
  readonly center: number;
  readonly scale: number;
}

/**
 * Defaults, calibrated so that MobileNetV3-Small (small input) at widths 0.35 and 1.0 map to 0.85 and 0.90 on
 * Fashion-MNIST at 32 px (naswot per image 9.64 and 10.55, ln synflow 53.5 and 64.6: bench/zero-cost.ts), about the
 * spread of their trained accuracies, so that the latency term weighs as it does with a trained accuracy.
 */
export const SCORE_MAPS: Readonly<Record<ZeroCostScore, ScoreMap>> = {
  naswot: { center: 6.2, scale: 2 },
  synflow: { center: 11.8, scale: 24 },
};

/** What the map reads: naswot's score per image of its minibatch, synflow's score as it is. */
export function mappedValue(name: ZeroCostScore, score: number, images: number): number {
  return name === 'naswot' ? score / images : score;
}

/** The reward's accuracy for a mapped value; a singular NASWOT kernel (-Infinity) maps to 0. */
export function scoreAccuracy(name: ZeroCostScore, value: number, cfg: Pick<ZeroCostConfig, 'center' | 'scale'>): number {
  const center = cfg.center ?? SCORE_MAPS[name].center;
  const scale = cfg.scale ?? SCORE_MAPS[name].scale;
  return 1 / (1 + Math.exp(-(value - center) / scale));
}
