// NASWOT (Mellor et al. 2021, "Neural Architecture Search without Training"): feed a minibatch of N images to the
// network at initialisation, record at every rectified unit whether its input is positive (a binary code per image
// over all N_A units), and score log|det K| with K_ij = N_A - Hamming(c_i, c_j), the number of units at which images
// i and j agree. A network whose units tell the images apart has K near N_A * I and a high score.
//
// As the paper's code, the code is the sign of each activation's input, and batch norm uses the minibatch's
// statistics (the network is in training mode; its moving statistics are never read). Units are the outputs of every
// conv + BN + activation layer, the squeeze-excite's hidden ReLU layer and head.hidden. For hard-swish (and ReLU6)
// the code is the sign of the pre-activation as well: hswish(x) > 0 exactly when x > 0, so it is read off the output.
import * as tf from '@tensorflow/tfjs';
import { ConvBn, DenseAct, SqueezeExcite } from '../model/layers.js';
import { logDet } from './logdet.js';

export interface NaswotResult {
  /** ln|det K|: the paper's score; -Infinity when two images share a code (K singular). */
  readonly score: number;
  /** N_A, the units the codes cover (K's diagonal). */
  readonly units: number;
  /** N, the minibatch size (K is N x N). */
  readonly images: number;
}

/** One symbolic output of a layer (every layer of the builder has one). */
function outputOf(layer: tf.layers.Layer, which: 'input' | 'output'): tf.SymbolicTensor {
  const t = layer[which];
  if (Array.isArray(t) || t === undefined) throw new Error(`naswot: layer ${layer.name} has no single ${which}`);
  return t;
}

/**
 * What the codes are read from: rectified layers' outputs, and each squeeze-excite's input (its hidden layer's
 * pre-activation is recomputed from it: seHidden). A squeeze-excite's input is a rectified depthwise output already,
 * so the probe's outputs are deduplicated and each squeeze-excite refers to its input by index.
 */
function codeSources(model: tf.LayersModel): { outputs: tf.SymbolicTensor[]; se: { layer: SqueezeExcite; input: number }[] } {
  const outputs: tf.SymbolicTensor[] = [];
  const se: { layer: SqueezeExcite; input: number }[] = [];
  const indexOf = (t: tf.SymbolicTensor): number => {
    const i = outputs.indexOf(t);
    return i >= 0 ? i : outputs.push(t) - 1;
  };
  for (const layer of model.layers) {
    const rectified = (layer instanceof ConvBn || layer instanceof DenseAct) && layer.cfg.activation !== 'linear';
    if (rectified) indexOf(outputOf(layer, 'output'));
  }
  const rectifiedCount = outputs.length;
  for (const layer of model.layers) if (layer instanceof SqueezeExcite) se.push({ layer, input: indexOf(outputOf(layer, 'input')) });
  if (outputs.length !== rectifiedCount) throw new Error('naswot: a squeeze-excite whose input is not a rectified layer');
  return { outputs, se };
}

/** The pre-activation of a squeeze-excite's hidden ReLU layer: mean(x) @ reduce_kernel + reduce_bias. */
function seHidden(layer: SqueezeExcite, x: tf.Tensor): tf.Tensor {
  const w = new Map(layer.weights.map((v) => [v.originalName.split('/').pop(), v.read()]));
  const rk = w.get('reduce_kernel');
  const rb = w.get('reduce_bias');
  if (rk === undefined || rb === undefined) throw new Error(`naswot: ${layer.name} has no reduce weights`);
  return tf.add(tf.matMul(tf.mean(x, [1, 2]) as tf.Tensor2D, rk as tf.Tensor2D), rb);
}

/**
 * K from the tensors whose signs are the codes (first axis: the n images): K_ij = the units at which images i and j
 * agree = (N_A + S_ij) / 2, S = sum of s s^T over the sources with s = +1 where the unit is active, -1 where not.
 * S is exact in float32 while N_A < 2^24.
 */
export function codeKernel(sources: readonly tf.Tensor[], n: number): { kernel: Float64Array; units: number } {
  const units = sources.reduce((a, t) => a + t.size / n, 0);
  const s2 = tf.tidy(() => {
    let acc: tf.Tensor2D = tf.zeros([n, n]);
    for (const t of sources) {
      const s = tf.sub(tf.mul(tf.cast(tf.greater(tf.reshape(t, [n, -1]), 0), 'float32'), 2), 1) as tf.Tensor2D;
      acc = tf.add(acc, tf.matMul(s, s, false, true));
    }
    return acc;
  });
  const kernel = Float64Array.from(s2.dataSync(), (v) => (units + v) / 2);
  s2.dispose();
  return { kernel, units };
}

/** NASWOT's score of a model at its initial weights on one minibatch (NHWC float32 images, as data/ prepares them). */
export function naswotOf(model: tf.LayersModel, images: tf.Tensor4D): NaswotResult {
  const n = images.shape[0];
  const { outputs, se } = codeSources(model);
  const probe = tf.model({ inputs: model.inputs, outputs });
  const sources = tf.tidy(() => {
    const got = probe.apply(images, { training: true });
    const all = (Array.isArray(got) ? got : [got]).filter((t): t is tf.Tensor => t instanceof tf.Tensor);
    return [...all, ...se.map(({ layer, input }) => seHidden(layer, all[input] ?? tf.zeros([0])))];
  });
  try {
    const { kernel, units } = codeKernel(sources, n);
    return { score: logDet(kernel, n), units, images: n };
  } finally {
    tf.dispose(sources);
  }
}
