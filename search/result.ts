// What a search session returns and stores as its run's result: counts, the session's figures, the best candidates
// and the accuracy/latency front.
import type { CandidateRecord } from '../results/candidates.js';
import type { JsonValue } from '../common/json.js';
import type { StopReason } from './stop.js';
import type { StrategyName } from './types.js';

export interface CandidateSummary {
  readonly id: number;
  readonly seq: number;
  readonly arch: string;
  readonly reward: number | null;
  readonly accuracy: number | null;
  readonly latencyMs: number | null;
  readonly madds: number | null;
  readonly params: number | null;
}

export interface SearchResult {
  readonly runId: string;
  readonly status: 'finished' | 'failed';
  readonly stopReason: StopReason;
  readonly message: string;
  readonly resumed: boolean;
  readonly space: string;
  readonly strategy: StrategyName;
  readonly seed: number;
  readonly budget: number;
  readonly batch: number;
  readonly targets: readonly string[];
  readonly counts: { readonly done: number; readonly failed: number; readonly total: number };
  /** This session: proposals observed, evaluations run, results copied from other runs, batches replayed. */
  readonly session: {
    readonly samples: number;
    readonly evaluated: number;
    readonly failed: number;
    readonly cached: number;
    readonly replayedBatches: number;
    readonly seconds: number;
    readonly samplesPerSec: number;
  };
  readonly best: readonly CandidateSummary[];
  /** Accuracy vs latency (lowest latency first): candidates no other beats on both. */
  readonly pareto: readonly CandidateSummary[];
}

const num = (m: JsonValue | null, k: string): number | null => {
  if (m === null || typeof m !== 'object' || Array.isArray(m)) return null;
  const v = (m as Record<string, JsonValue>)[k];
  return typeof v === 'number' ? v : null;
};

export function summarize(c: CandidateRecord): CandidateSummary {
  return {
    id: c.id,
    seq: c.seq,
    arch: c.arch,
    reward: c.reward,
    accuracy: num(c.metrics, 'accuracy'),
    latencyMs: num(c.metrics, 'latencyMs'),
    madds: num(c.metrics, 'madds'),
    params: num(c.metrics, 'params'),
  };
}

/** Highest accuracy for its latency: sorted by latency, each kept when more accurate than everything faster. */
export function paretoFront(cands: readonly CandidateSummary[]): CandidateSummary[] {
  const pts = cands
    .filter((c) => c.accuracy !== null && c.latencyMs !== null)
    .sort((a, b) => (a.latencyMs ?? 0) - (b.latencyMs ?? 0) || (b.accuracy ?? 0) - (a.accuracy ?? 0) || a.seq - b.seq);
  const front: CandidateSummary[] = [];
  let best = -Infinity;
  for (const p of pts) {
    if ((p.accuracy ?? -Infinity) > best) {
      front.push(p);
      best = p.accuracy ?? best;
    }
  }
  return front;
}
