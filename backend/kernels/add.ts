// Add for the 'wasm' backend: float32 tensors of the same shape are summed by the native addArrays (elementwise.cc),
// split over the kernel threads; broadcasts and other dtypes go to the stock kernel. In training, Add sums the
// gradients of every tensor used twice, and tfjs's wasm kernel runs on one thread.
import * as tf from '@tensorflow/tfjs';
import { nativeFn } from '../native.js';
import { heap, makeOutput, offsetOf, type WasmBackend } from '../wasmHeap.js';
import type { KernelArgs } from './convGeometry.js';
import { stockOrThrow } from './stockKernels.js';

type NativeAdd = (heap: ArrayBuffer, a: number, b: number, out: number, n: number) => void;

let native: NativeAdd | null = null;

const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

export function add(args: KernelArgs): tf.TensorInfo {
  const { a, b } = args.inputs;
  if (!a || !b) throw new Error('Add: inputs a and b are required');
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || !sameShape(a.shape, b.shape)) {
    return stockOrThrow(tf.Add, 'only float32 tensors of one shape', args);
  }
  const backend = args.backend as unknown as WasmBackend;
  const out = makeOutput(backend, [...a.shape]);
  native ??= nativeFn<NativeAdd>('addArrays');
  native(heap(backend), offsetOf(backend, a), offsetOf(backend, b), out.offset, tf.util.sizeFromShape(a.shape));
  return out.info;
}

export const addConfig: tf.KernelConfig = {
  kernelName: tf.Add,
  backendName: 'wasm',
  kernelFunc: add as unknown as tf.KernelFunc,
};
