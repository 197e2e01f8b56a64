// Strategy state snapshots (controller weights, population, RNG state...), keyed by the strategy's step, so a search
// resumes from the latest one.
import type { Conn } from './conn.js';
import type { JsonValue } from '../common/json.js';
import { decodeJson, encodeJson } from './json.js';

export interface StrategySnapshot {
  readonly runId: string;
  readonly step: number;
  readonly state: JsonValue;
  readonly savedAt: string;
}

export interface SaveStrategyOptions {
  /** Keep only this many latest snapshots of the run (default: all). */
  readonly keep?: number;
}

export interface StrategyApi {
  /** Saves (or replaces) the run's snapshot at this step. */
  saveStrategyState(runId: string, step: number, state: unknown, opts?: SaveStrategyOptions): StrategySnapshot;
  /** The snapshot with the highest step (at most maxStep when given), or null. */
  loadStrategyState(runId: string, maxStep?: number): StrategySnapshot | null;
  /** The step of the latest snapshot, without reading the state, or null. */
  latestStrategyStep(runId: string): number | null;
}

interface StateRow {
  run_id: string;
  step: number;
  state: string;
  saved_at: string;
}

const toSnapshot = (r: StateRow): StrategySnapshot => ({
  runId: r.run_id,
  step: r.step,
  state: decodeJson(r.state),
  savedAt: r.saved_at,
});

export function strategyApi(c: Conn): StrategyApi {
  return {
    saveStrategyState(runId, step, state, opts = {}) {
      const text = encodeJson(state, 'strategy_state.state');
      return c.write(() => {
        const row = c
          .stmt<StateRow>(
            `INSERT INTO strategy_state (run_id, step, state, saved_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (run_id, step) DO UPDATE SET state = excluded.state, saved_at = excluded.saved_at
             RETURNING *`,
          )
          .get(runId, step, text, c.now());
        if (row === undefined) throw new Error('strategy state upsert returned no row');
        if (opts.keep !== undefined) {
          c.stmt(
            `DELETE FROM strategy_state WHERE run_id = @run_id AND step NOT IN
               (SELECT step FROM strategy_state WHERE run_id = @run_id ORDER BY step DESC LIMIT @keep)`,
          ).run({ run_id: runId, keep: Math.max(1, opts.keep) });
        }
        return toSnapshot(row);
      });
    },

    loadStrategyState(runId, maxStep) {
      const row = c
        .stmt<StateRow>(
          `SELECT * FROM strategy_state WHERE run_id = @run_id AND (@max IS NULL OR step <= @max)
           ORDER BY step DESC LIMIT 1`,
        )
        .get({ run_id: runId, max: maxStep ?? null });
      return row === undefined ? null : toSnapshot(row);
    },

    latestStrategyStep(runId) {
      const row = c
        .stmt<{ step: number | null }>('SELECT max(step) AS step FROM strategy_state WHERE run_id = ?')
        .get(runId);
      return row?.step ?? null;
    },
  };
}
