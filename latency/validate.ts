// How well a LUT predicts: whole-network measurements of sampled archs against the LUT's predictions.
import type { ArchSpec } from '../space/arch.js';
import { encodeArch } from '../space/blockString.js';
import type * as tf from '@tensorflow/tfjs';
import { type BackendChoice, useBackend } from '../backend/select.js';
import { buildModel } from '../model/build.js';
import { resolve } from '../space/resolve.js';
import type { Lut } from './lut.js';
import { measureLatency } from './measure.js';
import { missingError, predictLatency } from './predict.js';
import { kendallTau, mean, median } from './stats.js';

/** Whole networks built and measured together. */
const BATCH = 5;

export interface ValidationRow {
  readonly arch: string;
  readonly predictedMs: number;
  readonly measuredMs: number;
  /** (predicted - measured) / measured, as a fraction. */
  readonly error: number;
}

export interface ValidationReport {
  readonly n: number;
  readonly within10: number;
  readonly within5: number;
  /** Mean absolute percentage error, in percent. */
  readonly mape: number;
  /** Kendall tau-b of predicted vs measured; NaN with fewer than 2 archs or constant values. */
  readonly tau: number;
  readonly rows: readonly ValidationRow[];
}

export interface ValidateOptions {
  readonly warmup: number;
  /** Timed runs per arch, at least (rounded up to a multiple of `rounds`). */
  readonly runs: number;
  /** Interleaved passes over each batch of archs (default 3). */
  readonly rounds?: number;
  readonly onProgress?: (done: number, total: number, row: ValidationRow) => void;
  /** Named in the missing-entries error. */
  readonly lutPath?: string;
}

/** Figures from paired predictions and measurements. */
export function summarizeValidation(rows: readonly ValidationRow[]): ValidationReport {
  const n = rows.length;
  const abs = rows.map((r) => Math.abs(r.error));
  return {
    n,
    within10: n === 0 ? Number.NaN : abs.filter((e) => e <= 0.1).length / n,
    within5: n === 0 ? Number.NaN : abs.filter((e) => e <= 0.05).length / n,
    mape: n === 0 ? Number.NaN : mean(abs) * 100,
    tau: n < 2 ? Number.NaN : kendallTau(rows.map((r) => r.predictedMs), rows.map((r) => r.measuredMs)),
    rows,
  };
}

export interface WholeMeasureOptions {
  readonly backend: BackendChoice;
  readonly threads: number | null;
  readonly warmup: number;
  /** Timed runs per arch, at least (rounded up to a multiple of `rounds`). */
  readonly runs: number;
  /** Interleaved passes over each batch of archs (default 3). */
  readonly rounds?: number;
  readonly onProgress?: (done: number, total: number, medianMs: number) => void;
}

/** Median whole-network latency of each arch, measured in interleaved rounds over batches of archs. */
export async function measureArchsInterleaved(archs: readonly ArchSpec[], opts: WholeMeasureOptions): Promise<number[]> {
  await useBackend(opts.backend, opts.threads === null ? {} : { threads: opts.threads });
  const out: number[] = [];
  const rounds = Math.max(1, Math.min(opts.rounds ?? 3, opts.runs));
  for (let at = 0; at < archs.length; at += BATCH) {
    const batch = archs.slice(at, at + BATCH).map((spec) => resolve(spec));
    const models = batch.map((r) => buildModel(r));
    try {
      // Interleaved rounds, as in buildLut: a load burst spreads over the batch instead of hitting one arch.
      const samples = batch.map(() => [] as number[]);
      for (let r = 0; r < rounds; r++) {
        batch.forEach((a, i) => {
          const m = measureLatency(models[i] as tf.LayersModel, {
            input: [a.inputSize, a.inputSize, a.inputChannels],
            warmup: r === 0 ? opts.warmup : 1,
            runs: Math.ceil(opts.runs / rounds),
          });
          samples[i]?.push(...m.samplesMs);
        });
      }
      for (const xs of samples) {
        out.push(median(xs));
        opts.onProgress?.(out.length, archs.length, median(xs));
      }
    } finally {
      for (const m of models) m.dispose();
    }
  }
  return out;
}

/** Predict every arch (all must be covered by the LUT), then measure each whole on the LUT's backend and threads. */
export async function validatePredictions(lut: Lut, archs: readonly ArchSpec[], opts: ValidateOptions): Promise<ValidationReport> {
  const predicted = archs.map((spec) => {
    const p = predictLatency(lut, spec);
    if (p.missing.length > 0) throw missingError(p.missing, encodeArch(spec), lut.input[0], opts.lutPath);
    return p.predictedMs;
  });
  const rows: ValidationRow[] = [];
  await measureArchsInterleaved(archs, {
    backend: lut.backend as BackendChoice,
    threads: lut.threads,
    warmup: opts.warmup,
    runs: opts.runs,
    ...(opts.rounds === undefined ? {} : { rounds: opts.rounds }),
    onProgress: (done, total, measured) => {
      const i = done - 1;
      const p = predicted[i] ?? Number.NaN;
      const spec = archs[i] as ArchSpec;
      const row = { arch: encodeArch(spec), predictedMs: p, measuredMs: measured, error: (p - measured) / measured };
      rows.push(row);
      opts.onProgress?.(done, total, row);
    },
  });
  return summarizeValidation(rows);
}
