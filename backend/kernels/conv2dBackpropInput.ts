// Conv2DBackpropInput for the 'wasm' backend, replacing tfjs-backend-wasm's slow direct loop: dX = dY W^T for
// pointwise convolutions, GEMM + col2im otherwise (native conv2dBackpropInput, conv_grad.cc). NCHW goes to the
// stock kernel.
import * as tf from '@tensorflow/tfjs';
import { gradientConv, type KernelArgs } from './convGeometry.js';

const name = tf.Conv2DBackpropInput;

/** inputs {dy: [N,OH,OW,Cout], filter: [KH,KW,Cin,Cout]}, attrs {inputShape, strides, pad, dataFormat, dimRoundingMode}. */
export function conv2dBackpropInput(args: KernelArgs): tf.TensorInfo {
  return gradientConv(name, 'conv2dBackpropInput', false, 'input', args);
}

export const conv2dBackpropInputConfig: tf.KernelConfig = {
  kernelName: name,
  backendName: 'wasm',
  kernelFunc: conv2dBackpropInput as unknown as tf.KernelFunc,
};
