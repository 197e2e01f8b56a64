// The zero-cost evaluators' side of the evaluator seam (search/types.ts EvaluatorChecks), light enough for the main
// process (no tfjs): settings and dataset files are checked before a run starts; the expected time per candidate
// gives --eval-timeout's default (whose floor, 10 minutes, is far above it anyway).
//
// Expected time: measured at 32 px (mnasnet-small-input samples, MobileNetV3-Small widths), a candidate took 0.3 to
// 2.1 s for NASWOT (batch 64; 4.2 s for a process's first network, a warm-up) and 0.12 to 1.4 s for synflow on a
// two-core machine under a load of 5 to 7 (bench/zero-cost.ts); SECONDS_AT_32 is the upper end, scaled by the
// input's area, and CPU_BACKEND_FACTOR on tfjs's reference cpu backend.
import type { JsonValue } from '../common/json.js';
import { checkDatasetFiles } from '../data/locate.js';
import type { SearchSpace } from '../space/searchSpace.js';
import { parseZeroCostConfig } from './config.js';

export const SECONDS_AT_32 = 5;
export const CPU_BACKEND_FACTOR = 30;

export function checkConfig(config: Readonly<Record<string, JsonValue>>): void {
  const cfg = parseZeroCostConfig(config);
  checkDatasetFiles(cfg.dataset, cfg.dataDir);
}

export function expectedSeconds(config: Readonly<Record<string, JsonValue>>, space: SearchSpace): number {
  const cfg = parseZeroCostConfig(config);
  const size = space.input.size;
  const input = cfg.input ?? (typeof size === 'number' ? size : Math.max(...size.oneOf));
  return SECONDS_AT_32 * (input / 32) ** 2 * (cfg.backend === 'cpu' ? CPU_BACKEND_FACTOR : 1);
}
