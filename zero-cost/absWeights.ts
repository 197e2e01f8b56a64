// The weights of a built model as synflow uses them: every value (kernels, biases, batch-norm parameters and
// statistics) replaced by its absolute value, in double precision, found by the weight's name (`s1.b0.dw/kernel`).
import type * as tf from '@tensorflow/tfjs';

export type AbsWeights = ReadonlyMap<string, Float64Array>;

export function absWeights(model: tf.LayersModel): AbsWeights {
  const out = new Map<string, Float64Array>();
  for (const w of model.weights) {
    const src = w.read().dataSync();
    // A plain loop: Float64Array.from(src, Math.abs) goes through the iterator and took most of synflow's time.
    const abs = new Float64Array(src.length);
    for (let i = 0; i < src.length; i++) abs[i] = Math.abs(src[i] ?? 0);
    out.set(w.originalName, abs);
  }
  return out;
}

export function weight(weights: AbsWeights, name: string): Float64Array {
  const w = weights.get(name);
  if (w === undefined) throw new Error(`synflow: the model has no weight ${name}`);
  return w;
}
