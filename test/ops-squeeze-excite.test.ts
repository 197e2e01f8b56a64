// globalAvgPool and channelScale: forward and gradients, fused on wasm and composite on cpu (and on wasm with the
// fused kernels off), against autograd of tf.mean / tf.mul on cpu.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { setFusedOpsEnabled } from '../backend/ops/kernels.js';
import { channelScale, globalAvgPool } from '../backend/ops/squeezeExcite.js';
import {
  assertEvaluationsClose,
  evaluate,
  randn,
  setBackend,
  sizeOf,
  type Evaluation,
  type Input,
} from './ops-helpers.js';

const shapes: number[][] = [[2, 5, 5, 13], [3, 1, 1, 40], [4, 8, 8, 72], [1, 2, 3, 7], [2, 4, 4, 96], [1, 16, 16, 16]];

async function checkAll(
  ins: Input[],
  dy: Float32Array,
  reference: (...xs: tf.Tensor[]) => tf.Tensor[],
  ours: (...xs: tf.Tensor[]) => tf.Tensor[],
  what: string,
): Promise<void> {
  const expected: Evaluation = await evaluate('cpu', ins, dy, reference);
  assertEvaluationsClose(await evaluate('wasm', ins, dy, ours), expected, `fused wasm ${what}`);
  assertEvaluationsClose(await evaluate('cpu', ins, dy, ours), expected, `composite cpu ${what}`);
  setFusedOpsEnabled(false);
  try {
    assertEvaluationsClose(await evaluate('wasm', ins, dy, ours), expected, `composite wasm ${what}`);
  } finally {
    setFusedOpsEnabled(true);
  }
}

describe('globalAvgPool', () => {
  shapes.forEach((shape, k) => {
    it(`matches autograd on cpu: [${shape.join(', ')}]`, async () => {
      const [n = 0, , , c = 0] = shape;
      await checkAll(
        [{ data: randn(sizeOf(shape), 300 + k, 2, 0.5), shape }],
        randn(n * c, 400 + k),
        (x) => [tf.mean(x, [1, 2])],
        (x) => [globalAvgPool(x as tf.Tensor4D)],
        `[${shape.join(', ')}]`,
      );
    });
  });

  it('rejects a non-NHWC input', async () => {
    await setBackend('wasm');
    tf.tidy(() => assert.throws(() => globalAvgPool(tf.zeros([2, 3]) as unknown as tf.Tensor4D), /NHWC/));
  });
});

describe('channelScale', () => {
  shapes.forEach((shape, k) => {
    it(`matches autograd on cpu: [${shape.join(', ')}]`, async () => {
      const [n = 0, , , c = 0] = shape;
      await checkAll(
        [
          { data: randn(sizeOf(shape), 500 + k), shape },
          { data: randn(n * c, 600 + k, 0.3, 0.5), shape: [n, c] },
        ],
        randn(sizeOf(shape), 700 + k),
        (x, s) => [tf.mul(x, tf.reshape(s!, [n, 1, 1, c]))],
        (x, s) => [channelScale(x as tf.Tensor4D, s as tf.Tensor2D)],
        `[${shape.join(', ')}]`,
      );
    });
  });

  it('rejects a scale of the wrong shape', async () => {
    await setBackend('wasm');
    tf.tidy(() => assert.throws(() => channelScale(tf.zeros([2, 3, 3, 4]), tf.zeros([2, 3])), /\[2, 4\]/));
  });

  it('composes into a squeeze-excite block', async () => {
    // pool -> sigmoid gate -> scale, gradients through both paths of x.
    const shape = [2, 4, 4, 24];
    const ins = [{ data: randn(sizeOf(shape), 800), shape }];
    const dy = randn(sizeOf(shape), 801);
    const expected = await evaluate('cpu', ins, dy, (x) => [
      tf.mul(x, tf.reshape(tf.sigmoid(tf.mean(x, [1, 2])), [2, 1, 1, 24])),
    ]);
    const ours = (x: tf.Tensor): tf.Tensor[] => [
      channelScale(x as tf.Tensor4D, tf.sigmoid(globalAvgPool(x as tf.Tensor4D))),
    ];
    assertEvaluationsClose(await evaluate('wasm', ins, dy, ours), expected, 'fused wasm SE');
    assertEvaluationsClose(await evaluate('cpu', ins, dy, ours), expected, 'composite cpu SE');
  });
});
