// Conv2D (forward) for the 'wasm' backend, replacing tfjs-backend-wasm's XNNPACK kernel: Y = X W for pointwise
// convolutions, im2col + GEMM otherwise (native conv2d, conv_grad.cc). XNNPACK creates (and packs the weights
// of) an operator per filter tensor, which in training, with a new filter tensor every step, happens on every
// call. Dilated or NCHW convolutions go to the stock kernel.
import * as tf from '@tensorflow/tfjs';
import type { WasmBackend } from '../wasmHeap.js';
import {
  convInfo, expectShape, kernelInput, nativeConv, runConv, shape4, stockOrThrow, unsupported, type ConvAttrs,
  type KernelArgs,
} from './convGeometry.js';

const name = tf.Conv2D;

/** inputs {x: [N,H,W,Cin], filter: [KH,KW,Cin,Cout]}, attrs {strides, pad, dataFormat, dilations, dimRoundingMode}. */
export function conv2d(args: KernelArgs): tf.TensorInfo {
  const attrs = args.attrs as unknown as ConvAttrs;
  const reason = unsupported(attrs);
  if (reason) return stockOrThrow(name, reason, args);
  const backend = args.backend as unknown as WasmBackend;
  const x = kernelInput(args, name, 'x');
  const filter = kernelInput(args, name, 'filter');
  const info = convInfo(shape4(name, 'x', x.shape), shape4(name, 'filter', filter.shape), attrs, false);
  expectShape(name, 'filter', filter.shape, [info.filterHeight, info.filterWidth, info.inChannels, info.outChannels]);
  return runConv(backend, nativeConv('conv2d'), x, filter, info.outShape, info);
}

export const conv2dConfig: tf.KernelConfig = {
  kernelName: name,
  backendName: 'wasm',
  kernelFunc: conv2d as unknown as tf.KernelFunc,
};
