// DepthwiseConv2dNative (forward) for the 'wasm' backend, replacing tfjs-backend-wasm's XNNPACK kernel: a
// direct loop vectorised over channels (native depthwiseConv2d, depthwise_grad.cc). Dilated convolutions go to
// the stock kernel.
import * as tf from '@tensorflow/tfjs';
import type { WasmBackend } from '../wasmHeap.js';
import {
  convInfo, expectShape, kernelInput, nativeConv, runConv, shape4, stockOrThrow, unsupported, type ConvAttrs,
  type KernelArgs,
} from './convGeometry.js';

const name = tf.DepthwiseConv2dNative;

/** inputs {x: [N,H,W,C], filter: [KH,KW,C,M]}, attrs {strides, pad, dilations, dimRoundingMode}. */
export function depthwiseConv2d(args: KernelArgs): tf.TensorInfo {
  const attrs = args.attrs as unknown as ConvAttrs;
  const reason = unsupported(attrs);
  if (reason) return stockOrThrow(name, reason, args);
  const backend = args.backend as unknown as WasmBackend;
  const x = kernelInput(args, name, 'x');
  const filter = kernelInput(args, name, 'filter');
  const info = convInfo(shape4(name, 'x', x.shape), shape4(name, 'filter', filter.shape), attrs, true);
  expectShape(name, 'filter', filter.shape, [info.filterHeight, info.filterWidth, info.inChannels, info.outChannels / info.inChannels]);
  return runConv(backend, nativeConv('depthwiseConv2d'), x, filter, info.outShape, info);
}

export const depthwiseConv2dConfig: tf.KernelConfig = {
  kernelName: name,
  backendName: 'wasm',
  kernelFunc: depthwiseConv2d as unknown as tf.KernelFunc,
};
