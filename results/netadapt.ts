// NetAdapt iterations: each step's proposals, the one kept, and its latency and accuracy.
import type { Conn } from './conn.js';
import type { JsonValue } from '../common/json.js';
import { decodeJson, decodeJsonOrNull, encodeJson, encodeJsonOrNull } from './json.js';

export interface NetadaptIterationInput {
  readonly runId: string;
  readonly iteration: number;
  /** Every proposal of the step with its latency and accuracy, as JSON data. */
  readonly proposals: unknown;
  /** The proposal kept (absent while the step is still running). */
  readonly chosen?: unknown;
  readonly latencyPredictedMs?: number;
  readonly latencyMeasuredMs?: number;
  readonly accuracy?: number;
}

export interface NetadaptIterationRecord {
  readonly runId: string;
  readonly iteration: number;
  readonly proposals: JsonValue;
  readonly chosen: JsonValue | null;
  readonly latencyPredictedMs: number | null;
  readonly latencyMeasuredMs: number | null;
  readonly accuracy: number | null;
  readonly recordedAt: string;
}

export interface NetadaptApi {
  /** Inserts or replaces the run's row for this iteration. */
  recordNetadaptIteration(iteration: NetadaptIterationInput): NetadaptIterationRecord;
  /** In iteration order. */
  listNetadaptIterations(runId: string): NetadaptIterationRecord[];
}

interface IterationRow {
  run_id: string;
  iteration: number;
  proposals: string;
  chosen: string | null;
  latency_predicted_ms: number | null;
  latency_measured_ms: number | null;
  accuracy: number | null;
  recorded_at: string;
}

const toRecord = (r: IterationRow): NetadaptIterationRecord => ({
  runId: r.run_id,
  iteration: r.iteration,
  proposals: decodeJson(r.proposals),
  chosen: decodeJsonOrNull(r.chosen),
  latencyPredictedMs: r.latency_predicted_ms,
  latencyMeasuredMs: r.latency_measured_ms,
  accuracy: r.accuracy,
  recordedAt: r.recorded_at,
});

function finiteOrNull(what: string, v: number | undefined): number | null {
  if (v === undefined) return null;
  if (!Number.isFinite(v)) throw new RangeError(`netadapt_iterations.${what}: ${v} is not a finite number`);
  return v;
}

export function netadaptApi(c: Conn): NetadaptApi {
  return {
    recordNetadaptIteration(it) {
      const row = {
        run_id: it.runId,
        iteration: it.iteration,
        proposals: encodeJson(it.proposals, 'netadapt_iterations.proposals'),
        chosen: encodeJsonOrNull(it.chosen, 'netadapt_iterations.chosen'),
        latency_predicted_ms: finiteOrNull('latencyPredictedMs', it.latencyPredictedMs),
        latency_measured_ms: finiteOrNull('latencyMeasuredMs', it.latencyMeasuredMs),
        accuracy: finiteOrNull('accuracy', it.accuracy),
      };
      return c.write(() => {
        const now = c.now();
        const saved = c
          .stmt<IterationRow>(
            `INSERT INTO netadapt_iterations (run_id, iteration, proposals, chosen, latency_predicted_ms,
               latency_measured_ms, accuracy, recorded_at)
             VALUES (@run_id, @iteration, @proposals, @chosen, @latency_predicted_ms, @latency_measured_ms,
               @accuracy, @recorded_at)
             ON CONFLICT (run_id, iteration) DO UPDATE SET proposals = excluded.proposals, chosen = excluded.chosen,
               latency_predicted_ms = excluded.latency_predicted_ms, latency_measured_ms = excluded.latency_measured_ms,
               accuracy = excluded.accuracy, recorded_at = excluded.recorded_at
             RETURNING *`,
          )
          .get({ ...row, recorded_at: now });
        c.stmt('UPDATE runs SET updated_at = ? WHERE id = ?').run(now, it.runId);
        if (saved === undefined) throw new Error('netadapt iteration upsert returned no row');
        return toRecord(saved);
      });
    },

    listNetadaptIterations(runId) {
      return c
        .stmt<IterationRow>('SELECT * FROM netadapt_iterations WHERE run_id = ? ORDER BY iteration')
        .all(runId)
        .map(toRecord);
    },
  };
}
