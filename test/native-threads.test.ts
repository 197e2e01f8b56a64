// The native kernels split over threads (backend/native/src/threads.h): each kernel, forward and gradients, on shapes
// above the work threshold, with 2 and 3 threads against 1. Kernels whose parts never share an output element
// (convolution and depthwise forward and input gradient, matrix products, add, activations, pooling, channel scale,
// the optimizer update) must be bit for bit equal; those that sum partials over the batch (convolution and
// depthwise filter gradients, batch-norm statistics and their gradients) within 1e-5 relative error, and the same
// on a rerun. Each shape is above the work threshold: the test checks that the kernel calls did split into parts.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { nativeForks, nativeThreads, setNativeThreads } from '../backend/native.js';
import { activation } from '../backend/ops/activation.js';
import { batchNormTrain } from '../backend/ops/batchNorm.js';
import { channelScale, globalAvgPool } from '../backend/ops/squeezeExcite.js';
import { useBackend } from '../backend/select.js';
import { defaultTrainConfig } from '../train/config.js';
import { createOptimizer } from '../train/optimizers.js';
import { randn, relErr, sizeOf } from './ops-helpers.js';

const SUMMED_TOL = 1e-5;

/** The outputs of f's result and of the gradient of sum(result * r) w.r.t. each input, as arrays. */
function valueAndGrads(inputs: tf.Tensor[], f: (...xs: tf.Tensor[]) => tf.Tensor): Float32Array[] {
  return tf.tidy(() => {
    const y = f(...inputs);
    const r = tf.tensor(randn(y.size, 99), y.shape);
    const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), r)))(inputs);
    return [y, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

/** Runs f at each thread count and checks that, above one thread, at least `splits` native calls split into parts. */
function splitting<T>(counts: number[], splits: number, f: () => T): T[] {
  return counts.map((n) => {
    setNativeThreads(n);
    assert.equal(nativeThreads(), n);
    const before = nativeForks();
    const out = f();
    const forks = nativeForks() - before;
    if (n > 1) assert.ok(forks >= splits, `${n} threads: ${forks} kernel calls split, expected ${splits}`);
    return out;
  });
}

/** f's outputs at each thread count, computed on fresh copies of the same seeded inputs (`splits`: splitting). */
function atThreads(counts: number[], shapes: number[][], splits: number, f: (...xs: tf.Tensor[]) => tf.Tensor): Float32Array[][] {
  return splitting(counts, splits, () => {
    const inputs = shapes.map((s, i) => tf.tensor(randn(sizeOf(s), 7 + i), s));
    const out = valueAndGrads(inputs, f);
    tf.dispose(inputs);
    return out;
  });
}

/** Checks outputs at 2 and 3 threads (index 1, 2) against 1 thread (index 0): `exact` names the bitwise ones. */
function assertMatches(runs: Float32Array[][], exact: boolean[], what: string): void {
  const [one, ...more] = runs;
  for (const [k, other] of more.entries()) {
    for (const [i, a] of other.entries()) {
      const ref = one![i]!;
      const label = `${what}, output ${i}, ${k + 2} threads`;
      if (exact[i]) assert.deepEqual(a, ref, `${label}: not bit for bit the one-thread result`);
      else assert.ok(relErr(a, ref) <= SUMMED_TOL, `${label}: relative error ${relErr(a, ref)} > ${SUMMED_TOL}`);
    }
  }
}

const counts = [1, 2, 3];

describe('native kernels with threads', () => {
  before(async () => {
    await useBackend('wasm', { threads: 1 });
  });

  test('setThreads rejects counts outside 1..256 in one line', () => {
    assert.throws(() => setNativeThreads(0), /thread count must be 1\.\.256/);
    assert.throws(() => setNativeThreads(257), /thread count must be 1\.\.256/);
  });

  // Forward (twice: the value and inside the gradient), input gradient and filter gradient each split.
  const convCases = [['3x3 stride 1', 1, 3, 19], ['3x3 stride 2', 2, 3, 19], ['5x5 stride 2', 2, 5, 19], ['pointwise', 1, 1, 64]] as const;
  for (const [name, strides, k, cin] of convCases) {
    test(`conv2d ${name}: forward and input gradient exact, filter gradient within ${SUMMED_TOL}`, () => {
      const runs = atThreads(counts, [[5, 17, 15, cin], [k, k, cin, 3 * cin]], 4, (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, strides, 'same'));
      assertMatches(runs, [true, true, false], `conv2d ${name}`);
    });
  }

  test('depthwise 3x3 stride 1 and 5x5 stride 2: forward and input gradient exact, filter gradient summed', () => {
    for (const [k, s] of [[3, 1], [5, 2]] as const) {
      const runs = atThreads(counts, [[6, 23, 21, 48], [k, k, 48, 1]], 4, (x, w) => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, s, 'same'));
      assertMatches(runs, [true, true, false], `depthwise ${k}x${k} stride ${s}`);
    }
  });

  test('matMul (dense layer and its gradients) is exact', () => {
    const runs = atThreads(counts, [[64, 300], [300, 200]], 4, (a, b) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D));
    assertMatches(runs, [true, true, true], 'matMul');
  });

  test('add (same shapes native, broadcasts stock) is exact, and is the float32 sum', () => {
    const runs = atThreads(counts, [[4, 31, 29, 37], [4, 31, 29, 37]], 2, (a, b) => tf.add(a!, b!));
    assertMatches(runs, [true, true, true], 'add');
    const [a, b] = [randn(64, 1), randn(64, 2)];
    const sum = tf.tidy(() => tf.add(tf.tensor(a), tf.tensor(b)).dataSync());
    assert.deepEqual(sum, Float32Array.from(a, (v, i) => Math.fround(v + (b[i] ?? 0))));
    const broadcast = tf.tidy(() => tf.add(tf.tensor2d(a, [8, 8]), tf.tensor1d(b.slice(0, 8))).dataSync());
    assert.equal(broadcast[9], Math.fround((a[9] ?? 0) + (b[1] ?? 0)));
  });

  test('activations forward and backward are exact', () => {
    for (const kind of ['relu', 'hswish', 'sigmoid'] as const) {
      const runs = atThreads(counts, [[4, 40, 38, 40]], 3, (x) => activation(x, kind));
      assertMatches(runs, [true, true], kind);
    }
  });

  test('batch norm: statistics and gradients summed over parts, within 1e-5', () => {
    const runs = atThreads(counts, [[6, 33, 31, 40], [40], [40]], 6, (x, g, b) => batchNormTrain(x, g as tf.Tensor1D, b as tf.Tensor1D, 1e-3).y);
    assertMatches(runs, [false, false, false, false], 'batch norm');
  });

  test('global average pooling and channel scale, forward and backward, are exact', () => {
    const pool = atThreads(counts, [[8, 33, 31, 48]], 3, (x) => globalAvgPool(x as tf.Tensor4D));
    assertMatches(pool, [true, true], 'globalAvgPool');
    const scale = atThreads(counts, [[8, 33, 31, 48], [8, 48]], 3, (x, s) => channelScale(x as tf.Tensor4D, s as tf.Tensor2D));
    assertMatches(scale, [true, true, true], 'channelScale');
  });

  test('fused optimizer updates (sgd, rmsprop, adamw; a parameter split between parts) are exact', () => {
    for (const type of ['sgd', 'rmsprop', 'adamw'] as const) {
      const weights = splitting(counts, 3, () => {
        const shapes = [[3, 3, 96, 160], [60], [7000]];
        const params = shapes.map((s, i) => ({ name: `p${i}/kernel`, variable: tf.variable(tf.tensor(randn(sizeOf(s), 20 + i), s)), decay: i !== 1 }));
        const opt = createOptimizer(params, { ...defaultTrainConfig.optimizer, type, lr: 0.05 }, 1e-3);
        assert.ok(opt.fused, 'the update is not the fused native one');
        for (let step = 0; step < 3; step++) {
          const grads = shapes.map((s, i) => tf.tensor(randn(sizeOf(s), 100 * step + i), s));
          opt.applyGradients(grads, 0.05, 0.5);
          tf.dispose(grads);
        }
        const out = params.map((p) => p.variable.dataSync() as Float32Array);
        opt.dispose();
        params.forEach((p) => p.variable.dispose());
        return out;
      });
      assertMatches(weights, [true, true, true], `${type} update`);
    }
  });

  // The parts go to whichever thread claims them first, differently from run to run: the sums must not change.
  test('filter gradients are the same on reruns with the same thread count', () => {
    const f = (x: tf.Tensor, w: tf.Tensor) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same');
    const [a, ...reruns] = atThreads([2, 2, 2, 2, 2], [[5, 17, 15, 19], [3, 3, 19, 57]], 4, f);
    for (const b of reruns) assert.deepEqual(b, a);
    setNativeThreads(1);
  });
});
