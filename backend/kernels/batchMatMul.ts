// BatchMatMul for the 'wasm' backend through our sgemm (native batchMatMul, matmul.cc): the stock kernel takes
// over 100 ms for the transposed products in a dense layer's gradient. Batch dimensions broadcast when one side
// has a single matrix (as every dense layer's does); other broadcasts go to the stock kernel.
import * as tf from '@tensorflow/tfjs';
import { nativeFn } from '../native.js';
import { heap, makeOutput, offsetOf, type WasmBackend } from '../wasmHeap.js';
import { type KernelArgs, kernelInput } from './convGeometry.js';
import { stockOrThrow } from './stockKernels.js';

/** The addon's batchMatMul (matmul.cc): byte offsets, batch counts, M, N, K, and 1/0 for the transposes. */
export type NativeBatchMatMul = (
  heap: ArrayBuffer, a: number, b: number, out: number,
  batchA: number, batchB: number, m: number, n: number, k: number, transA: number, transB: number,
) => void;

let native: NativeBatchMatMul | null = null;

/** The native product, resolved once (throws NasError('E_NATIVE') saying how to build the addon). */
export function batchMatMulNative(): NativeBatchMatMul {
  native ??= nativeFn<NativeBatchMatMul>('batchMatMul');
  return native;
}
const name = tf.BatchMatMul;

export function batchMatMul(args: KernelArgs): tf.TensorInfo {
  const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
  const a = kernelInput(args, name, 'a');
  const b = kernelInput(args, name, 'b');
  if (a.shape.length < 2 || b.shape.length < 2) return stockOrThrow(name, 'operands must have rank >= 2', args);
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  const m = transposeA ? ac : ar;
  const k = transposeA ? ar : ac;
  const n = transposeB ? br : bc;
  if ((transposeB ? bc : br) !== k) {
    throw new Error(`BatchMatMul: inner dimensions differ: [${a.shape.join(', ')}] x [${b.shape.join(', ')}]`);
  }
  const batchDimsA = a.shape.slice(0, -2);
  const batchDimsB = b.shape.slice(0, -2);
  const batchA = batchDimsA.reduce((p, d) => p * d, 1);
  const batchB = batchDimsB.reduce((p, d) => p * d, 1);
  const same = batchDimsA.length === batchDimsB.length && batchDimsA.every((d, i) => d === batchDimsB[i]);
  if (!same && batchA !== 1 && batchB !== 1) return stockOrThrow(name, 'general batch broadcasting', args);
  const batchDims = batchA >= batchB ? batchDimsA : batchDimsB;
  const backend = args.backend as unknown as WasmBackend;
  const out = makeOutput(backend, [...batchDims, m, n]);
  if (m * n === 0) return out.info;
  batchMatMulNative()(
    heap(backend), offsetOf(backend, a), offsetOf(backend, b), out.offset,
    batchA, batchB, m, n, k, transposeA ? 1 : 0, transposeB ? 1 : 0,
  );
  return out.info;
}

export const batchMatMulConfig: tf.KernelConfig = {
  kernelName: name,
  backendName: 'wasm',
  kernelFunc: batchMatMul as unknown as tf.KernelFunc,
};
