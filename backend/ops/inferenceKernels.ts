// The wasm kernels of the inference ops (inference.ts): each one native call (conv2dBiasAct,
// depthwiseConv2dBiasAct, denseBiasAct, squeezeExciteInfer). Node-only, like kernels.ts, which registers them.
import * as tf from '@tensorflow/tfjs';
import { expectShape, type KernelArgs, kernelInput } from '../kernels/convGeometry.js';
import { nativeFn } from '../native.js';
import { heap, offsetOf, type WasmBackend } from '../wasmHeap.js';
import { kernelNames } from './fused.js';
import type { ConvPad, InferenceActivation } from './inference.js';

/** The addon's activation codes (native/src/epilogue.h). */
const ACT_CODES: Readonly<Record<InferenceActivation, number>> = {
  linear: -1,
  relu: 0,
  relu6: 1,
  hswish: 2,
  hsigmoid: 3,
  sigmoid: 4,
};

type NativeConvBiasAct = (
  heap: ArrayBuffer, x: number, filter: number, y: number,
  batch: number, inH: number, inW: number, inC: number, outH: number, outW: number, outC: number,
  filterH: number, filterW: number, strideH: number, strideW: number, padTop: number, padLeft: number,
  bias: number, kind: number,
) => void;
type NativeDense = (heap: ArrayBuffer, x: number, w: number, bias: number, y: number, M: number, K: number, N: number, kind: number) => void;
type NativeSe = (
  heap: ArrayBuffer, x: number, w1: number, b1: number, w2: number, b2: number, y: number,
  N: number, HW: number, C: number, R: number, gate: number,
) => void;

type NativePool = (heap: ArrayBuffer, x: number, y: number, N: number, HW: number, C: number) => void;
type NativeAdd = (heap: ArrayBuffer, a: number, b: number, out: number, n: number) => void;

/** The native functions of the inference path (also called directly by model/inferencePlan.ts). */
export interface InferenceNatives {
  readonly conv: NativeConvBiasAct;
  readonly dw: NativeConvBiasAct;
  readonly dense: NativeDense;
  readonly se: NativeSe;
  readonly pool: NativePool;
  readonly add: NativeAdd;
}

let natives: InferenceNatives | null = null;

export function inferenceNatives(): InferenceNatives {
  natives ??= {
    conv: nativeFn<NativeConvBiasAct>('conv2dBiasAct'),
    dw: nativeFn<NativeConvBiasAct>('depthwiseConv2dBiasAct'),
    dense: nativeFn<NativeDense>('denseBiasAct'),
    se: nativeFn<NativeSe>('squeezeExciteInfer'),
    pool: nativeFn<NativePool>('globalAvgPoolForward'),
    add: nativeFn<NativeAdd>('addArrays'),
  };
  return natives;
}

const native = inferenceNatives;

function optional(args: KernelArgs, name: string, kernel: string): tf.TensorInfo | null {
  return args.inputs[name] === undefined ? null : kernelInput(args, kernel, name);
}

export function actCode(v: unknown, kernel: string): number {
  const code = typeof v === 'string' ? ACT_CODES[v as InferenceActivation] : undefined;
  if (code === undefined) throw new Error(`${kernel}: unknown activation '${String(v)}'`);
  return code;
}

type Shape4 = [number, number, number, number];

/** The geometry arguments of the native convolutions (batch ... padLeft), and the output shape. */
export function convGeometry(
  xShape: readonly number[], filterShape: readonly number[], strides: number, pad: ConvPad, depthwise: boolean,
): { args: number[]; outShape: number[] } {
  const info = tf.backend_util.computeConv2DInfo(
    xShape as Shape4, filterShape as Shape4, strides, 1,
    pad === 'same' ? 'same' : [[0, 0], [pad, pad], [pad, pad], [0, 0]], undefined, depthwise, 'channelsLast',
  );
  const args = [
    info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth, info.outChannels,
    info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left,
  ];
  return { args, outShape: info.outShape };
}

/** One native convolution call: geometry as convGeometry gives it, bias offset (-1: none), activation code. */
export function callConv(depthwise: boolean, h: ArrayBuffer, x: number, filter: number, y: number, geom: readonly number[], bias: number, kind: number): void {
  const [n = 0, ih = 0, iw = 0, ic = 0, oh = 0, ow = 0, oc = 0, fh = 0, fw = 0, sh = 0, sw = 0, pt = 0, pl = 0] = geom;
  (depthwise ? native().dw : native().conv)(h, x, filter, y, n, ih, iw, ic, oh, ow, oc, fh, fw, sh, sw, pt, pl, bias, kind);
}

/** inputs {x, filter, bias?}, attrs {strides, pad: 'same' | p, depthwise, activation} -> y. */
function convBiasAct(args: KernelArgs): tf.TensorInfo {
  const k = kernelNames.convBiasAct;
  const b = args.backend as unknown as WasmBackend;
  const x = kernelInput(args, k, 'x');
  const filter = kernelInput(args, k, 'filter');
  const bias = optional(args, 'bias', k);
  const attrs = args.attrs as { strides: number; pad: ConvPad; depthwise: boolean; activation: InferenceActivation };
  const kind = actCode(attrs.activation, k);
  if (x.shape.length !== 4 || filter.shape.length !== 4) throw new Error(`${k}: x and filter must have rank 4`);
  const geom = convGeometry(x.shape, filter.shape, attrs.strides, attrs.pad, attrs.depthwise);
  if (attrs.depthwise && filter.shape[3] !== 1) throw new Error(`${k}: depthwise filters must have multiplier 1`);
  if (bias !== null) expectShape(k, 'bias', bias.shape, [geom.outShape[3] ?? 0]);
  const xo = offsetOf(b, x);
  const fo = offsetOf(b, filter);
  const bo = bias === null ? -1 : offsetOf(b, bias);
  const y = b.makeOutput(geom.outShape, 'float32');
  if (geom.outShape.some((d) => d === 0)) return y;
  const yo = offsetOf(b, y);
  callConv(attrs.depthwise, heap(b), xo, fo, yo, geom.args, bo, kind);
  return y;
}

/** inputs {x: [M, K], w: [K, N], bias?: [N]}, attrs {activation} -> y [M, N]. */
function denseBiasAct(args: KernelArgs): tf.TensorInfo {
  const k = kernelNames.denseBiasAct;
  const b = args.backend as unknown as WasmBackend;
  const x = kernelInput(args, k, 'x');
  const w = kernelInput(args, k, 'w');
  const bias = optional(args, 'bias', k);
  const kind = actCode((args.attrs as { activation: unknown }).activation, k);
  const [M = 0, K = 0] = x.shape;
  const N = w.shape[1] ?? 0;
  if (x.shape.length !== 2) throw new Error(`${k}: x must be [M, K], got [${x.shape.join(', ')}]`);
  expectShape(k, 'w', w.shape, [K, N]);
  if (bias !== null) expectShape(k, 'bias', bias.shape, [N]);
  const xo = offsetOf(b, x);
  const wo = offsetOf(b, w);
  const bo = bias === null ? -1 : offsetOf(b, bias);
  const y = b.makeOutput([M, N], 'float32');
  const yo = offsetOf(b, y);
  native().dense(heap(b), xo, wo, bo, yo, M, K, N, kind);
  return y;
}

/** inputs {x: [N,H,W,C], w1: [C,R], b1: [R], w2: [R,C], b2: [C]}, attrs {gate} -> y [N,H,W,C]. */
function squeezeExciteInfer(args: KernelArgs): tf.TensorInfo {
  const k = kernelNames.squeezeExciteInfer;
  const b = args.backend as unknown as WasmBackend;
  const x = kernelInput(args, k, 'x');
  const w1 = kernelInput(args, k, 'w1');
  const b1 = kernelInput(args, k, 'b1');
  const w2 = kernelInput(args, k, 'w2');
  const b2 = kernelInput(args, k, 'b2');
  const gate = (args.attrs as { gate: unknown }).gate;
  if (gate !== 'hsigmoid' && gate !== 'sigmoid') throw new Error(`${k}: gate must be hsigmoid or sigmoid, got '${String(gate)}'`);
  const [n = 0, h = 0, wd = 0, c = 0] = x.shape;
  if (x.shape.length !== 4) throw new Error(`${k}: x must be NHWC, got [${x.shape.join(', ')}]`);
  const r = w1.shape[1] ?? 0;
  expectShape(k, 'w1', w1.shape, [c, r]);
  expectShape(k, 'b1', b1.shape, [r]);
  expectShape(k, 'w2', w2.shape, [r, c]);
  expectShape(k, 'b2', b2.shape, [c]);
  const offs = [x, w1, b1, w2, b2].map((t) => offsetOf(b, t)) as [number, number, number, number, number];
  const y = b.makeOutput([...x.shape], 'float32');
  const yo = offsetOf(b, y);
  native().se(heap(b), ...offs, yo, n, h * wd, c, r, ACT_CODES[gate]);
  return y;
}

export const inferenceKernels: ReadonlyArray<readonly [string, tf.KernelFunc]> = [
  [kernelNames.convBiasAct, convBiasAct as unknown as tf.KernelFunc],
  [kernelNames.denseBiasAct, denseBiasAct as unknown as tf.KernelFunc],
  [kernelNames.squeezeExciteInfer, squeezeExciteInfer as unknown as tf.KernelFunc],
];

/** Loads the native functions (throws NasError('E_NATIVE') when the addon lacks them). */
export function loadInferenceNatives(): void {
  native();
}
