// Network latency from a lookup table: the sum of its stem, block and head entries plus a per-network overhead
// calibrated from a few whole-network measurements.
import { NasError } from '../common/errors.js';
import type { ArchSpec } from '../space/arch.js';
import { encodeArch } from '../space/blockString.js';
import { resolve } from '../space/resolve.js';
import { type Lut, lutKeys } from './lut.js';
import { median } from './stats.js';

export interface Prediction {
  readonly predictedMs: number;
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
  for (const k of lutKeys(resolve(spec))) {
    const e = lut.entries[k];
    if (e === undefined) missing.add(k);
    else sum += e.medianMs;
  }
  return { predictedMs: sum, missing: [...missing] };
}

export function predictLatency(lut: Lut, spec: ArchSpec): Prediction {
  const p = entrySum(lut, spec);
  return { predictedMs: p.predictedMs + lut.overheadMs, missing: p.missing };
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
 * overheadMs = median over the measurements of (measured - sum of entries). The median keeps one noisy run from
 * moving it. Throws when an arch has missing entries.
 */
export function calibrate(lut: Lut, measured: readonly { spec: ArchSpec; ms: number }[]): Lut {
  if (measured.length === 0) throw new RangeError('calibrate needs at least one measurement');
  const diffs = measured.map(({ spec, ms }) => {
    const p = entrySum(lut, spec);
    if (p.missing.length > 0) throw missingError(p.missing, encodeArch(spec), lut.input[0]);
    return ms - p.predictedMs;
  });
  return { ...lut, overheadMs: median(diffs) };
}
