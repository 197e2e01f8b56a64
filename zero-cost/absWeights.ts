// The weights of a built model as synflow uses them: every value (kernels, biases, batch-norm parameters and
// statistics) replaced by its absolute value, in double precision, found by the weight's name (`s1.b0.dw/kernel`).
import type * as tf from '@tensorflow/tfjs';

export type AbsWeights = ReadonlyMap<string, Float64Array>;

export function absWeights(model: tf.LayersModel): AbsWeights {
  const out = new Map<string, Float64Array>();
  for (const w of model.weights) out.set(w.originalName, Float64Array.from(w.read().dataSync(), Math.abs));
  return out;
}

export function weight(weights: AbsWeights, name: string): Float64Array {
  const w = weights.get(name);
  if (w === undefined) throw new Error(`synflow: the model has no weight ${name}`);
  return w;
}
