import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import type { ImageSplit } from '../data/batches.js';
import { type LoadedDataset, loadDataset } from '../data/load.js';
import { IMAGENET_STATS } from '../data/normalize.js';
import { preprocessImageFile } from '../data/transform.js';
import type { BatchOptions } from '../data/types.js';
import { collect, concatLabels, rejectsWith, tempDir } from './data-helpers.js';

const tmp = tempDir('folder');
after(tmp.cleanup);
const root = join(tmp.dir, 'pets');
const classes = ['cat', 'dog', 'fish'];

/** A w x h RGB image whose colours depend on (seed, position). */
function pixels(w: number, h: number, seed: number): Buffer {
  const px = Buffer.alloc(w * h * 3);
  for (let i = 0; i < px.length; i++) px[i] = (seed * 40 + (i % (w * 3)) * 2 + Math.floor(i / (w * 3)) * 3) % 256;
  return px;
}

async function writeImage(path: string, w: number, h: number, seed: number, format: 'png' | 'jpeg' | 'webp'): Promise<void> {
  await sharp(pixels(w, h, seed), { raw: { width: w, height: h, channels: 3 } }).toFormat(format).toFile(path);
}

const warnings: string[] = [];
let ds: LoadedDataset;
const opts = (o: Partial<BatchOptions> = {}): BatchOptions => ({ batchSize: 4, shuffle: true, seed: 1, epoch: 0, augment: true, ...o });
const load = (dir: string, extra: { smallImages?: boolean } = {}): Promise<LoadedDataset> =>
  loadDataset('folder', { input: { size: 32, channels: 3 }, seed: 1, dataDir: dir, valSize: 3, warn: (m) => warnings.push(m), ...extra });

before(async () => {
  const jobs: Promise<void>[] = [];
  classes.forEach((c, k) => {
    mkdirSync(join(root, 'train', c), { recursive: true });
    mkdirSync(join(root, 'val', c), { recursive: true });
    for (let i = 0; i < 6; i++) {
      const format = (['png', 'jpeg', 'webp'] as const)[i % 3]!;
      jobs.push(writeImage(join(root, 'train', c, `${i}.${format === 'jpeg' ? 'jpg' : format}`), 40 + i * 4, 30 + k * 6, k * 6 + i, format));
    }
    for (let i = 0; i < 2; i++) jobs.push(writeImage(join(root, 'val', c, `v${i}.png`), 36, 48, 20 + k * 2 + i, 'png'));
  });
  await Promise.all(jobs);
  // Two bad files among the good: garbage (caught when listing) and a PNG cut in half (caught when decoded).
  writeFileSync(join(root, 'train', 'cat', 'garbage.png'), 'this is not an image');
  const good = readFileSync(join(root, 'train', 'dog', '0.png'));
  writeFileSync(join(root, 'train', 'dog', 'cut.png'), good.subarray(0, Math.floor(good.length / 2)));
  ds = await load(root);
});

test('a folder dataset has sorted class names, val held out of train/, and val/ as the test split', () => {
  assert.deepEqual(ds.classNames, classes);
  assert.equal(ds.classes, 3);
  assert.deepEqual(ds.preprocessing.stats, IMAGENET_STATS);
  // 18 good images + the cut PNG; the garbage file is skipped when listing.
  assert.deepEqual([ds.train.size, ds.val.size, ds.test.size], [16, 3, 6]);
  const train = new Set((ds.train as ImageSplit).indices);
  assert.ok((ds.val as ImageSplit).indices.every((i) => !train.has(i)));
  assert.deepEqual([...(ds.val as ImageSplit).labels()].sort(), [0, 1, 2], 'stratified: one of each class');
});

test('unreadable images are skipped with a warning and counted', async () => {
  assert.equal(ds.skipped, 1);
  assert.ok(warnings.some((w) => w.includes('garbage.png')));
  const all = [...(await collect(ds.train, opts())), ...(await collect(ds.val, opts()))];
  assert.equal(all.reduce((n, b) => n + b.count, 0), 18);
  assert.equal(ds.skipped, 2);
  assert.ok(warnings.some((w) => w.includes('cut.png')));
  for (const b of all) {
    assert.equal(b.images.length, b.count * 32 * 32 * 3);
    assert.equal(b.labels.length, b.count);
  }
});

test('evaluation batches equal preprocessImageFile (the prediction path): shorter side to 36, centre crop 32', async () => {
  const batches = await collect(ds.test, opts({ shuffle: false, augment: false, batchSize: 6 }));
  const b = batches[0]!;
  assert.deepEqual(Array.from(b.labels), [0, 0, 1, 1, 2, 2]);
  const per = 32 * 32 * 3;
  const expected = await preprocessImageFile(join(root, 'val', 'dog', 'v1.png'), ds.preprocessing);
  assert.deepEqual(b.images.subarray(3 * per, 4 * per), expected);
});

test('training batches are augmented, seeded by (seed, epoch, batch), and differ from evaluation', async () => {
  const a = await collect(ds.train, opts({ epoch: 2 }));
  assert.deepEqual(await collect(ds.train, opts({ epoch: 2 })), a);
  assert.deepEqual(await collect(ds.train, opts({ epoch: 2, startBatch: 2 })), a.slice(2));
  const plain = await collect(ds.train, opts({ epoch: 2, augment: false }));
  assert.deepEqual(concatLabels(plain), concatLabels(a));
  assert.notDeepEqual(plain[0]!.images, a[0]!.images);
  assert.notDeepEqual(concatLabels(await collect(ds.train, opts({ epoch: 3 }))), concatLabels(a));
});

test('decoded images are cached: a second epoch does not read the files again', async () => {
  const copy = join(tmp.dir, 'copy');
  mkdirSync(copy);
  for (const split of ['train', 'val']) {
    for (const c of classes) {
      mkdirSync(join(copy, split, c), { recursive: true });
      writeFileSync(join(copy, split, c, 'a.png'), readFileSync(join(root, split, c, split === 'train' ? '0.png' : 'v0.png')));
      if (split === 'train') writeFileSync(join(copy, split, c, 'b.jpg'), readFileSync(join(root, split, c, '1.jpg')));
    }
  }
  const d = await loadDataset('folder', { input: { size: 32, channels: 3 }, seed: 1, dataDir: copy, valSize: 1 });
  const first = await collect(d.train, opts({ augment: false }));
  rmSync(join(copy, 'train'), { recursive: true });
  const second = await collect(d.train, opts({ augment: false }));
  assert.deepEqual(second, first);
  assert.equal(d.skipped, 0);
});

test('smallImages uses cover-cropped squares and pad-crop augmentation; one channel is luma', async () => {
  const d = await loadDataset('folder', { input: { size: 24, channels: 1 }, seed: 1, dataDir: root, smallImages: true, limit: { train: 8, test: 3 }, warn: () => undefined });
  assert.equal(d.preprocessing.transform.kind, 'small');
  assert.deepEqual(d.preprocessing.decode, { kind: 'cover', size: 24 });
  const [b] = await collect(d.test, opts({ augment: false, shuffle: false }));
  assert.deepEqual([b!.count, b!.height, b!.width, b!.channels], [3, 24, 24, 1]);
});

test('a folder without images, without train/ or without val/ is a one-line E_IO error', async () => {
  const empty = join(tmp.dir, 'empty');
  mkdirSync(join(empty, 'train', 'a'), { recursive: true });
  mkdirSync(join(empty, 'val', 'a'), { recursive: true });
  writeFileSync(join(empty, 'train', 'a', 'notes.txt'), 'no images here');
  await rejectsWith(() => load(empty), 'E_IO', join(empty, 'train'), 'no images', 'train/<class>/*.jpg');
  const noTrain = join(tmp.dir, 'notrain');
  mkdirSync(noTrain);
  await rejectsWith(() => load(noTrain), 'E_IO', join(noTrain, 'train'));
  const noVal = join(tmp.dir, 'noval');
  mkdirSync(join(noVal, 'train', 'a'), { recursive: true });
  await rejectsWith(() => load(noVal), 'E_IO', join(noVal, 'val'));
  await rejectsWith(() => load(join(tmp.dir, 'missing')), 'E_IO', 'does not exist');
});
