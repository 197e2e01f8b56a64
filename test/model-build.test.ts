// The builder: layer names from block paths, serialisation round trip, both padding conventions, and the batch-norm
// settings (decay 0.99, eps 1e-3) of MobileNetV3.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../backend/select.js';
import { buildModel } from '../model/build.js';
import { ConvBn } from '../model/layers.js';
import { referenceArch } from '../space/reference.js';
import { resolve } from '../space/resolve.js';

const small32 = resolve({ ...referenceArch('mobilenetv3-small'), input: { size: 32, channels: 3 }, classes: 10 });

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] ?? Number.NaN);
}

describe('model builder', () => {
  before(async () => {
    await useBackend('wasm');
  });

  it('names layers and weights after block paths', () => {
    const model = buildModel(small32);
    const names = model.layers.map((l) => l.name);
    for (const n of ['stem', 's0.b0.dw', 's0.b0.se', 's0.b0.project', 's1.b0.expand', 's1.b1.add', 'head.conv', 'head.hidden', 'head.classifier']) {
      assert.ok(names.includes(n), `missing layer ${n}`);
    }
    const weightNames = model.getLayer('s1.b0.expand').weights.map((w) => w.originalName);
    assert.deepEqual(weightNames, [
      's1.b0.expand/kernel', 's1.b0.expand/gamma', 's1.b0.expand/beta', 's1.b0.expand/moving_mean', 's1.b0.expand/moving_variance',
    ]);
    model.dispose();
  });

  it('serialises to a LayersModel that loads back with the same outputs', async () => {
    const model = buildModel(small32, { seed: 5 });
    let saved: tf.io.ModelArtifacts | null = null;
    await model.save(tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    assert.ok(saved);
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved));
    const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 1);
    const a = model.predict(x) as tf.Tensor;
    const b = loaded.predict(x) as tf.Tensor;
    assert.equal(maxAbsDiff(a, b), 0);
    tf.dispose([x, a, b]);
    model.dispose();
    loaded.dispose();
  });

  for (const padding of ['symmetric', 'same'] as const) {
    it(`pads as ${padding === 'same' ? "TF 'same'" : 'PyTorch k//2'} with padding '${padding}'`, () => {
      const layer = new ConvBn({
        name: `pad-${padding}`, filters: 4, kernelSize: 3, strides: 2, depthwise: false, padding,
        activation: 'linear', bnDecay: 0.99, bnEps: 1e-3, seed: 1,
      });
      const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 2);
      const y = layer.apply(x) as tf.Tensor;
      const w = layer.getWeights()[0] as tf.Tensor4D;
      const pad = padding === 'same' ? 'same' : ([[0, 0], [1, 1], [1, 1], [0, 0]] as tf.backend_util.ExplicitPadding);
      const ref = tf.tidy(() => tf.div(tf.conv2d(x as tf.Tensor4D, w, 2, pad), Math.sqrt(1 + 1e-3)));
      assert.deepEqual(y.shape, [2, 4, 4, 4]);
      assert.ok(maxAbsDiff(y, ref) < 1e-5);
      // The two conventions differ for stride 2 on even inputs (TF pads only bottom/right).
      const other = tf.conv2d(x as tf.Tensor4D, w, 2, padding === 'same' ? [[0, 0], [1, 1], [1, 1], [0, 0]] : 'same');
      assert.ok(maxAbsDiff(y, other) > 1e-3);
      tf.dispose([x, y, ref, other]);
      layer.dispose();
    });
  }

  it('updates batch-norm moving statistics with decay 0.99 and the unbiased batch variance', () => {
    const layer = new ConvBn({
      name: 'bn-stats', filters: 3, kernelSize: 1, strides: 1, depthwise: false, padding: 'symmetric',
      activation: 'linear', bnDecay: 0.99, bnEps: 1e-3, seed: 1,
    });
    const x = tf.randomNormal([4, 3, 3, 2], 1, 2, 'float32', 3);
    layer.apply(x); // build
    const conv = tf.conv2d(x as tf.Tensor4D, layer.getWeights()[0] as tf.Tensor4D, 1, 'valid');
    const { mean, variance } = tf.moments(conv, [0, 1, 2]);
    const n = conv.size / 3;
    tf.dispose(layer.apply(x, { training: true }) as tf.Tensor);
    const [, , , movingMean, movingVar] = layer.getWeights() as tf.Tensor[];
    assert.ok(movingMean && movingVar);
    const expectMean = tf.mul(mean, 0.01);
    const expectVar = tf.add(0.99, tf.mul(variance, 0.01 * (n / (n - 1))));
    assert.ok(maxAbsDiff(movingMean, expectMean) < 1e-5);
    assert.ok(maxAbsDiff(movingVar, expectVar) < 1e-5);
    tf.dispose([x, conv, mean, variance, expectMean, expectVar]);
    layer.dispose();
  });
});
