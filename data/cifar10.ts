// CIFAR-10 binary version: data_batch_1..5.bin (training) and test_batch.bin, each a run of 3073-byte records (label,
// then 1024 red, 1024 green, 1024 blue bytes of a 32x32 image), optionally gzipped; batches.meta.txt names the classes.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { NasError } from '../common/errors.js';
import type { MemorySource } from './batches.js';
import { chwImage } from './image.js';
import { findMaybeGz, isDirectory, readMaybeGz } from './io.js';

export const CIFAR10_CLASSES: readonly string[] = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
];
export const CIFAR_RECORD_BYTES = 3073;
export const CIFAR_TRAIN_FILES: readonly string[] = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
export const CIFAR_TEST_FILE = 'test_batch.bin';
export const CIFAR_SUBDIR = 'cifar-10-batches-bin';

/** Where downloaded datasets live unless told otherwise: $NAS_DATA_DIR or ~/.cache/nas/datasets. */
export function defaultDataRoot(): string {
  return process.env['NAS_DATA_DIR'] ?? join(homedir(), '.cache', 'nas', 'datasets');
}

export function defaultCifar10Dir(): string {
  return join(defaultDataRoot(), 'cifar10');
}

const HINT = 'fetch it with `nas data download cifar10` (or pass --data-dir with the official binary batches)';

/** The record count and labels of a CIFAR binary batch, checked for whole records and labels in range. */
export function parseCifarBatch(bytes: Uint8Array, path: string, classes = 10): { count: number; labels: Int32Array } {
  if (bytes.length === 0 || bytes.length % CIFAR_RECORD_BYTES !== 0) {
    const whole = Math.floor(bytes.length / CIFAR_RECORD_BYTES);
    throw new NasError(
      'E_IO',
      `cifar10: ${path} is truncated or corrupt: ${bytes.length} bytes is not a whole number of ${CIFAR_RECORD_BYTES}-byte records ` +
        `(${whole} records and ${bytes.length - whole * CIFAR_RECORD_BYTES} bytes over; an official batch has 10000 = 30730000 bytes); ${HINT}`,
    );
  }
  const count = bytes.length / CIFAR_RECORD_BYTES;
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const l = bytes[i * CIFAR_RECORD_BYTES]!;
    if (l >= classes) throw new NasError('E_IO', `cifar10: ${path} is corrupt: record ${i} has label ${l}, not a class 0..${classes - 1}; ${HINT}`);
    labels[i] = l;
  }
  return { count, labels };
}

/** The directory holding the batches: dir itself or its cifar-10-batches-bin/ (as the archive unpacks). */
export function resolveCifarDir(dir: string): string {
  if (!isDirectory(dir)) throw new NasError('E_IO', `cifar10: directory ${dir} does not exist; ${HINT}`);
  const sub = join(dir, CIFAR_SUBDIR);
  if (!findMaybeGz(dir, CIFAR_TEST_FILE) && isDirectory(sub)) return sub;
  return dir;
}

async function readSource(paths: readonly string[]): Promise<MemorySource> {
  const parts = await Promise.all(paths.map((p) => readMaybeGz(p, 'cifar10', HINT)));
  const perFile = parts.map((bytes, i) => parseCifarBatch(bytes, paths[i]!).labels);
  const labels = new Int32Array(perFile.reduce((n, l) => n + l.length, 0));
  perFile.reduce((at, l) => (labels.set(l, at), at + l.length), 0);
  const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  return {
    kind: 'memory',
    size: labels.length,
    labels,
    image: (i) => chwImage(data, 32, 32, 3, i * CIFAR_RECORD_BYTES + 1),
  };
}

export interface CifarDataset {
  readonly dataDir: string;
  readonly classNames: readonly string[];
  readonly train: MemorySource;
  readonly test: MemorySource;
}

export async function loadCifar10(dataDir?: string): Promise<CifarDataset> {
  const dir = resolveCifarDir(dataDir ?? defaultCifar10Dir());
  const names = [...CIFAR_TRAIN_FILES, CIFAR_TEST_FILE];
  const paths = names.map((n) => findMaybeGz(dir, n));
  const missing = names.filter((_, i) => !paths[i]);
  if (missing.length > 0) throw new NasError('E_IO', `cifar10: ${missing.join(', ')} (or .gz) not found in ${dir}; ${HINT}`);
  const found = paths as string[];
  const [train, test] = await Promise.all([readSource(found.slice(0, 5)), readSource(found.slice(5))]);
  const meta = join(dir, 'batches.meta.txt');
  let classNames = CIFAR10_CLASSES;
  if (existsSync(meta)) {
    const names = readFileSync(meta, 'utf8')
      .split('\n')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    if (names.length === 10) classNames = names;
  }
  return { dataDir: dir, classNames, train, test };
}
