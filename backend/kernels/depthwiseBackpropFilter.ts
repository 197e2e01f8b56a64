// DepthwiseConv2dNativeBackpropFilter for the 'wasm' backend (tfjs-backend-wasm has none): a direct loop
// vectorised over channels (native depthwiseConv2dBackpropFilter, depthwise_grad.cc).
import * as tf from '@tensorflow/tfjs';
import { gradientConv, type KernelArgs } from './convGeometry.js';

const name = tf.DepthwiseConv2dNativeBackpropFilter;

/**
 * inputs {x: [N,H,W,C], dy: [N,OH,OW,C*M]}, attrs {strides, dilations, pad, dimRoundingMode, filterShape: [KH,KW,C,M]}.
 */
export function depthwiseBackpropFilter(args: KernelArgs): tf.TensorInfo {
  return gradientConv(name, 'depthwiseConv2dBackpropFilter', true, 'filter', args);
}

export const depthwiseBackpropFilterConfig: tf.KernelConfig = {
  kernelName: name,
  backendName: 'wasm',
  kernelFunc: depthwiseBackpropFilter as unknown as tf.KernelFunc,
};
