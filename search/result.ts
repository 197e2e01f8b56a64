// What a search session returns and stores as its run's result: counts, the session's figures, the best candidates
// and the accuracy/latency front (results/pareto.ts, the front `nas results pareto` prints).
import type { CandidateSummary } from '../results/summary.js';
import type { StopReason } from './stop.js';
import type { StrategyName } from './types.js';

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
