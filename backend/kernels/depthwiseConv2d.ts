// DepthwiseConv2dNative (forward) for the 'wasm' backend, replacing tfjs-backend-wasm's XNNPACK kernel: a
// direct loop vectorised over channels (native depthwiseConv2d, depthwise_grad.cc). Dilated convolutions go to
// the stock kernel.
import * as tf from '@tensorflow/tfjs';
import { forwardConv, type KernelArgs } from './convGeometry.js';

const name = tf.DepthwiseConv2dNative;

/** inputs {x: [N,H,W,C], filter: [KH,KW,C,M]}, attrs {strides, pad, dilations, dimRoundingMode}. */
export function depthwiseConv2d(args: KernelArgs): tf.TensorInfo {
  return forwardConv(name, 'depthwiseConv2d', true, args);
}

export const depthwiseConv2dConfig: tf.KernelConfig = {
  kernelName: name,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2d as unknown as tf.KernelFunc,
};
