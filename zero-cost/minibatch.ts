// NASWOT's minibatch: `batch` training images, a subset seeded by dataSeed (the same for every candidate, so all are
// scored on one batch), prepared for the input size as training prepares evaluation images (no augmentation). A
// worker loads each dataset once: reading Fashion-MNIST's files takes longer than scoring a candidate.
import { UsageError } from '../common/errors.js';
import { loadDataset } from '../data/load.js';
import type { Batch, InputSpec } from '../data/types.js';
import type { ZeroCostConfig } from './config.js';

export type MinibatchKey = Pick<ZeroCostConfig, 'dataset' | 'dataDir' | 'fit' | 'batch' | 'dataSeed'> & { readonly input: InputSpec };

export interface Minibatch {
  readonly batch: Batch;
  readonly classes: number;
}

const MAX_ENTRIES = 4;
const cache = new Map<string, Promise<Minibatch>>();

async function load(k: MinibatchKey): Promise<Minibatch> {
  // No validation split: the batch is drawn from the training images only (limit picks them, seeded).
  const data = await loadDataset(k.dataset, {
    input: k.input,
    dataDir: k.dataDir ?? undefined,
    valSize: 0,
    seed: k.dataSeed,
    limit: { train: k.batch },
    fit: k.fit,
  });
  if (data.train.size < k.batch) {
    throw new UsageError(`zero-cost config 'batch' ${k.batch} is more than the ${data.train.size} ${k.dataset} training images: lower it`);
  }
  for await (const batch of data.train.batches({ batchSize: k.batch, shuffle: false, seed: k.dataSeed, epoch: 0, augment: false })) {
    return { batch, classes: data.classes };
  }
  throw new Error(`zero-cost: ${k.dataset} gave no training batch`);
}

/** The minibatch for these settings, loaded once per worker; a failed load is not cached. */
export function minibatch(k: MinibatchKey): Promise<Minibatch> {
  const key = JSON.stringify([k.dataset, k.dataDir, k.input.size, k.input.channels, k.fit, k.batch, k.dataSeed]);
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const p = load(k);
  cache.set(key, p);
  while (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value ?? key);
  p.catch(() => {
    if (cache.get(key) === p) cache.delete(key);
  });
  return p;
}
