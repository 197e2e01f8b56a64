// ImageNet-style class folders: train/<class>/**/*.{jpg,jpeg,png,webp} and val/<class>/... (the test split). Images
// are decoded by sharp on libuv threads, at most `concurrency` at a time, resized once to a cache resolution and kept
// in memory (up to a byte budget) so that epochs after the first do not decode again. An unreadable image is skipped
// with a warning and counted.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type Sharp from 'sharp';
import { lazyPackage } from '../common/lazyPackage.js';
import { NasError } from '../common/errors.js';
import { rngFrom } from './augment.js';
import type { AsyncSource } from './batches.js';
import { type DecodeSpec, decodeImage, type RawImage } from './image.js';
import { isDirectory } from './io.js';
import { randomSubset, range } from './split.js';

const sharp = lazyPackage<typeof Sharp>('sharp');

export const IMAGE_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png', '.webp'];
const LAYOUT = 'expected ImageNet-style folders train/<class>/*.jpg and val/<class>/*.jpg (png and webp also read)';

/** Runs at most `limit` async tasks at once. */
class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

interface Shared {
  readonly decode: DecodeSpec;
  readonly limiter: Limiter;
  readonly warn: (message: string) => void;
  cacheBytesLeft: number;
  skipped: number;
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
}

class FolderSource implements AsyncSource {
  readonly kind = 'async';
  readonly files: readonly string[];
  readonly labels: Int32Array;
  private readonly shared: Shared;
  private readonly cache: (RawImage | null | undefined)[];
  private readonly pending = new Map<number, Promise<RawImage | null>>();

  constructor(files: readonly string[], labels: Int32Array, shared: Shared) {
    this.files = files;
    this.labels = labels;
    this.shared = shared;
    this.cache = new Array<RawImage | null | undefined>(files.length);
  }

  get size(): number {
    return this.files.length;
  }

  fetch(ids: Int32Array): Promise<(RawImage | null)[]> {
    return Promise.all(Array.from(ids, (i) => this.get(i)));
  }

  private get(i: number): Promise<RawImage | null> | RawImage | null {
    const hit = this.cache[i];
    if (hit !== undefined) return hit;
    const running = this.pending.get(i);
    if (running) return running;
    const file = this.files[i]!;
    const s = this.shared;
    const p = s.limiter
      .run(() => decodeImage(file, s.decode))
      .then(
        (img) => {
          if (img.data.byteLength <= s.cacheBytesLeft) {
            s.cacheBytesLeft -= img.data.byteLength;
            this.cache[i] = img;
          }
          return img;
        },
        (e: unknown) => {
          s.skipped++;
          s.warn(`skipping unreadable image ${file}: ${firstLine(e)}`);
          this.cache[i] = null;
          return null;
        },
      )
      .finally(() => this.pending.delete(i));
    this.pending.set(i, p);
    return p;
  }
}

/** Image files under dir, recursively, sorted by path. */
function listImages(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (IMAGE_EXTENSIONS.some((ext) => entry.name.toLowerCase().endsWith(ext))) out.push(path);
    }
  };
  walk(dir);
  return out.sort();
}

function classDirs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}

interface Listing {
  files: string[];
  labels: number[];
}

function listSplit(root: string, dir: string, classNames: readonly string[]): Listing {
  const files: string[] = [];
  const labels: number[] = [];
  for (const name of classDirs(dir)) {
    const label = classNames.indexOf(name);
    if (label < 0) throw new NasError('E_IO', `folder: ${join(dir, name)} is not a class of ${join(root, 'train')}; ${LAYOUT}`);
    for (const f of listImages(join(dir, name))) {
      files.push(f);
      labels.push(label);
    }
  }
  return { files, labels };
}

/** Drops the files sharp cannot even identify, warning about each; later decode failures are skipped at batch time. */
async function dropUnreadable(list: Listing, shared: Shared): Promise<Listing> {
  const ok = await Promise.all(
    list.files.map((f) =>
      shared.limiter.run(async () => {
        try {
          const meta = await sharp()(f).metadata();
          if (!meta.width || !meta.height) throw new Error('no image dimensions');
          return true;
        } catch (e) {
          shared.skipped++;
          shared.warn(`skipping unreadable image ${f}: ${firstLine(e)}`);
          return false;
        }
      }),
    ),
  );
  return { files: list.files.filter((_, i) => ok[i]), labels: list.labels.filter((_, i) => ok[i]) };
}

function subset(list: Listing, count: number | undefined, seed: number, split: string): Listing {
  if (count === undefined || count >= list.files.length) return list;
  const keep = randomSubset(range(list.files.length), count, rngFrom(seed, 'limit', split));
  return { files: Array.from(keep, (i) => list.files[i]!), labels: Array.from(keep, (i) => list.labels[i]!) };
}

export interface FolderOptions {
  readonly seed: number;
  readonly decode: DecodeSpec;
  readonly limit?: { readonly train?: number | undefined; readonly test?: number | undefined } | undefined;
  readonly cacheBytes: number;
  readonly concurrency?: number;
  readonly warn: (message: string) => void;
}

export interface FolderDataset {
  readonly dataDir: string;
  readonly classNames: readonly string[];
  readonly train: AsyncSource;
  readonly test: AsyncSource;
  /** Images skipped so far as unreadable (grows if an image fails to decode during an epoch). */
  skipped(): number;
}

export async function loadFolder(dir: string, opts: FolderOptions): Promise<FolderDataset> {
  const trainDir = join(dir, 'train');
  if (!isDirectory(dir)) throw new NasError('E_IO', `folder: directory ${dir} does not exist; ${LAYOUT}`);
  if (!isDirectory(trainDir)) throw new NasError('E_IO', `folder: ${trainDir} does not exist; ${LAYOUT}`);
  const testDir = ['val', 'test'].map((n) => join(dir, n)).find(isDirectory);
  if (!testDir) throw new NasError('E_IO', `folder: neither ${join(dir, 'val')} nor ${join(dir, 'test')} exists; ${LAYOUT}`);
  const classNames = classDirs(trainDir);
  const shared: Shared = {
    decode: opts.decode,
    limiter: new Limiter(opts.concurrency ?? 16),
    warn: opts.warn,
    cacheBytesLeft: opts.cacheBytes,
    skipped: 0,
  };
  const trainList = listSplit(dir, trainDir, classNames);
  if (trainList.files.length === 0) {
    const where = classNames.length === 0 ? `no class folders in ${trainDir}` : `no images in ${trainDir}/<class>/`;
    throw new NasError('E_IO', `folder: ${where}; ${LAYOUT}`);
  }
  const testList = listSplit(dir, testDir, classNames);
  if (testList.files.length === 0) throw new NasError('E_IO', `folder: no images in ${testDir}/<class>/; ${LAYOUT}`);
  const [train, test] = await Promise.all([
    dropUnreadable(subset(trainList, opts.limit?.train, opts.seed, 'train'), shared),
    dropUnreadable(subset(testList, opts.limit?.test, opts.seed, 'test'), shared),
  ]);
  if (train.files.length === 0) throw new NasError('E_IO', `folder: none of the images in ${trainDir} can be read; ${LAYOUT}`);
  return {
    dataDir: dir,
    classNames,
    train: new FolderSource(train.files, Int32Array.from(train.labels), shared),
    test: new FolderSource(test.files, Int32Array.from(test.labels), shared),
    skipped: () => shared.skipped,
  };
}
