// The dense layer's gradient kernel for the 'wasm' backend (the op: dense.ts). dx = dy w^T and dw = x^T dy are the
// native batchMatMul calls tfjs's BatchMatMul gradient makes through our kernel (backend/kernels/batchMatMul.ts), and
// dbias the column sums of dy, added row after row in float32 as tfjs's wasm Sum adds them: the numbers of the
// stock-op path, in one kernel call where that path takes six. Node-only, like kernels.ts, which registers it.
import * as tf from '@tensorflow/tfjs';
import { batchMatMulNative } from '../kernels/batchMatMul.js';
import { expectShape, type KernelArgs, kernelInput } from '../kernels/convGeometry.js';
import { heap, offsetOf, type WasmBackend } from '../wasmHeap.js';
import { kernelNames } from './fused.js';

/** out[c] = sum over rows r of a[r][c], in row order, each sum rounded to float32 (out's element type). */
function columnSums(a: Float32Array, rows: number, cols: number, out: Float32Array): void {
  out.fill(0);
  for (let r = 0; r < rows; r++) {
    const row = r * cols;
    for (let c = 0; c < cols; c++) out[c] = (out[c] ?? 0) + (a[row + c] ?? 0);
  }
}

/**
 * dx = dy w^T, dw = x^T dy and dbias = column sums of dy, for dy [M, N], x [M, K], w [K, N] at byte offsets of the
 * heap `h` (also called directly by model/trainPlan.ts).
 */
export function denseGradOnHeap(h: ArrayBuffer, o: { dy: number; x: number; w: number; dx: number; dw: number; dbias: number }, M: number, K: number, N: number): void {
  const product = batchMatMulNative();
  if (M * K > 0) product(h, o.dy, o.w, o.dx, 1, 1, M, K, N, 0, 1);
  if (K * N > 0) product(h, o.x, o.dy, o.dw, 1, 1, K, N, M, 1, 0);
  columnSums(new Float32Array(h, o.dy, M * N), M, N, new Float32Array(h, o.dbias, N));
}

/** inputs {dy: [M, N], x: [M, K], w: [K, N]} -> [dx [M, K], dw [K, N], dbias [N]]. */
function denseBiasGrad(args: KernelArgs): tf.TensorInfo[] {
  const k = kernelNames.denseBiasGrad;
  const b = args.backend as WasmBackend;
  const dy = kernelInput(args, k, 'dy');
  const x = kernelInput(args, k, 'x');
  const w = kernelInput(args, k, 'w');
  const [M = 0, K = 0] = x.shape;
  const N = w.shape[1] ?? 0;
  if (x.shape.length !== 2) throw new Error(`${k}: x must be [M, K], got [${x.shape.join(', ')}]`);
  expectShape(k, 'w', w.shape, [K, N]);
  expectShape(k, 'dy', dy.shape, [M, N]);
  const [dyo, xo, wo] = [offsetOf(b, dy), offsetOf(b, x), offsetOf(b, w)];
  const outs = [b.makeOutput([M, K], 'float32'), b.makeOutput([K, N], 'float32'), b.makeOutput([N], 'float32')];
  const [dxo = 0, dwo = 0, dbo = 0] = outs.map((t) => offsetOf(b, t));
  denseGradOnHeap(heap(b), { dy: dyo, x: xo, w: wo, dx: dxo, dw: dwo, dbias: dbo }, M, K, N);
  return outs;
}

export const denseKernels: ReadonlyArray<readonly [string, tf.KernelFunc]> = [
  [kernelNames.denseBiasGrad, denseBiasGrad],
];
