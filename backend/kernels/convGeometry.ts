// Shared by the convolution kernels of this directory: the geometry they pass to the native addon
// (conv_common.h), derived from tfjs's computeConv2DInfo, and the checks on what they support.
import * as tf from '@tensorflow/tfjs';
import { nativeFn } from '../native.js';
import { heap, makeOutput, offsetOf, type WasmBackend } from '../wasmHeap.js';
import { stockOrThrow } from './stockKernels.js';

/**
 * A native convolution function: (heap, offsetA, offsetB, offsetOut, batch, inH, inW, inC, outH, outW, outC,
 * filterH, filterW, strideH, strideW, padTop, padLeft) => void. Offsets are byte offsets into the heap.
 */
export type NativeConv = (
  heap: ArrayBuffer, a: number, b: number, out: number,
  batch: number, inH: number, inW: number, inC: number, outH: number, outW: number, outC: number,
  filterH: number, filterW: number, strideH: number, strideW: number, padTop: number, padLeft: number,
) => void;

/** The names of the addon's convolution functions (conv_grad.cc, depthwise_grad.cc). */
export type NativeConvName =
  | 'conv2d' | 'conv2dBackpropFilter' | 'conv2dBackpropInput'
  | 'depthwiseConv2d' | 'depthwiseConv2dBackpropFilter' | 'depthwiseConv2dBackpropInput';

const fns = new Map<NativeConvName, NativeConv>();

/** The addon function, resolved once; throws NasError('E_NATIVE') saying how to build the addon. */
export function nativeConv(name: NativeConvName): NativeConv {
  let fn = fns.get(name);
  if (!fn) {
    fn = nativeFn<NativeConv>(name);
    fns.set(name, fn);
  }
  return fn;
}

type Shape4 = [number, number, number, number];

export type KernelArgs = Parameters<tf.KernelFunc>[0];

/** A named float32 input of a kernel. */
export function kernelInput(args: KernelArgs, kernel: string, name: string): tf.TensorInfo {
  const t = args.inputs[name];
  if (!t) throw new Error(`${kernel}: input '${name}' is missing`);
  if (t.dtype !== 'float32') throw new Error(`${kernel} (wasm, native): input '${name}' must be float32, got ${t.dtype}`);
  return t;
}

/** A rank-4 shape: a tensor's or one given as an attribute (inputShape, filterShape). */
export function shape4(kernel: string, what: string, shape: readonly number[] | undefined): Shape4 {
  if (!shape || shape.length !== 4) {
    throw new Error(`${kernel}: ${what} must have rank 4, got shape [${shape?.join(', ') ?? ''}]`);
  }
  return [shape[0] ?? 0, shape[1] ?? 0, shape[2] ?? 0, shape[3] ?? 0];
}

/** What a convolution attribute set carries (strides, pad, dilations, dataFormat, dimRoundingMode). */
export interface ConvAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dilations?: [number, number] | number | undefined;
  dataFormat?: 'NHWC' | 'NCHW' | undefined;
  dimRoundingMode?: 'floor' | 'round' | 'ceil' | undefined;
}

/** Why our kernels cannot run a convolution with these attributes (NCHW, dilation > 1), or null. */
export function unsupported(attrs: ConvAttrs): string | null {
  if (attrs.dataFormat === 'NCHW') return "dataFormat 'NCHW' is not supported; use 'NHWC'";
  const d = attrs.dilations ?? 1;
  const [dh, dw] = typeof d === 'number' ? [d, d] : d;
  if (dh !== 1 || dw !== 1) return `dilations other than 1 are not supported, got [${dh}, ${dw}]`;
  return null;
}

// A training step asks for the same few dozen geometries every step, and computing one took a few percent of the
// step's time outside the native calls: they are kept (callers do not modify them), up to a bound.
const infoCache = new Map<string, tf.backend_util.Conv2DInfo>();
const INFO_CACHE_MAX = 4096;

/** computeConv2DInfo (NHWC) for our kernels; callers have checked `unsupported(attrs)`. */
export function convInfo(
  inShape: Shape4, filterShape: Shape4, attrs: ConvAttrs, depthwise: boolean,
): tf.backend_util.Conv2DInfo {
  const key = `${inShape.join()}|${filterShape.join()}|${String(attrs.strides)}|${String(attrs.pad)}|${String(attrs.dilations ?? 1)}|${attrs.dimRoundingMode ?? ''}|${depthwise}`;
  let info = infoCache.get(key);
  if (info === undefined) {
    info = tf.backend_util.computeConv2DInfo(
      inShape, filterShape, attrs.strides, attrs.dilations ?? 1, attrs.pad, attrs.dimRoundingMode, depthwise,
      'channelsLast',
    );
    if (infoCache.size >= INFO_CACHE_MAX) infoCache.clear();
    infoCache.set(key, info);
  }
  return info;
}

/** Checks that a tensor has the shape the convolution geometry implies. */
export function expectShape(kernel: string, what: string, actual: readonly number[], expected: readonly number[]): void {
  if (actual.length !== expected.length || actual.some((d, i) => d !== expected[i])) {
    throw new Error(`${kernel}: ${what} has shape [${actual.join(', ')}], expected [${expected.join(', ')}]`);
  }
}

/**
 * Allocates the output, then calls the native function on the heap (read after the allocation, which can grow
 * the memory) with the byte offsets of a, b and the output and the geometry of info.
 */
export function runConv(
  backend: WasmBackend, fn: NativeConv, a: tf.TensorInfo, b: tf.TensorInfo, outShape: number[],
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const out = makeOutput(backend, [...outShape]);
  if (outShape.some((d) => d === 0)) return out.info;
  callNativeConv(fn, heap(backend), offsetOf(backend, a), offsetOf(backend, b), out.offset, info);
  return out.info;
}

/** fn on the heap `h` with byte offsets a, b and out and the geometry of info (also model/trainPlan.ts's call). */
export function callNativeConv(fn: NativeConv, h: ArrayBuffer, a: number, b: number, out: number, info: tf.backend_util.Conv2DInfo): void {
  fn(
    h, a, b, out,
    info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth, info.outChannels,
    info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left,
  );
}

/**
 * A forward convolution, inputs {x: [N,H,W,Cin], filter: [KH,KW,Cin,Cout]} (depthwise: filter [KH,KW,C,M]), run by
 * the native function `fn`; attributes our kernels do not support go to the stock kernel.
 */
export function forwardConv(kernel: string, fn: NativeConvName, depthwise: boolean, args: KernelArgs): tf.TensorInfo {
  const attrs = args.attrs as unknown as ConvAttrs;
  const reason = unsupported(attrs);
  if (reason) return stockOrThrow(kernel, reason, args);
  const backend = args.backend as unknown as WasmBackend;
  const x = kernelInput(args, kernel, 'x');
  const filter = kernelInput(args, kernel, 'filter');
  const info = convInfo(shape4(kernel, 'x', x.shape), shape4(kernel, 'filter', filter.shape), attrs, depthwise);
  const filterOut = depthwise ? info.outChannels / info.inChannels : info.outChannels;
  expectShape(kernel, 'filter', filter.shape, [info.filterHeight, info.filterWidth, info.inChannels, filterOut]);
  return runConv(backend, nativeConv(fn), x, filter, info.outShape, info);
}

/**
 * A convolution's gradient with respect to its filter (inputs x, dy; attr filterShape) or its input (inputs dy,
 * filter; attr inputShape), computed by the native `fn`. Dense convolutions ignore `dilations` (tfjs passes none for
 * their gradients); depthwise ones check it. Shapes are checked against the convolution they differentiate.
 */
export function gradientConv(kernel: string, fn: NativeConvName, depthwise: boolean, of: 'filter' | 'input', args: KernelArgs): tf.TensorInfo {
  const key = of === 'filter' ? 'filterShape' : 'inputShape';
  const raw = args.attrs as unknown as ConvAttrs & { [k in typeof key]: number[] };
  const attrs = depthwise ? raw : { ...raw, dilations: 1 };
  const reason = unsupported(attrs);
  if (reason) return stockOrThrow(kernel, reason, args);
  const backend = args.backend as unknown as WasmBackend;
  const [a, b] = of === 'filter' ? [kernelInput(args, kernel, 'x'), kernelInput(args, kernel, 'dy')] : [kernelInput(args, kernel, 'dy'), kernelInput(args, kernel, 'filter')];
  const outShape = shape4(kernel, key, raw[key]);
  const info = of === 'filter' ? convInfo(shape4(kernel, 'x', a.shape), outShape, attrs, depthwise) : convInfo(outShape, shape4(kernel, 'filter', b.shape), attrs, depthwise);
  const multiplier = depthwise ? info.outChannels / info.inChannels : info.outChannels;
  if (of === 'filter' && depthwise) expectShape(kernel, 'filterShape', outShape, [info.filterHeight, info.filterWidth, info.inChannels, outShape[3]]);
  expectShape(kernel, 'dy', (of === 'filter' ? b : a).shape, info.outShape);
  if (of === 'input') expectShape(kernel, 'filter', b.shape, [info.filterHeight, info.filterWidth, info.inChannels, multiplier]);
  return runConv(backend, nativeConv(fn), a, b, outShape, info);
}
