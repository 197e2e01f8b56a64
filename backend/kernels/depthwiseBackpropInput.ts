// DepthwiseConv2dNativeBackpropInput for the 'wasm' backend (tfjs-backend-wasm has none): a direct gather
// loop vectorised over channels (native depthwiseConv2dBackpropInput, depthwise_grad.cc).
import * as tf from '@tensorflow/tfjs';
import type { WasmBackend } from '../wasmHeap.js';
import {
  convInfo, expectShape, kernelInput, nativeConv, runConv, shape4, unsupported, type ConvAttrs,
  type KernelArgs,
} from './convGeometry.js';
import { stockOrThrow } from './stockKernels.js';

const name = tf.DepthwiseConv2dNativeBackpropInput;

/**
 * inputs {dy: [N,OH,OW,C*M], filter: [KH,KW,C,M]}, attrs {strides, dilations, pad, dimRoundingMode, inputShape}.
 */
export function depthwiseBackpropInput(args: KernelArgs): tf.TensorInfo {
  const attrs = args.attrs as unknown as ConvAttrs & { inputShape: number[] };
  const reason = unsupported(attrs);
  if (reason) return stockOrThrow(name, reason, args);
  const backend = args.backend as unknown as WasmBackend;
  const dy = kernelInput(args, name, 'dy');
  const filter = kernelInput(args, name, 'filter');
  const inputShape = shape4(name, 'inputShape', attrs.inputShape);
  const info = convInfo(inputShape, shape4(name, 'filter', filter.shape), attrs, true);
  expectShape(name, 'dy', dy.shape, info.outShape);
  expectShape(name, 'filter', filter.shape, [info.filterHeight, info.filterWidth, info.inChannels, info.outChannels / info.inChannels]);
  return runConv(backend, nativeConv('depthwiseConv2dBackpropInput'), dy, filter, inputShape, info);
}

export const depthwiseBackpropInputConfig: tf.KernelConfig = {
  kernelName: name,
  backendName: 'wasm',
  kernelFunc: depthwiseBackpropInput as unknown as tf.KernelFunc,
};
