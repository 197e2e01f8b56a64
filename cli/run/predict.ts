// The work of `nas predict` (cli/predict.ts), loaded once the command line is checked: it loads tfjs.
import * as tf from '@tensorflow/tfjs';
import type { BackendChoice } from '../../backend/choices.js';
import { useBackend } from '../../backend/select.js';
import { NasError } from '../../common/errors.js';
import { preprocessImageFile } from '../../data/transform.js';
import { type ModelCard, readModelCard } from '../../model/card.js';
import { type CheckpointChoice, chooseCheckpoint, describeFallback, loadCheckpointModel } from '../../train/checkpoint.js';
import { threadsFrom } from '../options.js';
import { emit } from '../output.js';

export interface PredictArgs {
  readonly images: string[];
  readonly checkpoint: string;
  readonly top: number;
  readonly weights: 'ema' | 'raw';
  readonly 'allow-fallback': boolean;
  readonly backend: BackendChoice;
  threads: number | undefined;
  readonly json: boolean;
}

export interface ClassProbability {
  readonly index: number;
  readonly name: string;
  readonly prob: number;
}

export interface ImagePrediction {
  readonly image: string;
  /** The `top` most probable classes, most probable first. */
  readonly top: readonly ClassProbability[];
}

export interface PredictResult {
  readonly checkpoint: string;
  /** Set when the run directory's newest checkpoint was corrupt and an older one was used (--allow-fallback). */
  readonly fallback: CheckpointChoice['fallback'];
  readonly weights: 'ema' | 'raw';
  readonly predictions: readonly ImagePrediction[];
}

/** Images preprocessed and run together; bounds memory for long file lists. */
const BATCH = 16;

/** Indexes of the k largest values, largest first (ties: lower index first). */
function topK(values: Float32Array, k: number): number[] {
  const idx = Array.from(values.keys());
  idx.sort((a, b) => (values[b] ?? 0) - (values[a] ?? 0) || a - b);
  return idx.slice(0, k);
}

function toText(r: PredictResult): string {
  const note = describeFallback(r.checkpoint, r.fallback);
  const lines = r.predictions.map((p) =>
    [p.image, ...p.top.map((c) => `  ${c.prob.toFixed(4)}  ${c.name === `class ${c.index}` ? c.name : `${c.name} (${c.index})`}`)].join('\n'),
  );
  return (note === null ? lines : [note, ...lines]).join('\n');
}

/** The k most probable classes of each image, preprocessed as the card says, BATCH images at a time. */
async function predictImages(model: tf.LayersModel, card: ModelCard, images: readonly string[], k: number): Promise<ImagePrediction[]> {
  const pre = card.preprocessing;
  const classes = card.classNames.length;
  const pixels = pre.input.size * pre.input.size * pre.input.channels;
  const predictions: ImagePrediction[] = [];
  for (let start = 0; start < images.length; start += BATCH) {
    const files = images.slice(start, start + BATCH);
    const batch = new Float32Array(files.length * pixels);
    for (const [i, file] of files.entries()) batch.set(await preprocessImageFile(file, pre), i * pixels);
    const probs = tf.tidy(() => {
      const x = tf.tensor4d(batch, [files.length, pre.input.size, pre.input.size, pre.input.channels]);
      return tf.softmax(model.predict(x) as tf.Tensor2D);
    });
    const all = await probs.data<'float32'>();
    probs.dispose();
    files.forEach((image, i) => {
      const row = all.subarray(i * classes, (i + 1) * classes);
      const top = topK(row, k).map((index) => ({ index, name: card.classNames[index] ?? String(index), prob: row[index] ?? 0 }));
      predictions.push({ image, top });
    });
  }
  return predictions;
}

/** Predicts the images (each readable, --top checked) and prints the top classes of each. */
export async function runPredict(args: PredictArgs): Promise<void> {
  const choice = await chooseCheckpoint(args.checkpoint, { allowFallback: args['allow-fallback'] });
  const card = await readModelCard(choice.path);
  await useBackend(args.backend, { threads: threadsFrom(args.threads) });
  const { model, checkpoint, weights } = await loadCheckpointModel(choice.path, { weights: args.weights });
  try {
    const classes = model.outputs[0]?.shape[1];
    if (classes !== card.classNames.length) {
      throw new NasError('E_IO', `the model card of ${checkpoint.path} names ${card.classNames.length} classes, the model outputs ${classes}`);
    }
    const predictions = await predictImages(model, card, args.images, Math.min(args.top, classes));
    emit({ checkpoint: checkpoint.path, fallback: choice.fallback, weights, predictions }, args.json, toText);
  } finally {
    model.dispose();
  }
}
