// Conv2DBackpropFilter for the 'wasm' backend (tfjs-backend-wasm has none): dW = X^T dY for pointwise
// convolutions, im2col + GEMM otherwise (native conv2dBackpropFilter, conv_grad.cc).
import * as tf from '@tensorflow/tfjs';
import { gradientConv, type KernelArgs } from './convGeometry.js';

const name = tf.Conv2DBackpropFilter;

/** inputs {x: [N,H,W,Cin], dy: [N,OH,OW,Cout]}, attrs {strides, pad, dataFormat, dimRoundingMode, filterShape}. */
export function conv2dBackpropFilter(args: KernelArgs): tf.TensorInfo {
  return gradientConv(name, 'conv2dBackpropFilter', false, 'filter', args);
}

export const conv2dBackpropFilterConfig: tf.KernelConfig = {
  kernelName: name,
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilter as unknown as tf.KernelFunc,
};
