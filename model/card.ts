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

// ---- checking a card read from disk (a user may have edited it) --------------------------------------------------

type Obj = Readonly<Record<string, unknown>>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 1;
const isNumbers = (v: unknown, length?: number): boolean =>
  Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x)) && (length === undefined || v.length === length);

function transformProblem(t: unknown): string | null {
  if (!isObj(t)) return 'preprocessing.transform is not an object';
  if (t['kind'] === 'small') {
    const ok = (t['fit'] === 'resize' || t['fit'] === 'pad') && typeof t['pad'] === 'number' && typeof t['flip'] === 'boolean';
    return ok ? null : 'preprocessing.transform (small) needs fit "resize" or "pad", a number pad and a boolean flip';
  }
  if (t['kind'] === 'crop') {
    const ok = typeof t['cropPct'] === 'number' && isNumbers(t['scale'], 2) && isNumbers(t['ratio'], 2) && typeof t['flip'] === 'boolean' && typeof t['jitter'] === 'number';
    return ok ? null : 'preprocessing.transform (crop) needs a number cropPct and jitter, [min, max] scale and ratio and a boolean flip';
  }
  return `preprocessing.transform.kind is ${JSON.stringify(t['kind'])}, not "small" or "crop"`;
}

function preprocessingProblem(p: unknown): string | null {
  if (!isObj(p)) return 'preprocessing is not an object';
  const { input, stats, decode } = p;
  if (typeof p['dataset'] !== 'string') return 'preprocessing.dataset is not a string';
  if (!isObj(input) || !isCount(input['size']) || (input['channels'] !== 1 && input['channels'] !== 3)) {
    return 'preprocessing.input needs a whole number size and channels 1 or 3';
  }
  if (!isObj(stats) || !isNumbers(stats['mean']) || !isNumbers(stats['std'])) return 'preprocessing.stats needs mean and std lists of numbers';
  const decodes = ['full', 'shorter-side', 'cover'];
  if (!isObj(decode) || !decodes.includes(String(decode['kind'])) || (decode['kind'] !== 'full' && !isCount(decode['size']))) {
    return `preprocessing.decode needs a kind (${decodes.join(', ')}) and, unless full, a whole number size`;
  }
  return transformProblem(p['transform']);
}

/** What is wrong with a parsed card, or null. */
function cardProblem(v: unknown): string | null {
  if (!isObj(v)) return 'it is not a JSON object';
  if (v['format'] !== 'nas-model-card') return `its format is ${JSON.stringify(v['format'])}, not "nas-model-card"`;
  if (v['version'] !== 1) return `its version is ${JSON.stringify(v['version'])}, this nas reads version 1`;
  if (typeof v['dataset'] !== 'string') return 'dataset is not a string';
  const names = v['classNames'];
  if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string')) return 'classNames is not a list of strings';
  return preprocessingProblem(v['preprocessing']);
}

const isModelCard = (v: unknown): v is ModelCard => cardProblem(v) === null;

/** The card in `file`, checked: a one-line NasError naming the file when it is not valid JSON or not a card. */
export function parseModelCard(text: string, file: string): ModelCard {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    // JSON.parse quotes the text around the fault, newlines included: one line keeps the error on one line.
    throw new NasError('E_IO', `${file} is not valid JSON (${(e as Error).message.replace(/\s+/g, ' ')}): fix it or restore the one nas wrote`);
  }
  if (!isModelCard(json)) throw new NasError('E_IO', `${file} is not a valid nas model card: ${cardProblem(json) ?? ''}`);
  return json;
}

/** The card of a checkpoint: in the checkpoint directory, else in its run directory (the parent). */
export async function readModelCard(checkpointDir: string): Promise<ModelCard> {
  for (const dir of [checkpointDir, dirname(checkpointDir)]) {
    const file = join(dir, MODEL_CARD_FILE);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new NasError('E_IO', `cannot read ${file}: ${(e as Error).message}`);
    }
    return parseModelCard(text, file);
  }
  throw new NasError('E_IO', `no ${MODEL_CARD_FILE} beside ${checkpointDir}: it was not written by nas train-final or import-weights`);
}
