// The native kernels on a wasm heap grown past 2 GiB: byte offsets above 2^31 used to wrap as int32 (a convolution
// threw "expected a 4-byte aligned offset", an optimizer table's offsets turned negative). Each kernel runs once on
// tensors low in the heap and again on copies placed above 2 GiB, and must give the same numbers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../backend/select.js';
import { fusedMovingStats, fusedOptimizerUpdate, fusedSumSquares, fusedUpdatesAvailable, FusedTables, OptimizerKind } from '../backend/kernels/optimizerUpdate.js';
import { nativeStatus } from '../backend/native.js';
import { offsetOf, type WasmBackend } from '../backend/wasmHeap.js';

const TWO_GIB = 2 ** 31;

/**
 * One conv2d, one SGD-with-momentum step (Nesterov, weight decay), a sum of squares and a batch-norm moving-average
 * update, on fresh copies of the data.
 */
interface Outcome {
  readonly offsets: number[];
  readonly conv: Float32Array;
  readonly weights: Float32Array;
  readonly momentum: Float32Array;
  readonly squares: number;
  readonly moving: Float32Array[];
  /** The tensors, kept until the end so that the second run cannot reuse their places low in the heap. */
  readonly tensors: tf.Tensor[];
}

function runKernels(x: Float32Array, w: Float32Array, g: Float32Array): Outcome {
  const xt = tf.tensor4d(x, [2, 8, 8, 4]);
  const wt = tf.tensor4d(w, [3, 3, 4, 6]);
  const conv = tf.conv2d(xt, wt, 1, 'same');
  const wv = tf.variable(tf.tensor1d(g.map((v) => v * 3)));
  const gv = tf.tensor1d(g);
  const mv = tf.variable(tf.tensor1d(g.map((v) => v / 2)));
  const tables = new FusedTables(1);
  tables.hyper.set([0.1, 0.9, 4e-5, 1, 0, 0, 0, 0, 0, 0, 0, 1]);
  fusedOptimizerUpdate(OptimizerKind.sgd, [{ w: wv, g: gv, s1: mv, s2: null, decay: true }], tables);
  const moving = [tf.variable(tf.tensor1d(g.map((v) => v + 1))), tf.variable(tf.tensor1d(g.map((v) => v * v)))] as const;
  fusedMovingStats(moving, [gv, mv], 0.99, 0.01, 0.0101);
  const b = tf.backend() as unknown as WasmBackend;
  const tensors = [xt, wt, conv, wv, gv, mv, ...moving];
  return {
    offsets: tensors.map((t) => offsetOf(b, t)),
    conv: conv.dataSync() as Float32Array,
    weights: wv.dataSync() as Float32Array,
    momentum: mv.dataSync() as Float32Array,
    squares: fusedSumSquares([gv, xt]),
    moving: moving.map((m) => m.dataSync() as Float32Array),
    tensors,
  };
}

test('native kernels read byte offsets above 2 GiB', { skip: nativeStatus().loaded ? false : 'native kernels not built' }, async () => {
  await useBackend('wasm');
  assert.ok(fusedUpdatesAvailable());
  const rand = (n: number, k: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i * k + 1));
  const x = rand(2 * 8 * 8 * 4, 0.37);
  const w = rand(3 * 3 * 4 * 6, 0.91);
  const g = rand(1000, 0.13);
  const low = runKernels(x, w, g);
  assert.ok(Math.max(...low.offsets) < TWO_GIB);
  // 5 x 512 MB keeps the heap's free space below 2 GiB, so what is allocated next lands above it.
  const ballast = Array.from({ length: 5 }, () => tf.zeros([128 * 1024 * 1024]));
  try {
    const high = runKernels(x, w, g);
    assert.ok(Math.min(...high.offsets) >= TWO_GIB, `offsets ${high.offsets.join(', ')}`);
    assert.deepEqual(high.conv, low.conv);
    assert.deepEqual(high.weights, low.weights);
    assert.deepEqual(high.momentum, low.momentum);
    assert.equal(high.squares, low.squares);
    assert.deepEqual(high.moving, low.moving);
    high.tensors.forEach((t) => t.dispose());
  } finally {
    [...ballast, ...low.tensors].forEach((t) => t.dispose());
  }
});
