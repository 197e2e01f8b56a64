// The network both engines of the browser runner are compared on (ort-web against tfjs, latency/page/ortWeb.ts):
// as built from its seed, with every bias drawn from the seed too. A freshly built network has zero biases and
// kernels scaled to the fan-in, so its signal fades layer by layer (MobileNetV3-Small at 32 px: logits of 1e-10,
// which any two engines "agree" on); biases of a tenth keep every layer's output in play, up to the logits. Built
// the same way in Node (for the ONNX form) and in the page (for tfjs), from the same seeded generator.
import * as tf from '@tensorflow/tfjs';
import { buildModel } from '../model/build.js';
import type { ArchSpec } from '../space/arch.js';
import { resolve } from '../space/resolve.js';

export function parityModel(spec: ArchSpec, seed: number): tf.LayersModel {
  const model = buildModel(resolve(spec), { seed, folded: true });
  model.weights.forEach((w, i) => {
    if (!w.name.endsWith('bias')) return;
    const b = tf.randomUniform(w.read().shape, -0.1, 0.1, 'float32', seed * 1000 + i);
    w.write(b);
    b.dispose();
  });
  return model;
}
