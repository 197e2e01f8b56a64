// The browser module, bundled to dist/web/nas.js with @tensorflow/tfjs left as an import the page resolves (an
// import map), so our layers register with the page's own tfjs. Importing it is enough for tf.loadLayersModel to
// load a `nas export`; the helpers load the export with its model card, preprocess images as `nas predict` does
// and rank the classes. The layers run on stock tfjs ops here, on whichever backend the page picked.
import * as tf from '@tensorflow/tfjs';
import '../model/layers.js';
import type { ModelCard } from '../model/card.js';
import { preprocessRgba, type RgbaImage } from './preprocess.js';

export type { ModelCard } from '../model/card.js';
export type { Preprocessing } from '../data/transform.js';
export { preprocessRgba, readPixels, rgbOf, type RgbaImage } from './preprocess.js';

export interface NasModel {
  readonly model: tf.LayersModel;
  readonly card: ModelCard;
}

export interface ClassScore {
  readonly index: number;
  readonly className: string;
  readonly probability: number;
}

/** The export directory's URL with a trailing slash, resolved against the page. */
function directoryUrl(base: string): URL {
  const url = new URL(base, globalThis.location?.href);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

/** Checks that `json` is a model card (model/card.ts), as Node's readModelCard does. */
export function parseModelCard(json: unknown, where: string): ModelCard {
  const card = json as Partial<ModelCard> | null;
  if (card?.format !== 'nas-model-card' || !Array.isArray(card.classNames) || !card.preprocessing) {
    throw new Error(`${where} is not a nas model card`);
  }
  return card as ModelCard;
}

/** Loads `<base>model.json` (and its weight shards) and `<base>model-card.json`: the files `nas export` writes. */
export async function loadNasModel(base: string): Promise<NasModel> {
  const dir = directoryUrl(base);
  const cardUrl = new URL('model-card.json', dir).href;
  const [model, response] = await Promise.all([tf.loadLayersModel(new URL('model.json', dir).href), fetch(cardUrl)]);
  if (!response.ok) {
    model.dispose();
    throw new Error(`cannot load ${cardUrl}: HTTP ${response.status}`);
  }
  return { model, card: parseModelCard(await response.json(), cardUrl) };
}

/** Class probabilities (softmax of the logits) of preprocessed inputs, one Float32Array per input. */
export function probabilities(nas: NasModel, inputs: readonly Float32Array[]): Float32Array[] {
  const { size, channels } = nas.card.preprocessing.input;
  const per = size * size * channels;
  const batch = new Float32Array(inputs.length * per);
  inputs.forEach((x, i) => {
    if (x.length !== per) throw new Error(`input ${i} has ${x.length} floats, the model takes ${size}x${size}x${channels} = ${per}`);
    batch.set(x, i * per);
  });
  const probs = tf.tidy(() => {
    const logits = nas.model.predict(tf.tensor4d(batch, [inputs.length, size, size, channels])) as tf.Tensor2D;
    return tf.softmax(logits).dataSync() as Float32Array;
  });
  const classes = probs.length / Math.max(1, inputs.length);
  return inputs.map((_, i) => probs.slice(i * classes, (i + 1) * classes));
}

/** The k most probable classes, most probable first (ties: the lower index first). */
export function topK(probs: ArrayLike<number>, classNames: readonly string[], k = 5): ClassScore[] {
  return Array.from(probs, (probability, index) => ({ index, className: classNames[index] ?? String(index), probability }))
    .sort((a, b) => b.probability - a.probability || a.index - b.index)
    .slice(0, Math.max(0, k));
}

/** The top-k classes of one RGBA image (ImageData or canvas pixels, any size). */
export function classify(nas: NasModel, image: RgbaImage, k = 5): ClassScore[] {
  const [probs] = probabilities(nas, [preprocessRgba(image, nas.card.preprocessing)]);
  return topK(probs ?? [], nas.card.classNames, k);
}
