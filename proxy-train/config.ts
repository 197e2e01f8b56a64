// The proxy-training settings of `nas search`'s built-in evaluator, read from the run's evaluator config (plain
// JSON, as the run was started with) with defaults. Every problem is a one-line UsageError naming the key, so the
// engine can validate a config once, up front, before any worker starts.
import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BackendChoice, backendChoices } from '../backend/choices.js';
import { UsageError } from '../common/errors.js';
import { type DatasetName, datasetNames } from '../data/load.js';
import type { JsonValue } from '../common/json.js';
import { applyOverrides, parseTrainConfig, type TrainConfig } from '../train/config.js';

export interface ProxyConfig {
  readonly dataset: DatasetName;
  /** Where the dataset files are; null: the dataset's default location. */
  readonly dataDir: string | null;
  /**
   * Proxy-training input size; null (the default): the architecture's own. Measured (docs/SEARCH.md, "Proxy
   * fidelity"): at half the size the last three stages see maps of 2x2 and 1x1, where a 3x3 and a 5x5 kernel compute
   * the same functions, and the proxy ranked 16 networks by their trained accuracy with Kendall tau 0.33 against 0.52 at their own
   * 32 px, for half the cost per candidate.
   */
  readonly input: number | null;
  /** How 28-32 px images meet the input: scaled (as train-final does by default) or zero-padded / centre-cropped. */
  readonly fit: 'resize' | 'pad';
  /** Passes over the proxy training images; fractions allowed (the schedule spans the steps actually run). */
  readonly proxyEpochs: number;
  /** Training images used: a seeded subset of the training split. */
  readonly proxyImages: number;
  /** Validation images held out of the training data (stratified); the accuracy is measured on them. */
  readonly valImages: number;
  /** null: the recipe's batch size. */
  readonly batchSize: number | null;
  /** A configs/*.json recipe name ('proxy') or a path to a recipe file. */
  readonly recipe: string;
  /** Recipe overrides, `key=value` as `--set` takes them (`optimizer.lr=0.05`). */
  readonly set: readonly string[];
  /**
   * Batch-norm moving-average decay while proxy training; null: the architecture's. A few hundred steps are too few
   * for the usual 0.99 to forget the initial statistics, so evaluation would see half-initial moving statistics.
   */
  readonly bnDecay: number | null;
  readonly backend: BackendChoice;
  /** Seeds the choice of proxy and validation images: the same for every candidate, so all are scored alike. */
  readonly dataSeed: number;
}

export const defaultProxyConfig: ProxyConfig = {
  dataset: 'mnist',
  dataDir: null,
  input: null,
  fit: 'resize',
  proxyEpochs: 1,
  proxyImages: 8192,
  valImages: 2000,
  batchSize: null,
  recipe: 'proxy',
  set: [],
  bnDecay: 0.9,
  backend: 'wasm',
  dataSeed: 0,
};

export const proxyConfigKeys = Object.keys(defaultProxyConfig) as readonly (keyof ProxyConfig)[];

type Json = Readonly<Record<string, JsonValue>>;

function describe(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : (JSON.stringify(v) ?? String(v));
}

function bad(key: string, problem: string): UsageError {
  return new UsageError(`proxy config '${key}' ${problem}`);
}

function int(key: string, v: JsonValue, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw bad(key, `must be an integer in ${min}..${max}, got ${describe(v)}`);
  }
  return v;
}

function oneOf<T extends string>(key: string, v: JsonValue, values: readonly T[]): T {
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
    throw bad(key, `must be one of ${values.join(', ')}, got ${describe(v)}`);
  }
  return v as T;
}

function text(key: string, v: JsonValue): string {
  if (typeof v !== 'string' || v === '') throw bad(key, `must be a non-empty string, got ${describe(v)}`);
  return v;
}

/**
 * The proxy settings from a run's evaluator config: absent or null keys take the defaults (input and bnDecay:
 * null is the arch's); unknown keys are errors. The recipe, its overrides and the batch size are checked here too.
 */
export function parseProxyConfig(json: Json): ProxyConfig {
  for (const k of Object.keys(json)) {
    if (!(proxyConfigKeys as readonly string[]).includes(k)) {
      throw new UsageError(`unknown proxy config key '${k}' (known: ${proxyConfigKeys.join(', ')})`);
    }
  }
  const get = (k: keyof ProxyConfig): JsonValue | undefined => (json[k] === null ? undefined : json[k]);
  const d = defaultProxyConfig;
  const proxyEpochs = get('proxyEpochs') ?? d.proxyEpochs;
  if (typeof proxyEpochs !== 'number' || !Number.isFinite(proxyEpochs) || proxyEpochs <= 0 || proxyEpochs > 1000) {
    throw bad('proxyEpochs', `must be a number in (0, 1000], got ${describe(proxyEpochs)}`);
  }
  // For input and bnDecay null is itself a setting (the architecture's); for the other keys null is the default.
  const bnDecay = Object.hasOwn(json, 'bnDecay') ? (json['bnDecay'] ?? null) : d.bnDecay;
  if (bnDecay !== null && (typeof bnDecay !== 'number' || !(bnDecay > 0 && bnDecay < 1))) {
    throw bad('bnDecay', `must be a number in (0, 1) or null (the architecture's), got ${describe(bnDecay)}`);
  }
  const set = get('set') ?? [];
  if (!Array.isArray(set) || !set.every((s): s is string => typeof s === 'string')) {
    throw bad('set', `must be a list of key=value strings, got ${describe(set)}`);
  }
  const dataDir = get('dataDir');
  const rawInput = Object.hasOwn(json, 'input') ? (json['input'] ?? null) : d.input;
  const input = rawInput === null ? null : int('input', rawInput, 8, 1024);
  const batchSize = get('batchSize');
  const cfg: ProxyConfig = {
    dataset: oneOf('dataset', get('dataset') ?? d.dataset, datasetNames),
    dataDir: dataDir === undefined ? d.dataDir : text('dataDir', dataDir),
    input,
    fit: oneOf('fit', get('fit') ?? d.fit, ['resize', 'pad'] as const),
    proxyEpochs,
    proxyImages: int('proxyImages', get('proxyImages') ?? d.proxyImages, 1),
    valImages: int('valImages', get('valImages') ?? d.valImages, 1),
    batchSize: batchSize === undefined ? d.batchSize : int('batchSize', batchSize, 1, 65536),
    recipe: text('recipe', get('recipe') ?? d.recipe),
    set,
    bnDecay,
    backend: oneOf('backend', get('backend') ?? d.backend, backendChoices),
    dataSeed: int('dataSeed', get('dataSeed') ?? d.dataSeed, 0, 2 ** 31 - 1),
  };
  proxyTrainConfig(cfg, 0);
  return cfg;
}

/**
 * The defaults that have changed since runs stored their config as given (before completeProxyJson): such a run
 * means these where its config is silent. `input` was 16 until the fidelity study of 2026-12-07.
 */
const LEGACY_DEFAULTS: Readonly<Record<string, JsonValue>> = { input: 16 };

function proxyJsonOf(cfg: ProxyConfig): Record<string, JsonValue> {
  return { ...cfg, set: [...cfg.set] };
}

/**
 * The config with every key named, as a search run stores it, so that a later change of a default cannot change what
 * a stored run (or a stored result's key) means. `legacy`: the config was stored before runs were completed so (a
 * config naming every key is already complete), so the defaults of its time fill what it does not name.
 */
export function completeProxyJson(json: Json, legacy: boolean): Record<string, JsonValue> {
  const complete = proxyConfigKeys.every((k) => Object.hasOwn(json, k));
  const filled = legacy && !complete ? { ...LEGACY_DEFAULTS, ...json } : json;
  return proxyJsonOf(parseProxyConfig(filled));
}

const configsDir = fileURLToPath(new URL('../../configs/', import.meta.url));

/** A recipe name (configs/NAME.json) or a file path. */
export function recipePath(recipe: string): string {
  if (/^[\w.-]+$/.test(recipe) && !recipe.endsWith('.json')) return join(configsDir, `${recipe}.json`);
  return isAbsolute(recipe) ? recipe : resolvePath(recipe);
}

// A worker reads its recipe once, not once per candidate.
const recipes = new Map<string, TrainConfig>();

export function readRecipe(recipe: string): TrainConfig {
  const path = recipePath(recipe);
  const cached = recipes.get(path);
  if (cached) return cached;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message.split('\n')[0];
    throw bad('recipe', `${describe(recipe)}: cannot read ${path} (${why}); recipes are in ${configsDir}`);
  }
  const config = parseTrainConfig(json);
  recipes.set(path, config);
  return config;
}

/** A candidate's seed folded into TrainConfig's range (0..2^31-2), so any integer an engine derives is accepted. */
export function trainSeed(seed: number): number {
  if (!Number.isSafeInteger(seed)) throw new UsageError(`the evaluation seed must be an integer, got ${seed}`);
  return ((seed % 2147483647) + 2147483647) % 2147483647;
}

/**
 * The training config of one candidate: the recipe with its overrides, the proxy batch size, and the candidate's
 * seed. `epochs` covers the proxy epochs (rounded up); the loop stops at the proxy's step count.
 */
export function proxyTrainConfig(cfg: ProxyConfig, seed: number): TrainConfig {
  const base = applyOverrides(readRecipe(cfg.recipe), cfg.set);
  const overrides = [`epochs=${Math.ceil(cfg.proxyEpochs)}`, `seed=${trainSeed(seed)}`];
  if (cfg.batchSize !== null) overrides.push(`batchSize=${cfg.batchSize}`);
  return applyOverrides(base, overrides);
}
