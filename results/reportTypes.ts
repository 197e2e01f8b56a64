// The data of a `nas report` page, as it is embedded in the page as JSON: what results/reportData.ts assembles
// from the store and web/report/ draws. No imports, so that the browser code type-checks against it without Node.

/** Raised when the shape changes, so a page can tell data it cannot draw. */
export const REPORT_VERSION = 1;

/** The costs a search candidate is plotted against (results/pareto.ts ParetoX). */
export type ReportCost = 'latency' | 'madds' | 'params';

/** The figures every evaluator can report of a candidate (results/summary.ts reads them from its metrics). */
export interface CandidateFigures {
  readonly reward: number | null;
  readonly accuracy: number | null;
  readonly latencyMs: number | null;
  readonly madds: number | null;
  readonly params: number | null;
}

export interface ReportCandidate extends CandidateFigures {
  readonly seq: number;
  readonly status: 'queued' | 'running' | 'done' | 'failed';
  readonly arch: string;
  /** The evaluation's own time (metrics.evalSeconds), else finish minus start; null when not finished. */
  readonly seconds: number | null;
  readonly failure: string | null;
  /** The costs against which this candidate is on the run's accuracy Pareto front. */
  readonly front: readonly ReportCost[];
}

/** After the n-th finished candidate (done or failed, in proposal order): the best reward and accuracy so far. */
export interface BestSoFar {
  readonly n: number;
  readonly seq: number;
  readonly reward: number | null;
  readonly accuracy: number | null;
}

export interface FailureReason {
  readonly reason: string;
  readonly count: number;
  /** The seqs of the candidates that failed so. */
  readonly seqs: readonly number[];
}

/** One decision of the space over the search: how often each option was sampled in each window of candidates. */
export interface DecisionTrend {
  /** Where the choice sits in the space, e.g. `stages[2][1].expand`. */
  readonly path: string;
  /** The option values, as JSON text. */
  readonly options: readonly string[];
  /** The option sampled most in the last window. */
  readonly favourite: number;
  /** Per window, the share of each option (summing to 1). */
  readonly shares: readonly (readonly number[])[];
}

/** The strategy's choices over a search: candidates in proposal order cut into windows of (nearly) equal size. */
export interface ChoiceTrends {
  readonly windows: readonly { readonly from: number; readonly to: number; readonly candidates: number }[];
  readonly decisions: readonly DecisionTrend[];
}

/** A search's absolute target on one cost, drawn on that cost's chart. */
export interface TargetLine {
  readonly cost: ReportCost;
  /** In the cost's unit: ms for latency, a count for MAdds and params. */
  readonly value: number;
  readonly text: string;
}

interface RunHeader {
  readonly id: string;
  readonly status: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly seed: number | null;
  readonly error: string | null;
}

export interface SearchReport extends RunHeader {
  readonly kind: 'search';
  readonly strategy: string | null;
  readonly space: string | null;
  readonly evaluator: string | null;
  readonly targets: readonly string[];
  /** The absolute targets that the caller could read (relative ones have no line). */
  readonly targetLines: readonly TargetLine[];
  readonly candidates: readonly ReportCandidate[];
  readonly best: readonly BestSoFar[];
  readonly failures: readonly FailureReason[];
  /** Null when the candidates have no stored decisions or the run's space cannot be read back. */
  readonly choices: ChoiceTrends | null;
}

export interface EpochPoint {
  readonly epoch: number;
  readonly trainLoss: number | null;
  readonly valLoss: number | null;
  readonly trainAcc: number | null;
  readonly valTop1: number | null;
  readonly lr: number | null;
  readonly imagesPerSec: number | null;
}

export interface TrainReport extends RunHeader {
  readonly kind: 'train';
  readonly arch: string | null;
  readonly epochs: readonly EpochPoint[];
}

export interface NetadaptStep {
  readonly iteration: number;
  /** What the kept proposal shrank (null while the step runs). */
  readonly what: string | null;
  readonly latencyPredictedMs: number | null;
  readonly latencyMeasuredMs: number | null;
  /** After the step's short fine-tune. */
  readonly accuracy: number | null;
  readonly proposals: number;
  readonly failedProposals: number;
}

/** A network at the end of a NetAdapt run: the seed, the result or the width-multiplier baseline. */
export interface NetadaptNetwork {
  readonly name: 'seed' | 'netadapt' | 'width baseline';
  readonly latencyPredictedMs: number | null;
  /** Timed together with the others at the end (null when not measured). */
  readonly latencyMeasuredMs: number | null;
  readonly valAccuracy: number | null;
  readonly testTop1: number | null;
  readonly params: number | null;
  /** The baseline's uniform width multiplier. */
  readonly width: number | null;
}

export interface NetadaptReport extends RunHeader {
  readonly kind: 'netadapt';
  readonly targetMs: number | null;
  readonly message: string | null;
  readonly verdict: string | null;
  readonly steps: readonly NetadaptStep[];
  readonly networks: readonly NetadaptNetwork[];
}

export type RunReport = SearchReport | TrainReport | NetadaptReport;

export interface ReportData {
  readonly version: typeof REPORT_VERSION;
  readonly runs: readonly RunReport[];
}
