// Batch-norm recalibration ("precise BN"): the moving statistics replaced by the mean of the batch statistics over
// a few training batches, in training mode, with the weights fixed. A short fine-tune (T steps at decay 0.99) leaves
// the moving averages behind the weights it changed, and so does a short train-final run (measured on
// MobileNetV3-Small, Fashion-MNIST, 3 epochs: test top-1 10.4% with the trained moving statistics, 80.2% after
// recalibrating on 1000 training images), which would make NetAdapt rank proposals by noise.
import * as tf from '@tensorflow/tfjs';
import type { Split } from '../data/types.js';
import { ConvBn } from '../model/layers.js';
import { batchTensors } from '../train/evaluate.js';

export interface RecalibrateOptions {
  /** Training images to average over (0: leave the statistics as they are). */
  readonly images: number;
  readonly batchSize: number;
  readonly seed: number;
}

export async function recalibrateBatchNorm(model: tf.LayersModel, split: Split, opts: RecalibrateOptions): Promise<void> {
  if (opts.images <= 0) return;
  const layers = model.layers.filter((l): l is ConvBn => l instanceof ConvBn && l.cfg.folded !== true);
  const decays = layers.map((l) => l.cfg.bnDecay);
  let seen = 0;
  let n = 0;
  try {
    const batches = split.batches({ batchSize: opts.batchSize, shuffle: true, augment: false, seed: opts.seed, epoch: 0, dropLast: false, startBatch: 0 });
    for await (const b of batches) {
      if (seen >= opts.images) break;
      // Decay n / (n + 1): the moving statistics become the running mean of the batch statistics.
      for (const l of layers) l.cfg.bnDecay = n / (n + 1);
      const x = batchTensors(b);
      try {
        tf.tidy(() => {
          model.apply(x.images, { training: true });
        });
      } finally {
        tf.dispose([x.images, x.labels]);
      }
      seen += b.count;
      n++;
    }
  } finally {
    layers.forEach((l, i) => (l.cfg.bnDecay = decays[i] ?? l.cfg.bnDecay));
  }
}
