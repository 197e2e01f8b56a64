// Training progress, one row per (run, epoch). Recording an epoch again replaces it, so a resumed run that redoes
// an epoch leaves the redone figures, not both.
import type { Conn } from './conn.js';
import type { JsonValue } from '../common/json.js';
import { decodeJsonOrNull, encodeJsonOrNull } from './json.js';

export interface EpochInput {
  readonly runId: string;
  readonly epoch: number;
  /** Optimizer steps done at the end of the epoch. */
  readonly step: number;
  readonly trainLoss?: number;
  readonly trainAcc?: number;
  readonly valLoss?: number;
  readonly valTop1?: number;
  readonly valTop5?: number;
  readonly lr?: number;
  readonly imagesPerSec?: number;
  readonly wallSeconds?: number;
  /** Any other figures, as JSON data. */
  readonly extra?: unknown;
}

export interface EpochRecord {
  readonly runId: string;
  readonly epoch: number;
  readonly step: number;
  readonly trainLoss: number | null;
  readonly trainAcc: number | null;
  readonly valLoss: number | null;
  readonly valTop1: number | null;
  readonly valTop5: number | null;
  readonly lr: number | null;
  readonly imagesPerSec: number | null;
  readonly wallSeconds: number | null;
  readonly extra: JsonValue | null;
  readonly recordedAt: string;
}

export interface EpochsApi {
  /** Inserts or replaces the run's row for this epoch; also refreshes the run's heartbeat. */
  recordEpoch(epoch: EpochInput): EpochRecord;
  /** In epoch order. */
  listEpochs(runId: string): EpochRecord[];
}

interface EpochRow {
  run_id: string;
  epoch: number;
  step: number;
  train_loss: number | null;
  train_acc: number | null;
  val_loss: number | null;
  val_top1: number | null;
  val_top5: number | null;
  lr: number | null;
  images_per_sec: number | null;
  wall_seconds: number | null;
  extra: string | null;
  recorded_at: string;
}

function toRecord(r: EpochRow): EpochRecord {
  return {
    runId: r.run_id,
    epoch: r.epoch,
    step: r.step,
    trainLoss: r.train_loss,
    trainAcc: r.train_acc,
    valLoss: r.val_loss,
    valTop1: r.val_top1,
    valTop5: r.val_top5,
    lr: r.lr,
    imagesPerSec: r.images_per_sec,
    wallSeconds: r.wall_seconds,
    extra: decodeJsonOrNull(r.extra),
    recordedAt: r.recorded_at,
  };
}

// SQLite would store NaN as NULL without a word; a diverged loss should stay visible, so the column gets NULL and
// `extra.nonFinite` says what it was.
function finiteOrNull(v: number | undefined): number | null {
  return v === undefined || !Number.isFinite(v) ? null : v;
}

export function epochsApi(c: Conn): EpochsApi {
  return {
    recordEpoch(e) {
      const now = c.now();
      const nonFinite = Object.fromEntries(
        (['trainLoss', 'trainAcc', 'valLoss', 'valTop1', 'valTop5', 'lr', 'imagesPerSec', 'wallSeconds'] as const)
          .filter((k) => e[k] !== undefined && !Number.isFinite(e[k]))
          .map((k) => [k, String(e[k])]),
      );
      const extra =
        Object.keys(nonFinite).length === 0
          ? e.extra
          : { ...(e.extra !== null && typeof e.extra === 'object' ? e.extra : { value: e.extra }), nonFinite };
      const row = {
        run_id: e.runId,
        epoch: e.epoch,
        step: e.step,
        train_loss: finiteOrNull(e.trainLoss),
        train_acc: finiteOrNull(e.trainAcc),
        val_loss: finiteOrNull(e.valLoss),
        val_top1: finiteOrNull(e.valTop1),
        val_top5: finiteOrNull(e.valTop5),
        lr: finiteOrNull(e.lr),
        images_per_sec: finiteOrNull(e.imagesPerSec),
        wall_seconds: finiteOrNull(e.wallSeconds),
        extra: encodeJsonOrNull(extra, 'epochs.extra'),
        recorded_at: now,
      };
      return c.write(() => {
        const saved = c
          .stmt<EpochRow>(
            `INSERT INTO epochs (run_id, epoch, step, train_loss, train_acc, val_loss, val_top1, val_top5, lr,
               images_per_sec, wall_seconds, extra, recorded_at)
             VALUES (@run_id, @epoch, @step, @train_loss, @train_acc, @val_loss, @val_top1, @val_top5, @lr,
               @images_per_sec, @wall_seconds, @extra, @recorded_at)
             ON CONFLICT (run_id, epoch) DO UPDATE SET step = excluded.step, train_loss = excluded.train_loss,
               train_acc = excluded.train_acc, val_loss = excluded.val_loss, val_top1 = excluded.val_top1,
               val_top5 = excluded.val_top5, lr = excluded.lr, images_per_sec = excluded.images_per_sec,
               wall_seconds = excluded.wall_seconds, extra = excluded.extra, recorded_at = excluded.recorded_at
             RETURNING *`,
          )
          .get(row);
        c.stmt('UPDATE runs SET updated_at = ? WHERE id = ?').run(now, e.runId);
        if (saved === undefined) throw new Error('epoch upsert returned no row');
        return toRecord(saved);
      });
    },

    listEpochs(runId) {
      return c.stmt<EpochRow>('SELECT * FROM epochs WHERE run_id = ? ORDER BY epoch').all(runId).map(toRecord);
    },
  };
}
