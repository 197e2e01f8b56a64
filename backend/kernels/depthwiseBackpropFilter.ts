// DepthwiseConv2dNativeBackpropFilter for the 'wasm' backend (tfjs-backend-wasm has none): a direct loop
// vectorised over channels (native depthwiseConv2dBackpropFilter, depthwise_grad.cc).
import * as tf from '@tensorflow/tfjs';
import type { WasmBackend } from '../wasmHeap.js';
import {
  convInfo, expectShape, kernelInput, nativeConv, runConv, shape4, unsupported, type ConvAttrs,
  type KernelArgs,
} from './convGeometry.js';
import { stockOrThrow } from './stockKernels.js';

const name = tf.DepthwiseConv2dNativeBackpropFilter;

/**
 * inputs {x: [N,H,W,C], dy: [N,OH,OW,C*M]}, attrs {strides, dilations, pad, dimRoundingMode, filterShape: [KH,KW,C,M]}.
 */
export function depthwiseBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const attrs = args.attrs as unknown as ConvAttrs & { filterShape: number[] };
  const reason = unsupported(attrs);
  if (reason) return stockOrThrow(name, reason, args);
  const backend = args.backend as unknown as WasmBackend;
  const x = kernelInput(args, name, 'x');
  const dy = kernelInput(args, name, 'dy');
  const filterShape = shape4(name, 'filterShape', attrs.filterShape);
  const info = convInfo(shape4(name, 'x', x.shape), filterShape, attrs, true);
  expectShape(name, 'filterShape', filterShape, [info.filterHeight, info.filterWidth, info.inChannels, filterShape[3]]);
  expectShape(name, 'dy', dy.shape, info.outShape);
  return runConv(backend, nativeConv('depthwiseConv2dBackpropFilter'), x, dy, filterShape, info);
}

export const depthwiseBackpropFilterConfig: tf.KernelConfig = {
  kernelName: name,
  backendName: 'wasm',
  kernelFunc: depthwiseBackpropFilter as unknown as tf.KernelFunc,
};
