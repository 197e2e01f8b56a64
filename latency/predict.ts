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

/** Sum of the entries, plus perEntryMs for each, plus overheadMs. */
export function predictLatency(lut: Lut, spec: ArchSpec): Prediction {
  const p = entrySum(lut, spec);
  return { ...p, predictedMs: p.predictedMs + p.entries * (lut.perEntryMs ?? 0) + lut.overheadMs };
}

/** A one-line error for an arch whose entries are not in the LUT, with an example key and the command to measure. */
export function missingError(missing: readonly string[], archRef: string, input: number, lutPath = 'lut.json'): NasError {
  return new NasError(
    'E_USAGE',
    `${missing.length} LUT entr${missing.length === 1 ? 'y is' : 'ies are'} missing for ${archRef} (e.g. ${missing[0] ?? '?'}); ` +
      `measure them with: nas latency lut build --arch ${archRef} --input ${input} --out ${lutPath}`,
  );
}

/**
 * Fits the whole-network overhead from measured networks: measured - sum of entries = overheadMs + perEntryMs x
 * entries. An entry timed alone carries a call's fixed cost (predict, reading back) that a layer inside a network
 * does not, so the residual falls with the number of entries; perEntryMs is that slope. The fit is Theil-Sen (the
 * median of pairwise slopes, then the median intercept), which one noisy measurement cannot drag; with fewer than 3
 * networks, or all with the same number of entries, only the offset is fitted (the median residual).
 * Throws when an arch has missing entries.
 */
export function calibrate(lut: Lut, measured: readonly { spec: ArchSpec; ms: number }[]): Lut {
  if (measured.length === 0) throw new RangeError('calibrate needs at least one measurement');
  const pts = measured.map(({ spec, ms }) => {
    const p = entrySum(lut, spec);
    if (p.missing.length > 0) throw missingError(p.missing, encodeArch(spec), lut.input[0]);
    return { n: p.entries, r: ms - p.predictedMs };
  });
  const slopes: number[] = [];
  for (let i = 0; i < pts.length; i++) {
    for (let j = i + 1; j < pts.length; j++) {
      const a = pts[i]!;
      const b = pts[j]!;
      if (a.n !== b.n) slopes.push((b.r - a.r) / (b.n - a.n));
    }
  }
  const perEntryMs = pts.length >= 3 && slopes.length > 0 ? median(slopes) : 0;
  const overheadMs = median(pts.map((p) => p.r - perEntryMs * p.n));
  return { ...lut, overheadMs, perEntryMs };
}
