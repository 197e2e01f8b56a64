// One optimisation step of a classifier: forward in training mode, softmax cross-entropy, backward, update.
// `makeTrainStep` is the bare step on a stock tf.Optimizer (any tf.Optimizer); `makeOptimizerStep` is the loop's step:
// label smoothing, global-norm clipping, our optimizers (exact TF/PyTorch semantics, weight decay) and weight EMA.
import * as tf from '@tensorflow/tfjs';
import { fusedSumSquares } from '../backend/kernels/optimizerUpdate.js';
import { clipByGlobalNorm } from './clip.js';
import { compileTrainPlan } from '../model/trainPlan.js';
import type { WeightEma } from './ema.js';
import { softmaxCrossEntropy } from './loss.js';
import type { Optimizer } from './optimizers.js';

export interface TrainStep {
  /** Runs one step on a batch (NHWC images, one-hot labels) and returns the mean loss (a scalar to dispose). */
  (images: tf.Tensor4D, oneHot: tf.Tensor2D): tf.Scalar;
}

export function trainableVariables(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

export function classifierLoss(model: tf.LayersModel, images: tf.Tensor4D, oneHot: tf.Tensor2D): tf.Scalar {
  const logits = model.apply(images, { training: true }) as tf.Tensor2D;
  return tf.losses.softmaxCrossEntropy(oneHot, logits) as tf.Scalar;
}

export function makeTrainStep(model: tf.LayersModel, optimizer: tf.Optimizer): TrainStep {
  const vars = trainableVariables(model);
  return (images, oneHot) => {
    const loss = optimizer.minimize(() => classifierLoss(model, images, oneHot), true, vars);
    if (!loss) throw new Error('optimizer returned no loss');
    return loss;
  };
}

export interface OptimizerStepOptions {
  readonly optimizer: Optimizer;
  readonly labelSmoothing: number;
  readonly clipGradNorm: number | null;
  readonly ema: WeightEma | null;
}

export interface OptimizerStep {
  /** One step on a batch (NHWC images, int32 labels) at learning rate `lr`; returns the mean loss (dispose it). */
  (images: tf.Tensor4D, labels: tf.Tensor1D, lr: number): tf.Scalar;
}

/** The loss and its gradients for `vars` in their order, through tfjs's tape. */
function tapeGrads(vars: readonly tf.Variable[], f: () => tf.Scalar): { value: tf.Scalar; grads: tf.Tensor[] } {
  const { value, grads } = tf.variableGrads(f, [...vars]);
  const ordered = vars.map((v) => {
    const g = grads[v.name];
    if (!g) throw new Error(`no gradient for ${v.name}`);
    return g;
  });
  return { value, grads: ordered };
}

export function makeOptimizerStep(model: tf.LayersModel, opts: OptimizerStepOptions): OptimizerStep {
  const { optimizer, labelSmoothing, clipGradNorm, ema } = opts;
  const vars = optimizer.params.map((p) => p.variable);
  const scratch = new Int32Array(vars.length * 2);
  // On wasm with our kernels the forward and backward run as direct native calls (model/trainPlan.ts), with the
  // same numbers as tfjs's tape, which is the path everywhere else.
  const plan = compileTrainPlan(model);
  const loss = (logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar => softmaxCrossEntropy(logits, labels, labelSmoothing);
  return (images, labels, lr) => {
    const { value, grads: ordered } = plan
      ? plan.lossAndGrads(images, (logits) => loss(logits, labels), vars)
      : tapeGrads(vars, () => loss(model.apply(images, { training: true }) as tf.Tensor2D, labels));
    try {
      if (clipGradNorm === null) {
        optimizer.applyGradients(ordered, lr);
      } else if (optimizer.fused) {
        // On wasm the norm is one native pass and the scale goes into the fused update.
        const norm = Math.sqrt(fusedSumSquares(ordered, scratch));
        optimizer.applyGradients(ordered, lr, Math.min(1, clipGradNorm / (norm + 1e-6)));
      } else {
        const clipped = clipByGlobalNorm(ordered, clipGradNorm);
        try {
          optimizer.applyGradients(clipped.grads, lr);
        } finally {
          tf.dispose([...clipped.grads, clipped.norm]);
        }
      }
    } finally {
      tf.dispose(ordered);
    }
    ema?.update();
    return value;
  };
}
