// Batch-norm recalibration: the moving statistics become the mean of the batch statistics over the images seen, the
// weights and the layers' decay are left as they were.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../backend/select.js';
import { buildModel } from '../model/build.js';
import { ConvBn } from '../model/layers.js';
import { recalibrateBatchNorm } from '../netadapt/batchNorm.js';
import { readWeights } from '../netadapt/transfer.js';
import { resolve } from '../space/resolve.js';
import { tinyArch } from './netadapt-helpers.js';
import { blobSplit } from './train-helpers.js';

before(async () => {
  await useBackend('wasm');
});

test('recalibration sets the moving mean to the mean over the images seen and keeps the weights', async () => {
  const spec = tinyArch();
  const model = buildModel(resolve(spec), { seed: 4 });
  const split = blobSplit({ size: 48, classes: 5, imageSize: 16, seed: 2 });
  const weightsBefore = readWeights(model);
  const decay = (model.getLayer('stem') as ConvBn).cfg.bnDecay;

  await recalibrateBatchNorm(model, split, { images: 32, batchSize: 16, seed: 7 });

  // The stem's moving mean: the per-channel mean of its convolution over the 32 images of the first two batches.
  const images: Float32Array[] = [];
  for await (const b of split.batches({ batchSize: 16, shuffle: true, augment: false, seed: 7, epoch: 0, dropLast: false, startBatch: 0 })) {
    images.push(b.images);
    if (images.length === 2) break;
  }
  const want = tf.tidy(() => {
    const x = tf.tensor4d(Float32Array.from(images.flatMap((a) => [...a])), [32, 16, 16, 3]);
    const k = model.getLayer('stem').getWeights()[0] as tf.Tensor4D;
    return tf.mean(tf.conv2d(x, k, 1, [[0, 0], [1, 1], [1, 1], [0, 0]]), [0, 1, 2]).dataSync();
  });
  const after = readWeights(model);
  const got = after.get('stem/moving_mean')?.data ?? new Float32Array();
  assert.equal(got.length, want.length);
  for (let i = 0; i < got.length; i++) assert.ok(Math.abs((got[i] ?? 0) - (want[i] ?? 0)) < 1e-4, `channel ${i}: ${got[i]} vs ${want[i]}`);
  // Not the initial statistics any more, weights untouched, decay restored.
  assert.ok([...got].some((v) => Math.abs(v) > 1e-3));
  for (const [name, w] of weightsBefore) {
    if (!name.includes('moving_')) assert.deepEqual(after.get(name)?.data, w.data, name);
  }
  assert.equal((model.getLayer('stem') as ConvBn).cfg.bnDecay, decay);
  model.dispose();
});
