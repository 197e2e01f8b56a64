// The settings of the zero-cost evaluators (`--evaluator zero-cost:NAME`), read from the run's evaluator config
// (plain JSON) with defaults. Every problem is a one-line UsageError naming the key.
import { type BackendChoice, backendChoices } from '../backend/choices.js';
import { UsageError } from '../common/errors.js';
import type { JsonValue } from '../common/json.js';
import { type DatasetName, datasetNames } from '../data/load.js';

export const ZERO_COST_SCORES = ['naswot', 'synflow'] as const;
export type ZeroCostScore = (typeof ZERO_COST_SCORES)[number];

export interface ZeroCostConfig {
  readonly dataset: DatasetName;
  /** Where the dataset files are; null: the dataset's default location. */
  readonly dataDir: string | null;
  /** Input size the network is scored at; null: the architecture's own. */
  readonly input: number | null;
  readonly fit: 'resize' | 'pad';
  /** NASWOT's minibatch: this many training images, a seeded subset (the same for every candidate). */
  readonly batch: number;
  /** Seeds the choice of the minibatch's images. */
  readonly dataSeed: number;
  readonly backend: BackendChoice;
  /**
   * How the score becomes the reward's accuracy (score.ts): accuracy = 1 / (1 + exp(-(score - center) / scale)).
   * null: the score's own default (score.ts SCORE_MAPS).
   */
  readonly center: number | null;
  readonly scale: number | null;
}

export const defaultZeroCostConfig: ZeroCostConfig = {
  dataset: 'mnist',
  dataDir: null,
  input: null,
  fit: 'resize',
  batch: 64,
  dataSeed: 0,
  backend: 'wasm',
  center: null,
  scale: null,
};

const KEYS = Object.keys(defaultZeroCostConfig);
/** Keys of the proxy evaluator that mean nothing without training: named in the error, not silently ignored. */
const PROXY_ONLY = ['proxyEpochs', 'proxyImages', 'valImages', 'recipe', 'set', 'bnDecay', 'batchSize'];

function bad(key: string, problem: string, v: JsonValue | undefined): UsageError {
  return new UsageError(`zero-cost config '${key}' ${problem}, got ${JSON.stringify(v) ?? 'nothing'}`);
}

function int(key: string, v: JsonValue, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw bad(key, `must be an integer in ${min}..${max}`, v);
  return v;
}

function oneOf<T extends string>(key: string, v: JsonValue, values: readonly T[]): T {
  const hit = values.find((x) => x === v);
  if (hit === undefined) throw bad(key, `must be one of ${values.join(', ')}`, v);
  return hit;
}

function num(key: string, v: JsonValue, positive: boolean): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || (positive && v <= 0)) {
    throw bad(key, positive ? 'must be a number > 0' : 'must be a finite number', v);
  }
  return v;
}

function checkKeys(json: Readonly<Record<string, JsonValue>>): void {
  for (const k of Object.keys(json)) {
    if (PROXY_ONLY.includes(k)) {
      throw new UsageError(`zero-cost config '${k}' is a proxy-training setting; a zero-cost evaluator does not train: drop it`);
    }
    if (!KEYS.includes(k)) throw new UsageError(`unknown zero-cost config key '${k}' (known: ${KEYS.join(', ')})`);
  }
}

/** The settings from a run's evaluator config: absent or null keys take the defaults; unknown keys are errors. */
export function parseZeroCostConfig(json: Readonly<Record<string, JsonValue>>): ZeroCostConfig {
  checkKeys(json);
  const get = (k: keyof ZeroCostConfig): JsonValue | null => json[k] ?? null;
  const d = defaultZeroCostConfig;
  const dataDir = get('dataDir');
  if (dataDir !== null && (typeof dataDir !== 'string' || dataDir === '')) throw bad('dataDir', 'must be a non-empty string', dataDir);
  const input = get('input');
  const center = get('center');
  const scale = get('scale');
  return {
    dataset: oneOf('dataset', get('dataset') ?? d.dataset, datasetNames),
    dataDir,
    input: input === null ? null : int('input', input, 8, 1024),
    fit: oneOf('fit', get('fit') ?? d.fit, ['resize', 'pad'] as const),
    batch: int('batch', get('batch') ?? d.batch, 2, 1024),
    dataSeed: int('dataSeed', get('dataSeed') ?? d.dataSeed, 0, 2 ** 31 - 1),
    backend: oneOf('backend', get('backend') ?? d.backend, backendChoices),
    center: center === null ? null : num('center', center, false),
    scale: scale === null ? null : num('scale', scale, true),
  };
}
