// activation(x, kind): forward and gradient, fused on wasm and composite on cpu (and on wasm with the fused
// kernels turned off), against autograd of the stock-op formula on cpu; the kinks against the documented rule.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { activation, activationKinds, type ActivationKind } from '../backend/ops/activation.js';
import { setFusedOpsEnabled } from '../backend/ops/kernels.js';
import { assertEvaluationsClose, evaluate, setBackend, sizeOf, uniform, type TestBackend } from './ops-helpers.js';

function reference(kind: ActivationKind): (x: tf.Tensor) => tf.Tensor[] {
  return (x) => {
    switch (kind) {
      case 'relu':
        return [tf.relu(x)];
      case 'relu6':
        return [tf.relu6(x)];
      case 'hswish':
        return [tf.div(tf.mul(x, tf.relu6(tf.add(x, 3))), 6)];
      case 'hsigmoid':
        return [tf.div(tf.relu6(tf.add(x, 3)), 6)];
      case 'sigmoid':
        return [tf.sigmoid(x)];
    }
  };
}

const ours =
  (kind: ActivationKind) =>
  (x: tf.Tensor): tf.Tensor[] => [activation(x, kind)];

const shapes: number[][] = [[37, 13], [64, 24], [2, 7, 7, 19], [3, 1, 1, 40], [1, 1, 1, 3], [4, 8, 8, 72], [5]];

describe('activation', () => {
  for (const kind of activationKinds) {
    shapes.forEach((shape, k) => {
      it(`${kind} matches autograd on cpu: [${shape.join(', ')}]`, async () => {
        const n = sizeOf(shape);
        // Wide enough to cover every piece of every kind (|x| up to 8).
        const ins = [{ data: uniform(n, 7 + k, -8, 8), shape }];
        const dy = uniform(n, 1000 + k, -1, 1);
        const expected = await evaluate('cpu', ins, dy, reference(kind));
        assertEvaluationsClose(await evaluate('wasm', ins, dy, ours(kind)), expected, `fused wasm ${kind}`);
        assertEvaluationsClose(await evaluate('cpu', ins, dy, ours(kind)), expected, `composite cpu ${kind}`);
        setFusedOpsEnabled(false);
        try {
          assertEvaluationsClose(await evaluate('wasm', ins, dy, ours(kind)), expected, `composite wasm ${kind}`);
        } finally {
          setFusedOpsEnabled(true);
        }
      });
    });
  }

  // The documented rule (PyTorch 1.13's, checked with torch): values and gradients with dy = 1 at the kinks.
  const kinks: Record<ActivationKind, { x: number[]; y: number[]; dx: number[] }> = {
    relu: { x: [-1, 0, 1e-7, 6, 7], y: [0, 0, 1e-7, 6, 7], dx: [0, 0, 1, 1, 1] },
    relu6: { x: [-1, 0, 1e-7, 3, 6, 7], y: [0, 0, 1e-7, 3, 6, 6], dx: [0, 0, 1, 1, 0, 0] },
    hswish: {
      x: [-4, -3.0001, -3, -2.9999, 0, 2.9999, 3, 3.0001, 4],
      y: [0, 0, 0, -2.9999 * 0.0001 / 6, 0, (2.9999 * 5.9999) / 6, 3, 3.0001, 4],
      dx: [0, 0, -0.5, -0.49996668100357056, 0.5, 1.4999666213989258, 1.5, 1, 1],
    },
    hsigmoid: {
      x: [-4, -3.0001, -3, -2.9999, 0, 2.9999, 3, 3.0001],
      y: [0, 0, 0, 0.0001 / 6, 0.5, 5.9999 / 6, 1, 1],
      dx: [0, 0, 0, 1 / 6, 1 / 6, 1 / 6, 0, 0],
    },
    sigmoid: { x: [-100, 0, 100], y: [0, 0.5, 1], dx: [0, 0.25, 0] },
  };

  for (const backend of ['wasm', 'cpu'] as TestBackend[]) {
    for (const kind of activationKinds) {
      it(`${kind} follows the rule at its kinks on ${backend}`, async () => {
        await setBackend(backend);
        const { x, y, dx } = kinks[kind];
        tf.tidy(() => {
          const xt = tf.tensor1d(x);
          const yv = activation(xt, kind).dataSync();
          const gv = tf.grad((t: tf.Tensor) => activation(t, kind))(xt).dataSync();
          x.forEach((xi, i) => {
            const tol = 1e-5 * Math.max(1, Math.abs(y[i]!));
            assert.ok(Math.abs(yv[i]! - y[i]!) <= tol, `${kind}(${xi}) = ${yv[i]}, want ${y[i]}`);
            assert.ok(Math.abs(gv[i]! - dx[i]!) <= 1e-5, `${kind}'(${xi}) = ${gv[i]}, want ${dx[i]}`);
          });
        });
      });
    }
  }

  it('rejects an unknown kind', async () => {
    await setBackend('wasm');
    tf.tidy(() => assert.throws(() => activation(tf.zeros([2]), 'gelu' as ActivationKind), /unknown kind/));
  });
});
