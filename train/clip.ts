// Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_: every gradient is scaled by
// min(1, maxNorm / (norm + 1e-6)), where norm is the L2 norm of all gradients together. The scale stays a tensor,
// so clipping never waits for the backend.
import * as tf from '@tensorflow/tfjs';

/** The global L2 norm of `grads` (a scalar tensor). */
export function globalNorm(grads: readonly tf.Tensor[]): tf.Scalar {
  return tf.tidy(() => tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))) as tf.Scalar);
}

/** Clipped copies of `grads` and their norm before clipping (tensors the caller disposes). */
export function clipByGlobalNorm(grads: readonly tf.Tensor[], maxNorm: number): { grads: tf.Tensor[]; norm: tf.Scalar } {
  return tf.tidy(() => {
    const norm = globalNorm(grads);
    const scale = tf.minimum(1, tf.div(maxNorm, tf.add(norm, 1e-6)));
    return { grads: grads.map((g) => tf.mul(g, scale)), norm };
  });
}
