// The proxy-training data of one worker (thread or process): loaded at its first candidate and reused by the
// following ones, keyed by everything that shapes the splits. Reading and splitting MNIST per candidate would cost
// seconds of a budget of tens.
import { UsageError } from '../common/errors.js';
import { type LoadedDataset, loadDataset } from '../data/load.js';
import type { InputSpec } from '../data/types.js';
import type { ProxyConfig } from './config.js';

export interface ProxyData {
  readonly dataset: LoadedDataset;
  /** Seconds the load took (0 when it came from the cache). */
  readonly loadSeconds: number;
}

/** What the splits depend on. */
export type ProxyDataKey = Pick<ProxyConfig, 'dataset' | 'dataDir' | 'fit' | 'proxyImages' | 'valImages' | 'dataSeed'> & {
  readonly input: InputSpec;
};

// A space with a resolution choice asks for a few input sizes; each entry holds its own copy of the source bytes
// (MNIST: 55 MB as uint8), so the cache is bounded.
const MAX_ENTRIES = 4;
const cache = new Map<string, Promise<LoadedDataset>>();

function keyOf(k: ProxyDataKey): string {
  return JSON.stringify([k.dataset, k.dataDir, k.input.size, k.input.channels, k.fit, k.proxyImages, k.valImages, k.dataSeed]);
}

async function load(k: ProxyDataKey): Promise<LoadedDataset> {
  const data = await loadDataset(k.dataset, {
    input: k.input,
    dataDir: k.dataDir ?? undefined,
    // MnasNet's protocol: the validation images are held out of the training data; the test split is never touched.
    valSize: k.valImages,
    seed: k.dataSeed,
    limit: { train: k.proxyImages + k.valImages },
    fit: k.fit,
  });
  if (data.train.size < k.proxyImages) {
    throw new UsageError(
      `proxy config 'proxyImages' ${k.proxyImages} is more than the ${data.train.size} ${k.dataset} training images left ` +
        `after holding out valImages ${k.valImages}: lower one of them`,
    );
  }
  return data;
}

/** The dataset for these settings, loaded once per worker. A failed load is not cached (the next call retries). */
export async function proxyData(k: ProxyDataKey): Promise<ProxyData> {
  const key = keyOf(k);
  const hit = cache.get(key);
  if (hit) {
    // Most recently used last, so the oldest entry is the one evicted.
    cache.delete(key);
    cache.set(key, hit);
    return { dataset: await hit, loadSeconds: 0 };
  }
  const t0 = performance.now();
  const p = load(k);
  cache.set(key, p);
  while (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value as string);
  try {
    const dataset = await p;
    return { dataset, loadSeconds: (performance.now() - t0) / 1000 };
  } catch (e) {
    if (cache.get(key) === p) cache.delete(key);
    throw e;
  }
}
