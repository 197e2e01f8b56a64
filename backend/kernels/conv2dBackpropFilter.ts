// Conv2DBackpropFilter for the 'wasm' backend (tfjs-backend-wasm has none): dW = X^T dY for pointwise
// convolutions, im2col + GEMM otherwise (native conv2dBackpropFilter, conv_grad.cc).
import * as tf from '@tensorflow/tfjs';
import type { WasmBackend } from '../wasmHeap.js';
import {
  convInfo, expectShape, kernelInput, nativeConv, runConv, shape4, unsupported, type ConvAttrs,
  type KernelArgs,
} from './convGeometry.js';
import { stockOrThrow } from './stockKernels.js';

const name = tf.Conv2DBackpropFilter;

/** inputs {x: [N,H,W,Cin], dy: [N,OH,OW,Cout]}, attrs {strides, pad, dataFormat, dimRoundingMode, filterShape}. */
export function conv2dBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const attrs = args.attrs as unknown as ConvAttrs & { filterShape: number[] };
  const reason = unsupported({ ...attrs, dilations: 1 });
  if (reason) return stockOrThrow(name, reason, args);
  const backend = args.backend as unknown as WasmBackend;
  const x = kernelInput(args, name, 'x');
  const dy = kernelInput(args, name, 'dy');
  const filterShape = shape4(name, 'filterShape', attrs.filterShape);
  const info = convInfo(shape4(name, 'x', x.shape), filterShape, { ...attrs, dilations: 1 }, false);
  expectShape(name, 'dy', dy.shape, info.outShape);
  return runConv(backend, nativeConv('conv2dBackpropFilter'), x, dy, filterShape, info);
}

export const conv2dBackpropFilterConfig: tf.KernelConfig = {
  kernelName: name,
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilter as unknown as tf.KernelFunc,
};
