// The accuracy/cost Pareto front of a search: the candidates that no other candidate beats on both accuracy (higher
// is better) and a cost metric (latency, MAdds or params; lower is better).
import type { CandidateRecord } from './candidates.js';
import { type CandidateSummary, metricOf, summarizeCandidate } from './summary.js';

export const PARETO_X = ['latency', 'madds', 'params'] as const;
export type ParetoX = (typeof PARETO_X)[number];

/** The key of each cost in a candidate's metrics (search/types.ts Metrics). */
export const X_METRIC: Readonly<Record<ParetoX, string>> = { latency: 'latencyMs', madds: 'madds', params: 'params' };

export interface ParetoPoint<T> {
  /** The cost: lower is better. */
  readonly x: number;
  /** The accuracy: higher is better. */
  readonly y: number;
  readonly item: T;
}

/**
 * The non-dominated points, by increasing x (and so increasing y). A point is dominated when another has x <= its x
 * and y >= its y with one of the two strict. Points with equal x and y are one point of the front: the first of them
 * in input order stands for all. Points with a non-finite x or y are ignored.
 */
export function paretoFront<T>(points: readonly ParetoPoint<T>[]): ParetoPoint<T>[] {
  const order = points
    .map((p, i) => ({ p, i }))
    .filter(({ p }) => Number.isFinite(p.x) && Number.isFinite(p.y))
    .sort((a, b) => a.p.x - b.p.x || b.p.y - a.p.y || a.i - b.i);
  // Sweeping by increasing cost, a point is on the front iff it is strictly more accurate than all cheaper ones (and
  // than earlier ones of the same cost, which the sort puts first when they are at least as accurate).
  const front: ParetoPoint<T>[] = [];
  let best = Number.NEGATIVE_INFINITY;
  for (const { p } of order) {
    if (p.y > best) {
      front.push(p);
      best = p.y;
    }
  }
  return front;
}

export interface CandidateFront {
  readonly x: ParetoX;
  /** The metrics key read for x (latencyMs, madds, params). */
  readonly xMetric: string;
  /** Done candidates with both accuracy and x, in seq order. */
  readonly points: readonly ParetoPoint<CandidateRecord>[];
  readonly front: readonly ParetoPoint<CandidateRecord>[];
  /** Done candidates left out because accuracy or x is missing or not a finite number. */
  readonly skipped: number;
}

/** The front of a run's done candidates (others are ignored), accuracy against x. */
export function candidateFront(candidates: readonly CandidateRecord[], x: ParetoX): CandidateFront {
  const xMetric = X_METRIC[x];
  const points: ParetoPoint<CandidateRecord>[] = [];
  let skipped = 0;
  for (const c of [...candidates].filter((c) => c.status === 'done').sort((a, b) => a.seq - b.seq)) {
    const cx = metricOf(c.metrics, xMetric);
    const cy = metricOf(c.metrics, 'accuracy');
    if (cx === null || cy === null) skipped++;
    else points.push({ x: cx, y: cy, item: c });
  }
  return { x, xMetric, points, front: paretoFront(points), skipped };
}

/**
 * The accuracy/latency front of a run's candidates as `nas search` prints it: the candidateFront of `latency`, so
 * a candidate without a finite latency or accuracy is left out here as in `nas results pareto` (its cost is unknown,
 * and it cannot be ordered against the others).
 */
export function latencyFront(candidates: readonly CandidateRecord[]): CandidateSummary[] {
  return candidateFront(candidates, 'latency').front.map((p) => summarizeCandidate(p.item));
}
