// Network latency from a lookup table: the sum of its stem, block and head entries plus a per-network overhead
// calibrated from a few whole-network measurements.
import { NasError } from '../common/errors.js';
import type { ArchSpec } from '../space/arch.js';
import { encodeArch } from '../space/blockString.js';
import { resolve } from '../space/resolve.js';
import { type Lut, lutKeys, statOf } from './lut.js';
import { median } from './stats.js';

export interface Prediction {
  readonly predictedMs: number;
  /** Entries of the arch (stem, blocks, head). */
  readonly entries: number;
  /** Keys of the arch that the LUT lacks (each once); predictedMs then counts only the present ones. */
  readonly missing: string[];
}

/** The arch at the LUT's input size, or an error naming both sizes. */
function checkInput(lut: Lut, spec: ArchSpec): void {
  const [h, , c] = lut.input;
  if (spec.input.size !== h || spec.input.channels !== c) {
    throw new NasError(
      'E_USAGE',
      `the LUT is for input ${lut.input.join('x')}, the arch has ${spec.input.size}x${spec.input.size}x${spec.input.channels}`,
    );
  }
}

function entrySum(lut: Lut, spec: ArchSpec): Prediction {
  checkInput(lut, spec);
  let sum = 0;
  const missing = new Set<string>();
  const keys = lutKeys(resolve(spec));
  for (const k of keys) {
    const e = lut.entries[k];
    if (e === undefined) missing.add(k);
    else sum += statOf(e, lut.statistic ?? 'median');
  }
  return { predictedMs: sum, entries: keys.length, missing: [...missing] };
}

/** Sum of the entries times scale, plus perEntryMs for each, plus overheadMs. */
export function predictLatency(lut: Lut, spec: ArchSpec): Prediction {
  const p = entrySum(lut, spec);
  return { ...p, predictedMs: (lut.scale ?? 1) * p.predictedMs + p.entries * (lut.perEntryMs ?? 0) + lut.overheadMs };
}

/** A one-line error for an arch whose entries are not in the LUT, with an example key and the command to measure. */
export function missingError(missing: readonly string[], archRef: string, input: number, lutPath = 'lut.json'): NasError {
  return new NasError(
    'E_USAGE',
    `${missing.length} LUT entr${missing.length === 1 ? 'y is' : 'ies are'} missing for ${archRef} (e.g. ${missing[0] ?? '?'}); ` +
      `measure them with: nas latency lut build --arch ${archRef} --input ${input} --out ${lutPath}`,
  );
}

/** Theil-Sen line through (x, y): the median of pairwise slopes (pairs with equal x skipped), then the median intercept. */
function theilSen(xs: readonly number[], ys: readonly number[]): { slope: number; intercept: number } {
  const slopes: number[] = [];
  for (let i = 0; i < xs.length; i++) {
    for (let j = i + 1; j < xs.length; j++) {
      const dx = (xs[j] as number) - (xs[i] as number);
      if (dx !== 0) slopes.push(((ys[j] as number) - (ys[i] as number)) / dx);
    }
  }
  const slope = slopes.length > 0 ? median(slopes) : 0;
  return { slope, intercept: median(ys.map((y, i) => y - slope * (xs[i] as number))) };
}

/** Spread of the entry sums below which a scale is not fitted (a fraction of their median). */
const SCALE_MIN_SPREAD = 0.1;

/**
 * Fits the whole-network overhead from measured networks, by Theil-Sen (which one noisy measurement cannot drag):
 * - networks of different depths: measured - sum of entries = overheadMs + perEntryMs x entries. An entry timed
 *   alone carries a call's fixed cost (executing the model, reading back) that a layer inside a network does not,
 *   so the residual falls with the number of entries; perEntryMs is that slope.
 * - networks of one depth whose entry sums differ (a network and its narrower variants, as NetAdapt needs):
 *   measured = scale x sum + overheadMs. Inside a network a layer's weights come from memory, not from the cache
 *   they stay in while the entry is timed alone, so narrowing saves more than the entries say: measured here at
 *   32 px, MobileNetV3-Small's narrowest NetAdapt variant took 0.53-0.57 of the seed's time against 0.72-0.78 for
 *   the entry sums.
 * With fewer than 3 networks, or nothing that varies, only the offset is fitted (the median residual).
 * Throws when an arch has missing entries.
 */
export function calibrate(lut: Lut, measured: readonly { spec: ArchSpec; ms: number }[]): Lut {
  if (measured.length === 0) throw new RangeError('calibrate needs at least one measurement');
  const pts = measured.map(({ spec, ms }) => {
    const p = entrySum(lut, spec);
    if (p.missing.length > 0) throw missingError(p.missing, encodeArch(spec), lut.input[0]);
    return { n: p.entries, sum: p.predictedMs, ms };
  });
  const { scale: _scale, perEntryMs: _perEntry, ...rest } = lut;
  const oneDepth = pts.every((p) => p.n === pts[0]?.n);
  const sums = pts.map((p) => p.sum);
  if (pts.length >= 3 && oneDepth && Math.max(...sums) - Math.min(...sums) > SCALE_MIN_SPREAD * median(sums)) {
    const fit = theilSen(sums, pts.map((p) => p.ms));
    if (fit.slope > 0) return { ...rest, overheadMs: fit.intercept, scale: fit.slope };
  }
  if (pts.length >= 3 && !oneDepth) {
    const fit = theilSen(pts.map((p) => p.n), pts.map((p) => p.ms - p.sum));
    return { ...rest, overheadMs: fit.intercept, perEntryMs: fit.slope };
  }
  return { ...rest, overheadMs: median(pts.map((p) => p.ms - p.sum)), perEntryMs: 0 };
}
