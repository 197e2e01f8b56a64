// The inference form of a trained model: batch norm folded into every convolution (model/layers.ts foldBatchNorm),
// dropout dropped. Its outputs equal the trained model's in inference up to float rounding; it runs one fused
// kernel per convolution. Exports and latency measurements use this form.
import * as tf from '@tensorflow/tfjs';
import type { ResolvedArch } from '../space/resolve.js';
import { buildModel } from './build.js';
import { type BatchNormWeights, ConvBn, foldBatchNorm } from './layers.js';

/** The value of `layer`'s weight whose name ends in `/suffix`. */
export function weightByName(layer: tf.layers.Layer, suffix: string): tf.Tensor {
  const w = layer.weights.find((v) => v.originalName.endsWith(`/${suffix}`) || v.name.endsWith(`/${suffix}`));
  if (!w) throw new Error(`${layer.name}: no weight '${suffix}'`);
  return w.read();
}

/** A new, folded model of `arch` with `model`'s weights; `model` (built from the same arch) is left as it is. */
export function foldModel(model: tf.LayersModel, arch: ResolvedArch): tf.LayersModel {
  const folded = buildModel(arch, { folded: true });
  try {
    for (const target of folded.layers) {
      if (target.weights.length === 0) continue;
      let source: tf.layers.Layer;
      try {
        source = model.getLayer(target.name);
      } catch {
        throw new Error(`foldModel: the model has no layer '${target.name}' (built from another architecture?)`);
      }
      if (source instanceof ConvBn && source.cfg.folded !== true) {
        tf.tidy(() => {
          const bn = {
            gamma: weightByName(source, 'gamma'),
            beta: weightByName(source, 'beta'),
            mean: weightByName(source, 'moving_mean'),
            variance: weightByName(source, 'moving_variance'),
          } as BatchNormWeights;
          const f = foldBatchNorm(weightByName(source, 'kernel') as tf.Tensor4D, source.cfg.depthwise, bn, source.cfg.bnEps);
          target.setWeights([f.kernel, f.bias]);
        });
      } else {
        target.setWeights(source.getWeights());
      }
    }
  } catch (e) {
    folded.dispose();
    throw e;
  }
  return folded;
}
