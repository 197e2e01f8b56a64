// Fused, in-place optimizer, EMA and batch-norm moving-average updates on the wasm heap (native optimizerUpdate /
// sumSquares / emaUpdate / movingStatsUpdate, optimizer.cc): one native call per step (or per batch-norm layer)
// instead of several tfjs kernels per parameter. Not tfjs kernels: they overwrite variables' memory, which is safe
// only for data no other tensor shares, so every target is checked (ownData) before each call. Other backends, or an
// addon built without these functions, use tfjs ops.
import * as tf from '@tensorflow/tfjs';
import { nativeAddon } from '../native.js';
import { heap, offsetOf, type WasmBackend } from '../wasmHeap.js';

type NativeOptimizerUpdate = (heap: ArrayBuffer, table: ArrayBuffer, rows: number, kind: number, hyper: ArrayBuffer) => void;
type NativeSumSquares = (heap: ArrayBuffer, table: ArrayBuffer, rows: number, stride: number, offCol: number, countCol: number) => number;
type NativeEmaUpdate = (heap: ArrayBuffer, table: ArrayBuffer, rows: number, k: number) => void;
type NativeMovingStats = (heap: ArrayBuffer, table: ArrayBuffer, channels: number, d: number, a: number, b: number) => void;

interface Natives {
  readonly optimizerUpdate: NativeOptimizerUpdate;
  readonly sumSquares: NativeSumSquares;
  readonly emaUpdate: NativeEmaUpdate;
  readonly movingStatsUpdate: NativeMovingStats;
}

interface RefCounting {
  refCount(dataId: object): number;
}

let natives: Natives | null | undefined;

function loadNatives(): Natives | null {
  if (natives !== undefined) return natives;
  try {
    const a = nativeAddon();
    const { optimizerUpdate, sumSquares, emaUpdate, movingStatsUpdate } = a;
    natives =
      typeof optimizerUpdate === 'function' && typeof sumSquares === 'function' && typeof emaUpdate === 'function' &&
      typeof movingStatsUpdate === 'function'
        ? {
            optimizerUpdate: optimizerUpdate as NativeOptimizerUpdate,
            sumSquares: sumSquares as NativeSumSquares,
            emaUpdate: emaUpdate as NativeEmaUpdate,
            movingStatsUpdate: movingStatsUpdate as NativeMovingStats,
          }
        : null;
  } catch {
    natives = null;
  }
  return natives;
}

/** Whether fused updates run now: the wasm backend is active and the addon has them. */
export function fusedUpdatesAvailable(): boolean {
  return tf.getBackend() === 'wasm' && loadNatives() !== null;
}

function wasm(): WasmBackend & RefCounting {
  return tf.backend() as unknown as WasmBackend & RefCounting;
}

function natives_(): Natives {
  const n = loadNatives();
  if (!n) throw new Error('fused updates are not available');
  return n;
}

/**
 * Make `v` the only holder of its data (copying it when a clone or another variable shares it), so it can be
 * written in place.
 */
export function ownData(v: tf.Variable): void {
  if (wasm().refCount(v.dataId) <= 1) return;
  tf.tidy(() => {
    v.assign(tf.mul(v, tf.scalar(1, 'float32')));
  });
}

export const OptimizerKind = { sgd: 0, rmsprop: 1, adamw: 2 } as const;

export const ROW = 6;
export const HYPER = 12;

/** One parameter of a fused update: the variable, its gradient and up to two slots (null: unused). */
export interface FusedRow {
  readonly w: tf.Variable;
  readonly g: tf.Tensor;
  readonly s1: tf.Variable | null;
  readonly s2: tf.Variable | null;
  readonly decay: boolean;
}

/**
 * Hyper-parameters, in the order optimizer.cc reads them: lr, mu, wd, nesterov, 1 - rho, eps, 1 - b1, 1 - b2,
 * stepSize, invSqrtBc2, decayFactor, gradScale.
 */
export type Hyper = Float64Array;

/** Reusable buffers of one optimizer (so a step allocates nothing on the JS heap). */
export class FusedTables {
  readonly table: Int32Array;
  readonly hyper: Float64Array = new Float64Array(HYPER);

  constructor(rows: number) {
    this.table = new Int32Array(rows * ROW);
  }
}

export function fusedOptimizerUpdate(kind: number, rows: readonly FusedRow[], buffers: FusedTables): void {
  const n = natives_();
  const b = wasm();
  for (const r of rows) {
    ownData(r.w);
    if (r.s1) ownData(r.s1);
    if (r.s2) ownData(r.s2);
  }
  const t = buffers.table;
  rows.forEach((r, i) => {
    const o = i * ROW;
    t[o] = offsetOf(b, r.w);
    t[o + 1] = offsetOf(b, r.g);
    t[o + 2] = r.s1 ? offsetOf(b, r.s1) : -1;
    t[o + 3] = r.s2 ? offsetOf(b, r.s2) : -1;
    t[o + 4] = r.w.size;
    t[o + 5] = r.decay ? 1 : 0;
  });
  n.optimizerUpdate(heap(b), t.buffer as ArrayBuffer, rows.length, kind, buffers.hyper.buffer as ArrayBuffer);
}

/** The sum of squares of all elements of `tensors` (the squared global norm), computed in float64. */
export function fusedSumSquares(tensors: readonly tf.Tensor[], scratch?: Int32Array): number {
  const n = natives_();
  const b = wasm();
  const t = scratch && scratch.length >= tensors.length * 2 ? scratch : new Int32Array(tensors.length * 2);
  tensors.forEach((x, i) => {
    t[2 * i] = offsetOf(b, x);
    t[2 * i + 1] = x.size;
  });
  return n.sumSquares(heap(b), t.buffer as ArrayBuffer, tensors.length, 2, 0, 1);
}

/** shadow += (source - shadow) * k for every pair, in place. */
export function fusedEmaUpdate(shadows: readonly tf.Variable[], sources: readonly tf.Variable[], k: number, scratch: Int32Array): void {
  const n = natives_();
  const b = wasm();
  for (const s of shadows) ownData(s);
  shadows.forEach((s, i) => {
    const w = sources[i];
    if (!w) throw new Error('EMA: shadow without a source');
    scratch[3 * i] = offsetOf(b, s);
    scratch[3 * i + 1] = offsetOf(b, w);
    scratch[3 * i + 2] = s.size;
  });
  n.emaUpdate(heap(b), scratch.buffer as ArrayBuffer, shadows.length, k);
}

const statsTable = new Int32Array(4);

/**
 * A batch-norm layer's moving averages, in place: movingMean = movingMean * d + mean * a, movingVariance =
 * movingVariance * d + variance * b, rounded as the tfjs ops round them (one native call instead of six kernels,
 * four scalars and two variable writes a layer: at 32 px a fifth of a step's one-thread CPU time).
 */
export function fusedMovingStats(moving: readonly [tf.Variable, tf.Variable], batch: readonly [tf.TensorInfo, tf.TensorInfo], d: number, a: number, b: number): void {
  const w = wasm();
  fusedMovingStatsAt(moving, offsetOf(w, batch[0]), offsetOf(w, batch[1]), d, a, b);
}

/** fusedMovingStats with the batch mean and variance given by their byte offsets on the heap. */
export function fusedMovingStatsAt(moving: readonly [tf.Variable, tf.Variable], mean: number, variance: number, d: number, a: number, b: number): void {
  const w = wasm();
  for (const v of moving) ownData(v);
  statsTable[0] = offsetOf(w, moving[0]);
  statsTable[1] = offsetOf(w, moving[1]);
  statsTable[2] = mean;
  statsTable[3] = variance;
  natives_().movingStatsUpdate(heap(w), statsTable.buffer as ArrayBuffer, moving[0].size, d, a, b);
}
