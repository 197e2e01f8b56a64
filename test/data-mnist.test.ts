import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { ImageSplit } from '../data/batches.js';
import { FASHION_MNIST_CLASSES, FASHION_MNIST_DIR, mnistDataDir } from '../data/mnist.js';
import { type LoadedDataset, loadDataset } from '../data/load.js';
import { preprocessImage } from '../data/transform.js';
import type { BatchOptions } from '../data/types.js';
import { collect, concatLabels, idxBytes, rejectsWith, tempDir } from './data-helpers.js';

const tmp = tempDir('mnist');
after(tmp.cleanup);

let full: LoadedDataset;
let small: LoadedDataset;
before(async () => {
  full = await loadDataset('mnist', { input: { size: 28, channels: 1 }, seed: 7 });
  small = await loadDataset('mnist', { input: { size: 32, channels: 3 }, seed: 7, limit: { train: 600, test: 200 } });
});

const opts = (o: Partial<BatchOptions> = {}): BatchOptions => ({ batchSize: 64, shuffle: true, seed: 7, epoch: 0, augment: true, ...o });
const idsOf = (s: unknown): Int32Array => (s as ImageSplit).indices;

test('mnist has 55,000 train, 5,000 val (held out of train) and 10,000 test images of 10 classes', () => {
  assert.equal(full.classes, 10);
  assert.deepEqual([full.train.size, full.val.size, full.test.size], [55000, 5000, 10000]);
  assert.equal(full.dataDir, mnistDataDir());
  const train = new Set(idsOf(full.train));
  assert.ok(idsOf(full.val).every((i) => !train.has(i)), 'val is disjoint from train');
  assert.equal(train.size + new Set(idsOf(full.val)).size, 60000);
});

test('the validation hold-out is stratified and depends on the seed only', async () => {
  const counts = new Array<number>(10).fill(0);
  for (const l of (full.val as ImageSplit).labels()) counts[l]!++;
  // MNIST classes hold 9.0% to 11.2% of the training set; stratified gives each class its share of 5,000.
  for (const c of counts) assert.ok(c > 430 && c < 580, `class count ${c}`);
  const again = await loadDataset('mnist', { input: { size: 32, channels: 3 }, seed: 7 });
  assert.deepEqual(idsOf(again.val), idsOf(full.val));
  const other = await loadDataset('mnist', { input: { size: 28, channels: 1 }, seed: 8 });
  assert.notDeepEqual(idsOf(other.val), idsOf(full.val));
});

test('limit takes seeded subsets; val is 1/12 of the limited pool; labels are in 0..9', async () => {
  assert.deepEqual([small.train.size, small.val.size, small.test.size], [550, 50, 200]);
  const batches = await collect(small.train, opts());
  assert.equal(batches.length, Math.ceil(550 / 64));
  assert.equal(batches.at(-1)!.count, 550 % 64);
  const labels = concatLabels(batches);
  assert.ok(labels.every((l) => Number.isInteger(l) && l >= 0 && l < 10));
  assert.equal(new Set(labels).size, 10);
  assert.equal((await collect(small.train, opts({ dropLast: true }))).length, Math.floor(550 / 64));
});

test('batches are NHWC float32 at the model input size and channels; grey is repeated into 3 channels', async () => {
  const [b] = await collect(small.test, opts({ augment: false, shuffle: false }));
  assert.ok(b);
  assert.deepEqual([b.count, b.height, b.width, b.channels], [64, 32, 32, 3]);
  assert.ok(b.images instanceof Float32Array && b.labels instanceof Int32Array);
  assert.equal(b.images.length, 64 * 32 * 32 * 3);
  for (let p = 0; p < b.images.length; p += 3) {
    assert.equal(b.images[p], b.images[p + 1]);
    assert.equal(b.images[p], b.images[p + 2]);
  }
});

test('the same seed and epoch give the same batches; another epoch gives another order', async () => {
  const a = await collect(small.train, opts());
  const b = await collect(small.train, opts());
  assert.deepEqual(a, b);
  const c = await collect(small.train, opts({ epoch: 1 }));
  assert.notDeepEqual(concatLabels(c), concatLabels(a));
  assert.deepEqual([...concatLabels(c)].sort(), [...concatLabels(a)].sort());
});

test('startBatch resumes an epoch with exactly the remaining batches', async () => {
  const whole = await collect(small.train, opts({ epoch: 3 }));
  const tail = await collect(small.train, opts({ epoch: 3, startBatch: 5 }));
  assert.deepEqual(tail, whole.slice(5));
  assert.deepEqual(await collect(small.train, opts({ startBatch: whole.length })), []);
  await rejectsWith(() => collect(small.train, opts({ startBatch: whole.length + 1 })), 'E_USAGE', 'startBatch');
});

test('augmentation changes training batches; evaluation batches are the same every epoch', async () => {
  const aug = await collect(small.val, opts({ shuffle: false }));
  const plain = await collect(small.val, opts({ shuffle: false, augment: false }));
  assert.deepEqual(concatLabels(aug), concatLabels(plain));
  assert.notDeepEqual(aug[0]!.images, plain[0]!.images);
  assert.deepEqual(await collect(small.val, opts({ shuffle: false, augment: false, epoch: 5 })), plain);
  assert.equal(small.preprocessing.transform.kind === 'small' && small.preprocessing.transform.flip, false, 'digits are not flipped');
});

test('eval batches equal preprocessImage of the raw image (the prediction path)', async () => {
  const [b] = await collect(small.test, opts({ augment: false, shuffle: false, batchSize: 2 }));
  const split = small.test as ImageSplit;
  const raw = (split as unknown as { source: { image(i: number): { data: Uint8Array; offset: number } } }).source.image(split.indices[1]!);
  const pixels = raw.data.subarray(raw.offset, raw.offset + 784);
  const per = 32 * 32 * 3;
  assert.deepEqual(b!.images.subarray(per, 2 * per), preprocessImage(pixels, 28, 28, 1, small.preprocessing));
});

test('normalised real MNIST has mean about 0 and std about 1', async () => {
  const ds = await loadDataset('mnist', { input: { size: 28, channels: 1 }, seed: 1, limit: { train: 3000 } });
  let n = 0;
  let sum = 0;
  let sq = 0;
  for await (const b of ds.train.batches(opts({ augment: false, batchSize: 256 }))) {
    for (const v of b.images) {
      sum += v;
      sq += v * v;
    }
    n += b.images.length;
  }
  const mean = sum / n;
  const std = Math.sqrt(sq / n - mean * mean);
  assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`);
  assert.ok(Math.abs(std - 1) < 0.03, `std ${std}`);
});

test('truncated or corrupt IDX files are one-line E_IO errors naming the file', async () => {
  const dir = join(tmp.dir, 'idx');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dir);
  const images = idxBytes([3, 28, 28], new Uint8Array(3 * 784));
  const labels = idxBytes([3], Uint8Array.from([1, 2, 3]));
  for (const p of ['train', 't10k']) {
    writeFileSync(join(dir, `${p}-images-idx3-ubyte`), images);
    writeFileSync(join(dir, `${p}-labels-idx1-ubyte.gz`), gzipSync(labels));
  }
  const ok = await loadDataset('mnist', { input: { size: 28, channels: 1 }, seed: 1, dataDir: dir, valSize: 1 });
  assert.deepEqual([ok.train.size, ok.val.size, ok.test.size], [2, 1, 3]);
  writeFileSync(join(dir, 'train-images-idx3-ubyte'), images.subarray(0, images.length - 1));
  await rejectsWith(() => loadDataset('mnist', { input: { size: 28, channels: 1 }, seed: 1, dataDir: dir }), 'E_IO', 'train-images-idx3-ubyte', 'truncated', '2368 bytes');
  writeFileSync(join(dir, 'train-images-idx3-ubyte'), images);
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), gzipSync(labels).subarray(0, 20));
  await rejectsWith(() => loadDataset('fashion-mnist', { input: { size: 28, channels: 1 }, seed: 1, dataDir: dir }), 'E_IO', 't10k-labels-idx1-ubyte.gz', 'gzip', 'apt-get install dataset-fashion-mnist');
});

test('a missing directory, an unknown dataset and bad options are one-line errors saying what to do', async () => {
  const input = { size: 28, channels: 1 };
  await rejectsWith(() => loadDataset('fashion-mnist', { input, seed: 1, dataDir: join(tmp.dir, 'nope') }), 'E_IO', join(tmp.dir, 'nope'), 'apt-get install dataset-fashion-mnist');
  await rejectsWith(() => loadDataset('fashion-mnist', { input, seed: 1, dataDir: tmp.dir }), 'E_IO', 'train-images-idx3-ubyte', tmp.dir);
  await rejectsWith(() => loadDataset('imagenet', { input, seed: 1 }), 'E_USAGE', "'imagenet'", 'mnist, fashion-mnist, cifar10, folder');
  await rejectsWith(() => loadDataset('mnist', { input: { size: 28, channels: 2 }, seed: 1 }), 'E_USAGE', 'channels');
  await rejectsWith(() => loadDataset('mnist', { input, seed: 1, valSize: 60000 }), 'E_USAGE', 'val-size');
  await rejectsWith(() => loadDataset('folder', { input, seed: 1 }), 'E_USAGE', '--data-dir');
});

test('fashion-mnist reads the gzipped IDX files of the Debian package', { skip: existsSync(FASHION_MNIST_DIR) ? false : `${FASHION_MNIST_DIR} is absent (apt-get install dataset-fashion-mnist)` }, async () => {
  const ds = await loadDataset('fashion-mnist', { input: { size: 32, channels: 1 }, seed: 3, limit: { test: 300 } });
  assert.deepEqual([ds.train.size, ds.val.size, ds.test.size], [55000, 5000, 300]);
  assert.deepEqual(ds.classNames, FASHION_MNIST_CLASSES);
  assert.equal(ds.preprocessing.transform.kind === 'small' && ds.preprocessing.transform.flip, true);
  const batches = await collect(ds.test, opts({ augment: false, shuffle: false, batchSize: 100 }));
  assert.equal(concatLabels(batches).length, 300);
  let sum = 0;
  for (const b of batches) for (const v of b.images) sum += v;
  assert.ok(Math.abs(sum / (300 * 32 * 32)) < 0.1, `normalised mean ${sum / (300 * 32 * 32)}`);
});
