// A model card: what a trained model expects as input and what its outputs mean (the dataset, its preprocessing and
// the class names). It sits in the run directory beside the checkpoints and in exported models, so `nas predict`
// and a browser page preprocess images exactly as training evaluated them.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { replaceFile } from '../common/atomicFs.js';
import { NasError } from '../common/errors.js';
import type { Preprocessing } from '../data/transform.js';

export const MODEL_CARD_FILE = 'model-card.json';

export interface ModelCard {
  readonly format: 'nas-model-card';
  readonly version: 1;
  readonly dataset: string;
  readonly classNames: readonly string[];
  readonly preprocessing: Preprocessing;
}

export function makeModelCard(dataset: string, classNames: readonly string[], preprocessing: Preprocessing): ModelCard {
  return { format: 'nas-model-card', version: 1, dataset, classNames: [...classNames], preprocessing };
}

/** Written atomically (temp file, then rename) into `dir`. */
export async function writeModelCard(dir: string, card: ModelCard): Promise<string> {
  const path = join(dir, MODEL_CARD_FILE);
  await replaceFile(path, `${JSON.stringify(card, null, 2)}\n`);
  return path;
}

/** The card of a checkpoint: in the checkpoint directory, else in its run directory (the parent). */
export async function readModelCard(checkpointDir: string): Promise<ModelCard> {
  for (const dir of [checkpointDir, dirname(checkpointDir)]) {
    let text: string;
    try {
      text = await readFile(join(dir, MODEL_CARD_FILE), 'utf8');
    } catch {
      continue;
    }
    const card = JSON.parse(text) as Partial<ModelCard>;
    if (card.format !== 'nas-model-card' || !Array.isArray(card.classNames) || !card.preprocessing) {
      throw new NasError('E_IO', `${join(dir, MODEL_CARD_FILE)} is not a nas model card`);
    }
    return card as ModelCard;
  }
  throw new NasError('E_IO', `no ${MODEL_CARD_FILE} beside ${checkpointDir}: it was not written by nas train-final or import-weights`);
}
