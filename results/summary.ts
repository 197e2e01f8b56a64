// What a table or a JSON result shows of a candidate: its identity, reward and the metrics every evaluator can
// report. One reading of the stored metrics for every command, so `nas search` and `nas results` agree on them.
import type { CandidateRecord } from './candidates.js';
import type { JsonValue } from '../common/json.js';
import type { CandidateFigures } from './reportTypes.js';

/** A finite number stored under key in a metrics object, else null (a non-finite number is no measurement). */
export function metricOf(metrics: JsonValue | null, key: string): number | null {
  if (metrics === null || typeof metrics !== 'object' || Array.isArray(metrics)) return null;
  const v = (metrics as { readonly [k: string]: JsonValue })[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export interface CandidateSummary extends CandidateFigures {
  readonly id: number;
  readonly seq: number;
  readonly arch: string;
}

export function summarizeCandidate(c: CandidateRecord): CandidateSummary {
  return {
    id: c.id,
    seq: c.seq,
    arch: c.arch,
    reward: c.reward,
    accuracy: metricOf(c.metrics, 'accuracy'),
    latencyMs: metricOf(c.metrics, 'latencyMs'),
    madds: metricOf(c.metrics, 'madds'),
    params: metricOf(c.metrics, 'params'),
  };
}
