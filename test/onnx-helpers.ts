// Shared by the ONNX tests: a model run by ONNX Runtime itself (onnxruntime-node, CPU) on NHWC batches as our
// datasets produce them, the logits of our tfjs model on the same batch, and their largest difference.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import onnxProto, { type onnx as Onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';

/** A batch of NHWC float32 images. */
export interface NhwcBatch {
  readonly data: Float32Array;
  readonly count: number;
  readonly size: number;
  readonly channels: number;
}

/** `count` square images moved between NHWC (tfjs) and NCHW (ONNX) layouts. */
function relayout(data: Float32Array, count: number, size: number, channels: number, to: 'nchw' | 'nhwc'): Float32Array {
  const out = new Float32Array(data.length);
  const plane = size * size;
  for (let n = 0; n < count; n++) {
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < channels; c++) {
        const nhwc = (n * plane + p) * channels + c;
        const nchw = (n * channels + c) * plane + p;
        if (to === 'nchw') out[nchw] = data[nhwc] ?? Number.NaN;
        else out[nhwc] = data[nchw] ?? Number.NaN;
      }
    }
  }
  return out;
}

/** The same images in NCHW, the layout of the ONNX model's input. */
export function toNchw(b: NhwcBatch): Float32Array {
  return relayout(b.data, b.count, b.size, b.channels, 'nchw');
}

/** NCHW values of `count` square images back in NHWC. */
export function fromNchw(data: Float32Array, count: number, size: number, channels: number): Float32Array {
  return relayout(data, count, size, channels, 'nhwc');
}

/** What ONNX Runtime computes from NCHW `data` of `dims` with the model in `path` (or its bytes): its first output. */
export async function ortRun(model: string | Uint8Array, data: Float32Array, dims: readonly number[], inputName = 'input'): Promise<Float32Array> {
  const opts = { intraOpNumThreads: 1 };
  const session = typeof model === 'string' ? await ort.InferenceSession.create(model, opts) : await ort.InferenceSession.create(model, opts);
  try {
    const out = await session.run({ [inputName]: new ort.Tensor('float32', data, dims) });
    const name = session.outputNames[0] ?? '';
    const y = out[name];
    assert.ok(y !== undefined && y.data instanceof Float32Array, `ONNX Runtime gave no float output '${name}'`);
    assert.equal(y.dims[0], dims[0], 'batch dimension of the ONNX output');
    return Float32Array.from(y.data);
  } finally {
    await session.release();
  }
}

/** The logits ONNX Runtime computes for `b` with the model in `path` (or its bytes), [count x classes] row-major. */
export function ortLogits(model: string | Uint8Array, b: NhwcBatch): Promise<Float32Array> {
  return ortRun(model, toNchw(b), [b.count, b.channels, b.size, b.size]);
}

/** Our tfjs model's logits for `b` (inference). */
export function tfjsLogits(model: tf.LayersModel, b: NhwcBatch): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor4d(b.data, [b.count, b.size, b.size, b.channels]);
    return Float32Array.from((model.predict(x) as tf.Tensor).dataSync());
  });
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'output sizes');
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs((a[i] ?? Number.NaN) - (b[i] ?? Number.NaN)));
  return Number.isNaN(d) ? Infinity : d;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] ?? 0));
  return m;
}

/** The ModelProto in `path`, decoded by onnx-proto. */
export function readOnnx(path: string): Onnx.ModelProto {
  return onnxProto.onnx.ModelProto.decode(readFileSync(path));
}
