// One optimisation step of a classifier: forward in training mode, softmax cross-entropy, backward, update.
// The full training loop (schedules, EMA, checkpoints) builds on this.
import * as tf from '@tensorflow/tfjs';

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
