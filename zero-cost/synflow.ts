// synflow (Tanaka et al. 2020, as a zero-cost proxy in Abdelfattah et al. 2021): with every parameter replaced by its
// absolute value and an all-ones input, R = sum of the network's outputs, and synflow = sum over the weights of
// |theta * dR/dtheta|. Batch norm is in eval mode (its moving statistics, no batch statistics), as the zero-cost
// proxies' code runs it; the sum covers the convolution and fully connected weights (kernels), as theirs does.
//
// Double precision, as both papers compute it: the product of |theta| over 40-odd layers reaches 1e30 and more,
// past float32's 3.4e38 in deeper or wider networks. tfjs has no float64, so this walks the resolved IR itself in
// JavaScript numbers (model/build.ts stays the reference for the network; a test compares the two forward passes).
//
// One forward-mode pass gives synflow exactly: with non-negative weights, biases and input, every pre-activation is
// non-negative and every operation is non-decreasing there (ReLU, ReLU6, hard-swish for x >= -1.5, the gates,
// pooling, sums), so every theta * dR/dtheta >= 0 and their sum is the derivative of R(t * theta) at t = 1, the
// tangent the dual numbers carry (dual.ts).
//
// ReLU6 is taken as ReLU. With |theta| and an all-ones input every unit's input is far above 6, so a ReLU6 network
// passes no gradient below its classifier: every ReLU6 sample of mnasnet-small-input scored the same e^6.41 (the
// head alone), whatever its body. The abs-value network is meant to be linear (Tanaka et al.: "linearise"), and
// ReLU is the rectifier without the cap. Hard-swish is kept: it is the identity above 3.
import type * as tf from '@tensorflow/tfjs';
import type { ResolvedArch, ResolvedBlock } from '../space/resolve.js';
import { type AbsWeights, absWeights, weight } from './absWeights.js';
import { accumulateDense, add, affine, conv, type Dual, dual, meanPool, plusTangent } from './dual.js';
import { activate, type DualActivation, scaleChannels } from './dualActivation.js';

export interface SynflowResult {
  /** sum |theta * dR/dtheta| over the kernels. */
  readonly synflow: number;
  /** R: the sum of the outputs of the network with |theta| on an all-ones input. */
  readonly output: number;
}

interface Net {
  readonly arch: ResolvedArch;
  readonly weights: AbsWeights;
}

/** The activation synflow applies: ReLU6 as ReLU (see above). */
function linearised(act: DualActivation): DualActivation {
  return act === 'relu6' ? 'relu' : act;
}

function convBn(net: Net, x: Dual, name: string, cout: number, kernel: number, stride: number, act: DualActivation, depthwise = false): Dual {
  const g = { kernel, stride, padding: net.arch.padding };
  const y = conv(x.v, plusTangent(x), [x.h, x.w, x.c], weight(net.weights, `${name}/kernel`), depthwise ? x.c : cout, g, depthwise);
  const gamma = weight(net.weights, `${name}/gamma`);
  const beta = weight(net.weights, `${name}/beta`);
  const mean = weight(net.weights, `${name}/moving_mean`);
  const variance = weight(net.weights, `${name}/moving_variance`);
  const scale = gamma.map((gm, c) => gm / Math.sqrt((variance[c] as number) + net.arch.bn.eps));
  const bias = beta.map((b, c) => b - (mean[c] as number) * (scale[c] as number));
  return activate(affine(y, scale, bias), linearised(act));
}

/** x (1 x 1 x C) times kernel [C, units] plus bias. */
function denseLayer(x: Dual, kernel: Float64Array, bias: Float64Array, act: DualActivation): Dual {
  const units = bias.length;
  const out = dual(1, 1, units);
  accumulateDense(out, 0, x.v, plusTangent(x), 0, kernel, 0, x.c, units);
  for (let u = 0; u < units; u++) out.v[u] = (out.v[u] as number) + (bias[u] as number);
  return activate(out, act);
}

function squeezeExcite(net: Net, x: Dual, path: string, gate: 'hsigmoid' | 'sigmoid'): Dual {
  const w = (k: string): Float64Array => weight(net.weights, `${path}.se/${k}`);
  const h = denseLayer(meanPool(x), w('reduce_kernel'), w('reduce_bias'), 'relu');
  return scaleChannels(x, denseLayer(h, w('expand_kernel'), w('expand_bias'), gate));
}

function block(net: Net, b: ResolvedBlock, input: Dual): Dual {
  const p = b.path;
  let x = input;
  if (b.type === 'conv') {
    x = convBn(net, x, `${p}.conv`, b.outC, b.kernel, b.stride, b.act);
  } else {
    if (b.hasExpand) x = convBn(net, x, `${p}.expand`, b.exp, 1, 1, b.act);
    x = convBn(net, x, `${p}.dw`, b.exp, b.kernel, b.stride, b.act, true);
    if (b.se) x = squeezeExcite(net, x, p, b.se.gate);
    x = convBn(net, x, `${p}.project`, b.outC, 1, 1, 'linear');
  }
  return b.residual ? add(input, x) : x;
}

function head(net: Net, input: Dual): Dual {
  const h = net.arch.head;
  const w = (k: string): Float64Array => weight(net.weights, k);
  let x = meanPool(convBn(net, input, 'head.conv', h.conv, 1, 1, h.act));
  if (h.hidden !== null) x = denseLayer(x, w('head.hidden/kernel'), w('head.hidden/bias'), linearised(h.act));
  // Dropout is the identity outside training.
  return denseLayer(x, w('head.classifier/kernel'), w('head.classifier/bias'), 'linear');
}

/** synflow of a model built from `arch` (model/build.ts), at its initial weights. */
export function synflowOf(arch: ResolvedArch, model: tf.LayersModel): SynflowResult {
  const net: Net = { arch, weights: absWeights(model) };
  let x = dual(arch.inputSize, arch.inputSize, arch.inputChannels);
  x.v.fill(1);
  const s = arch.stem;
  x = convBn(net, x, 'stem', s.outC, s.kernel, s.stride, s.act);
  for (const b of arch.blocks) x = block(net, b, x);
  const out = head(net, x);
  let output = 0;
  let synflow = 0;
  for (let i = 0; i < out.v.length; i++) {
    output += out.v[i] as number;
    synflow += out.d[i] as number;
  }
  return { synflow, output };
}
