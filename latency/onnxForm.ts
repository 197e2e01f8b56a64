// The ONNX form a runner times for a tfjs model: the bytes `nas export --format onnx` would write for it
// (model/exportOnnx.ts: batch norm folded, NCHW) and the batch-1 dims of its input.
import type * as tf from '@tensorflow/tfjs';
import { onnxBytes } from '../model/exportOnnx.js';
import { nchw } from './ortTiming.js';

export interface OnnxForm {
  readonly bytes: Uint8Array;
  /** The input's dims at batch 1 (NCHW for feature maps). */
  readonly dims: number[];
}

/** `model` converted to ONNX; `model` is disposed. */
export function onnxFormOf(model: tf.LayersModel): OnnxForm {
  const dims = nchw(model.inputs[0]?.shape ?? []);
  try {
    return { bytes: onnxBytes(model), dims };
  } finally {
    model.dispose();
  }
}
