// Conv2D (forward) for the 'wasm' backend, replacing tfjs-backend-wasm's XNNPACK kernel: Y = X W for pointwise
// convolutions, im2col + GEMM otherwise (native conv2d, conv_grad.cc). XNNPACK creates (and packs the weights
// of) an operator per filter tensor, which in training, with a new filter tensor every step, happens on every
// call. Dilated or NCHW convolutions go to the stock kernel.
import * as tf from '@tensorflow/tfjs';
import { forwardConv, type KernelArgs } from './convGeometry.js';

const name = tf.Conv2D;

/** inputs {x: [N,H,W,Cin], filter: [KH,KW,Cin,Cout]}, attrs {strides, pad, dataFormat, dilations, dimRoundingMode}. */
export function conv2d(args: KernelArgs): tf.TensorInfo {
  return forwardConv(name, 'conv2d', false, args);
}

export const conv2dConfig: tf.KernelConfig = {
  kernelName: name,
  backendName: 'wasm',
  kernelFunc: conv2d as unknown as tf.KernelFunc,
};
