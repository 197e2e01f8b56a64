// Conv2DBackpropInput for the 'wasm' backend, replacing tfjs-backend-wasm's slow direct loop: dX = dY W^T for
// pointwise convolutions, GEMM + col2im otherwise (native conv2dBackpropInput, conv_grad.cc). NCHW goes to the
// stock kernel.
import * as tf from '@tensorflow/tfjs';
import type { WasmBackend } from '../wasmHeap.js';
import {
  convInfo, expectShape, kernelInput, nativeConv, runConv, shape4, unsupported, type ConvAttrs,
  type KernelArgs,
} from './convGeometry.js';
import { stockOrThrow } from './stockKernels.js';

const name = tf.Conv2DBackpropInput;

/** inputs {dy: [N,OH,OW,Cout], filter: [KH,KW,Cin,Cout]}, attrs {inputShape, strides, pad, dataFormat, dimRoundingMode}. */
export function conv2dBackpropInput(args: KernelArgs): tf.TensorInfo {
  const attrs = args.attrs as unknown as ConvAttrs & { inputShape: number[] };
  const reason = unsupported({ ...attrs, dilations: 1 });
  if (reason) return stockOrThrow(name, reason, args);
  const backend = args.backend as unknown as WasmBackend;
  const dy = kernelInput(args, name, 'dy');
  const filter = kernelInput(args, name, 'filter');
  const inputShape = shape4(name, 'inputShape', attrs.inputShape);
  const info = convInfo(inputShape, shape4(name, 'filter', filter.shape), { ...attrs, dilations: 1 }, false);
  expectShape(name, 'dy', dy.shape, info.outShape);
  expectShape(name, 'filter', filter.shape, [info.filterHeight, info.filterWidth, info.inChannels, info.outChannels]);
  return runConv(backend, nativeConv('conv2dBackpropInput'), dy, filter, inputShape, info);
}

export const conv2dBackpropInputConfig: tf.KernelConfig = {
  kernelName: name,
  backendName: 'wasm',
  kernelFunc: conv2dBackpropInput as unknown as tf.KernelFunc,
};
