// batchNormTrain: forward (y, batch mean, biased variance) and gradients w.r.t. x, gamma and beta, fused on wasm
// and composite on cpu, against plain autograd of tf.moments + arithmetic on cpu.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { fusedMovingStats, fusedUpdatesAvailable } from '../backend/kernels/optimizerUpdate.js';
import { batchNormTrain } from '../backend/ops/batchNorm.js';
import { registerFusedOpKernels, setFusedOpsEnabled } from '../backend/ops/kernels.js';
import { assertClose, assertEvaluationsClose, evaluate, randn, setBackend, sizeOf, type Input } from './ops-helpers.js';

const EPS = 1e-3;

function reference(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor[] {
  const axes = Array.from({ length: x.rank - 1 }, (_, i) => i);
  const { mean, variance } = tf.moments(x, axes);
  const y = tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, EPS))), gamma), beta);
  return [y, mean, variance];
}

function ours(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor[] {
  const { y, mean, variance } = batchNormTrain(x, gamma as tf.Tensor1D, beta as tf.Tensor1D, EPS);
  return [y, mean, variance];
}

interface Case {
  readonly shape: number[];
  /** Mean offset of x: large offsets check the statistics do not cancel. */
  readonly offset?: number;
  readonly scale?: number;
}

const cases: Case[] = [
  { shape: [37, 13] },
  { shape: [64, 24] },
  { shape: [8, 1] },
  { shape: [4, 5, 5, 13] },
  { shape: [2, 8, 8, 72] },
  { shape: [3, 1, 1, 40] },
  { shape: [2, 4, 4, 5] },
  { shape: [1, 3, 3, 33] },
  { shape: [2, 6, 6, 88], offset: 20, scale: 0.5 },
  { shape: [16, 16, 16, 16], offset: -3, scale: 2 },
];

function inputs(c: Case, seed: number): { inputs: Input[]; dy: Float32Array } {
  const C = c.shape[c.shape.length - 1]!;
  return {
    inputs: [
      { data: randn(sizeOf(c.shape), seed, c.scale ?? 1, c.offset ?? 0), shape: c.shape },
      { data: randn(C, seed + 1, 0.5, 1), shape: [C] },
      { data: randn(C, seed + 2, 0.5, 0), shape: [C] },
    ],
    dy: randn(sizeOf(c.shape), seed + 3),
  };
}

describe('batchNormTrain', () => {
  cases.forEach((c, k) => {
    const name = `[${c.shape.join(', ')}]${c.offset ? ` offset ${c.offset}` : ''}`;
    it(`matches autograd on cpu: ${name}`, async () => {
      const { inputs: ins, dy } = inputs(c, 100 + 10 * k);
      const expected = await evaluate('cpu', ins, dy, reference);
      assertEvaluationsClose(await evaluate('wasm', ins, dy, ours), expected, `fused wasm ${name}`);
      assertEvaluationsClose(await evaluate('cpu', ins, dy, ours), expected, `composite cpu ${name}`);
      setFusedOpsEnabled(false);
      try {
        assertEvaluationsClose(await evaluate('wasm', ins, dy, ours), expected, `composite wasm ${name}`);
      } finally {
        setFusedOpsEnabled(true);
      }
    });
  });

  it('takes inputs made on another backend, and outputs that grow the wasm heap', async () => {
    // Made on cpu: looking the inputs up moves them onto the wasm heap inside the kernel.
    const c: Case = { shape: [4, 3, 3, 24] };
    const { inputs: ins } = inputs(c, 77);
    await setBackend('cpu');
    const [x, gamma, beta] = ins.map((i) => tf.tensor(i.data, i.shape));
    const expected = reference(x!, gamma!, beta!).map((t) => t.dataSync().slice());
    await setBackend('wasm');
    const got = ours(x!, gamma!, beta!).map((t) => t.dataSync().slice());
    got.forEach((g, i) => assertClose(g, expected[i]!, `moved input, output ${i}`));
    tf.dispose([x!, gamma!, beta!]);
    // 64 MB of outputs: the heap grows (replacing its ArrayBuffer) while the kernels allocate them.
    tf.tidy(() => {
      const big = tf.randomNormal([4096, 2048], 3, 2, 'float32', 5);
      const g = tf.randomNormal([2048], 1, 0.2, 'float32', 6) as tf.Tensor1D;
      const b = tf.randomNormal([2048], 0, 0.2, 'float32', 7) as tf.Tensor1D;
      const dy = tf.randomNormal([4096, 2048], 0, 1, 'float32', 8);
      const fused = tf.grads((a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) =>
        batchNormTrain(a, gg as tf.Tensor1D, bb as tf.Tensor1D, EPS).y,
      )([big, g, b], dy);
      setFusedOpsEnabled(false);
      try {
        const composite = tf.grads((a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) =>
          batchNormTrain(a, gg as tf.Tensor1D, bb as tf.Tensor1D, EPS).y,
        )([big, g, b], dy);
        fused.forEach((t, i) => assertClose(t.dataSync(), composite[i]!.dataSync(), `large gradient ${i}`));
      } finally {
        setFusedOpsEnabled(true);
      }
    });
  });

  it('rejects mismatched gamma/beta and rank-1 x', async () => {
    await setBackend('wasm');
    tf.tidy(() => {
      assert.throws(() => batchNormTrain(tf.zeros([4, 3]), tf.ones([2]), tf.zeros([3]), EPS), /gamma/);
      assert.throws(() => batchNormTrain(tf.zeros([3]), tf.ones([3]), tf.zeros([3]), EPS), /rank/);
    });
  });

  it('registers its kernels idempotently', async () => {
    await setBackend('wasm');
    registerFusedOpKernels();
    registerFusedOpKernels();
    assert.ok(tf.getKernel('NasBatchNormTrain', 'wasm'));
  });

  it('gives mean and variance no gradient, and statistics of a constant channel', async () => {
    await setBackend('wasm');
    tf.tidy(() => {
      const x = tf.tensor2d([[1, 5], [1, 7], [1, 9]]);
      const gamma = tf.tensor1d([2, 1]);
      const beta = tf.tensor1d([0.5, 0]);
      const { y, mean, variance } = batchNormTrain(x, gamma, beta, EPS);
      assert.deepEqual(Array.from(mean.dataSync()), [1, 7]);
      const v = variance.dataSync();
      assert.equal(v[0], 0);
      assert.ok(Math.abs(v[1]! - 8 / 3) < 1e-6);
      assert.deepEqual(Array.from(y.dataSync()).filter((_, i) => i % 2 === 0), [0.5, 0.5, 0.5]);
      // A loss of the statistics alone: no gradient reaches x through them.
      const g = tf.grad((xi: tf.Tensor) => {
        const r = batchNormTrain(xi, gamma, beta, EPS);
        return tf.add(tf.sum(r.mean), tf.sum(r.variance)).add(tf.mul(tf.sum(r.y), 0));
      })(x);
      assert.deepEqual(Array.from(g.dataSync()), [0, 0, 0, 0, 0, 0]);
    });
  });

  // The in-place native update the layer uses on wasm must round as the tfjs ops it replaces, and must not change a
  // tensor that shares the moving statistics' data (a clone).
  it('updates moving statistics in place with the numbers of the tfjs ops, leaving clones as they were', async () => {
    await setBackend('wasm');
    assert.ok(fusedUpdatesAvailable());
    const c = 37;
    const moving = [tf.variable(tf.randomNormal([c], 0, 1, 'float32', 5)), tf.variable(tf.randomUniform([c], 0.5, 2, 'float32', 6))] as const;
    const batch = [tf.randomNormal([c], 0, 1, 'float32', 7), tf.randomUniform([c], 0.1, 3, 'float32', 8)] as const;
    const [d, unbias] = [0.99, 288 / 287];
    const expectMean = tf.add(tf.mul(moving[0], d), tf.mul(batch[0], 1 - d));
    const expectVar = tf.add(tf.mul(moving[1], d), tf.mul(batch[1], (1 - d) * unbias));
    const before = moving.map((m) => tf.clone(m));
    const kept = before.map((t) => t.dataSync().slice());
    fusedMovingStats(moving, batch, d, 1 - d, (1 - d) * unbias);
    assert.deepEqual(moving[0].dataSync(), expectMean.dataSync());
    assert.deepEqual(moving[1].dataSync(), expectVar.dataSync());
    before.forEach((t, i) => assert.deepEqual(t.dataSync(), kept[i]));
    tf.dispose([...moving, ...batch, expectMean, expectVar, ...before]);
  });
});
