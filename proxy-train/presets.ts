// Named proxy settings that depend on the data: what `nas bench pipeline --proxy` and `nas bench proxy-fidelity
// --settings` call `final-epoch`.
import { UsageError } from '../common/errors.js';
import type { JsonObject } from '../common/json.js';
import type { DatasetName } from '../data/load.js';

/** Training images of the built-in 10-class datasets. */
const TRAIN_IMAGES: Readonly<Record<Exclude<DatasetName, 'folder'>, number>> = { mnist: 60000, 'fashion-mnist': 60000, cifar10: 50000 };

/** Validation images the proxy holds out of the training data (the evaluator's default). */
const VAL_IMAGES = 2000;

export const FINAL_EPOCH = 'final-epoch';

/**
 * One epoch of a final training recipe at the networks' own 32 px, on every training image not held out. It told
 * apart networks that every cheaper setting ranked within noise (docs/PIPELINE.md "Results"); Ru et al. (2021) find
 * that short training at full fidelity ranks better than cheaper early stopping.
 */
export function finalEpochProxy(dataset: DatasetName, recipe: string): JsonObject {
  if (dataset === 'folder') throw new UsageError(`proxy setting ${FINAL_EPOCH} is for the built-in datasets; for --data folder give the settings as JSON`);
  return { input: 32, recipe, proxyEpochs: 1, proxyImages: TRAIN_IMAGES[dataset] - VAL_IMAGES, valImages: VAL_IMAGES };
}
