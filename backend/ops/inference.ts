// Inference-only fused ops: a convolution (regular or depthwise) with its bias and activation, a dense layer with
// its bias and activation, and a whole squeeze-excite module. With batch norm folded into the convolutions
// (model/fold.ts) a MobileNet block is three or four of these calls. On wasm in Node each is one native kernel
// (native/src/conv_grad.cc, depthwise_grad.cc, infer.cc); elsewhere (a browser, other backends) they compose
// tfjs's own fused ops (tf.fused.conv2d, tf.fused.depthwiseConv2d, tf.fused.matMul), which carry bias and ReLU,
// plus our activation for the kinds tfjs lacks (h-swish, hard sigmoid). No gradients: these are for inference.
import * as tf from '@tensorflow/tfjs';
import { activationForward } from './activation.js';
import { type ActivationKind, kernelNames, useFusedKernels } from './fused.js';

/** An activation or none. */
export type InferenceActivation = ActivationKind | 'linear';

/** 'same' (TF) or a symmetric explicit padding p on each side (PyTorch). */
export type ConvPad = 'same' | number;

export interface ConvBiasActArgs {
  readonly x: tf.Tensor4D;
  /** [k, k, Cin, Cout], or [k, k, C, 1] when depthwise. */
  readonly filter: tf.Tensor4D;
  readonly bias: tf.Tensor1D | null;
  readonly strides: number;
  readonly pad: ConvPad;
  readonly depthwise: boolean;
  readonly activation: InferenceActivation;
}

/** tfjs's fused ops carry these activations themselves. */
const TFJS_FUSED = new Set<InferenceActivation>(['linear', 'relu', 'relu6', 'sigmoid']);

function then(y: tf.Tensor, act: InferenceActivation): tf.Tensor {
  return act === 'linear' ? y : activationForward(y, act);
}

/** act(conv(x, filter) + bias). */
export function convBiasAct(a: ConvBiasActArgs): tf.Tensor4D {
  if (useFusedKernels()) {
    const inputs: tf.NamedTensorMap = a.bias === null ? { x: a.x, filter: a.filter } : { x: a.x, filter: a.filter, bias: a.bias };
    return tf.engine().runKernel<tf.Tensor4D>(kernelNames.convBiasAct, inputs, {
      strides: a.strides,
      pad: a.pad,
      depthwise: a.depthwise,
      activation: a.activation,
    });
  }
  return tf.tidy(() => {
    const fusedAct = TFJS_FUSED.has(a.activation) ? (a.activation as 'linear' | 'relu' | 'relu6' | 'sigmoid') : 'linear';
    const common = { x: a.x, filter: a.filter, strides: a.strides, pad: a.pad, activation: fusedAct } as const;
    const withBias = a.bias === null ? common : { ...common, bias: a.bias };
    const y = a.depthwise ? tf.fused.depthwiseConv2d(withBias) : tf.fused.conv2d(withBias);
    return (TFJS_FUSED.has(a.activation) ? y : then(y, a.activation)) as tf.Tensor4D;
  });
}

/** act(x w + bias) for x [M, K], w [K, N]. */
export function denseBiasAct(x: tf.Tensor2D, w: tf.Tensor2D, bias: tf.Tensor1D | null, activation: InferenceActivation): tf.Tensor2D {
  if (useFusedKernels()) {
    const inputs: tf.NamedTensorMap = bias === null ? { x, w } : { x, w, bias };
    return tf.engine().runKernel<tf.Tensor2D>(kernelNames.denseBiasAct, inputs, { activation });
  }
  return tf.tidy(() => {
    const fusedAct = TFJS_FUSED.has(activation) ? (activation as 'linear' | 'relu' | 'relu6' | 'sigmoid') : 'linear';
    const y = tf.fused.matMul(bias === null ? { a: x, b: w, activation: fusedAct } : { a: x, b: w, bias, activation: fusedAct });
    return (TFJS_FUSED.has(activation) ? y : then(y, activation)) as tf.Tensor2D;
  });
}

export interface SqueezeExciteWeights {
  /** [C, R] and [R]: the reduce FC (ReLU). */
  readonly w1: tf.Tensor2D;
  readonly b1: tf.Tensor1D;
  /** [R, C] and [C]: the expand FC (gate). */
  readonly w2: tf.Tensor2D;
  readonly b2: tf.Tensor1D;
}

/** x * gate(relu(mean_hw(x) w1 + b1) w2 + b2), per image and channel. */
export function squeezeExciteInfer(x: tf.Tensor4D, w: SqueezeExciteWeights, gate: 'hsigmoid' | 'sigmoid'): tf.Tensor4D {
  if (useFusedKernels()) {
    return tf.engine().runKernel<tf.Tensor4D>(kernelNames.squeezeExciteInfer, { x, w1: w.w1, b1: w.b1, w2: w.w2, b2: w.b2 }, { gate });
  }
  return tf.tidy(() => {
    const [n, , , c] = x.shape;
    const s = tf.mean(x, [1, 2]) as tf.Tensor2D;
    const h = denseBiasAct(s, w.w1, w.b1, 'relu');
    const g = denseBiasAct(h, w.w2, w.b2, gate);
    return tf.mul(x, tf.reshape(g, [n, 1, 1, c]));
  });
}
