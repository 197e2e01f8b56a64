// The proxy evaluator's side of the evaluator seam (search/types.ts EvaluatorChecks), in a module light enough for
// the main process (no tfjs): its settings and dataset files are checked before a run starts, and its expected time
// per candidate gives --eval-timeout's default.
//
// Expected time: the proxy evaluator trains proxyEpochs x proxyImages images and scores valImages (a forward pass,
// about a third of a training step's work). Measured: a large candidate of mnasnet-small-input took 30.6 s for the
// default 8,192 images at 16 px (3.7 ms per image) with two workers on a busy two-core machine, and 112 s alone on
// one much busier (load 14). So the expected time is SECONDS_PER_IMAGE per image at 16 px, scaled by the input's area
// (the space's largest when input is null), times CPU_BACKEND_FACTOR on tfjs's reference cpu backend (it did not
// finish one 512-image candidate in 20 minutes that wasm scored in 5 s).
import { checkDatasetFiles } from '../data/locate.js';
import type { JsonValue } from '../common/json.js';
import type { SearchSpace } from '../space/searchSpace.js';
import { completeProxyJson, parseProxyConfig } from './config.js';

export const SECONDS_PER_IMAGE = 0.004;
export const CPU_BACKEND_FACTOR = 300;

export function checkConfig(config: Readonly<Record<string, JsonValue>>): void {
  const cfg = parseProxyConfig(config);
  checkDatasetFiles(cfg.dataset, cfg.dataDir);
}

/** Every setting named (proxy-train/config.ts completeProxyJson): what a search run stores. */
export function completeConfig(config: Readonly<Record<string, JsonValue>>, legacy: boolean): Record<string, JsonValue> {
  return completeProxyJson(config, legacy);
}

/** The largest input size a space's architectures can have. */
function largestInput(space: SearchSpace): number {
  const size = space.input.size;
  return typeof size === 'number' ? size : Math.max(...size.oneOf);
}

export function expectedSeconds(config: Readonly<Record<string, JsonValue>>, space: SearchSpace): number {
  const cfg = parseProxyConfig(config);
  const images = cfg.proxyEpochs * cfg.proxyImages + cfg.valImages / 3;
  const area = ((cfg.input ?? largestInput(space)) / 16) ** 2;
  return images * SECONDS_PER_IMAGE * area * (cfg.backend === 'cpu' ? CPU_BACKEND_FACTOR : 1);
}
