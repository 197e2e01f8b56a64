// How well a LUT predicts: whole-network measurements of sampled archs against the LUT's predictions.
import { UsageError } from '../common/errors.js';
import type { ArchSpec } from '../space/arch.js';
import { encodeArch } from '../space/blockString.js';
import { type Lut, type LutStatistic, statOf } from './lut.js';
import { missingError, predictLatency } from './predict.js';
import { fineRounds, isRunnerName, type LatencyRunner, openRunner, runnerList } from './runner.js';
import { kendallTau, mean } from './stats.js';

/** Whole networks built and measured together. */
const BATCH = 10;

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
  /** How well the measurement agrees with itself across sweeps (null with one sweep): how noisy the figures above are. */
  readonly repeatability: Repeatability | null;
  readonly rows: readonly ValidationRow[];
}

export interface Repeatability {
  readonly sweeps: number;
  /** Kendall tau-b between two sweeps' figures of the same archs, averaged over pairs of sweeps. */
  readonly tau: number;
  /** |a - b| / min(a, b) between two sweeps' figures of an arch, in percent, averaged over archs and pairs. */
  readonly meanDiffPct: number;
}

/**
 * Agreement of repeated measurements of the same archs (one array of figures per sweep). Predictions are compared
 * with the lowest of the sweeps, which is steadier than any one of them, but when single sweeps rank the archs with
 * tau 0.86 the validation's figures move with the machine as much as with the LUT.
 */
export function repeatability(sweeps: readonly (readonly number[])[]): Repeatability | null {
  if (sweeps.length < 2) return null;
  const taus: number[] = [];
  const diffs: number[] = [];
  for (let i = 0; i < sweeps.length; i++) {
    for (let j = i + 1; j < sweeps.length; j++) {
      const a = sweeps[i] as readonly number[];
      const b = sweeps[j] as readonly number[];
      if (a.length !== b.length) throw new RangeError(`sweeps of ${a.length} and ${b.length} archs`);
      if (a.length >= 2) taus.push(kendallTau(a, b));
      a.forEach((x, k) => diffs.push(Math.abs(x - (b[k] as number)) / Math.min(x, b[k] as number)));
    }
  }
  return {
    sweeps: sweeps.length,
    tau: taus.length === 0 ? Number.NaN : mean(taus),
    meanDiffPct: diffs.length === 0 ? Number.NaN : mean(diffs) * 100,
  };
}

export interface ValidateOptions {
  readonly warmup: number;
  /** Timed runs per arch, at least (rounded up to a multiple of `rounds`). */
  readonly runs: number;
  /** Interleaved passes over each batch of archs (default fineRounds(runs)). */
  readonly rounds?: number;
  /** Passes over all the archs (default 2); each keeps its lowest figure. */
  readonly sweeps?: number;
  readonly onProgress?: (done: number, total: number, row: ValidationRow) => void;
  /** Named in the missing-entries error. */
  readonly lutPath?: string;
  /** An open runner of the LUT's setting; by default one is opened from the LUT (and closed). */
  readonly runner?: LatencyRunner;
}

/** Figures from paired predictions and measurements (and the measurement's figures per sweep, if there were several). */
export function summarizeValidation(rows: readonly ValidationRow[], sweeps: readonly (readonly number[])[] = []): ValidationReport {
  const n = rows.length;
  const abs = rows.map((r) => Math.abs(r.error));
  return {
    n,
    within10: n === 0 ? Number.NaN : abs.filter((e) => e <= 0.1).length / n,
    within5: n === 0 ? Number.NaN : abs.filter((e) => e <= 0.05).length / n,
    mape: n === 0 ? Number.NaN : mean(abs) * 100,
    tau: n < 2 ? Number.NaN : kendallTau(rows.map((r) => r.predictedMs), rows.map((r) => r.measuredMs)),
    repeatability: repeatability(sweeps),
    rows,
  };
}

export interface WholeMeasureOptions {
  readonly warmup: number;
  /** Timed runs per arch, at least (rounded up to a multiple of `rounds`). */
  readonly runs: number;
  /** Interleaved passes over each batch of archs (default fineRounds(runs)). */
  readonly rounds?: number;
  /** The figure of each network's samples to return (the LUT's statistic; default median). */
  readonly statistic?: LutStatistic;
  /** Passes over all the archs (default 2); each arch keeps its lowest figure. */
  readonly sweeps?: number;
  readonly onProgress?: (done: number, total: number, ms: number) => void;
  /** After each sweep: that sweep's figure of every arch. */
  readonly onSweep?: (figures: readonly number[]) => void;
}

/** Whole-network latency (the statistic's figure) of each arch on `runner`, measured in interleaved rounds over batches of archs. */
export async function measureArchsInterleaved(
  runner: LatencyRunner,
  archs: readonly ArchSpec[],
  opts: WholeMeasureOptions,
): Promise<number[]> {
  const rounds = Math.max(1, Math.min(opts.rounds ?? fineRounds(opts.runs), opts.runs));
  const sweeps = opts.sweeps ?? 2;
  const best: number[] = archs.map(() => Number.POSITIVE_INFINITY);
  let done = 0;
  // Passes over all the archs, as for LUT entries: each keeps its lowest figure, so a slow spell inflates no arch.
  for (let pass = 0; pass < sweeps; pass++) {
    const figures: number[] = [];
    for (let at = 0; at < archs.length; at += BATCH) {
      // Interleaved rounds, as in buildLut: a load burst spreads over the batch instead of hitting one arch.
      const stats = await runner.measureArchs(archs.slice(at, at + BATCH), { warmup: opts.warmup, runs: opts.runs, rounds });
      stats.forEach((m, i) => {
        const ms = statOf(m, opts.statistic ?? 'median');
        figures[at + i] = ms;
        best[at + i] = Math.min(best[at + i] ?? Number.POSITIVE_INFINITY, ms);
        if (pass === sweeps - 1) opts.onProgress?.(++done, archs.length, best[at + i] ?? Number.NaN);
      });
    }
    opts.onSweep?.(figures);
  }
  return best;
}

/** Refuse a runner whose setting is not the LUT's: its times would not be comparable. */
export function checkLutRunner(lut: Lut, runner: LatencyRunner, where = 'the LUT'): void {
  const diffs: string[] = [];
  if (lut.runner !== runner.name) diffs.push(`runner ${lut.runner} vs ${runner.name}`);
  if (lut.backend !== runner.backend) diffs.push(`backend ${lut.backend} vs ${runner.backend}`);
  if (lut.threads !== runner.threads) diffs.push(`threads ${lut.threads ?? 'auto'} vs ${runner.threads ?? 'auto'}`);
  if (lut.machine !== runner.machine) diffs.push(`machine '${lut.machine}' vs '${runner.machine}'`);
  if (diffs.length > 0) throw new UsageError(`${where} was measured in another setting than this one (${diffs.join(', ')}): validate it where it was built`);
  if (lut.engine !== runner.engine) {
    throw new UsageError(`${where} was timed by engine ${lut.engine ?? 'none'}, this nas times with ${runner.engine ?? 'none'}: build the table again (nas latency lut build)`);
  }
}

/** Open the runner a LUT names, with its backend and threads. */
export async function openLutRunner(lut: Lut, where = 'the LUT'): Promise<LatencyRunner> {
  if (!isRunnerName(lut.runner)) {
    throw new UsageError(`${where} was measured on runner '${lut.runner}': nas measures only on ${runnerList()}`);
  }
  const runner = await openRunner(lut.runner, { backend: lut.backend, ...(lut.threads === null ? {} : { threads: lut.threads }) });
  try {
    checkLutRunner(lut, runner, where);
  } catch (e) {
    await runner.close();
    throw e;
  }
  return runner;
}

/** Predict every arch (all must be covered by the LUT), then measure each whole on the LUT's runner, backend and threads. */
export async function validatePredictions(lut: Lut, archs: readonly ArchSpec[], opts: ValidateOptions): Promise<ValidationReport> {
  const predicted = archs.map((spec) => {
    const p = predictLatency(lut, spec);
    if (p.missing.length > 0) throw missingError(p.missing, encodeArch(spec), lut.input[0], opts.lutPath);
    return p.predictedMs;
  });
  const rows: ValidationRow[] = [];
  const sweepFigures: (readonly number[])[] = [];
  const runner = opts.runner ?? (await openLutRunner(lut, opts.lutPath));
  try {
    if (opts.runner !== undefined) checkLutRunner(lut, runner, opts.lutPath);
    await measureArchsInterleaved(runner, archs, {
      statistic: lut.statistic ?? 'median',
      warmup: opts.warmup,
      runs: opts.runs,
      ...(opts.rounds === undefined ? {} : { rounds: opts.rounds }),
      ...(opts.sweeps === undefined ? {} : { sweeps: opts.sweeps }),
      onSweep: (figures) => sweepFigures.push(figures),
      onProgress: (done, total, measured) => {
        const i = done - 1;
        const p = predicted[i] ?? Number.NaN;
        const spec = archs[i] as ArchSpec;
        const row = { arch: encodeArch(spec), predictedMs: p, measuredMs: measured, error: (p - measured) / measured };
        rows.push(row);
        opts.onProgress?.(done, total, row);
      },
    });
  } finally {
    if (opts.runner === undefined) await runner.close();
  }
  return summarizeValidation(rows, sweepFigures);
}
