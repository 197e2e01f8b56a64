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
  readonly candidates: readonly ReportCandidate[];
  readonly best: readonly BestSoFar[];
  readonly failures: readonly FailureReason[];
}

export type RunReport = SearchReport;

export interface ReportData {
  readonly version: typeof REPORT_VERSION;
  readonly runs: readonly RunReport[];
}
