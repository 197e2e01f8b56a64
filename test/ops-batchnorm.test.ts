// batchNormTrain: forward (y, batch mean, biased variance) and gradients w.r.t. x, gamma and beta, fused on wasm
// and composite on cpu, against plain autograd of tf.moments + arithmetic on cpu.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { fusedMovingStats, fusedUpdatesAvailable } from '../backend/kernels/optimizerUpdate.js';
import { batchNormTrain } from '../backend/ops/batchNorm.js';
import { activationCodes, registerFusedOpKernels, setFusedOpsEnabled, trainingNatives } from '../backend/ops/kernels.js';
import { activationGradReadsInput, type ActivationKind } from '../backend/ops/fused.js';
import { setNativeThreads } from '../backend/native.js';
import { currentWasmBackend, heap, offsetOf } from '../backend/wasmHeap.js';
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
  // model/trainPlan.ts runs batch norm and the activation after it as one kernel each way; its results must be the
  // two kernels' bit for bit, for every kind, with masked channel tails, at 1 thread and split over 2.
  it('fuses batch norm with each activation with the numbers of the two kernels, forward and backward, at 1 and 2 threads', async () => {
    await setBackend('wasm');
    const n = trainingNatives();
    const b = currentWasmBackend();
    const kinds: ActivationKind[] = ['relu', 'relu6', 'hswish', 'hsigmoid', 'sigmoid'];
    const at = (t: tf.Tensor): number => offsetOf(b, t);
    try {
      for (const [shape, threads] of [[[2, 5, 5, 13], 1], [[16, 24, 24, 45], 2]] as const) {
        setNativeThreads(threads);
        const C = shape[3];
        const rows = sizeOf(shape) / C;
        const x = tf.tensor(randn(sizeOf(shape), 11, 2, 0.5), [...shape]);
        const gamma = tf.tensor(randn(C, 12, 0.5, 1), [C]);
        const beta = tf.tensor(randn(C, 13, 0.5, 0), [C]);
        const dz = tf.tensor(randn(sizeOf(shape), 14), [...shape]);
        for (const kind of kinds) {
          const code = activationCodes[kind];
          const [y, z1, z2, dy, dx1, dx2] = Array.from({ length: 6 }, () => tf.zeros([...shape]));
          const [m1, v1, m2, v2, scale, dg1, db1, dg2, db2] = Array.from({ length: 9 }, () => tf.zeros([C]));
          n.bnForward(heap(b), at(x), at(gamma), at(beta), at(y!), at(m1!), at(v1!), rows, C, EPS);
          n.actForward(heap(b), at(y!), at(z1!), sizeOf(shape), code);
          n.bnActForward(heap(b), at(x), at(gamma), at(beta), at(z2!), at(m2!), at(v2!), at(scale!), rows, C, EPS, code);
          n.actBackward(heap(b), at(dz), at(activationGradReadsInput(kind) ? y! : z1!), at(dy!), sizeOf(shape), code);
          n.bnBackward(heap(b), at(dy!), at(x), at(gamma), at(m1!), at(v1!), at(dx1!), at(dg1!), at(db1!), rows, C, EPS);
          n.bnActBackward(heap(b), at(dz), at(x), at(z2!), at(gamma), at(beta), at(m2!), at(v2!), at(scale!), at(dx2!), at(dg2!), at(db2!), rows, C, EPS, code);
          const what = `${kind}, [${shape.join(', ')}], ${threads} threads`;
          assert.ok(z1!.dataSync().some((v) => v !== 0), `${what}: the kernels wrote`);
          for (const [got, want, name] of [[z2, z1, 'z'], [m2, m1, 'mean'], [v2, v1, 'variance'], [dx2, dx1, 'dx'], [dg2, dg1, 'dgamma'], [db2, db1, 'dbeta']] as const) {
            assert.deepEqual(got!.dataSync(), want!.dataSync(), `${what}: ${name}`);
          }
          tf.dispose([y!, z1!, z2!, dy!, dx1!, dx2!, m1!, v1!, m2!, v2!, scale!, dg1!, db1!, dg2!, db2!]);
        }
        tf.dispose([x, gamma, beta, dz]);
      }
    } finally {
      setNativeThreads(1);
    }
  });
});
