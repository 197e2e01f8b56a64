// The inference form: the fused inference ops (native kernels on wasm) against their composite path, and a folded
// model (batch norm in the convolutions) against the model it came from, on wasm and on the cpu backend.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../backend/select.js';
import { type InferenceActivation, convBiasAct, denseBiasAct, squeezeExciteInfer } from '../backend/ops/inference.js';
import { setFusedOpsEnabled } from '../backend/ops/kernels.js';
import { buildModel } from '../model/build.js';
import { foldModel } from '../model/fold.js';
import { ConvBn } from '../model/layers.js';
import { referenceArch } from '../space/reference.js';
import { resolve } from '../space/resolve.js';
import { assertClose, randn, uniform } from './ops-helpers.js';

function t(shape: number[], seed: number, scale = 1): tf.Tensor {
  return tf.tensor(randn(shape.reduce((a, b) => a * b, 1), seed, scale), shape);
}

/** The op's output with the native kernels and with the composite path, on wasm. */
function bothPaths(f: () => tf.Tensor): [Float32Array, Float32Array] {
  const fused = tf.tidy(() => f().dataSync() as Float32Array);
  setFusedOpsEnabled(false);
  try {
    return [fused, tf.tidy(() => f().dataSync() as Float32Array)];
  } finally {
    setFusedOpsEnabled(true);
  }
}

const ACTS: InferenceActivation[] = ['linear', 'relu', 'relu6', 'hswish', 'hsigmoid', 'sigmoid'];

describe('inference ops: native kernels = composite path', () => {
  it('convBiasAct, regular and depthwise, every activation, both paddings, strides 1 and 2', async () => {
    await useBackend('wasm', { threads: 1 });
    let seed = 1;
    for (const depthwise of [false, true]) {
      for (const [k, stride, pad] of [[1, 1, 0], [3, 2, 1], [5, 1, 'same'], [3, 2, 'same'], [7, 1, 3]] as const) {
        for (const act of ACTS) {
          const cin = 12;
          const cout = depthwise ? cin : 20;
          const x = t([2, 9, 9, cin], seed++, 2);
          const w = t(depthwise ? [k, k, cin, 1] : [k, k, cin, cout], seed++, 0.5);
          const bias = act === 'relu' ? null : (t([cout], seed++) as tf.Tensor1D);
          const [a, b] = bothPaths(() =>
            convBiasAct({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, bias, strides: stride, pad, depthwise, activation: act }),
          );
          assertClose(a, b, `${depthwise ? 'dw' : 'conv'} k${k} s${stride} pad ${pad} ${act}`, 1e-5);
          tf.dispose([x, w, ...(bias ? [bias] : [])]);
        }
      }
    }
  });

  it('depthwise convBiasAct over several channel blocks and a row of interior pixels (the AVX-512 row kernel)', async () => {
    await useBackend('wasm', { threads: 1 });
    let seed = 100;
    for (const cin of [16, 40, 72, 200]) {
      for (const [k, stride, pad] of [[3, 1, 'same'], [5, 2, 'same'], [3, 2, 0], [5, 1, 2]] as const) {
        const x = t([1, 7, 21, cin], seed++, 2);
        const w = t([k, k, cin, 1], seed++, 0.5);
        const bias = t([cin], seed++) as tf.Tensor1D;
        const [a, b] = bothPaths(() =>
          convBiasAct({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, bias, strides: stride, pad, depthwise: true, activation: 'hswish' }),
        );
        assertClose(a, b, `dw C${cin} k${k} s${stride} pad ${pad}`, 1e-5);
        tf.dispose([x, w, bias]);
      }
    }
  });

  it('denseBiasAct and squeezeExciteInfer', async () => {
    await useBackend('wasm', { threads: 1 });
    for (const act of ACTS) {
      const x = t([3, 40], 11) as tf.Tensor2D;
      const w = t([40, 33], 12, 0.3) as tf.Tensor2D;
      const bias = t([33], 13) as tf.Tensor1D;
      const [a, b] = bothPaths(() => denseBiasAct(x, w, bias, act));
      assertClose(a, b, `dense ${act}`, 1e-5);
      tf.dispose([x, w, bias]);
    }
    for (const gate of ['hsigmoid', 'sigmoid'] as const) {
      const x = t([2, 5, 5, 24], 21) as tf.Tensor4D;
      const w = {
        w1: t([24, 8], 22, 0.5) as tf.Tensor2D,
        b1: t([8], 23) as tf.Tensor1D,
        w2: t([8, 24], 24, 0.5) as tf.Tensor2D,
        b2: t([24], 25) as tf.Tensor1D,
      };
      const [a, b] = bothPaths(() => squeezeExciteInfer(x, w, gate));
      assertClose(a, b, `se ${gate}`, 1e-5);
      tf.dispose([x, w.w1, w.b1, w.w2, w.b2]);
    }
  });
});

/** Random batch-norm statistics and affine weights, so that folding has something to fold. */
function randomizeBatchNorm(model: tf.LayersModel, seed: number): void {
  let s = seed;
  for (const layer of model.layers) {
    if (!(layer instanceof ConvBn)) continue;
    const [kernel, gamma] = layer.getWeights() as tf.Tensor[];
    const c = gamma!.shape[0]!;
    layer.setWeights([
      kernel!,
      tf.tensor(uniform(c, s++, 0.5, 1.5)),
      tf.tensor(randn(c, s++, 0.2)),
      tf.tensor(randn(c, s++, 0.3)),
      tf.tensor(uniform(c, s++, 0.5, 2)),
    ]);
  }
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`folded model (${backend})`, () => {
    it('gives the outputs of the model it came from, has no batch norm or dropout, and cannot train', async () => {
      await useBackend(backend, backend === 'wasm' ? { threads: 1 } : {});
      const arch = resolve({ ...referenceArch('mobilenetv3-small'), input: { size: 48, channels: 3 }, classes: 10 });
      const model = buildModel(arch, { seed: 3 });
      randomizeBatchNorm(model, 100);
      const folded = foldModel(model, arch);
      const x = tf.tensor(uniform(2 * 48 * 48 * 3, 7, 0, 1), [2, 48, 48, 3]);
      const before = tf.memory().numTensors;
      const a = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
      const b = tf.tidy(() => (folded.predict(x) as tf.Tensor).dataSync());
      assert.equal(tf.memory().numTensors, before, 'inference leaks no tensors');
      assertClose(b, a, 'folded vs unfolded logits', 1e-4);
      const names = folded.layers.flatMap((l) => l.weights.map((w) => w.originalName));
      assert.ok(names.includes('s0.b0.dw/bias'));
      assert.ok(!names.some((n) => n.endsWith('gamma') || n.endsWith('moving_mean')), 'no batch-norm weights');
      assert.ok(!folded.layers.some((l) => l.name === 'head.dropout'), 'no dropout');
      assert.ok(folded.countParams() < model.countParams());
      assert.throws(() => folded.apply(x, { training: true }), /cannot train/);
      tf.dispose(x);
      model.dispose();
      folded.dispose();
    });
  });
}
