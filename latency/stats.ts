// Summary statistics of latency samples, and the rank correlation used to validate predicted latencies.

function checkNonEmpty(xs: readonly number[], what: string): void {
  if (xs.length === 0) throw new RangeError(`${what} of an empty sample`);
}

function sorted(xs: readonly number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}

/** Quantile q in [0, 1] with linear interpolation between order statistics (R type 7, numpy's default). */
export function quantile(xs: readonly number[], q: number): number {
  checkNonEmpty(xs, 'quantile');
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be in [0, 1], got ${q}`);
  const s = sorted(xs);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = s[lo] ?? Number.NaN;
  const b = s[hi] ?? Number.NaN;
  return a + (b - a) * (pos - lo);
}

export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

export function mean(xs: readonly number[]): number {
  checkNonEmpty(xs, 'mean');
  let sum = 0;
  for (const x of xs) sum += x;
  return sum / xs.length;
}

/** Interquartile range: Q3 - Q1. */
export function iqr(xs: readonly number[]): number {
  return quantile(xs, 0.75) - quantile(xs, 0.25);
}

/** Median absolute deviation from the median, unscaled (multiply by 1.4826 for a normal sigma estimate). */
export function mad(xs: readonly number[]): number {
  const m = median(xs);
  return median(xs.map((x) => Math.abs(x - m)));
}

// The rank correlation lives in common/ (proxy fidelity uses it too); re-exported for latency's callers.
export { kendallTau } from '../common/rankCorrelation.js';

export interface SampleSummary {
  readonly medianMs: number;
  /** The 10th percentile: on a machine shared with other work, the robust estimate of the uncontended time. */
  readonly p10Ms: number;
  readonly meanMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly iqrMs: number;
  readonly madMs: number;
}

export function summarize(samplesMs: readonly number[]): SampleSummary {
  checkNonEmpty(samplesMs, 'summary');
  return {
    medianMs: median(samplesMs),
    p10Ms: quantile(samplesMs, 0.1),
    meanMs: mean(samplesMs),
    minMs: Math.min(...samplesMs),
    maxMs: Math.max(...samplesMs),
    iqrMs: iqr(samplesMs),
    madMs: mad(samplesMs),
  };
}

/** A summary with the samples it summarises. */
export interface LatencyStats extends SampleSummary {
  readonly runs: number;
  readonly samplesMs: readonly number[];
}

/** Stats of each list of samples. */
export function statsOf(samples: readonly (readonly number[])[]): LatencyStats[] {
  return samples.map((xs) => ({ ...summarize(xs), runs: xs.length, samplesMs: [...xs] }));
}
