// denseBias(x, w, bias): forward and gradients, one fused kernel each way on wasm, against autograd of matMul + add
// on cpu, and bit for bit against the same stock ops on wasm (the products are the same native calls, the bias
// gradient's column sums are added in tfjs's order).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { registerWasmTrainingKernels } from '../backend/kernels/register.js';
import { denseBias } from '../backend/ops/dense.js';
import { setFusedOpsEnabled } from '../backend/ops/kernels.js';
import { assertEvaluationsClose, evaluate, randn } from './ops-helpers.js';

const reference = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor[] => [tf.add(tf.matMul(x, w), b)];
const ours = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor[] => [denseBias(x, w, b)];

// MobileNetV3's SE products and classifier at batch 32 and 16, and odd sizes.
const shapes: Array<[number, number, number]> = [[32, 96, 24], [16, 576, 144], [32, 1024, 10], [3, 7, 5], [1, 1, 1]];

// The stock path's BatchMatMul is ours on wasm, as in training (backend/select.ts registers it).
registerWasmTrainingKernels();

describe('denseBias', () => {
  for (const [m, k, n] of shapes) {
    it(`matches autograd of matMul + add: [${m}, ${k}] x [${k}, ${n}]`, async () => {
      const ins = [
        { data: randn(m * k, 1 + m), shape: [m, k] },
        { data: randn(k * n, 2 + k, 0.1), shape: [k, n] },
        { data: randn(n, 3 + n), shape: [n] },
      ];
      const dy = randn(m * n, 4 + m * n);
      const fused = await evaluate('wasm', ins, dy, ours);
      assertEvaluationsClose(fused, await evaluate('cpu', ins, dy, reference), 'fused wasm against cpu');
      setFusedOpsEnabled(false);
      const stock = await evaluate('wasm', ins, dy, ours).finally(() => setFusedOpsEnabled(true));
      fused.grads.forEach((g, i) => assert.deepEqual(g, stock.grads[i], `gradient ${i}: fused and stock ops on wasm differ`));
      assertEvaluationsClose(fused, stock, 'fused against stock ops on wasm', 1e-6);
    });
  }

  it('refuses operands whose shapes do not chain', () => {
    assert.throws(() => denseBias(tf.zeros([2, 3]), tf.zeros([4, 5]), tf.zeros([5])), /denseBias: x \[M, K\], w \[K, N\], bias \[N\]/);
  });
});
