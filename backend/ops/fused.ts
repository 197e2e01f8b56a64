// What the fused ops (batchNorm.ts, activation.ts, squeezeExcite.ts) share: kernel names and the switch between
// their fused kernels and their composite path. Nothing here touches Node: the ops, and the layers built on them,
// bundle for a browser, where they always take the composite path. The native kernels live in kernels.ts, which
// Node code imports (backend/select.ts does) and which installs itself here on import.
import * as tf from '@tensorflow/tfjs';

/** Kernel names. Inputs, attributes and outputs are listed at each kernel in kernels.ts. */
export const kernelNames = {
  batchNormTrain: 'NasBatchNormTrain',
  batchNormTrainGrad: 'NasBatchNormTrainGrad',
  activation: 'NasActivation',
  /** The same kernel as `activation`, whose gradient saves the input (hswish, hsigmoid) instead of the output. */
  activationSavingInput: 'NasActivationSavingInput',
  activationGrad: 'NasActivationGrad',
  globalAvgPool: 'NasGlobalAvgPool',
  globalAvgPoolGrad: 'NasGlobalAvgPoolGrad',
  channelScale: 'NasChannelScale',
  channelScaleGrad: 'NasChannelScaleGrad',
  convBiasAct: 'NasConvBiasAct',
  denseBiasAct: 'NasDenseBiasAct',
  denseBiasGrad: 'NasDenseBiasGrad',
  squeezeExciteInfer: 'NasSqueezeExciteInfer',
} as const;

export type ActivationKind = 'relu' | 'relu6' | 'hswish' | 'hsigmoid' | 'sigmoid';

/**
 * Which tensor an activation's backward reads: the output y where it determines the gradient exactly (relu, relu6,
 * sigmoid), the input x where it does not (hswish; hsigmoid, whose y cannot tell x = 3 - ulp from x = 3).
 */
export function activationGradReadsInput(kind: ActivationKind): boolean {
  return kind === 'hswish' || kind === 'hsigmoid';
}

let fusedEnabled = true;
let prepareFused: (() => void) | null = null;
let ready = false;

/**
 * Called by kernels.ts when it loads: `prepare` registers the wasm kernels and loads the addon (throwing
 * NasError('E_NATIVE') when it cannot), and runs once, on the first op that takes the fused path.
 */
export function installFusedKernels(prepare: () => void): void {
  prepareFused = prepare;
  ready = false;
}

/**
 * Turn the fused kernels off (true by default) to run the ops' composite path on wasm too: for benchmarks and tests.
 */
export function setFusedOpsEnabled(enabled: boolean): void {
  fusedEnabled = enabled;
}

/** Whether the ops run their fused kernels: on the 'wasm' backend, once kernels.ts is loaded, unless turned off. */
export function useFusedKernels(): boolean {
  if (!fusedEnabled || prepareFused === null || tf.getBackend() !== 'wasm') return false;
  if (!ready) {
    prepareFused();
    ready = true;
  }
  return true;
}

/**
 * Hands a tensor kept inside a tf.customGrad forward (which runs in a tidy of its own) to the caller's scope, so
 * the caller's tf.tidy disposes it like any other result. Engine.track is private in tfjs's types, not in fact.
 */
export function adoptIntoScope<T extends tf.Tensor>(t: T): T {
  t.kept = false;
  (tf.engine() as unknown as { track(t: tf.Tensor): tf.Tensor }).track(t);
  return t;
}

/** The gradient of a registered kernel's first output (tfjs passes one tensor, or one per output). */
export function firstDy(dy: tf.Tensor | tf.Tensor[]): tf.Tensor {
  const t = Array.isArray(dy) ? dy[0] : dy;
  if (!t) throw new Error('gradient: dy is missing');
  return t;
}

/** A batch-norm layer's moving statistics updated in place: moving = moving * d + batch * (a, b); false: not done. */
export type MovingStatsUpdate = (moving: readonly [tf.Variable, tf.Variable], batch: readonly [tf.Tensor, tf.Tensor], d: number, a: number, b: number) => boolean;

let movingStatsUpdate: MovingStatsUpdate | null = null;

/** Called by kernels.ts when it loads: the native update (backend/kernels/optimizerUpdate.ts), Node only. */
export function installMovingStatsUpdate(update: MovingStatsUpdate): void {
  movingStatsUpdate = update;
}

/** The moving statistics updated in place by the native kernel where it is installed and runs; false otherwise. */
export function updateMovingStatsInPlace(moving: readonly [tf.Variable, tf.Variable], batch: readonly [tf.Tensor, tf.Tensor], d: number, a: number, b: number): boolean {
  return movingStatsUpdate !== null && movingStatsUpdate(moving, batch, d, a, b);
}
