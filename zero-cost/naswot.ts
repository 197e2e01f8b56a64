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

/** K from codes given directly: codes[i][u] is 1 when unit u is active for image i. K_ij = sum_u [c_iu == c_ju]. */
export function hammingKernel(codes: readonly (readonly number[])[]): Float64Array {
  const n = codes.length;
  const k = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const a = codes[i] ?? [];
      const b = codes[j] ?? [];
      let agree = 0;
      for (let u = 0; u < a.length; u++) if ((a[u] ?? 0) > 0 === (b[u] ?? 0) > 0) agree++;
      k[i * n + j] = agree;
    }
  }
  return k;
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

/** sum over sources of s s^T with s = 2c - 1 (+1 active, -1 not): agreements minus disagreements per image pair. */
function agreement(sources: readonly tf.Tensor[], n: number): tf.Tensor2D {
  let s2: tf.Tensor2D = tf.zeros([n, n]);
  for (const t of sources) {
    const s = tf.sub(tf.mul(tf.cast(tf.greater(tf.reshape(t, [n, -1]), 0), 'float32'), 2), 1) as tf.Tensor2D;
    s2 = tf.add(s2, tf.matMul(s, s, false, true));
  }
  return s2;
}

/**
 * NASWOT's score of a model at its initial weights on one minibatch (NHWC float32 images, as data/ prepares them).
 * K = (N_A + S) / 2 with S the +/-1 agreement sum: exact in float32 while N_A < 2^24.
 */
export function naswotOf(model: tf.LayersModel, images: tf.Tensor4D): NaswotResult {
  const n = images.shape[0];
  const { outputs, se } = codeSources(model);
  const probe = tf.model({ inputs: model.inputs, outputs });
  const { s2, units } = tf.tidy(() => {
    const got = probe.apply(images, { training: true });
    const all = (Array.isArray(got) ? got : [got]).filter((t): t is tf.Tensor => t instanceof tf.Tensor);
    const hidden = se.map(({ layer, input }) => seHidden(layer, all[input] ?? tf.zeros([0])));
    const sources = [...all, ...hidden];
    const count = sources.reduce((a, t) => a + t.size / n, 0);
    return { s2: agreement(sources, n), units: count };
  });
  const s = Float64Array.from(s2.dataSync());
  s2.dispose();
  const k = s.map((v) => (units + v) / 2);
  return { score: logDet(k, n), units, images: n };
}
