// The classifier's loss: softmax cross-entropy with label smoothing, averaged over the batch. Smoothing mixes the
// one-hot target with the uniform distribution: (1 - s) onehot + s / classes (PyTorch's and TF's convention).
import * as tf from '@tensorflow/tfjs';

/** Mean softmax cross-entropy of `logits` [N, K] against integer `labels` [N] (int32). */
export function softmaxCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, labelSmoothing = 0): tf.Scalar {
  return tf.tidy(() => {
    const classes = logits.shape[1];
    const oneHot = tf.oneHot(labels, classes);
    return tf.losses.softmaxCrossEntropy(oneHot, logits, undefined, labelSmoothing) as tf.Scalar;
  });
}
