// Checkpoints' paths and the metrics at which they were taken; the files themselves live on disk.
import type { Conn } from './conn.js';
import type { JsonValue } from '../common/json.js';
import { decodeJsonOrNull, encodeJsonOrNull } from './json.js';

export interface CheckpointInput {
  readonly runId: string;
  /** Whole epochs completed when it was taken (a checkpoint inside an epoch counts the epochs before it). */
  readonly epoch: number;
  /** Global steps completed: with `epoch`, where the checkpoint lies (the steps inside the epoch are the rest). */
  readonly step: number;
  readonly path: string;
  readonly metrics?: unknown;
}

export interface CheckpointRecord {
  readonly id: number;
  readonly runId: string;
  readonly epoch: number;
  readonly step: number;
  readonly path: string;
  readonly metrics: JsonValue | null;
  readonly createdAt: string;
}

export interface CheckpointsApi {
  /** Records a checkpoint; recording the same (run, epoch, step) again replaces its path and metrics. */
  recordCheckpoint(checkpoint: CheckpointInput): CheckpointRecord;
  /** The run's checkpoint with the highest (epoch, step), or null. */
  latestCheckpoint(runId: string): CheckpointRecord | null;
  /** Oldest first. */
  listCheckpoints(runId: string): CheckpointRecord[];
}

interface CheckpointRow {
  id: number;
  run_id: string;
  epoch: number;
  step: number;
  path: string;
  metrics: string | null;
  created_at: string;
}

function toRecord(r: CheckpointRow): CheckpointRecord {
  return {
    id: r.id,
    runId: r.run_id,
    epoch: r.epoch,
    step: r.step,
    path: r.path,
    metrics: decodeJsonOrNull(r.metrics),
    createdAt: r.created_at,
  };
}

/** A caller's bug, caught here with its values rather than as SQLite's "cannot store REAL value". */
function checkPosition(ck: CheckpointInput): void {
  for (const [name, v] of [['epoch', ck.epoch], ['step', ck.step]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`checkpoint ${ck.path}: ${name} must be a whole number >= 0, got ${v}`);
  }
}

export function checkpointsApi(c: Conn): CheckpointsApi {
  return {
    recordCheckpoint(ck) {
      checkPosition(ck);
      const metrics = encodeJsonOrNull(ck.metrics, 'checkpoints.metrics');
      return c.write(() => {
        const now = c.now();
        const row = c
          .stmt<CheckpointRow>(
            `INSERT INTO checkpoints (run_id, epoch, step, path, metrics, created_at) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (run_id, epoch, step) DO UPDATE SET path = excluded.path, metrics = excluded.metrics,
               created_at = excluded.created_at
             RETURNING *`,
          )
          .get(ck.runId, ck.epoch, ck.step, ck.path, metrics, now);
        c.stmt('UPDATE runs SET updated_at = ? WHERE id = ?').run(now, ck.runId);
        if (row === undefined) throw new Error('checkpoint upsert returned no row');
        return toRecord(row);
      });
    },

    latestCheckpoint(runId) {
      const row = c
        .stmt<CheckpointRow>('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY epoch DESC, step DESC LIMIT 1')
        .get(runId);
      return row === undefined ? null : toRecord(row);
    },

    listCheckpoints(runId) {
      return c
        .stmt<CheckpointRow>('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY epoch, step')
        .all(runId)
        .map(toRecord);
    },
  };
}
