// train-final's summary.csv in its run directory, as timm's: one row per epoch, for spreadsheets, pandas and
// plotting scripts. Written again whole from the store after every epoch, so a resumed run's file holds every epoch
// (the ones before the kill too) and a killed run's file is never half a line.
import { join } from 'node:path';
import { replaceFileSync } from '../common/atomicFs.js';
import type { EpochRecord } from '../results/epochs.js';
import { type Cell, toCsv } from '../results/export.js';
import type { Store } from '../results/store.js';

export const SUMMARY_CSV = 'summary.csv';

/** timm's columns (accuracies as fractions in [0, 1], not percent), then ours. */
export const SUMMARY_COLUMNS = [
  'epoch', 'train_loss', 'eval_loss', 'eval_top1', 'eval_top5', 'lr', 'images_per_sec', 'step', 'wall_seconds', 'recorded_at',
] as const;

function row(e: EpochRecord): Cell[] {
  return [e.epoch, e.trainLoss, e.valLoss, e.valTop1, e.valTop5, e.lr, e.imagesPerSec, e.step, e.wallSeconds, e.recordedAt];
}

/** Writes `summary.csv` in the run directory from the run's recorded epochs. */
export function writeSummaryCsv(store: Store, runId: string, runDir: string): void {
  replaceFileSync(join(runDir, SUMMARY_CSV), toCsv({ columns: SUMMARY_COLUMNS, rows: store.listEpochs(runId).map(row) }));
}
