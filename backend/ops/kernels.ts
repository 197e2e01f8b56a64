// The fused training ops' kernels for the 'wasm' backend: each one calls one function of the native addon
// (batchnorm.cc, activation.cc, pool_scale.cc), working in place on the wasm heap. The ops (batchNorm.ts,
// activation.ts, squeezeExcite.ts) run them with tf.engine().runKernel, their gradients registered with tfjs, once
// this module is loaded; until then, on other backends, and in a browser they compose stock tfjs ops with the same
// formulas under a tf.customGrad.
// Node-only (the addon): the ops themselves import fused.ts, never this module.
import * as tf from '@tensorflow/tfjs';
import { fusedMovingStats, fusedUpdatesAvailable } from '../kernels/optimizerUpdate.js';
import { nativeFn } from '../native.js';
import { heap, offsetOf, type WasmBackend } from '../wasmHeap.js';
import { type ActivationKind, installFusedKernels, installMovingStatsUpdate, kernelNames } from './fused.js';
import { denseKernels } from './denseKernels.js';
import { inferenceKernels, loadInferenceNatives } from './inferenceKernels.js';
import { installDirectSaves } from './savedTensors.js';

export {
  type ActivationKind,
  activationGradReadsInput,
  adoptIntoScope,
  kernelNames,
  setFusedOpsEnabled,
  useFusedKernels,
} from './fused.js';

/** The addon's code for each kind (act_ops.h). */
export const activationCodes: Readonly<Record<ActivationKind, number>> = {
  relu: 0,
  relu6: 1,
  hswish: 2,
  hsigmoid: 3,
  sigmoid: 4,
};

// Native functions: (heap, byte offsets..., sizes..., attrs).
type BatchNormForward = (
  heap: ArrayBuffer, x: number, gamma: number, beta: number, y: number, mean: number, variance: number,
  rows: number, channels: number, eps: number,
) => void;
type BatchNormBackward = (
  heap: ArrayBuffer, dy: number, x: number, gamma: number, mean: number, variance: number, dx: number,
  dgamma: number, dbeta: number, rows: number, channels: number, eps: number,
) => void;
/** Batch norm then an activation (kind -1: none) in the same passes (batchnorm.cc); also saves the per-channel scale [C]. */
type BatchNormActForward = (
  heap: ArrayBuffer, x: number, gamma: number, beta: number, z: number, mean: number, variance: number, scale: number,
  rows: number, channels: number, eps: number, kind: number,
) => void;
/** The gradient of BatchNormActForward; z is read where the activation's gradient reads its output. */
type BatchNormActBackward = (
  heap: ArrayBuffer, dz: number, x: number, z: number, gamma: number, beta: number, mean: number, variance: number,
  scale: number, dx: number, dgamma: number, dbeta: number, rows: number, channels: number, eps: number, kind: number,
) => void;
type ActivationForward = (heap: ArrayBuffer, x: number, y: number, size: number, kind: number) => void;
type ActivationBackward = (
  heap: ArrayBuffer, dy: number, saved: number, dx: number, size: number, kind: number,
) => void;
type PoolForward = (heap: ArrayBuffer, x: number, y: number, n: number, hw: number, c: number) => void;
type PoolBackward = (heap: ArrayBuffer, dy: number, dx: number, n: number, hw: number, c: number) => void;
type ScaleForward = (heap: ArrayBuffer, x: number, s: number, y: number, n: number, hw: number, c: number) => void;
type ScaleBackward = (
  heap: ArrayBuffer, dy: number, x: number, s: number, dx: number, ds: number, n: number, hw: number, c: number,
) => void;

/** The addon's functions of the fused training ops (also called directly by model/trainPlan.ts). */
export interface TrainingNatives {
  readonly bnForward: BatchNormForward;
  readonly bnBackward: BatchNormBackward;
  readonly bnActForward: BatchNormActForward;
  readonly bnActBackward: BatchNormActBackward;
  readonly actForward: ActivationForward;
  readonly actBackward: ActivationBackward;
  readonly poolForward: PoolForward;
  readonly poolBackward: PoolBackward;
  readonly scaleForward: ScaleForward;
  readonly scaleBackward: ScaleBackward;
}

let natives: TrainingNatives | null = null;

/** The addon's functions; throws NasError('E_NATIVE') with how to build it when it does not load. */
export function trainingNatives(): TrainingNatives {
  natives ??= {
    bnForward: nativeFn<BatchNormForward>('batchNormForward'),
    bnBackward: nativeFn<BatchNormBackward>('batchNormBackward'),
    bnActForward: nativeFn<BatchNormActForward>('batchNormActForward'),
    bnActBackward: nativeFn<BatchNormActBackward>('batchNormActBackward'),
    actForward: nativeFn<ActivationForward>('activationForward'),
    actBackward: nativeFn<ActivationBackward>('activationBackward'),
    poolForward: nativeFn<PoolForward>('globalAvgPoolForward'),
    poolBackward: nativeFn<PoolBackward>('globalAvgPoolBackward'),
    scaleForward: nativeFn<ScaleForward>('channelScaleForward'),
    scaleBackward: nativeFn<ScaleBackward>('channelScaleBackward'),
  };
  return natives;
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

function input(args: KernelArgs, name: string): tf.TensorInfo {
  const t = args.inputs[name];
  if (!t) throw new Error(`kernel input '${name}' is missing`);
  if (t.dtype !== 'float32') throw new Error(`kernel input '${name}' must be float32, got ${t.dtype}`);
  return t;
}

function numberAttr(args: KernelArgs, name: string): number {
  const v = args.attrs?.[name];
  if (typeof v !== 'number') throw new Error(`kernel attribute '${name}' must be a number`);
  return v;
}

function kindAttr(args: KernelArgs): number {
  const kind = args.attrs?.['kind'];
  const code = typeof kind === 'string' ? activationCodes[kind as ActivationKind] : undefined;
  if (code === undefined) throw new Error(`unknown activation kind '${String(kind)}'`);
  return code;
}

function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function lastDim(shape: readonly number[]): number {
  return shape.length === 0 ? 1 : (shape[shape.length - 1] ?? 1);
}

function out(b: WasmBackend, shape: number[]): tf.TensorInfo {
  return b.makeOutput(shape, 'float32');
}

// Each kernel takes its inputs' and outputs' heap offsets first (looking an input up can move its data onto the
// heap, and allocating can grow the heap) and reads the heap's ArrayBuffer last, right before the native call.

function expectShape(t: tf.TensorInfo, shape: readonly number[], name: string): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`kernel input '${name}' must be [${shape.join(', ')}], got [${t.shape.join(', ')}]`);
  }
}

/** inputs {x, gamma, beta}, attrs {eps} -> [y, mean, variance]; normalises over all axes but the last. */
function batchNormTrain(args: KernelArgs): tf.TensorInfo[] {
  const b = args.backend as WasmBackend;
  const x = input(args, 'x');
  const gamma = input(args, 'gamma');
  const beta = input(args, 'beta');
  const C = lastDim(x.shape);
  expectShape(gamma, [C], 'gamma');
  expectShape(beta, [C], 'beta');
  const xo = offsetOf(b, x);
  const go = offsetOf(b, gamma);
  const bo = offsetOf(b, beta);
  const y = out(b, x.shape);
  const mean = out(b, [C]);
  const variance = out(b, [C]);
  const rows = C === 0 ? 0 : sizeOf(x.shape) / C;
  const yo = offsetOf(b, y);
  const mo = offsetOf(b, mean);
  const vo = offsetOf(b, variance);
  trainingNatives().bnForward(heap(b), xo, go, bo, yo, mo, vo, rows, C, numberAttr(args, 'eps'));
  return [y, mean, variance];
}

/** inputs {dy, x, gamma, mean, variance}, attrs {eps} -> [dx, dgamma, dbeta]. */
function batchNormTrainGrad(args: KernelArgs): tf.TensorInfo[] {
  const b = args.backend as WasmBackend;
  const dy = input(args, 'dy');
  const x = input(args, 'x');
  const gamma = input(args, 'gamma');
  const mean = input(args, 'mean');
  const variance = input(args, 'variance');
  const C = lastDim(x.shape);
  expectShape(dy, x.shape, 'dy');
  expectShape(gamma, [C], 'gamma');
  expectShape(mean, [C], 'mean');
  expectShape(variance, [C], 'variance');
  const dyo = offsetOf(b, dy);
  const xo = offsetOf(b, x);
  const go = offsetOf(b, gamma);
  const mo = offsetOf(b, mean);
  const vo = offsetOf(b, variance);
  const dx = out(b, x.shape);
  const dgamma = out(b, [C]);
  const dbeta = out(b, [C]);
  const rows = C === 0 ? 0 : sizeOf(x.shape) / C;
  const dxo = offsetOf(b, dx);
  const dgo = offsetOf(b, dgamma);
  const dbo = offsetOf(b, dbeta);
  trainingNatives().bnBackward(heap(b), dyo, xo, go, mo, vo, dxo, dgo, dbo, rows, C, numberAttr(args, 'eps'));
  return [dx, dgamma, dbeta];
}

/** inputs {x}, attrs {kind: ActivationKind} -> y. */
function activation(args: KernelArgs): tf.TensorInfo {
  const b = args.backend as WasmBackend;
  const x = input(args, 'x');
  const kind = kindAttr(args);
  const xo = offsetOf(b, x);
  const y = out(b, x.shape);
  const yo = offsetOf(b, y);
  trainingNatives().actForward(heap(b), xo, yo, sizeOf(x.shape), kind);
  return y;
}

/** inputs {dy, saved}, attrs {kind} -> dx; saved is x or y as activationGradReadsInput(kind) says. */
function activationGrad(args: KernelArgs): tf.TensorInfo {
  const b = args.backend as WasmBackend;
  const dy = input(args, 'dy');
  const saved = input(args, 'saved');
  const kind = kindAttr(args);
  expectShape(saved, dy.shape, 'saved');
  const dyo = offsetOf(b, dy);
  const so = offsetOf(b, saved);
  const dx = out(b, dy.shape);
  const dxo = offsetOf(b, dx);
  trainingNatives().actBackward(heap(b), dyo, so, dxo, sizeOf(dy.shape), kind);
  return dx;
}

function nhwc(t: tf.TensorInfo): [number, number, number] {
  const [n = 0, h = 0, w = 0, c = 0] = t.shape;
  if (t.shape.length !== 4) throw new Error(`expected an NHWC tensor, got shape [${t.shape.join(', ')}]`);
  return [n, h * w, c];
}

/** inputs {x: [N,H,W,C]} -> y [N,C]. */
function globalAvgPool(args: KernelArgs): tf.TensorInfo {
  const b = args.backend as WasmBackend;
  const x = input(args, 'x');
  const [n, hw, c] = nhwc(x);
  const xo = offsetOf(b, x);
  const y = out(b, [n, c]);
  const yo = offsetOf(b, y);
  trainingNatives().poolForward(heap(b), xo, yo, n, hw, c);
  return y;
}

/** inputs {dy: [N,C]}, attrs {height, width} -> dx [N,H,W,C]. */
function globalAvgPoolGrad(args: KernelArgs): tf.TensorInfo {
  const b = args.backend as WasmBackend;
  const dy = input(args, 'dy');
  const [n = 0, c = 0] = dy.shape;
  if (dy.shape.length !== 2) throw new Error(`kernel input 'dy' must be [N, C], got [${dy.shape.join(', ')}]`);
  const height = numberAttr(args, 'height');
  const width = numberAttr(args, 'width');
  const dyo = offsetOf(b, dy);
  const dx = out(b, [n, height, width, c]);
  const dxo = offsetOf(b, dx);
  trainingNatives().poolBackward(heap(b), dyo, dxo, n, height * width, c);
  return dx;
}

/** inputs {x: [N,H,W,C], s: [N,C]} -> y [N,H,W,C]. */
function channelScale(args: KernelArgs): tf.TensorInfo {
  const b = args.backend as WasmBackend;
  const x = input(args, 'x');
  const s = input(args, 's');
  const [n, hw, c] = nhwc(x);
  expectShape(s, [n, c], 's');
  const xo = offsetOf(b, x);
  const so = offsetOf(b, s);
  const y = out(b, x.shape);
  const yo = offsetOf(b, y);
  trainingNatives().scaleForward(heap(b), xo, so, yo, n, hw, c);
  return y;
}

/** inputs {dy, x, s} -> [dx, ds]. */
function channelScaleGrad(args: KernelArgs): tf.TensorInfo[] {
  const b = args.backend as WasmBackend;
  const dy = input(args, 'dy');
  const x = input(args, 'x');
  const s = input(args, 's');
  const [n, hw, c] = nhwc(x);
  expectShape(dy, x.shape, 'dy');
  expectShape(s, [n, c], 's');
  const dyo = offsetOf(b, dy);
  const xo = offsetOf(b, x);
  const so = offsetOf(b, s);
  const dx = out(b, x.shape);
  const ds = out(b, [n, c]);
  const dxo = offsetOf(b, dx);
  const dso = offsetOf(b, ds);
  trainingNatives().scaleBackward(heap(b), dyo, xo, so, dxo, dso, n, hw, c);
  return [dx, ds];
}

const kernels: ReadonlyArray<readonly [string, tf.KernelFunc]> = [
  [kernelNames.batchNormTrain, batchNormTrain],
  [kernelNames.batchNormTrainGrad, batchNormTrainGrad],
  [kernelNames.activation, activation],
  [kernelNames.activationSavingInput, activation],
  [kernelNames.activationGrad, activationGrad],
  [kernelNames.globalAvgPool, globalAvgPool],
  [kernelNames.globalAvgPoolGrad, globalAvgPoolGrad],
  [kernelNames.channelScale, channelScale],
  [kernelNames.channelScaleGrad, channelScaleGrad],
  ...inferenceKernels,
  ...denseKernels,
];

/** Registers the fused ops' kernels for the 'wasm' backend. Idempotent; does not need the addon until they run. */
export function registerFusedOpKernels(): void {
  for (const [kernelName, kernelFunc] of kernels) {
    if (!tf.getKernel(kernelName, 'wasm')) tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  }
}

installFusedKernels(() => {
  registerFusedOpKernels();
  trainingNatives();
  loadInferenceNatives();
  installDirectSaves();
});

installMovingStatsUpdate((moving, batch, d, a, b) => {
  if (!fusedUpdatesAvailable()) return false;
  fusedMovingStats(moving, batch, d, a, b);
  return true;
});
