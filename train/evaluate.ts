// Evaluation of a classifier on a split in inference mode: top-1, top-5 and mean cross-entropy (no label
// smoothing). Sums stay on the backend until the end: one read per evaluation, not per batch.
import * as tf from '@tensorflow/tfjs';
import type { Batch, Split } from '../data/types.js';

export interface EvalMetrics {
  readonly top1: number;
  readonly top5: number;
  readonly loss: number;
  readonly count: number;
}

export interface EvaluateOptions {
  readonly batchSize: number;
  /** Seed and epoch of the split's iteration (evaluation neither shuffles nor augments; some splits still take them). */
  readonly seed?: number;
  readonly epoch?: number;
  /** Evaluate at most this many images (a quick look during search); default all. */
  readonly maxImages?: number;
}

/**
 * Input tensors of a batch: NHWC images and int32 labels. The wasm backend copies them onto its heap; other
 * backends keep a reference to the array, which a loader may refill for a later batch, so they get a copy.
 */
export function batchTensors(b: Batch): { images: tf.Tensor4D; labels: tf.Tensor1D } {
  const n = b.count;
  const pixels = n * b.height * b.width * b.channels;
  const copy = tf.getBackend() !== 'wasm';
  const px = b.images.length === pixels && !copy ? b.images : b.images.slice(0, pixels);
  const lb = b.labels.length === n && !copy ? b.labels : b.labels.slice(0, n);
  return { images: tf.tensor4d(px, [n, b.height, b.width, b.channels]), labels: tf.tensor1d(lb, 'int32') };
}

/** [loss sum, top-1 hits, top-k hits] of one batch. */
function batchSums(model: tf.LayersModel, images: tf.Tensor4D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    // apply, not predict: predict slices the batch into 32s.
    const logits = model.apply(images, { training: false }) as tf.Tensor2D;
    const classes = logits.shape[1];
    const onehot = tf.oneHot(labels, classes);
    const lossSum = tf.losses.softmaxCrossEntropy(onehot, logits, undefined, 0, tf.Reduction.SUM);
    const k = Math.min(5, classes);
    const { indices } = tf.topk(logits, k);
    const hits = tf.cast(tf.equal(indices, tf.expandDims(labels, 1)), 'float32');
    const top1 = tf.sum(tf.slice(hits, [0, 0], [-1, 1]));
    const topk = tf.sum(hits);
    return tf.stack([lossSum, top1, topk]) as tf.Tensor1D;
  });
}

export async function evaluateModel(model: tf.LayersModel, split: Split, opts: EvaluateOptions): Promise<EvalMetrics> {
  let sums: tf.Tensor1D = tf.zeros([3]);
  let count = 0;
  const max = opts.maxImages ?? Number.POSITIVE_INFINITY;
  try {
    const batches = split.batches({
      batchSize: opts.batchSize,
      shuffle: false,
      augment: false,
      seed: opts.seed ?? 0,
      epoch: opts.epoch ?? 0,
      dropLast: false,
    });
    for await (const b of batches) {
      const { images, labels } = batchTensors(b);
      const next = tf.tidy(() => tf.add(sums, batchSums(model, images, labels)) as tf.Tensor1D);
      tf.dispose([images, labels, sums]);
      sums = next;
      count += b.count;
      if (count >= max) break;
    }
    const [lossSum = 0, top1 = 0, top5 = 0] = Array.from(await sums.data());
    return count === 0
      ? { top1: 0, top5: 0, loss: Number.NaN, count: 0 }
      : { top1: top1 / count, top5: top5 / count, loss: lossSum / count, count };
  } finally {
    sums.dispose();
  }
}
