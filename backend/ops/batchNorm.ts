// Training batch normalisation with batch statistics, one fused forward and one fused backward kernel on wasm
// (native/src/batchnorm.cc); on other backends the same formulas composed from stock tfjs ops.
import * as tf from '@tensorflow/tfjs';
import { adoptIntoScope, firstDy, kernelNames, useFusedKernels } from './fused.js';

export interface BatchNormTrainResult {
  /** gamma * (x - mean) / sqrt(variance + eps) + beta, differentiable w.r.t. x, gamma and beta. */
  readonly y: tf.Tensor;
  /** Batch mean per channel; carries no gradient (for the caller's moving averages). */
  readonly mean: tf.Tensor1D;
  /** Biased batch variance per channel; carries no gradient. */
  readonly variance: tf.Tensor1D;
}

/**
 * Batch normalisation in training mode over every axis but the last ([N, C] or NHWC): statistics of this batch,
 * biased variance (as TF and PyTorch in training). Gradients flow to x, gamma and beta through y with the exact
 * BN gradient dx = gamma*invstd/M * (M*dy - sum(dy) - xhat*sum(dy*xhat)), dgamma = sum(dy*xhat), dbeta = sum(dy).
 */
export function batchNormTrain(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): BatchNormTrainResult {
  const C = x.shape[x.rank - 1];
  if (x.rank < 2 || C === undefined) {
    throw new Error(`batchNormTrain: x must have rank >= 2, got [${x.shape.join(', ')}]`);
  }
  if (gamma.rank !== 1 || gamma.shape[0] !== C || beta.rank !== 1 || beta.shape[0] !== C) {
    throw new Error(
      `batchNormTrain: gamma [${gamma.shape.join(', ')}] and beta [${beta.shape.join(', ')}] must be [${C}]`,
    );
  }
  if (useFusedKernels()) {
    // A registered kernel with a registered gradient (below), not a tf.customGrad: one dispatch, no extra scope.
    const [y, mean, variance] = tf.engine().runKernel<tf.Tensor[]>(kernelNames.batchNormTrain, { x, gamma, beta }, { eps });
    if (!y || !mean || !isVector(mean) || !variance || !isVector(variance)) throw new Error('batchNormTrain: the kernel returned no [y, mean, variance]');
    return { y, mean, variance };
  }
  return compositeTrain(x, gamma, beta, eps);
}

function isVector(t: tf.Tensor): t is tf.Tensor1D {
  return t.rank === 1;
}

/** The statistics are outputs of the kernel but carry no gradient: their dy (zeros, or a caller's) is ignored. */
tf.registerGradient({
  kernelName: kernelNames.batchNormTrain,
  inputsToSave: ['x', 'gamma'],
  outputsToSave: [false, true, true],
  gradFunc: (dys, saved, attrs) => {
    const dy = firstDy(dys);
    const [x, gamma, mean, variance] = saved;
    if (!x || !gamma || !mean || !variance) throw new Error('batchNormTrain gradient: a saved tensor is missing');
    const [dx, dgamma, dbeta] = tf.engine().runKernel<tf.Tensor[]>(kernelNames.batchNormTrainGrad, { dy, x, gamma, mean, variance }, attrs);
    if (!dx || !dgamma || !dbeta) throw new Error('batchNormTrain gradient: the kernel returned fewer than 3 tensors');
    return { x: () => dx, gamma: () => dgamma, beta: () => dbeta };
  },
});

/** The composite path: stock ops under a tf.customGrad with the exact gradient. */
function compositeTrain(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): BatchNormTrainResult {
  let mean: tf.Tensor1D | undefined;
  let variance: tf.Tensor1D | undefined;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[3] as tf.GradSaveFunc;
    let y: tf.Tensor;
    ({ y, mean, variance } = compositeForward(x, gamma, beta, eps));
    // The forward runs in a tidy of its own: keep the statistics, adopted below by the caller's scope.
    tf.keep(mean);
    tf.keep(variance);
    save([x, gamma, mean, variance]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sGamma, sMean, sVariance] = saved as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
        return compositeBackward(dy, sx, sGamma, sMean, sVariance, eps);
      },
    };
  });
  const y = op(x, gamma, beta);
  return { y, mean: adoptIntoScope(mean!), variance: adoptIntoScope(variance!) };
}

function leadingAxes(rank: number): number[] {
  return Array.from({ length: rank - 1 }, (_, i) => i);
}

/** The forward from stock ops: y = (x - mean) * (gamma * invstd) + beta. */
function compositeForward(
  x: tf.Tensor,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  eps: number,
): { y: tf.Tensor; mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const axes = leadingAxes(x.rank);
  const mean = tf.mean(x, axes) as tf.Tensor1D;
  const centered = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centered), axes) as tf.Tensor1D;
  const scale = tf.mul(gamma, tf.rsqrt(tf.add(variance, eps)));
  return { y: tf.add(tf.mul(centered, scale), beta), mean, variance };
}

/** The exact gradient from stock ops (broadcasting only, no Tile): [dx, dgamma, dbeta]. */
function compositeBackward(
  dy: tf.Tensor,
  x: tf.Tensor,
  gamma: tf.Tensor1D,
  mean: tf.Tensor1D,
  variance: tf.Tensor1D,
  eps: number,
): tf.Tensor[] {
  const axes = leadingAxes(x.rank);
  const C = x.shape[x.rank - 1] ?? 1;
  const invM = C === 0 ? 0 : C / x.size;
  const invstd = tf.rsqrt(tf.add(variance, eps));
  const xhat = tf.mul(tf.sub(x, mean), invstd);
  const dbeta = tf.sum(dy, axes);
  const dgamma = tf.sum(tf.mul(dy, xhat), axes);
  const inner = tf.sub(tf.sub(dy, tf.mul(dbeta, invM)), tf.mul(xhat, tf.mul(dgamma, invM)));
  const dx = tf.mul(inner, tf.mul(gamma, invstd));
  return [dx, dgamma, dbeta];
}
