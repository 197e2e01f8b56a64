// The fused ops leak no tensors: repeated forward + backward inside tf.tidy (and forward alone, with results
// disposed) leave tf.memory().numTensors unchanged, on wasm (fused kernels) and cpu (composite).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import '../backend/ops/kernels.js';
import { activation, activationKinds } from '../backend/ops/activation.js';
import { batchNormTrain } from '../backend/ops/batchNorm.js';
import { channelScale, globalAvgPool } from '../backend/ops/squeezeExcite.js';
import { randn, setBackend, type TestBackend } from './ops-helpers.js';

/** A small SE-style block using every op and kind; loss is a weighted sum of its output. */
function block(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D): tf.Scalar {
  const { y, mean, variance } = batchNormTrain(x, gamma, beta, 1e-3);
  let h = y as tf.Tensor4D;
  for (const kind of activationKinds) h = activation(h, kind) as tf.Tensor4D;
  const s = activation(globalAvgPool(h), 'hsigmoid') as tf.Tensor2D;
  const out = channelScale(h, s);
  // The statistics are used (as moving averages would be) but carry no gradient.
  return tf.add(tf.sum(tf.mul(out, out)), tf.mul(tf.sum(tf.add(mean, variance)), 0));
}

for (const backend of ['wasm', 'cpu'] as TestBackend[]) {
  describe(`memory on ${backend}`, () => {
    it('forward + backward in tf.tidy leaves numTensors unchanged', async () => {
      await setBackend(backend);
      const x = tf.tensor4d(randn(2 * 3 * 3 * 10, 1), [2, 3, 3, 10]);
      const gamma = tf.tensor1d(randn(10, 2, 0.1, 1));
      const beta = tf.tensor1d(randn(10, 3, 0.1, 0));
      const step = (): number =>
        tf.tidy(() => {
          const grads = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
            block(a as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D),
          )([x, gamma, beta]);
          return grads.reduce((acc, t) => acc + t.dataSync().length, 0);
        });
      step(); // warm-up: the first call registers kernels and may create backend-level constants
      const before = tf.memory().numTensors;
      for (let i = 0; i < 5; i++) assert.equal(step(), 2 * 3 * 3 * 10 + 20);
      assert.equal(tf.memory().numTensors, before);
      tf.dispose([x, gamma, beta]);
    });

    it('forward without tape: disposing the results frees everything', async () => {
      await setBackend(backend);
      const x = tf.tensor4d(randn(2 * 2 * 2 * 9, 4), [2, 2, 2, 9]);
      const gamma = tf.ones([9]) as tf.Tensor1D;
      const beta = tf.zeros([9]) as tf.Tensor1D;
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) {
        const r = batchNormTrain(x, gamma, beta, 1e-5);
        const a = activation(r.y, 'hswish') as tf.Tensor4D;
        const p = globalAvgPool(a);
        const s = channelScale(a, p);
        tf.dispose([r.y, r.mean, r.variance, a, p, s]);
      }
      assert.equal(tf.memory().numTensors, before);
      // Statistics returned from a tidy survive it; the rest of the tidy's tensors do not.
      const kept = tf.tidy(() => batchNormTrain(x, gamma, beta, 1e-5).mean);
      assert.equal(tf.memory().numTensors, before + 1);
      assert.equal(kept.isDisposed, false);
      kept.dispose();
      assert.equal(tf.memory().numTensors, before);
      tf.dispose([x, gamma, beta]);
    });
  });
}
