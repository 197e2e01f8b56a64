// DepthwiseConv2dNativeBackpropInput for the 'wasm' backend (tfjs-backend-wasm has none): a direct gather
// loop vectorised over channels (native depthwiseConv2dBackpropInput, depthwise_grad.cc).
import * as tf from '@tensorflow/tfjs';
import { gradientConv, type KernelArgs } from './convGeometry.js';

const name = tf.DepthwiseConv2dNativeBackpropInput;

/**
 * inputs {dy: [N,OH,OW,C*M], filter: [KH,KW,C,M]}, attrs {strides, dilations, pad, dimRoundingMode, inputShape}.
 */
export function depthwiseBackpropInput(args: KernelArgs): tf.TensorInfo {
  return gradientConv(name, 'depthwiseConv2dBackpropInput', true, 'input', args);
}

export const depthwiseBackpropInputConfig: tf.KernelConfig = {
  kernelName: name,
  backendName: 'wasm',
  kernelFunc: depthwiseBackpropInput as unknown as tf.KernelFunc,
};
